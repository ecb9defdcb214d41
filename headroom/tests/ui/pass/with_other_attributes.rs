//! Next to `#[tracing::instrument]` in either order, and under `#[async_trait]`.
use async_openai::types::chat::CreateChatCompletionRequest;
use async_trait::async_trait;
use headroom::headroom;

#[path = "../common.rs"]
mod common;
use common::{block_on, request};

#[headroom]
#[tracing::instrument(skip(request))]
async fn headroom_outside(request: CreateChatCompletionRequest) -> String {
    request.model
}

#[tracing::instrument(skip_all, fields(model = %request.model))]
#[headroom(lossless_only)]
async fn headroom_inside(request: CreateChatCompletionRequest) -> String {
    request.model
}

#[async_trait]
trait Agent {
    async fn run(&self, request: CreateChatCompletionRequest) -> String;
    async fn run_mut(&mut self, request: &mut CreateChatCompletionRequest) -> usize;
}

struct Triage;

#[async_trait]
impl Agent for Triage {
    #[headroom]
    async fn run(&self, request: CreateChatCompletionRequest) -> String {
        request.model
    }

    #[headroom(model = "gpt-4o")]
    #[tracing::instrument(skip_all)]
    async fn run_mut(&mut self, request: &mut CreateChatCompletionRequest) -> usize {
        request.messages.len()
    }
}

fn main() {
    assert_eq!(block_on(headroom_outside(request())), "gpt-4o");
    assert_eq!(block_on(headroom_inside(request())), "gpt-4o");
    assert_eq!(block_on(Triage.run(request())), "gpt-4o");
    let mut r = request();
    assert_eq!(block_on(Triage.run_mut(&mut r)), 0);
    // async-trait futures stay `Send`.
    fn is_send<T: Send>(_: T) {}
    is_send(Triage.run(request()));
}
