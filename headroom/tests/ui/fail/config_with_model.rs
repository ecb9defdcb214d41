use async_openai::types::chat::CreateChatCompletionRequest;

static ENGINE: std::sync::LazyLock<headroom::Headroom> = std::sync::LazyLock::new(Default::default);

#[headroom::headroom(config = ENGINE, model = "gpt-4o")]
fn triage(request: CreateChatCompletionRequest) -> String {
    request.model
}

fn main() {
    let _ = triage;
}
