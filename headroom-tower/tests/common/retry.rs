//! A retry policy for the tests: retries 5xx answers and transport errors by re-sending the request
//! it was given (with Headroom outside the retry layer, the already compressed body).

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use std::future::{ready, Ready};
use tower::retry::Policy;

#[derive(Clone)]
pub struct RetryServerErrors {
    pub left: usize,
}

impl RetryServerErrors {
    fn again(&mut self, failed: bool) -> Option<Ready<()>> {
        (failed && self.left > 0).then(|| {
            self.left -= 1;
            ready(())
        })
    }
}

impl<B, E> Policy<Request<Full<Bytes>>, Response<B>, E> for RetryServerErrors {
    type Future = Ready<()>;

    fn retry(
        &mut self,
        _request: &mut Request<Full<Bytes>>,
        result: &mut Result<Response<B>, E>,
    ) -> Option<Self::Future> {
        self.again(
            result
                .as_ref()
                .map_or(true, |r| r.status().is_server_error()),
        )
    }

    fn clone_request(&mut self, request: &Request<Full<Bytes>>) -> Option<Request<Full<Bytes>>> {
        let mut clone = Request::new(request.body().clone());
        *clone.method_mut() = request.method().clone();
        *clone.uri_mut() = request.uri().clone();
        *clone.version_mut() = request.version();
        *clone.headers_mut() = request.headers().clone();
        Some(clone)
    }
}

impl Policy<reqwest::Request, reqwest::Response, reqwest::Error> for RetryServerErrors {
    type Future = Ready<()>;

    fn retry(
        &mut self,
        _request: &mut reqwest::Request,
        result: &mut Result<reqwest::Response, reqwest::Error>,
    ) -> Option<Self::Future> {
        self.again(
            result
                .as_ref()
                .map_or(true, |r| r.status().is_server_error()),
        )
    }

    fn clone_request(&mut self, request: &reqwest::Request) -> Option<reqwest::Request> {
        request.try_clone()
    }
}
