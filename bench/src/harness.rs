//! Runs every method over the corpus in one process and scores what each sent.

use crate::baselines::{head_tail, minified, with_last_content};
use crate::corpus::{last_content, Case, Kind};
use crate::fidelity::{score, Fidelity};
use headroom::Headroom;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

/// The methods compared, in table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The request as it came.
    Identity,
    /// JSON minified (other content unchanged).
    Minified,
    /// Head+tail truncation to Headroom's token count.
    HeadTail,
    /// Headroom at its defaults.
    Headroom,
    /// Headroom with `lossless_only`.
    HeadroomLossless,
    /// The Python reference, headroom-ai from PyPI.
    Reference,
}

impl Method {
    /// Every method, in table order.
    pub const ALL: [Method; 6] = [
        Method::Identity,
        Method::Minified,
        Method::HeadTail,
        Method::Headroom,
        Method::HeadroomLossless,
        Method::Reference,
    ];

    /// The table's name for it.
    pub fn label(self) -> &'static str {
        match self {
            Method::Identity => "identity",
            Method::Minified => "minified JSON",
            Method::HeadTail => "head+tail (same tokens)",
            Method::Headroom => "Headroom (defaults)",
            Method::HeadroomLossless => "Headroom lossless_only",
            Method::Reference => "headroom-ai (Python)",
        }
    }
}

/// What the Python runner recorded for one case.
#[derive(Debug, Clone, Deserialize)]
pub struct ReferenceRun {
    /// Case id.
    pub id: String,
    /// The messages it returned.
    pub messages: Value,
    /// Wall time of each timed `compress` call, in microseconds.
    pub times_us: Vec<f64>,
    /// Originals in its store for the hashes its output names.
    #[serde(default)]
    pub originals: HashMap<String, String>,
    /// Its own error, when compress raised.
    #[serde(default)]
    pub error: Option<String>,
}

/// One method on one case.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Case id.
    pub case: String,
    /// Content type.
    pub kind: Kind,
    /// Method.
    pub method: Method,
    /// Request tokens before (identity).
    pub tokens_before: usize,
    /// Request tokens as sent (markers and the retrieve tool's definition included).
    pub tokens_after: usize,
    /// Fidelity of what was sent.
    pub fidelity: Fidelity,
    /// Median compression time per call, microseconds (`None` when the method does no work).
    pub time_us: Option<f64>,
    /// Time to count the input's tokens once, microseconds (on the Headroom row).
    pub count_us: Option<f64>,
    /// Bytes of the artifact (the tool result) the method was given.
    #[serde(default)]
    pub input_bytes: usize,
    /// The artifact as the method sent it (written to `target/bench/sent/`, not to the results).
    #[serde(skip)]
    pub sent: String,
}

/// Counts a request's tokens the way the engine does (messages, per-message overhead, tools).
pub fn request_tokens(counter: &Headroom, body: &Value) -> usize {
    let bytes = serde_json::to_vec(body).expect("a Value serializes");
    counter
        .compress_json(&bytes)
        .map(|o| o.report.tokens_before)
        .unwrap_or(0)
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn timed<T>(repeats: usize, mut f: impl FnMut() -> T) -> (T, f64) {
    let mut times = Vec::with_capacity(repeats);
    let mut last = None;
    for _ in 0..repeats.max(1) {
        let start = crate::clock::cpu_time();
        last = Some(f());
        times.push((crate::clock::cpu_time().saturating_sub(start)).as_secs_f64() * 1e6);
    }
    (last.expect("ran at least once"), median(&mut times))
}

/// Runs the Rust methods on `case`, scores them and the reference's run (if given).
pub fn run_case(case: &Case, reference: Option<&ReferenceRun>, repeats: usize) -> Vec<Outcome> {
    // Counting only: audit mode sends nothing changed; lossless keeps it cheap.
    let counter = Headroom::builder()
        .audit(true)
        .lossless_only(true)
        .build()
        .expect("valid config");
    let body = serde_json::to_vec(&case.request).expect("a Value serializes");
    let original = case.artifact();
    let tokens_before = request_tokens(&counter, &case.request);
    let none = HashMap::new();
    let outcome =
        |method, tokens_after, content: &str, originals: &HashMap<String, String>, time_us| {
            Outcome {
                case: case.id.clone(),
                kind: case.kind,
                method,
                tokens_before,
                tokens_after,
                fidelity: score(case.kind, original, content, originals, &case.probes),
                time_us,
                count_us: None,
                input_bytes: original.len(),
                sent: content.to_string(),
            }
        };
    let mut out = vec![outcome(
        Method::Identity,
        tokens_before,
        original,
        &none,
        None,
    )];

    let (min, min_us) = timed(repeats, || minified(original));
    let min_request = with_last_content(&case.request, &min);
    out.push(outcome(
        Method::Minified,
        request_tokens(&counter, &min_request),
        &min,
        &none,
        Some(min_us),
    ));

    let engine = Headroom::default();
    // Timed calls run cold: the memo would answer every repeat after the first from memory
    // (its answers are the same bytes, checked below), and a benchmark times the work.
    let cold = Headroom::builder()
        .memo(std::sync::Arc::new(headroom::Memo::disabled()))
        .build()
        .expect("valid config");
    let (cold_out, hr_us) = timed(repeats, || cold.compress_json(&body));
    let hr = engine.compress_json(&body);
    if let (Ok(a), Ok(b)) = (&hr, &cold_out) {
        assert_eq!(a.body, b.body, "{}: the memo changed the output", case.id);
    }
    let headroom_row = match hr {
        Ok(result) => {
            let sent: Value = serde_json::from_slice(&result.body).unwrap_or(Value::Null);
            let content = last_content(&sent).unwrap_or("").to_string();
            // The engine's own count must agree with a recount of what it sent (tools included).
            let recount = request_tokens(&counter, &sent);
            if recount.abs_diff(result.report.tokens_after) > 2 {
                eprintln!(
                    "headroom-bench: {}: report says {} tokens, the sent request counts {recount}",
                    case.id, result.report.tokens_after
                );
            }
            let originals: HashMap<String, String> = result
                .originals
                .into_iter()
                .map(|o| (o.hash, o.text))
                .collect();
            let mut row = outcome(
                Method::Headroom,
                result.report.tokens_after,
                &content,
                &originals,
                Some(hr_us),
            );
            let counting = headroom::tokens::counter_for_model("gpt-4o");
            let texts = message_texts(&case.request);
            let (_, count_us) = timed(repeats, || {
                texts.iter().map(|t| counting.count(t)).sum::<usize>()
            });
            row.count_us = Some(count_us);
            row
        }
        Err(e) => {
            let mut row = outcome(
                Method::Headroom,
                tokens_before,
                original,
                &none,
                Some(hr_us),
            );
            row.fidelity.zeroed = Some(format!("engine error: {e}"));
            row
        }
    };
    let budget = headroom_row.tokens_after;

    let cut = head_tail(original, |t| {
        request_tokens(&counter, &with_last_content(&case.request, t)) <= budget
    });
    let cut_tokens = request_tokens(&counter, &with_last_content(&case.request, &cut));
    out.push(outcome(Method::HeadTail, cut_tokens, &cut, &none, None));
    out.push(headroom_row);

    let lossless = Headroom::builder()
        .lossless_only(true)
        .build()
        .expect("valid config");
    let (ll, ll_us) = timed(repeats, || lossless.compress_json(&body));
    let (ll_tokens, ll_content) = match ll {
        Ok(r) => {
            let sent: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            (
                r.report.tokens_after,
                last_content(&sent).unwrap_or("").to_string(),
            )
        }
        Err(_) => (tokens_before, original.to_string()),
    };
    out.push(outcome(
        Method::HeadroomLossless,
        ll_tokens,
        &ll_content,
        &none,
        Some(ll_us),
    ));

    if let Some(run) = reference {
        let mut sent = case.request.clone();
        sent["messages"] = run.messages.clone();
        let content = last_content(&sent).unwrap_or("").to_string();
        let mut times = run.times_us.clone();
        let time_us = (!times.is_empty()).then(|| median(&mut times));
        let mut row = outcome(
            Method::Reference,
            request_tokens(&counter, &sent),
            &content,
            &run.originals,
            time_us,
        );
        if let Some(e) = &run.error {
            row.fidelity
                .zeroed
                .get_or_insert_with(|| format!("reference error: {e}"));
        }
        out.push(row);
    }
    out
}

/// Headroom (defaults) on one question variant of a case.
#[derive(Debug, Clone, Serialize)]
pub struct KindOutcome {
    /// Case id.
    pub case: String,
    /// Content type.
    pub kind: Kind,
    /// How the question names the item.
    pub question_kind: crate::kinds::QuestionKind,
    /// The question asked.
    pub question: String,
    /// The asked-about item verbatim in one unit.
    pub needle: bool,
    /// Every error line (record) kept too, and nothing invented.
    pub asked_and_errors: bool,
    /// Request tokens before and as sent.
    pub tokens_before: usize,
    /// Request tokens as sent.
    pub tokens_after: usize,
    /// The artifact as sent (written to `target/bench/sent/<case>/kind-<kind>.txt`).
    #[serde(skip)]
    pub sent: String,
}

/// Runs Headroom (defaults) on every question variant of `case` (the same artifact, each kind of
/// question in turn as the user turn) and scores each variant's asked-about item and the errors.
pub fn run_variants(case: &Case) -> Vec<KindOutcome> {
    let counter = Headroom::builder()
        .audit(true)
        .lossless_only(true)
        .build()
        .expect("valid config");
    let engine = Headroom::default();
    let original = case.artifact();
    let mut out = Vec::new();
    for variant in &case.variants {
        let mut request = case.request.clone();
        request["messages"][1]["content"] = Value::String(variant.question.clone());
        let probes = crate::probe::Probes {
            needle: variant.needle.clone(),
            errors: case.probes.errors.clone(),
            records: Vec::new(),
        };
        let body = serde_json::to_vec(&request).expect("a Value serializes");
        let tokens_before = request_tokens(&counter, &request);
        let (content, tokens_after, originals) = match engine.compress_json(&body) {
            Ok(result) => {
                let sent: Value = serde_json::from_slice(&result.body).unwrap_or(Value::Null);
                let originals: HashMap<String, String> = result
                    .originals
                    .into_iter()
                    .map(|o| (o.hash, o.text))
                    .collect();
                (
                    last_content(&sent).unwrap_or("").to_string(),
                    result.report.tokens_after,
                    originals,
                )
            }
            Err(_) => (original.to_string(), tokens_before, HashMap::new()),
        };
        let f = score(case.kind, original, &content, &originals, &probes);
        out.push(KindOutcome {
            case: case.id.clone(),
            kind: case.kind,
            question_kind: variant.kind,
            question: variant.question.clone(),
            needle: f.zeroed.is_none() && f.needle,
            asked_and_errors: f.asked_and_errors(),
            tokens_before,
            tokens_after,
            sent: content,
        });
    }
    out
}

/// The text of every message's content (what counting the input means).
fn message_texts(request: &Value) -> Vec<String> {
    request["messages"]
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .filter_map(|m| m["content"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::{build_case, Artifact};

    #[test]
    fn every_method_runs_on_a_real_fixture() {
        // A recorded GitHub API response shipped with the engine's own fixtures when present; else
        // the engine's cargo metadata is real JSON too.
        let text = std::process::Command::new(env!("CARGO"))
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--offline",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        let artifact = Artifact {
            id: "cargo-metadata-no-deps".into(),
            kind: Kind::Json,
            tool: "cargo_metadata".into(),
            arguments: "{}".into(),
            source: "cargo metadata --no-deps".into(),
            text: serde_json::to_string_pretty(&value["packages"]).unwrap(),
        };
        let case = build_case(&artifact).unwrap();
        let rows = run_case(&case, None, 1);
        let by = |m| rows.iter().find(|r| r.method == m).unwrap();
        let identity = by(Method::Identity);
        assert!(identity.fidelity.asked_and_errors());
        assert_eq!(identity.fidelity.verbatim, identity.fidelity.probes);
        let minified = by(Method::Minified);
        assert!(minified.tokens_after < identity.tokens_after);
        assert!(
            minified.fidelity.asked_and_errors(),
            "{:?}",
            minified.fidelity
        );
        let lossless = by(Method::HeadroomLossless);
        assert!(lossless.tokens_after <= minified.tokens_after);
        assert_eq!(
            lossless.fidelity.verbatim, lossless.fidelity.probes,
            "{:?}",
            lossless.fidelity
        );
        let cut = by(Method::HeadTail);
        assert!(cut.tokens_after <= by(Method::Headroom).tokens_after);
        assert!(by(Method::Headroom).count_us.is_some());
    }
}
