type Request = async_openai::types::chat::CreateChatCompletionRequest;

#[headroom::headroom(arg = "reqest")]
async fn triage(client: &str, request: Request) -> String {
    format!("{client}{}", request.model)
}

fn main() {
    let _ = triage;
}
