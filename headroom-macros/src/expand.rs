//! The rewrite: the user's function, with its request arguments compressed on entry.
//!
//! Only statements are added at the top of the body; the signature, attributes and body tokens
//! (and so every span a compiler error could point at) stay the user's.

use crate::parse::{self, closest, code_list, Args};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{
    braced, token, Attribute, Error, FnArg, Ident, Pat, PatIdent, Result, Signature, Type,
    Visibility,
};

/// The type every request argument has (matched by the last path segment, so any import works).
const REQUEST_TYPE: &str = "CreateChatCompletionRequest";
/// The Responses request type (`async_openai::types::responses::CreateResponse`), compressed alike.
const RESPONSE_REQUEST_TYPE: &str = "CreateResponse";

/// Expands `#[headroom(attr)] item`. On any error the original item is emitted with the error,
/// so one mistake gives one message instead of a cascade about a missing function.
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let function = match syn::parse2::<AgentFn>(item.clone()) {
        Ok(function) => function,
        Err(e) => {
            let message = format!(
                "`#[headroom]` applies to functions with a body (free functions and methods in \
                 `impl` blocks): {e}"
            );
            return with_error(item, Error::new(e.span(), message));
        }
    };
    let args = match parse::parse(attr) {
        Ok(args) => args,
        Err(e) => return with_error(item, e),
    };
    match rewrite(&args, function) {
        Ok(tokens) => tokens,
        Err(e) => with_error(item, e),
    }
}

fn with_error(mut item: TokenStream, error: Error) -> TokenStream {
    item.extend(error.into_compile_error());
    item
}

/// A function whose body is kept as tokens: never re-parsed, so half-typed code in it is the
/// compiler's to report, not ours.
struct AgentFn {
    outer_attrs: Vec<Attribute>,
    vis: Visibility,
    sig: Signature,
    brace: token::Brace,
    inner_attrs: Vec<Attribute>,
    body: TokenStream,
}

impl Parse for AgentFn {
    fn parse(input: ParseStream<'_>) -> Result<Self> {
        let outer_attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let content;
        let brace = braced!(content in input);
        let inner_attrs = content.call(Attribute::parse_inner)?;
        let body = content.parse()?;
        Ok(AgentFn {
            outer_attrs,
            vis,
            sig,
            brace,
            inner_attrs,
            body,
        })
    }
}

/// How an argument holds its request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Holding {
    Value,
    MutRef,
}

/// One argument to compress.
struct RequestArg {
    /// The binding the compress call borrows.
    binding: Ident,
    /// The argument's name as written, for the tracing event.
    label: String,
    holding: Holding,
    /// A by-value binding that must be re-bound `mut` before it can be borrowed mutably.
    rebind_mut: bool,
    /// A destructuring pattern, bound after compression from the renamed argument.
    destructure: Option<Box<Pat>>,
}

fn rewrite(args: &Args, mut function: AgentFn) -> Result<TokenStream> {
    if let Some(constness) = &function.sig.constness {
        return Err(Error::new(
            constness.span(),
            "`#[headroom]` cannot go on a `const fn`: compression runs at call time",
        ));
    }
    let requests = select_requests(args, &mut function.sig)?;
    let krate = args
        .krate
        .as_ref()
        .map_or_else(|| quote!(::headroom), |k| k.value.to_token_stream());
    let private = quote!(#krate::__private);

    let engine_item;
    let engine = match &args.config {
        Some(config) => {
            engine_item = TokenStream::new();
            let expr = &config.value;
            quote_spanned!(expr.span()=> &(#expr))
        }
        None => {
            let model = match &args.model {
                Some(model) => {
                    let model = &model.value;
                    quote!(::core::option::Option::Some(#model))
                }
                None => quote!(::core::option::Option::None),
            };
            let lossless_only = args.lossless_only.as_ref().is_some_and(|s| s.value);
            let budget = match &args.budget {
                Some(budget) => {
                    let budget = &budget.value;
                    quote!(::core::option::Option::Some(#budget))
                }
                None => quote!(::core::option::Option::None),
            };
            engine_item = quote! {
                static __HEADROOM_ENGINE: #private::LazyEngine = #private::LazyEngine::new(|| {
                    #private::engine(#private::Options {
                        model: #model,
                        lossless_only: #lossless_only,
                        token_budget: #budget,
                    })
                });
            };
            quote!(&__HEADROOM_ENGINE)
        }
    };

    let function_name = format!("::{}", function.sig.ident);
    let rebinds = requests.iter().filter(|r| r.rebind_mut).map(|r| {
        let binding = &r.binding;
        quote!(let mut #binding = #binding;)
    });
    let calls = requests.iter().map(|r| {
        let binding = &r.binding;
        let label = &r.label;
        let request = match r.holding {
            Holding::Value => quote!(&mut #binding),
            Holding::MutRef => quote!(&mut *#binding),
        };
        quote! {
            #private::compress(
                #engine,
                #request,
                ::core::concat!(::core::module_path!(), #function_name),
                #label,
            );
        }
    });
    let destructures = requests.iter().filter_map(|r| {
        let binding = &r.binding;
        r.destructure
            .as_ref()
            .map(|pat| quote!(let #pat = #binding;))
    });

    let AgentFn {
        outer_attrs,
        vis,
        sig,
        brace,
        inner_attrs,
        body,
    } = function;
    let mut block = TokenStream::new();
    brace.surround(&mut block, |block| {
        quote! {
            #(#inner_attrs)*
            #(#rebinds)*
            {
                #engine_item
                #(#calls)*
            }
            #(#destructures)*
            #body
        }
        .to_tokens(block)
    });
    Ok(quote! {
        #(#outer_attrs)*
        #vis #sig #block
    })
}

/// The arguments to compress: those named by `arg`, or else every argument typed as a request,
/// less those named by `skip`. Destructuring patterns are renamed in `sig` so they can be borrowed.
fn select_requests(args: &Args, sig: &mut Signature) -> Result<Vec<RequestArg>> {
    let mut errors = Errors::default();
    let names: Vec<String> = sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(typed) => simple_name(&typed.pat).map(|(ident, _)| ident.to_string()),
            FnArg::Receiver(_) => None,
        })
        .collect();
    for named in args.args.iter().chain(&args.skips) {
        let name = named.value();
        if !names.contains(&name) {
            errors.push(Error::new(
                named.span(),
                missing_argument_message(&sig.ident, &name, &names),
            ));
        }
        let is_skip = args.skips.iter().any(|s| std::ptr::eq(s, named));
        if is_skip && args.args.iter().any(|a| a.value() == name) {
            errors.push(Error::new(
                named.span(),
                format!("`{name}` is named by both `arg` and `skip`"),
            ));
        }
    }

    let mut requests = Vec::new();
    for (index, input) in sig.inputs.iter_mut().enumerate() {
        let FnArg::Typed(typed) = input else { continue };
        let name = simple_name(&typed.pat).map(|(ident, _)| ident.to_string());
        let is_named = |list: &[syn::LitStr]| {
            name.as_ref()
                .is_some_and(|n| list.iter().any(|l| &l.value() == n))
        };
        if is_named(&args.skips) {
            continue;
        }
        let wanted = if args.args.is_empty() {
            is_request(&typed.ty)
        } else {
            is_named(&args.args)
        };
        if !wanted {
            continue;
        }
        let holding = match holding_of(&typed.ty) {
            Kind::Holding(holding) => holding,
            Kind::SharedRef => {
                errors.push(shared_reference_error(&typed.ty, name.as_deref()));
                continue;
            }
        };
        let request = match simple_name(&typed.pat) {
            Some((ident, is_mut)) => RequestArg {
                binding: ident.clone(),
                label: ident.to_string(),
                holding,
                rebind_mut: holding == Holding::Value && !is_mut,
                destructure: None,
            },
            None => {
                let binding = format_ident!("__headroom_request_{index}");
                let mutability = (holding == Holding::Value).then(|| quote!(mut));
                let renamed: Pat = syn::parse_quote!(#mutability #binding);
                RequestArg {
                    binding,
                    label: typed.pat.to_token_stream().to_string(),
                    holding,
                    rebind_mut: false,
                    destructure: Some(std::mem::replace(&mut typed.pat, Box::new(renamed))),
                }
            }
        };
        requests.push(request);
    }
    errors.finish()?;
    if requests.is_empty() {
        let hint = if args.skips.is_empty() {
            ""
        } else {
            " (after `skip`)"
        };
        return Err(Error::new(
            sig.ident.span(),
            format!(
                "`{}` has no `{REQUEST_TYPE}` argument to compress{hint}; if the request's type \
                 is an alias, name the argument with `#[headroom(arg = \"…\")]`",
                sig.ident
            ),
        ));
    }
    Ok(requests)
}

enum Kind {
    Holding(Holding),
    SharedRef,
}

/// Whether `ty` names the request type, by value or behind a reference.
fn is_request(ty: &Type) -> bool {
    match ty {
        Type::Group(group) => is_request(&group.elem),
        Type::Paren(paren) => is_request(&paren.elem),
        Type::Reference(reference) => is_request(&reference.elem),
        Type::Path(path) if path.qself.is_none() => path.path.segments.last().is_some_and(|s| {
            (s.ident == REQUEST_TYPE || s.ident == RESPONSE_REQUEST_TYPE) && s.arguments.is_none()
        }),
        _ => false,
    }
}

/// How an argument of type `ty` holds its value: by value, `&mut` or `&`.
fn holding_of(ty: &Type) -> Kind {
    match ty {
        Type::Group(group) => holding_of(&group.elem),
        Type::Paren(paren) => holding_of(&paren.elem),
        Type::Reference(reference) if reference.mutability.is_some() => {
            Kind::Holding(Holding::MutRef)
        }
        Type::Reference(_) => Kind::SharedRef,
        _ => Kind::Holding(Holding::Value),
    }
}

/// `name` or `mut name`: the binding and whether it is already mutable.
fn simple_name(pat: &Pat) -> Option<(&Ident, bool)> {
    match pat {
        Pat::Ident(PatIdent {
            by_ref: None,
            mutability,
            ident,
            subpat: None,
            ..
        }) => Some((ident, mutability.is_some())),
        _ => None,
    }
}

fn shared_reference_error(ty: &Type, name: Option<&str>) -> Error {
    let name = name.unwrap_or("request");
    Error::new_spanned(
        ty,
        format!(
            "a shared `&{REQUEST_TYPE}` cannot be compressed in place; take it as \
             `{name}: &mut {REQUEST_TYPE}` or by value (`{name}: {REQUEST_TYPE}`), or leave it \
             alone with `skip = \"{name}\"`"
        ),
    )
}

fn missing_argument_message(function: &Ident, name: &str, names: &[String]) -> String {
    let candidates: Vec<&str> = names.iter().map(String::as_str).collect();
    let hint = match closest(name, &candidates) {
        Some(best) => format!("; did you mean `{best}`?"),
        None if names.is_empty() => String::new(),
        None => format!("; its arguments are {}", code_list(names)),
    };
    format!("`{function}` has no argument named `{name}`{hint}")
}

/// Several errors, reported together.
#[derive(Default)]
struct Errors(Option<Error>);

impl Errors {
    fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn finish(self) -> Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expansion, formatted as a file so snapshots read like code.
    fn pretty(tokens: TokenStream) -> String {
        prettyplease::unparse(&syn::parse2(tokens).expect("the expansion parses as a file"))
    }

    fn error_messages(attr: TokenStream, item: TokenStream) -> Vec<String> {
        let out = expand(attr, item).to_string();
        out.match_indices("compile_error !")
            .map(|(at, _)| {
                let rest = &out[at..];
                let start = rest.find('"').unwrap() + 1;
                let end = rest[start..].find("\" }").unwrap() + start;
                rest[start..end].to_string()
            })
            .collect()
    }

    /// The code blocks of the crate docs, in order: (fence info, code).
    fn doc_blocks() -> Vec<(String, String)> {
        let mut blocks = Vec::new();
        let mut open: Option<(String, String)> = None;
        for line in include_str!("lib.rs").lines() {
            let Some(doc) = line.trim_start().strip_prefix("///") else {
                continue;
            };
            let doc = doc.strip_prefix(' ').unwrap_or(doc);
            match (doc.strip_prefix("```"), open.take()) {
                (Some(info), None) => open = Some((info.to_string(), String::new())),
                (Some(_), Some(block)) => blocks.push(block),
                (None, Some((info, mut code))) => {
                    code.push_str(doc);
                    code.push('\n');
                    open = Some((info, code));
                }
                (None, None) => {}
            }
        }
        blocks
    }

    /// The docs' first example, expanded: the snapshot and the expansion the docs show.
    #[test]
    fn expands_the_documented_example() {
        let blocks = doc_blocks();
        let example: syn::File = syn::parse_str(&blocks[0].1).unwrap();
        let mut function = example
            .items
            .into_iter()
            .find_map(|item| match item {
                syn::Item::Fn(function) => Some(function),
                _ => None,
            })
            .expect("the first example has a function");
        let attr = function.attrs.remove(0);
        assert!(attr.path().is_ident("headroom"));
        let args = attr.meta.require_list().unwrap().tokens.clone();
        let expanded = pretty(expand(args, function.to_token_stream()));
        insta::assert_snapshot!(expanded);
        let (info, shown) = blocks
            .iter()
            .find(|(info, _)| info == "ignore")
            .expect("the docs show the expansion");
        assert_eq!(info, "ignore");
        assert_eq!(shown, &expanded, "update the expansion in lib.rs's docs");
    }

    #[test]
    fn expands_every_holding_and_config() {
        let out = expand(
            quote!(config = crate::ENGINE, crate = "reexports::headroom"),
            quote! {
                fn many<'a, T: Clone>(
                    &mut self,
                    first: async_openai::types::chat::CreateChatCompletionRequest,
                    mut second: CreateChatCompletionRequest,
                    third: &'a mut CreateChatCompletionRequest,
                    CreateChatCompletionRequest { model, .. }: CreateChatCompletionRequest,
                    other: T,
                ) -> usize where T: Send {
                    #![allow(unused_variables)]
                    0
                }
            },
        );
        insta::assert_snapshot!(pretty(out));
    }

    #[test]
    fn arg_and_skip_pick_arguments() {
        let out = expand(
            quote!(arg = "aliased", lossless_only),
            quote!(
                fn f(aliased: Req, direct: CreateChatCompletionRequest) {}
            ),
        )
        .to_string();
        assert!(out.contains("& mut aliased"), "{out}");
        assert!(!out.contains("& mut direct"), "{out}");
        assert!(out.contains("lossless_only : true"), "{out}");

        let out = expand(
            quote!(skip = "first"),
            quote!(
                fn f(first: CreateChatCompletionRequest, second: CreateChatCompletionRequest) {}
            ),
        )
        .to_string();
        assert!(!out.contains("& mut first"), "{out}");
        assert!(out.contains("& mut second"), "{out}");
    }

    #[test]
    fn errors_keep_the_original_function() {
        let item = quote!(
            fn untouched(request: CreateChatCompletionRequest) -> u8 {
                7
            }
        );
        let out = expand(quote!(modle = "gpt-4o"), item.clone()).to_string();
        assert!(out.starts_with(&item.to_string()), "{out}");
        assert_eq!(
            error_messages(quote!(modle = "gpt-4o"), item),
            ["unknown option `modle`; did you mean `model`?"]
        );
    }

    #[test]
    fn reports_every_argument_error_at_once() {
        let messages = error_messages(
            quote!(arg = "reqest", skip = "nothing"),
            quote!(
                fn f(request: CreateChatCompletionRequest, shared: &CreateChatCompletionRequest) {}
            ),
        );
        assert_eq!(
            messages,
            [
                "`f` has no argument named `reqest`; did you mean `request`?",
                "`f` has no argument named `nothing`; its arguments are `request`, `shared`",
            ]
        );
        let messages = error_messages(
            quote!(arg = "request", skip = "request"),
            quote!(
                fn f(request: CreateChatCompletionRequest) {}
            ),
        );
        assert_eq!(messages, ["`request` is named by both `arg` and `skip`"]);
        let messages = error_messages(
            quote!(),
            quote!(
                fn f(shared: &CreateChatCompletionRequest) {}
            ),
        );
        assert_eq!(messages.len(), 1);
        assert!(messages[0].starts_with("a shared `&CreateChatCompletionRequest`"));
        let messages = error_messages(
            quote!(),
            quote!(
                fn f(client: Client) {}
            ),
        );
        assert!(messages[0].starts_with("`f` has no `CreateChatCompletionRequest` argument"));
        let messages = error_messages(
            quote!(),
            quote!(
                const fn f(r: CreateChatCompletionRequest) {}
            ),
        );
        assert!(messages[0].contains("const fn"));
        let messages = error_messages(
            quote!(),
            quote!(
                struct S;
            ),
        );
        assert!(messages[0].starts_with("`#[headroom]` applies to functions with a body"));
    }
}
