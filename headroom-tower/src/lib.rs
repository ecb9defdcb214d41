//! # headroom-tower
//!
//! Tower middleware that compresses OpenAI chat-completion requests with [Headroom](headroom) on
//! their way out of the process, next to the retry, rate-limit, timeout and concurrency layers of
//! an HTTP client stack.
//!
//! ```
//! use headroom_tower::HeadroomLayer;
//! use tower::ServiceBuilder;
//! # use bytes::Bytes; use http_body_util::Full;
//! # let http_client = tower::service_fn(|_: http::Request<Full<Bytes>>| async {
//! #     Ok::<_, std::convert::Infallible>(http::Response::new(()))
//! # });
//! let client = ServiceBuilder::new()
//!     .layer(HeadroomLayer)
//!     .service(http_client);
//! # let _ = client;
//! ```
//!
//! Only a JSON `POST …/chat/completions` whose body has a known size within the engine's
//! `max_body_bytes` is read; it is compressed with [`headroom::Headroom::compress_json`] (originals
//! kept in the engine's store so `headroom_retrieve` can answer), its `Content-Length` fixed, and
//! sent on. Everything else — other paths, encoded or streaming bodies, bodies over the limit,
//! malformed JSON, `x-headroom-bypass: true` — is forwarded unread and byte for byte. The
//! [`headroom::Report`] of a compressed request is put in the response's extensions and handed to
//! [`HeadroomLayer::on_report`].
//!
//! Doors:
//! - `http::Request<B>` for any `B: http_body::Body + From<Bytes>` (hyper-util's client, axum, `Full<Bytes>`),
//!   error type [`BoxError`] (reading the body can fail with the body's own error);
//! - `reqwest::Request` (feature `reqwest`), reqwest's error passed through;
//! - async-openai's `HttpRequestFactory` and `with_headroom(client)` (feature `async-openai`).
//!
//! ## Composition
//!
//! Put Headroom *outside* `retry`, so a request is compressed once and the compressed body is
//! re-sent on each attempt; put `buffer` above `rate_limit` (a rate-limited service is not `Clone`);
//! timeouts and concurrency limits go anywhere below:
//!
//! ```text
//! HeadroomLayer → Buffer → ConcurrencyLimit → RateLimit → Timeout → Retry → client
//! ```

#[cfg(feature = "async-openai")]
pub mod async_openai;
mod door;
mod future;
mod layer;
#[cfg(feature = "reqwest")]
pub mod reqwest;
pub mod retrieval;
mod service;

pub use door::{BLOCKING_THRESHOLD, BYPASS_HEADER};
pub use future::ResponseFuture;
pub use layer::HeadroomLayer;
pub use service::HeadroomService;

/// The error of the `http::Request` service: the inner service's error or the request body's.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
