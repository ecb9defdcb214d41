use async_openai::types::chat::CreateChatCompletionRequest;

#[headroom::headroom(model = 4)]
async fn triage(request: CreateChatCompletionRequest) -> String {
    request.model
}

fn main() {
    let _ = triage;
}
