//! The attribute macro door, as the README shows it (compiled, not run: it calls the OpenAI API).

use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{ChatCompletionRequestUserMessage, CreateChatCompletionRequest};
use async_openai::Client;

#[headroom::headroom(model = "gpt-4o")]
async fn triage(
    client: &Client<OpenAIConfig>,
    req: CreateChatCompletionRequest,
) -> Result<String, OpenAIError> {
    let reply = client.chat().create(req).await?; // `req` arrives compressed, with headroom_retrieve when elided
    Ok(reply.choices[0].message.content.clone().unwrap_or_default())
}

#[tokio::main]
async fn main() -> Result<(), OpenAIError> {
    let client = Client::new(); // OPENAI_API_KEY from the environment
    let req = CreateChatCompletionRequest {
        model: "gpt-4o".into(),
        messages: vec![ChatCompletionRequestUserMessage::from("Why did the build fail?").into()],
        ..Default::default()
    };
    println!("{}", triage(&client, req).await?);
    Ok(())
}
