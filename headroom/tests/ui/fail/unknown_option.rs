use async_openai::types::chat::CreateChatCompletionRequest;

#[headroom::headroom(modle = "gpt-4o")]
async fn triage(request: CreateChatCompletionRequest) -> String {
    request.model
}

fn main() {
    // The function is still emitted: no second error about `triage` missing.
    let _ = triage;
}
