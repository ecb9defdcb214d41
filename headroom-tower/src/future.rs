//! [`ResponseFuture`]: reads a chat-completions or Responses body, compresses it, then calls the inner service.

use crate::door::{Door, Task};
use crate::headers::fix_content_length;
use crate::BoxError;
use bytes::Bytes;
use headroom::Report;
use http::request::Parts;
use http::{Request, Response};
use http_body::Body;
use http_body_util::combinators::Collect;
use http_body_util::BodyExt;
use http_body_util::Limited;
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tower_service::Service;

pin_project! {
    /// The response future of [`HeadroomService`](crate::HeadroomService) for `http::Request<B>`.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http_body_util::Full;
    /// use tower::{Layer, Service};
    /// let mut service = headroom_tower::HeadroomLayer.layer(tower::service_fn(|_: http::Request<Full<Bytes>>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(()))
    /// }));
    /// let future = service.call(http::Request::new(Full::new(Bytes::new())));
    /// # let _ = future;
    /// ```
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<B>>,
        B: Body,
        B::Error: Into<BoxError>,
    {
        #[pin]
        state: State<S, B>,
        report: Option<Report>,
    }
}

/// What the future needs to send the request once its body is ready.
struct Pending<S> {
    inner: S,
    parts: Parts,
    door: Door,
}

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<B>>,
        B: Body,
        B::Error: Into<BoxError>,
    {
        Reading {
            #[pin]
            collect: Collect<Limited<B>>,
            pending: Option<Pending<S>>,
        },
        Compressing {
            #[pin]
            task: Task,
            pending: Option<Pending<S>>,
            original: Bytes,
        },
        Calling {
            #[pin]
            future: S::Future,
        },
    }
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<Request<B>>,
    B: Body,
    B::Error: Into<BoxError>,
{
    pub(crate) fn forward(future: S::Future) -> Self {
        ResponseFuture {
            state: State::Calling { future },
            report: None,
        }
    }

    pub(crate) fn compress(inner: S, door: Door, request: Request<B>) -> Self {
        let (parts, body) = request.into_parts();
        ResponseFuture {
            state: State::Reading {
                collect: read_at_most_its_size(body).collect(),
                pending: Some(Pending { inner, parts, door }),
            },
            report: None,
        }
    }
}

/// The body, failing if it yields more than the exact size it announced: memory stays bounded by
/// the size the decision to read was made on.
pub(crate) fn read_at_most_its_size<B: Body>(body: B) -> Limited<B> {
    let announced = body.size_hint().exact().unwrap_or(0);
    Limited::new(body, usize::try_from(announced).unwrap_or(usize::MAX))
}

impl<S, B, ResBody> Future for ResponseFuture<S, B>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    S::Error: Into<BoxError>,
    B: Body + From<Bytes>,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<ResBody>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Reading { collect, pending } => {
                    let body = ready!(collect.poll(cx))?.to_bytes();
                    let pending = pending.take().expect("polled after completion");
                    let namespace = crate::Namespace::of(&pending.parts.extensions);
                    let options = pending
                        .parts
                        .extensions
                        .get::<headroom::CompressOptions>()
                        .cloned()
                        .unwrap_or_default();
                    let task = pending.door.compress_task(body.clone(), namespace, options);
                    this.state.set(State::Compressing {
                        task,
                        pending: Some(pending),
                        original: body,
                    });
                }
                StateProj::Compressing {
                    task,
                    pending,
                    original,
                } => {
                    let outcome = ready!(task.poll(cx));
                    if let Some(refused) = outcome.refused {
                        // Over its token budget: the provider would reject it; say why instead.
                        return Poll::Ready(Err(refused as BoxError));
                    }
                    let Pending {
                        mut inner,
                        mut parts,
                        ..
                    } = pending.take().expect("polled after completion");
                    let body = match outcome.body {
                        Some(body) => {
                            fix_content_length(&mut parts.headers, body.len());
                            body
                        }
                        None => std::mem::take(original),
                    };
                    *this.report = outcome.report;
                    let future = inner.call(Request::from_parts(parts, B::from(body)));
                    this.state.set(State::Calling { future });
                }
                StateProj::Calling { future } => {
                    let mut response = ready!(future.poll(cx)).map_err(Into::into)?;
                    if let Some(report) = this.report.take() {
                        response.extensions_mut().insert(report);
                    }
                    return Poll::Ready(Ok(response));
                }
            }
        }
    }
}
