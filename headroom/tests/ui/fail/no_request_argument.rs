type Request = async_openai::types::chat::CreateChatCompletionRequest;

#[headroom::headroom]
async fn triage(request: Request) -> String {
    request.model
}

fn main() {
    let _ = triage;
}
