//! The attribute's arguments: `#[headroom(model = "gpt-4o", lossless_only, arg = "req", …)]`.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Error, Expr, ExprLit, Ident, Lit, LitStr, Path, Result, Token};

/// Every option the attribute knows, for the "did you mean" hint.
const OPTIONS: &[&str] = &[
    "model",
    "lossless_only",
    "budget",
    "config",
    "arg",
    "skip",
    "crate",
];

/// An option's value and the span of its key, so later checks can point at it.
pub(crate) struct Setting<T> {
    pub key: Span,
    pub value: T,
}

/// The parsed arguments. Everything is optional.
#[derive(Default)]
pub(crate) struct Args {
    /// `model = "…"`: count tokens for this model (default: the request's own `model`).
    pub model: Option<Setting<LitStr>>,
    /// `lossless_only` or `lossless_only = true|false`.
    pub lossless_only: Option<Setting<bool>>,
    /// `budget = 16000`: the most tokens a request may have after compression.
    pub budget: Option<Setting<syn::LitInt>>,
    /// `config = path::TO_STATIC`: an expression yielding `&'static Headroom`.
    pub config: Option<Setting<Expr>>,
    /// `arg = "name"`, repeatable: compress exactly these arguments.
    pub args: Vec<LitStr>,
    /// `skip = "name"`, repeatable: leave these arguments alone.
    pub skips: Vec<LitStr>,
    /// `crate = "path"`: where `headroom` is reachable (default `::headroom`).
    pub krate: Option<Setting<Path>>,
}

/// Parses the attribute's token stream; the first mistake is the error, spanned on its token.
pub(crate) fn parse(attr: TokenStream) -> Result<Args> {
    let mut args = Args::default();
    syn::meta::parser(|meta| args.parse_option(meta)).parse2(attr)?;
    args.check_exclusive()?;
    Ok(args)
}

impl Args {
    fn parse_option(&mut self, meta: ParseNestedMeta<'_>) -> Result<()> {
        let name = path_text(&meta.path);
        let key = meta.path.span();
        match name.as_str() {
            "model" => {
                let value = string_value(&meta, &name, r#"model = "gpt-4o""#)?;
                set(&mut self.model, &name, key, value)
            }
            "lossless_only" => {
                let value = if meta.input.peek(Token![=]) {
                    bool_value(&meta)?
                } else {
                    true
                };
                set(&mut self.lossless_only, &name, key, value)
            }
            "budget" => {
                let value = match value_expr(&meta, &name, "budget = 16000")? {
                    Expr::Lit(ExprLit {
                        lit: Lit::Int(n), ..
                    }) if n.base10_parse::<usize>().is_ok_and(|n| n > 0) => n,
                    other => {
                        return Err(Error::new_spanned(
                            other,
                            "`budget` takes a positive number of tokens, e.g. `budget = 16000`",
                        ))
                    }
                };
                set(&mut self.budget, &name, key, value)
            }
            "config" => {
                let expr = value_expr(&meta, &name, "config = crate::ENGINE")?;
                if let Expr::Lit(lit) = &expr {
                    return Err(Error::new_spanned(
                        lit,
                        "`config` takes a path to a static engine, not a literal, e.g. `config = crate::ENGINE`",
                    ));
                }
                set(&mut self.config, &name, key, expr)
            }
            "arg" | "skip" => {
                let example = format!(r#"{name} = "request""#);
                let value = string_value(&meta, &name, &example)?;
                value.parse::<Ident>().map_err(|_| {
                    Error::new(
                        value.span(),
                        format!("`{name}` takes an argument's name, e.g. `{example}`"),
                    )
                })?;
                let list = if name == "arg" {
                    &mut self.args
                } else {
                    &mut self.skips
                };
                if list.iter().any(|seen| seen.value() == value.value()) {
                    return Err(Error::new(
                        value.span(),
                        format!("`{name} = \"{}\"` is given twice", value.value()),
                    ));
                }
                list.push(value);
                Ok(())
            }
            "crate" => {
                let value = string_value(&meta, &name, r#"crate = "my_reexports::headroom""#)?;
                let path = value.parse::<Path>().map_err(|_| {
                    Error::new(
                        value.span(),
                        "`crate` takes a path, e.g. `crate = \"my_reexports::headroom\"`",
                    )
                })?;
                set(&mut self.krate, &name, key, path)
            }
            _ => Err(Error::new(key, unknown_option_message(&name))),
        }
    }

    /// `config` names a complete engine: the options that build one cannot come with it.
    fn check_exclusive(&self) -> Result<()> {
        if self.config.is_none() {
            return Ok(());
        }
        let engine_options = [
            self.model.as_ref().map(|s| ("model", s.key)),
            self.lossless_only
                .as_ref()
                .map(|s| ("lossless_only", s.key)),
            self.budget.as_ref().map(|s| ("budget", s.key)),
        ];
        match engine_options.into_iter().flatten().next() {
            Some((name, key)) => Err(Error::new(
                key,
                format!(
                    "`{name}` cannot be combined with `config`: the engine named by `config` \
                     carries its own settings (set `{name}` on its builder)"
                ),
            )),
            None => Ok(()),
        }
    }
}

fn set<T>(slot: &mut Option<Setting<T>>, name: &str, key: Span, value: T) -> Result<()> {
    if slot.is_some() {
        return Err(Error::new(key, format!("`{name}` is given twice")));
    }
    *slot = Some(Setting { key, value });
    Ok(())
}

/// The expression after `=`, with a clear message when the `=` is missing.
fn value_expr(meta: &ParseNestedMeta<'_>, name: &str, example: &str) -> Result<Expr> {
    if !meta.input.peek(Token![=]) {
        return Err(meta.error(format!("`{name}` needs a value, e.g. `{example}`")));
    }
    meta.value()?.parse()
}

fn string_value(meta: &ParseNestedMeta<'_>, name: &str, example: &str) -> Result<LitStr> {
    match value_expr(meta, name, example)? {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s),
        other => Err(Error::new_spanned(
            other,
            format!("`{name}` takes a string literal, e.g. `{example}`"),
        )),
    }
}

fn bool_value(meta: &ParseNestedMeta<'_>) -> Result<bool> {
    match meta.value()?.parse::<Expr>()? {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => Ok(b.value),
        other => Err(Error::new_spanned(
            other,
            "`lossless_only` takes `true` or `false` (or stands alone: `lossless_only`)",
        )),
    }
}

fn path_text(path: &Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

fn unknown_option_message(name: &str) -> String {
    match closest(name, OPTIONS) {
        Some(best) => format!("unknown option `{name}`; did you mean `{best}`?"),
        None => format!(
            "unknown option `{name}`; expected one of {}",
            code_list(OPTIONS)
        ),
    }
}

/// `a`, `b`, `c`: names as they are written in code.
pub(crate) fn code_list(names: &[impl AsRef<str>]) -> String {
    names
        .iter()
        .map(|n| format!("`{}`", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The candidate nearest to `name` in edit distance, if it is near enough to be a typo.
pub(crate) fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let name = name.to_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&name, c), *c))
        .filter(|(d, c)| *d <= c.len().max(name.len()).div_ceil(3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn error(attr: TokenStream) -> String {
        match parse(attr) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reads_a_token_budget() {
        let args = parse(quote!(budget = 16000)).unwrap();
        assert_eq!(
            args.budget.unwrap().value.base10_parse::<usize>().unwrap(),
            16000
        );
        for bad in [
            quote!(budget = "16k"),
            quote!(budget = 0),
            quote!(budget = -5),
        ] {
            assert!(error(bad).starts_with("`budget` takes a positive number of tokens"));
        }
        assert!(error(quote!(config = ENGINE, budget = 9000))
            .starts_with("`budget` cannot be combined with `config`"));
    }

    #[test]
    fn reads_every_option() {
        let args = parse(quote!(
            model = "gpt-4.1",
            lossless_only,
            arg = "first",
            arg = "second",
            skip = "third",
            crate = "reexports::headroom"
        ))
        .unwrap();
        assert_eq!(args.model.unwrap().value.value(), "gpt-4.1");
        assert!(args.lossless_only.unwrap().value);
        let names: Vec<_> = args.args.iter().map(LitStr::value).collect();
        assert_eq!(names, ["first", "second"]);
        assert_eq!(args.skips[0].value(), "third");
        assert_eq!(path_text(&args.krate.unwrap().value), "reexports::headroom");
        assert!(
            !parse(quote!(lossless_only = false))
                .unwrap()
                .lossless_only
                .unwrap()
                .value
        );
        assert!(parse(quote!(config = crate::ENGINE))
            .unwrap()
            .config
            .is_some());
    }

    #[test]
    fn suggests_the_closest_option() {
        assert_eq!(
            error(quote!(modle = "gpt-4o")),
            "unknown option `modle`; did you mean `model`?"
        );
        assert_eq!(
            error(quote!(lossles_only)),
            "unknown option `lossles_only`; did you mean `lossless_only`?"
        );
        assert!(error(quote!(temperature = 1)).contains("expected one of `model`"));
    }

    #[test]
    fn rejects_wrong_values() {
        assert_eq!(
            error(quote!(model = 4)),
            r#"`model` takes a string literal, e.g. `model = "gpt-4o"`"#
        );
        assert!(error(quote!(lossless_only = "yes")).starts_with("`lossless_only` takes `true`"));
        assert!(error(quote!(config = "ENGINE")).starts_with("`config` takes a path"));
        assert!(error(quote!(arg = "two words")).starts_with("`arg` takes an argument's name"));
        assert!(error(quote!(model)).starts_with("`model` needs a value"));
        assert_eq!(
            error(quote!(model = "a", model = "b")),
            "`model` is given twice"
        );
    }

    #[test]
    fn config_excludes_engine_options() {
        assert!(error(quote!(config = ENGINE, model = "gpt-4o"))
            .starts_with("`model` cannot be combined with `config`"));
        assert!(error(quote!(lossless_only, config = ENGINE))
            .starts_with("`lossless_only` cannot be combined with `config`"));
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(closest("skp", OPTIONS), Some("skip"));
        assert_eq!(closest("temperature", OPTIONS), None);
    }
}
