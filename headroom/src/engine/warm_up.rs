//! The one-time work of a first compression, done on purpose before the first request needs it.

use super::Headroom;
use crate::report::Report;
use serde_json::json;

impl Headroom {
    /// Does the work a process does once, before its first real request: loads the tokenizer
    /// tables of the configured model (else gpt-4o) (both counters: the fast one and the linear one for long unbroken runs),
    /// fills the process-wide statics (memo, the retrieve tool's token count) and this thread's
    /// tokenizer cache, and runs every compressor once on a small built-in request (JSON, logs,
    /// search hits, a diff, source code, prose). Returns that request's report.
    ///
    /// Doors that time requests call it first, so their timings hold compression alone: the CLI's
    /// `--stats` puts it in `init_us`, never in `elapsed_us`. Calling it again costs a compression
    /// of the sample (its results come from the memo).
    ///
    /// ```
    /// let report = headroom::Headroom::default().warm_up();
    /// assert!(report.tokens_after < report.tokens_before);
    /// ```
    pub fn warm_up(&self) -> Report {
        let model = self.config.model.as_deref().unwrap_or(super::DEFAULT_MODEL);
        let body = serde_json::to_vec(&sample_request(model)).expect("a Value serializes");
        match self.compress_json(&body) {
            Ok(out) => out.report,
            Err(_) => Report::default(),
        }
    }
}

/// A conversation with one tool result of each content type, each large enough to compress.
fn sample_request(model: &str) -> serde_json::Value {
    let records: Vec<_> = (0..60)
        .map(|i| json!({"id": 1000 + i, "name": format!("package-{i}"), "version": format!("1.{i}.0"), "ok": i % 7 != 0}))
        .collect();
    let mut logs: String = (0..120)
        .map(|i| {
            format!(
                "2024-05-01 10:{:02}:{:02} INFO worker {} handled request {i}\n",
                i / 60,
                i % 60,
                i % 4
            )
        })
        .collect();
    logs.push_str("2024-05-01 10:02:00 ERROR worker 2 failed: connection reset by peer\n");
    // A separator longer than a kilobyte: text the linear tokenizer counts (its tables load now).
    logs.push_str(&"=".repeat(1500));
    logs.push('\n');
    let hits: String = (0..60)
        .map(|i| {
            format!(
                "src/module_{}.rs:{}:    let value_{i} = compute(input, {i});\n",
                i % 6,
                10 + i
            )
        })
        .collect();
    let mut diff = String::from("diff --git a/src/lib.rs b/src/lib.rs\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,80 +1,80 @@\n");
    for i in 0..80 {
        if i % 10 == 5 {
            diff.push_str(&format!("-    old_line({i});\n+    new_line({i});\n"));
        } else {
            diff.push_str(&format!("     same_line({i});\n"));
        }
    }
    let code: String = (0..12)
        .map(|f| {
            let body: String = (0..8)
                .map(|i| format!("    let step_{i} = input.len() * {i} + {f};\n"))
                .collect();
            format!("/// Function {f}.\npub fn function_{f}(input: &str) -> usize {{\n{body}    step_7\n}}\n\n")
        })
        .collect();
    let prose: String = (0..16)
        .map(|p| format!("Paragraph {p} explains one part of the system: how requests arrive, how each is read, and what is kept for later. It ends here.\n\n"))
        .collect();
    let results = [
        (
            "list_packages",
            "{}",
            serde_json::to_string_pretty(&records).expect("serializes"),
        ),
        ("read_log", r#"{"path":"/var/log/app.log"}"#, logs),
        ("grep", r#"{"pattern":"let value"}"#, hits),
        ("git_diff", "{}", diff),
        ("read_file", r#"{"path":"src/lib.rs"}"#, code),
        ("read_file", r#"{"path":"NOTES.md"}"#, prose),
    ];
    let mut messages = vec![json!({"role": "user", "content": "What failed?"})];
    for (i, (tool, arguments, content)) in results.into_iter().enumerate() {
        let id = format!("call_{i}");
        messages.push(json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": id, "type": "function", "function": {"name": tool, "arguments": arguments}}
        ]}));
        messages.push(json!({"role": "tool", "tool_call_id": id, "content": content}));
    }
    json!({"model": model, "messages": messages})
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample reaches every compressor: each tool result is detected as its own content type
    /// and compressed (so their first-use work is done).
    #[test]
    fn the_warm_up_runs_every_compressor() {
        let report = Headroom::default().warm_up();
        let compressed: Vec<&str> = report
            .segments
            .iter()
            .filter(|s| s.tokens_after < s.tokens_before)
            .map(|s| s.content_type.as_str())
            .collect();
        let code = if cfg!(feature = "code") {
            "code"
        } else {
            "text"
        };
        for kind in ["json", "logs", "search", "diff", code, "text"] {
            assert!(
                compressed.iter().any(|c| c.starts_with(kind)),
                "{kind} not compressed: {:?}",
                report.segments
            );
        }
    }
}
