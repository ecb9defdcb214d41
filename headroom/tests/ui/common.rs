//! Shared by the pass cases (each is its own crate): a request and a way to run async cases.

use async_openai::types::chat::CreateChatCompletionRequest;

/// A small request with no messages.
pub fn request() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest {
        model: "gpt-4o".into(),
        ..Default::default()
    }
}

/// Runs `future` to completion on a current-thread runtime.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}
