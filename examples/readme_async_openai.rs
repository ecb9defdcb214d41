//! The async-openai door, as the README shows it (compiled, not run: it calls the OpenAI API).

use async_openai::types::chat::{ChatCompletionRequestUserMessage, CreateChatCompletionRequest};
use async_openai::Client;
use headroom_tower::with_headroom;

#[tokio::main]
async fn main() -> Result<(), async_openai::error::OpenAIError> {
    let client = with_headroom(Client::new()); // the same Client<OpenAIConfig>, compressing chat calls
    let req = CreateChatCompletionRequest {
        model: "gpt-4o".into(),
        messages: vec![
            ChatCompletionRequestUserMessage::from("Summarise the failing tests").into(),
        ],
        ..Default::default()
    };
    let reply = client.chat().create(req).await?; // headroom_retrieve rounds resolved before this returns
    println!("{:?}", reply.choices[0].message.content);
    Ok(())
}
