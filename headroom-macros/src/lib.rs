//! The `#[headroom]` attribute: compress an agent function's chat-completion requests on entry.
//!
//! Use it through the `headroom` crate, which re-exports it as `headroom::headroom`; the engine
//! it calls lives there. Its documentation is on [`macro@headroom`].

mod expand;
mod parse;

use proc_macro::TokenStream;

/// Compresses every `CreateChatCompletionRequest` (and Responses `CreateResponse`) argument
/// before the function's body runs.
///
/// The request is rewritten in place by a [`Headroom`] engine: big tool results shrink, the
/// system prompt and the user's own words stay, every elision leaves a marker, and when a marker
/// is present the request also carries the `headroom_retrieve` tool so the model can ask for
/// what was left out. Nothing else about the function changes: its signature, docs, other
/// attributes and body are the ones you wrote, and errors in the body point at your code.
///
/// ```no_run
/// use async_openai::{config::OpenAIConfig, error::OpenAIError, Client};
/// use async_openai::types::chat::CreateChatCompletionRequest;
/// use headroom::headroom;
///
/// #[headroom(model = "gpt-4o")]
/// async fn triage(
///     client: &Client<OpenAIConfig>,
///     request: CreateChatCompletionRequest,
/// ) -> Result<String, OpenAIError> {
///     let response = client.chat().create(request).await?;
///     Ok(response.choices[0].message.content.clone().unwrap_or_default())
/// }
/// ```
///
/// # What it applies to
///
/// `async` and plain functions, free or in `impl` blocks (inherent or trait, with `self`,
/// `&self` or `&mut self`), with any visibility, generics, lifetimes and where-clauses, next to
/// other attributes such as `#[tracing::instrument]` in either order. Under `#[async_trait]`,
/// put `#[headroom]` on the method inside the `impl`. A request argument is one whose type's
/// last path segment is `CreateChatCompletionRequest` or `CreateResponse` (the Responses API's
/// request, `async_openai::types::responses`), taken by value, `mut` or `&mut`: a `&mut` caller
/// sees its own request compressed. A shared `&CreateChatCompletionRequest` cannot be rewritten
/// and is a compile error.
///
/// # Options
///
/// | option | meaning |
/// |---|---|
/// | `model = "gpt-4o"` | count tokens for this model (default: the request's own `model`) |
/// | `lossless_only` | only transforms that keep every value: no markers, nothing to retrieve |
/// | `budget = 16000` | the most tokens a request may have (default: the model's window less the completion reserve); old tool results are compressed harder and old tool units evicted behind a marker to fit, and a request that still cannot fit goes out unchanged with a warning event |
/// | `config = path::TO_STATIC` | use this engine (`&'static Headroom`, or a `LazyLock<Headroom>` static); excludes `model`, `lossless_only` and `budget` |
/// | `arg = "name"` | compress exactly the named arguments (repeatable), e.g. a request behind a type alias |
/// | `skip = "name"` | leave the named argument alone (repeatable) |
/// | `crate = "path"` | where `headroom` is reachable, if you re-export it |
///
/// Without `config`, each annotated function builds its own engine on first use (a
/// `static LazyLock`); engines built without a store of their own share one in-memory store per
/// process, so `Headroom::default().answer_tool_call(…)` answers the model's `headroom_retrieve`
/// calls. For a persistent or shared store, name an engine built with one via `config` (see
/// below); an agent that never answers retrievals sets `lossless_only`. Each call emits one
/// `tracing` event (target `headroom`, level DEBUG) with `tokens_before`, `tokens_after`,
/// `tokens_saved`, the transforms and the retrieval hashes. Compression fails open: if it fails,
/// the function receives its request unchanged and a WARN event says why.
///
/// # An agent loop that answers `headroom_retrieve`
///
/// An agent that runs its own tool loop names its engine with `config`, so it can answer the
/// model's retrieval calls from the same store with [`Headroom::answer_tool_call`]:
///
/// ```no_run
/// use async_openai::{config::OpenAIConfig, error::OpenAIError, Client};
/// use async_openai::types::chat::{
///     ChatCompletionMessageToolCalls, ChatCompletionRequestAssistantMessage,
///     CreateChatCompletionRequest,
/// };
/// use headroom::{headroom, marker::RETRIEVE_TOOL_NAME, Headroom};
/// use std::sync::LazyLock;
///
/// static ENGINE: LazyLock<Headroom> =
///     LazyLock::new(|| Headroom::builder().model("gpt-4o").build().expect("valid settings"));
///
/// #[headroom(config = ENGINE)]
/// async fn agent(
///     client: &Client<OpenAIConfig>,
///     mut request: CreateChatCompletionRequest,
/// ) -> Result<String, OpenAIError> {
///     loop {
///         let response = client.chat().create(request.clone()).await?;
///         let message = response.choices.into_iter().next().expect("one choice").message;
///         let calls = message.tool_calls.unwrap_or_default();
///         if calls.is_empty() {
///             return Ok(message.content.unwrap_or_default());
///         }
///         let assistant = ChatCompletionRequestAssistantMessage {
///             tool_calls: Some(calls.clone()),
///             ..Default::default()
///         };
///         request.messages.push(assistant.into());
///         for call in &calls {
///             if let ChatCompletionMessageToolCalls::Function(call) = call {
///                 if call.function.name == RETRIEVE_TOOL_NAME {
///                     request.messages.push(ENGINE.answer_tool_call(call).into());
///                 } else {
///                     // … your own tools …
///                 }
///             }
///         }
///     }
/// }
/// ```
///
/// `examples/agent_macro.rs` in the repository runs such an agent against a local fake OpenAI
/// server and prints the tokens saved.
///
/// # Mistakes
///
/// Each gets one error on the offending token, and the function is still emitted so nothing
/// else cascades: an unknown option (with the closest known one suggested), a value of the
/// wrong kind, `config` next to `model` or `lossless_only`, no request argument (pointing at
/// the function's name: name it with `arg = "…"` if its type is an alias), `arg` or `skip`
/// naming an argument the function does not have, and a `&CreateChatCompletionRequest`.
///
/// # The expansion
///
/// The first example above expands to the following (kept current by a snapshot test of the
/// macro; `__private` is an implementation detail):
///
/// ```ignore
/// async fn triage(
///     client: &Client<OpenAIConfig>,
///     request: CreateChatCompletionRequest,
/// ) -> Result<String, OpenAIError> {
///     let mut request = request;
///     {
///         static __HEADROOM_ENGINE: ::headroom::__private::LazyEngine = ::headroom::__private::LazyEngine::new(||
///         {
///             ::headroom::__private::engine(::headroom::__private::Options {
///                 model: ::core::option::Option::Some("gpt-4o"),
///                 lossless_only: false,
///                 token_budget: ::core::option::Option::None,
///             })
///         });
///         ::headroom::__private::compress(
///             &__HEADROOM_ENGINE,
///             &mut request,
///             ::core::concat!(::core::module_path!(), "::triage"),
///             "request",
///         );
///     }
///     let response = client.chat().create(request).await?;
///     Ok(response.choices[0].message.content.clone().unwrap_or_default())
/// }
/// ```
///
/// [`Headroom`]: https://docs.rs/headroom/latest/headroom/struct.Headroom.html
/// [`Headroom::answer_tool_call`]: https://docs.rs/headroom/latest/headroom/struct.Headroom.html#method.answer_tool_call
#[proc_macro_attribute]
pub fn headroom(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(attr.into(), item.into()).into()
}
