//! # headroom-tower
//!
//! Tower middleware that compresses OpenAI chat-completion and Responses requests with [Headroom](headroom) on
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
//! - `http::Request<B>` for any `B: http_body::Body + From<Bytes>` (hyper-util's client, axum,
//!   `Full<Bytes>`, `reqwest::Body`), error type [`BoxError`] (reading the body can fail with the
//!   body's own error);
//! - `reqwest::Request` (feature `reqwest`, module [`reqwest`]), reqwest's error passed through;
//! - async-openai's `HttpRequestFactory` and `with_headroom(client)` (feature `async-openai`,
//!   module [`async_openai`]), compressing once per call however often it is retried;
//! - [`HeadroomLayer::with_retrieval`] also answers the model's `headroom_retrieve` calls
//!   ([`retrieval`]).
//!
//! Originals go to the engine's store under the request's [`Namespace`] extension (`default` when
//! it has none); [`HeadroomLayer::with_async_store`] sends them to an async store (Redis) instead,
//! persisted before the request goes on, and [`HeadroomLayer::max_concurrent_compressions`] bounds
//! the work in flight.
//!
//! Bodies over [`BLOCKING_THRESHOLD`] (64 KiB) are compressed on tokio's blocking pool. Memory is
//! bounded by the engine's `max_body_bytes`: larger bodies are never read.
//!
//! ## Composition
//!
//! Put Headroom *outside* `retry`, so a request is compressed once and the compressed body is
//! re-sent on each attempt; put `buffer` above `rate_limit` (a rate-limited service is not `Clone`,
//! and Headroom clones its inner service); timeouts and concurrency limits go anywhere below:
//!
//! ```
//! use bytes::Bytes;
//! use headroom_tower::HeadroomLayer;
//! use http::{Request, Response};
//! use http_body_util::Full;
//! use std::time::Duration;
//! use tower::retry::{Policy, RetryLayer};
//! use tower::ServiceBuilder;
//!
//! /// Retries 5xx answers and transport errors by re-sending the request it was given: with
//! /// Headroom outside, that is the already compressed body.
//! #[derive(Clone)]
//! struct RetryServerErrors {
//!     left: usize,
//! }
//!
//! impl<B, E> Policy<Request<Full<Bytes>>, Response<B>, E> for RetryServerErrors {
//!     type Future = std::future::Ready<()>;
//!
//!     fn retry(
//!         &mut self,
//!         _request: &mut Request<Full<Bytes>>,
//!         result: &mut Result<Response<B>, E>,
//!     ) -> Option<Self::Future> {
//!         let failed = result.as_ref().map_or(true, |r| r.status().is_server_error());
//!         (failed && self.left > 0).then(|| {
//!             self.left -= 1;
//!             std::future::ready(())
//!         })
//!     }
//!
//!     fn clone_request(&mut self, request: &Request<Full<Bytes>>) -> Option<Request<Full<Bytes>>> {
//!         let mut clone = Request::new(request.body().clone());
//!         *clone.method_mut() = request.method().clone();
//!         *clone.uri_mut() = request.uri().clone();
//!         *clone.headers_mut() = request.headers().clone();
//!         Some(clone)
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! # let http_client = tower::service_fn(|_: Request<Full<Bytes>>| async {
//! #     Ok::<_, std::convert::Infallible>(Response::new(()))
//! # });
//! let client = ServiceBuilder::new()
//!     .layer(HeadroomLayer)                     // compress once
//!     .buffer(1024)                             // Clone for everything above
//!     .concurrency_limit(64)
//!     .rate_limit(500, Duration::from_secs(60)) // not Clone: below the buffer
//!     .timeout(Duration::from_secs(120))
//!     .layer(RetryLayer::new(RetryServerErrors { left: 3 }))
//!     .service(http_client);
//! # let _ = client;
//! # }
//! ```

#[cfg(feature = "async-openai")]
pub mod async_openai;
mod door;
mod future;
pub mod headers;
mod layer;
mod namespace;
#[cfg(feature = "reqwest")]
pub mod reqwest;
pub mod retrieval;
pub mod rounds;
mod service;

#[cfg(feature = "async-openai")]
pub use self::async_openai::{with_headroom, with_headroom_layer};
pub use door::BLOCKING_THRESHOLD;
pub use future::ResponseFuture;
pub use headers::{is_json_media_type, BYPASS_HEADER};
pub use layer::HeadroomLayer;
pub use namespace::Namespace;
pub use service::HeadroomService;

/// The error of the `http::Request` service: the inner service's error or the request body's.
///
/// ```
/// let error: headroom_tower::BoxError = "upstream closed the connection".into();
/// assert_eq!(error.to_string(), "upstream closed the connection");
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
