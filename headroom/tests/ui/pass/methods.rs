//! Methods: inherent and trait impls with `self`, `&self`, `&mut self`; generic impls.
use async_openai::types::chat::CreateChatCompletionRequest;
use headroom::headroom;

#[path = "../common.rs"]
mod common;
use common::{block_on, request};

struct Agent {
    calls: usize,
}

impl Agent {
    #[headroom]
    async fn by_ref(&self, request: CreateChatCompletionRequest) -> String {
        format!("{}:{}", self.calls, request.model)
    }

    #[headroom]
    fn by_mut(&mut self, request: &mut CreateChatCompletionRequest) {
        self.calls += 1;
        request.n = Some(2);
    }

    #[headroom]
    async fn by_value(self, request: CreateChatCompletionRequest) -> (usize, String) {
        (self.calls, request.model)
    }
}

trait Model {
    fn complete(&self, request: CreateChatCompletionRequest) -> String;
}

impl Model for Agent {
    #[headroom(model = "gpt-4o")]
    fn complete(&self, request: CreateChatCompletionRequest) -> String {
        request.model
    }
}

struct Wrapper<T>(T);

impl<T: Model> Wrapper<T>
where
    T: Send,
{
    #[headroom]
    pub fn forward<'r>(&'r self, request: CreateChatCompletionRequest) -> String {
        self.0.complete(request)
    }
}

fn main() {
    let mut agent = Agent { calls: 0 };
    let mut r = request();
    agent.by_mut(&mut r);
    assert_eq!(r.n, Some(2));
    assert_eq!(block_on(agent.by_ref(request())), "1:gpt-4o");
    assert_eq!(agent.complete(request()), "gpt-4o");
    assert_eq!(
        block_on(agent.by_value(request())),
        (1, "gpt-4o".to_string())
    );
    assert_eq!(Wrapper(Agent { calls: 0 }).forward(request()), "gpt-4o");
}
