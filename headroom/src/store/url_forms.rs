//! The store URL forms: one list for the parser's errors, the help texts and the README.

/// Every store URL form, with what it is: the one list help texts and the README quote.
///
/// ```
/// let forms: Vec<&str> = headroom::store::URL_FORMS.iter().map(|(form, _)| *form).collect();
/// assert_eq!(forms, ["memory:", "sqlite:PATH", "redis://HOST:PORT[/DB]"]);
/// ```
pub const URL_FORMS: &[(&str, &str)] = &[
    ("memory:", "in this process only"),
    ("sqlite:PATH", "a SQLite file; survives restarts"),
    (
        "redis://HOST:PORT[/DB]",
        "a Redis server, shared by several processes",
    ),
];

/// The forms of [`URL_FORMS`] as one comma-separated list.
pub(crate) fn url_forms_list() -> String {
    let forms: Vec<&str> = URL_FORMS.iter().map(|(form, _)| *form).collect();
    forms.join(", ")
}
