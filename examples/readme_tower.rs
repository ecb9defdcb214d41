//! The tower door, as the README shows it: HeadroomLayer outside retry, buffer and rate limit
//! (compiled, not run: it calls the OpenAI API).

use headroom_tower::HeadroomLayer;
use std::time::Duration;
use tower::retry::{Policy, RetryLayer};
use tower::{BoxError, ServiceBuilder, ServiceExt};

/// Retries 5xx answers and connection errors (with Headroom outside, the compressed body is re-sent).
#[derive(Clone)]
struct RetryServerErrors(usize);

impl Policy<reqwest::Request, reqwest::Response, reqwest::Error> for RetryServerErrors {
    type Future = std::future::Ready<()>;

    fn retry(
        &mut self,
        _: &mut reqwest::Request,
        result: &mut Result<reqwest::Response, reqwest::Error>,
    ) -> Option<Self::Future> {
        let failed = result
            .as_ref()
            .map_or(true, |r| r.status().is_server_error());
        (failed && self.0 > 0).then(|| {
            self.0 -= 1;
            std::future::ready(())
        })
    }

    fn clone_request(&mut self, request: &reqwest::Request) -> Option<reqwest::Request> {
        request.try_clone()
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let client = ServiceBuilder::new()
        .layer(HeadroomLayer) // the default engine; HeadroomLayer::new(engine) for a configured one
        .buffer(64) // Clone for the layers above; rate_limit below it is not
        .rate_limit(50, Duration::from_secs(1))
        .layer(RetryLayer::new(RetryServerErrors(2)))
        .service(reqwest::Client::new());

    let request = reqwest::Client::new()
        .post("https://api.openai.com/v1/chat/completions")
        .bearer_auth(std::env::var("OPENAI_API_KEY")?)
        .header("content-type", "application/json")
        .body(r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#)
        .build()?;
    let response = client.oneshot(request).await?; // compressed once, however often retried
    println!("{}", response.text().await?);
    Ok(())
}
