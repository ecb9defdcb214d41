use async_openai::types::chat::CreateChatCompletionRequest;

#[headroom::headroom]
async fn triage(request: &CreateChatCompletionRequest) -> String {
    request.model.clone()
}

fn main() {
    let _ = triage;
}
