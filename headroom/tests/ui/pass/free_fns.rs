//! Free functions: async and plain, any visibility, generics, lifetimes, where-clauses,
//! `mut`, `&mut`, destructuring, inner attributes, other options.
use async_openai::types::chat::CreateChatCompletionRequest;
use headroom::headroom;

#[path = "../common.rs"]
mod common;
use common::{block_on, request};

/// A documented agent function.
#[headroom]
pub async fn by_value(request: CreateChatCompletionRequest) -> String {
    request.model
}

#[headroom(model = "gpt-4.1", lossless_only)]
pub(crate) async fn mut_binding(mut request: CreateChatCompletionRequest) -> usize {
    request.messages.clear();
    request.messages.len()
}

#[headroom(lossless_only = false)]
fn plain_mut_ref(request: &mut CreateChatCompletionRequest) {
    #![allow(clippy::needless_pass_by_ref_mut)]
    request.n = Some(1);
}

#[headroom]
async fn generic<'a, T, U: Clone>(
    label: &'a str,
    request: async_openai::types::chat::CreateChatCompletionRequest,
    extra: T,
    more: U,
) -> (&'a str, String, T, U)
where
    T: Send + 'a,
{
    (label, request.model, extra, more)
}

#[headroom]
fn destructured(CreateChatCompletionRequest { model, .. }: CreateChatCompletionRequest) -> String {
    model
}

#[headroom]
fn two(first: CreateChatCompletionRequest, second: &mut CreateChatCompletionRequest) -> usize {
    first.messages.len() + second.messages.len()
}

type Request = CreateChatCompletionRequest;

#[headroom(arg = "aliased", skip = "direct")]
fn aliased(aliased: Request, direct: CreateChatCompletionRequest) -> bool {
    aliased.model == direct.model
}

mod reexports {
    pub use headroom as engine;
}

#[headroom(crate = "reexports::engine")]
fn through_a_reexport(request: CreateChatCompletionRequest) -> String {
    request.model
}

static ENGINE: std::sync::LazyLock<headroom::Headroom> = std::sync::LazyLock::new(|| {
    headroom::Headroom::builder()
        .model("gpt-4o")
        .build()
        .unwrap()
});

#[headroom(config = ENGINE)]
fn named_engine(request: CreateChatCompletionRequest) -> String {
    request.model
}

fn main() {
    assert_eq!(block_on(by_value(request())), "gpt-4o");
    assert_eq!(block_on(mut_binding(request())), 0);
    let mut r = request();
    plain_mut_ref(&mut r);
    assert_eq!(r.n, Some(1));
    assert_eq!(block_on(generic("x", request(), 1u8, "y")).1, "gpt-4o");
    assert_eq!(destructured(request()), "gpt-4o");
    assert_eq!(two(request(), &mut request()), 0);
    assert!(aliased(request(), request()));
    assert_eq!(through_a_reexport(request()), "gpt-4o");
    assert_eq!(named_engine(request()), "gpt-4o");
}
