//! The reqwest door: [`HeadroomService`] for `reqwest::Request`, with reqwest's error passed through.
//!
//! ```
//! use headroom_tower::HeadroomLayer;
//! use tower::ServiceBuilder;
//! let client = ServiceBuilder::new()
//!     .layer(HeadroomLayer)
//!     .service(reqwest::Client::new());
//! # let _ = client;
//! ```
//!
//! A reqwest body built from bytes is already in memory, so nothing is read and nothing can fail:
//! the service's error is the inner service's. Streaming bodies are forwarded untouched.

use crate::door::{Door, Task};
use crate::headers::fix_content_length;
use crate::HeadroomService;
use bytes::Bytes;
use headroom::store::DEFAULT_NAMESPACE;
use headroom::Report;
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tower_service::Service;

impl<S> Service<::reqwest::Request> for HeadroomService<S>
where
    S: Service<::reqwest::Request, Response = ::reqwest::Response> + Clone,
{
    type Response = ::reqwest::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: ::reqwest::Request) -> Self::Future {
        match compressible_body(&self.door, &request) {
            Some(bytes) => {
                let task = self
                    .door
                    .compress_task(bytes, DEFAULT_NAMESPACE, Default::default());
                ResponseFuture {
                    state: State::Compressing {
                        task,
                        pending: Some((self.take_ready(), request)),
                    },
                    report: None,
                }
            }
            _ => ResponseFuture {
                state: State::Calling {
                    future: self.inner.call(request),
                },
                report: None,
            },
        }
    }
}

/// The body of a request Headroom should compress: in memory, and passing [`Door::skip_reason`].
pub(crate) fn compressible_body(door: &Door, request: &::reqwest::Request) -> Option<Bytes> {
    let bytes = request.body().and_then(::reqwest::Body::as_bytes)?;
    let skip = door.skip_reason(
        request.method(),
        request.url().path(),
        request.headers(),
        Some(bytes.len() as u64),
    );
    skip.is_none().then(|| Bytes::copy_from_slice(bytes))
}

pin_project! {
    /// The response future of [`HeadroomService`] for `reqwest::Request`.
    ///
    /// ```
    /// use tower::{Layer, Service};
    /// let mut service = headroom_tower::HeadroomLayer.layer(reqwest::Client::new());
    /// let request = reqwest::Request::new(reqwest::Method::GET, "http://localhost/v1/models".parse().unwrap());
    /// let future: headroom_tower::reqwest::ResponseFuture<reqwest::Client> = service.call(request);
    /// # drop(future);
    /// ```
    pub struct ResponseFuture<S>
    where
        S: Service<::reqwest::Request>,
    {
        #[pin]
        state: State<S>,
        report: Option<Report>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S>
    where
        S: Service<::reqwest::Request>,
    {
        Compressing {
            #[pin]
            task: Task,
            pending: Option<(S, ::reqwest::Request)>,
        },
        Calling {
            #[pin]
            future: S::Future,
        },
    }
}

impl<S> Future for ResponseFuture<S>
where
    S: Service<::reqwest::Request, Response = ::reqwest::Response>,
{
    type Output = Result<::reqwest::Response, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Compressing { task, pending } => {
                    let outcome = ready!(task.poll(cx));
                    let (mut inner, mut request) = pending.take().expect("polled after completion");
                    if let Some(body) = outcome.body {
                        fix_content_length(request.headers_mut(), body.len());
                        *request.body_mut() = Some(body.into());
                    }
                    *this.report = outcome.report;
                    let future = inner.call(request);
                    this.state.set(State::Calling { future });
                }
                StateProj::Calling { future } => {
                    let mut response = ready!(future.poll(cx))?;
                    if let Some(report) = this.report.take() {
                        response.extensions_mut().insert(report);
                    }
                    return Poll::Ready(Ok(response));
                }
            }
        }
    }
}
