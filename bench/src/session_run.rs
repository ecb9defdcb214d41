//! `headroom-bench session`: a long agent session turn by turn, through the library and through
//! the proxy's `/v1/compress` (sessions on), with what each turn costs and what a provider's
//! prompt cache could reuse.

use headroom::tokens::TokenCounter;
use headroom::Headroom;
use serde::Serialize;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

/// gpt-4o's published price per million input tokens, uncached and cached (USD).
pub const PRICE_PER_M: f64 = 2.50;
/// See [`PRICE_PER_M`].
pub const CACHED_PRICE_PER_M: f64 = 1.25;
/// A provider caches a prefix of at least this many tokens, in steps of [`CACHE_STEP`].
pub const CACHE_MIN: usize = 1024;
/// See [`CACHE_MIN`].
pub const CACHE_STEP: usize = 128;

/// One turn of the session.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Turn {
    pub turn: usize,
    pub messages: usize,
    /// Prompt tokens as the agent sent them.
    pub tokens_without: usize,
    /// Prompt tokens after Headroom.
    pub tokens_with: usize,
    /// Library: ms for the first sight of this request, and for the same request sent again.
    pub library_ms: f64,
    pub library_resend_ms: f64,
    /// Proxy (`/v1/compress`, one keep-alive connection): ms per call, and for the same call again.
    pub proxy_ms: Option<f64>,
    pub proxy_resend_ms: Option<f64>,
    /// Leading messages byte-identical to the previous turn's compressed request.
    pub prefix_stable_messages: usize,
    /// ... out of the previous turn's messages.
    pub previous_messages: usize,
    /// The proxy's own count of the same (`prefix_stable_messages` in its reply).
    pub proxy_prefix_stable: Option<usize>,
    /// Tokens a provider cache could reuse (common prefix with the previous request).
    pub cached_with: usize,
    pub cached_without: usize,
    /// Messages evicted in this request.
    pub evicted_messages: usize,
}

/// Runs every request through `engine`, as one long-lived agent process would (memo warm from the
/// earlier turns), timing the first sight and a re-send of each.
pub fn library(engine: &Headroom, requests: &[Value]) -> Result<Vec<Turn>, String> {
    let counter = headroom::tokens::counter_for_model(
        requests
            .first()
            .and_then(|r| r["model"].as_str())
            .unwrap_or("gpt-4o"),
    );
    let mut turns = Vec::new();
    let mut previous: Option<(Vec<Value>, Vec<Value>)> = None;
    for (i, request) in requests.iter().enumerate() {
        let body = serde_json::to_vec(request).expect("serializes");
        let started = Instant::now();
        let out = engine
            .compress_json(&body)
            .map_err(|e| format!("turn {}: {e}", i + 1))?;
        let library_ms = ms(started);
        let started = Instant::now();
        let again = engine.compress_json(&body).map_err(|e| e.to_string())?;
        let library_resend_ms = ms(started);
        let hurried = |r: &headroom::Report| {
            r.passthrough_reason
                .as_deref()
                .is_some_and(|why| why.starts_with("time budget"))
        };
        // Only the time budget (running out sends the request as it came) may tell them apart.
        if again.body != out.body && !hurried(&out.report) && !hurried(&again.report) {
            return Err(format!("turn {}: a re-send compressed differently", i + 1));
        }
        if hurried(&out.report) {
            eprintln!(
                "headroom-bench: turn {}: the time budget ran out; sent as it came",
                i + 1
            );
        }
        let sent: Value = serde_json::from_slice(&out.body).map_err(|e| e.to_string())?;
        let sent_messages = sent["messages"].as_array().cloned().unwrap_or_default();
        let original = request["messages"].as_array().cloned().unwrap_or_default();
        let (stable, previous_len, cached_with, cached_without) = match &previous {
            Some((prev_sent, prev_original)) => {
                let stable = common(prev_sent, &sent_messages);
                let stable_original = common(prev_original, &original);
                (
                    stable,
                    prev_sent.len(),
                    cacheable(&counter, &sent_messages[..stable]),
                    cacheable(&counter, &original[..stable_original]),
                )
            }
            None => (0, 0, 0, 0),
        };
        turns.push(Turn {
            turn: i + 1,
            messages: original.len(),
            tokens_without: out.report.tokens_before,
            tokens_with: out.report.tokens_after,
            library_ms,
            library_resend_ms,
            prefix_stable_messages: stable,
            previous_messages: previous_len,
            cached_with,
            cached_without,
            evicted_messages: out
                .report
                .fit
                .as_ref()
                .map_or(0, |f| f.evictions.iter().map(|e| e.messages.len()).sum()),
            ..Turn::default()
        });
        previous = Some((sent_messages, original));
    }
    Ok(turns)
}

/// Sends every request to a proxy's `/v1/compress` at `address` (`host:port`) with one session
/// id, filling the proxy columns of `turns`.
pub fn proxy(address: &str, requests: &[Value], turns: &mut [Turn]) -> Result<(), String> {
    let mut stream =
        TcpStream::connect(address).map_err(|e| format!("cannot reach {address}: {e}"))?;
    for (request, turn) in requests.iter().zip(turns.iter_mut()) {
        let mut call = request.clone();
        call["session_id"] = Value::from("bench-session");
        let body = serde_json::to_vec(&call).expect("serializes");
        let started = Instant::now();
        let reply = post(&mut stream, address, &body)?;
        turn.proxy_ms = Some(ms(started));
        turn.proxy_prefix_stable = reply["prefix_stable_messages"].as_u64().map(|n| n as usize);
        // The same call again (its session sees the same reply, so its prefix stays whole).
        let started = Instant::now();
        post(&mut stream, address, &body)?;
        turn.proxy_resend_ms = Some(ms(started));
    }
    Ok(())
}

/// One HTTP/1.1 POST of `body` to `/v1/compress` on a keep-alive connection; the JSON reply.
fn post(stream: &mut TcpStream, host: &str, body: &[u8]) -> Result<Value, String> {
    let head = format!(
        "POST /v1/compress HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|_| stream.write_all(body))
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(&*stream);
    let mut status = String::new();
    reader.read_line(&mut status).map_err(|e| e.to_string())?;
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).map_err(|e| e.to_string())?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().map_err(|_| "bad content-length")?;
            }
        }
    }
    let mut reply = vec![0; length];
    reader.read_exact(&mut reply).map_err(|e| e.to_string())?;
    if !status.contains(" 200 ") {
        return Err(format!(
            "{}: {}",
            status.trim(),
            String::from_utf8_lossy(&reply)
        ));
    }
    serde_json::from_slice(&reply).map_err(|e| e.to_string())
}

fn ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

/// Leading messages equal in both.
fn common(a: &[Value], b: &[Value]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Tokens a provider's prompt cache reuses when `prefix` is the part shared with the previous
/// request: none under [`CACHE_MIN`], else whole steps of [`CACHE_STEP`].
fn cacheable(counter: &std::sync::Arc<dyn TokenCounter>, prefix: &[Value]) -> usize {
    let tokens: usize = prefix
        .iter()
        .map(|m| message_tokens(counter.as_ref(), m))
        .sum();
    if tokens < CACHE_MIN {
        0
    } else {
        tokens / CACHE_STEP * CACHE_STEP
    }
}

/// A message's tokens: OpenAI's per-message overhead, its role, its text and its tool calls.
pub fn message_tokens(counter: &dyn TokenCounter, message: &Value) -> usize {
    let mut tokens = 3 + counter.count(message["role"].as_str().unwrap_or(""));
    match &message["content"] {
        Value::String(s) => tokens += counter.count(s),
        Value::Array(parts) => {
            for p in parts {
                tokens += counter.count(p["text"].as_str().unwrap_or(""));
            }
        }
        _ => {}
    }
    for call in message["tool_calls"].as_array().into_iter().flatten() {
        tokens += counter.count(call["function"]["name"].as_str().unwrap_or(""));
        tokens += counter.count(call["function"]["arguments"].as_str().unwrap_or(""));
    }
    tokens
}

/// Dollars for the session's prompts: (without caching, with a provider's prompt cache).
pub fn dollars(turns: &[Turn], with_headroom: bool) -> (f64, f64) {
    let mut plain = 0.0;
    let mut cached = 0.0;
    for t in turns {
        let (tokens, hit) = if with_headroom {
            (t.tokens_with, t.cached_with)
        } else {
            (t.tokens_without, t.cached_without)
        };
        plain += tokens as f64 * PRICE_PER_M / 1e6;
        let hit = hit.min(tokens);
        cached += (tokens - hit) as f64 * PRICE_PER_M / 1e6 + hit as f64 * CACHED_PRICE_PER_M / 1e6;
    }
    (plain, cached)
}

/// The per-turn table and the totals, in Markdown.
pub fn markdown(turns: &[Turn], window: usize) -> String {
    let mut md = String::from(
        "| turn | messages | tokens without | tokens with | library ms (first / re-sent) | proxy ms (first / re-sent) | prefix stable | evicted |\n|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for t in turns {
        let proxy = match (t.proxy_ms, t.proxy_resend_ms) {
            (Some(a), Some(b)) => format!("{a:.1} / {b:.1}"),
            _ => "–".into(),
        };
        let stable = if t.previous_messages == 0 {
            "–".to_string()
        } else {
            format!("{}/{}", t.prefix_stable_messages, t.previous_messages)
        };
        md.push_str(&format!(
            "| {} | {} | {} | {} | {:.1} / {:.2} | {} | {} | {} |\n",
            t.turn,
            t.messages,
            t.tokens_without,
            t.tokens_with,
            t.library_ms,
            t.library_resend_ms,
            proxy,
            stable,
            t.evicted_messages
        ));
    }
    let without: usize = turns.iter().map(|t| t.tokens_without).sum();
    let with: usize = turns.iter().map(|t| t.tokens_with).sum();
    let largest_without = turns.iter().map(|t| t.tokens_without).max().unwrap_or(0);
    let largest_with = turns.iter().map(|t| t.tokens_with).max().unwrap_or(0);
    let over = turns.iter().filter(|t| t.tokens_without > window).count();
    let stable: usize = turns.iter().map(|t| t.prefix_stable_messages).sum();
    let previous: usize = turns.iter().map(|t| t.previous_messages).sum();
    let steady = turns
        .iter()
        .skip(1)
        .filter(|t| t.prefix_stable_messages == t.previous_messages)
        .count();
    let (plain_without, cached_without) = dollars(turns, false);
    let (plain_with, cached_with) = dollars(turns, true);
    md.push_str(&targets(turns));
    md.push_str(&format!(
        "\nTotals over {} turns: {without} prompt tokens without Headroom, {with} with ({:.1}% saved). \
         Largest request: {largest_without} tokens without ({over} of {} requests over the {window}-token window), \
         {largest_with} with. Prefix-stable share: {stable} of {previous} earlier messages sent again byte-identical \
         ({:.1}%; {steady} of {} turns kept the whole previous request as their prefix). \
         Prompt cost at ${PRICE_PER_M:.2}/M input tokens (${CACHED_PRICE_PER_M:.2}/M cached): \
         ${plain_without:.2} without Headroom (${cached_without:.2} with prompt caching), \
         ${plain_with:.2} with Headroom (${cached_with:.2} with prompt caching).\n",
        turns.len(),
        percent(without - with.min(without), without),
        turns.len(),
        percent(stable, previous),
        turns.len().saturating_sub(1),
    ));
    md
}

/// The issue's targets as measured: turn 24 against turn 2 in the warm proxy, and how much faster
/// a re-sent unchanged request is than its first sight (median over turns).
fn targets(turns: &[Turn]) -> String {
    let mut out = String::new();
    let at = |n: usize| turns.iter().find(|t| t.turn == n);
    for (label, pick) in [
        (
            "library",
            (|t: &Turn| Some(t.library_ms)) as fn(&Turn) -> Option<f64>,
        ),
        ("proxy", |t: &Turn| t.proxy_ms),
    ] {
        out.push_str(&format!("\n{label}: "));
        if let (Some(a), Some(b)) = (at(2).and_then(pick), at(24).and_then(pick)) {
            out.push_str(&format!(
                "turn 24 took {b:.1} ms, turn 2 {a:.1} ms: {:.2}× (target ≤ 2×); ",
                b / a
            ));
        }
        let first_and_again = |t: &Turn| match label {
            "library" => Some((t.library_ms, t.library_resend_ms)),
            _ => t.proxy_ms.zip(t.proxy_resend_ms),
        };
        let mut speedups: Vec<f64> = turns
            .iter()
            .filter_map(first_and_again)
            .map(|(first, again)| first / again.max(1e-3))
            .collect();
        if !speedups.is_empty() {
            speedups.sort_by(f64::total_cmp);
            let median = speedups[speedups.len() / 2];
            out.push_str(&format!(
                "in the session, the same request sent again is {median:.1}× faster than when it came with its new turn \
                 (median over turns); first turn {:.1} ms, last turn {:.1} ms.",
                turns.first().and_then(first_and_again).map_or(0.0, |p| p.0),
                turns.last().and_then(first_and_again).map_or(0.0, |p| p.0),
            ));
        }
    }
    let proxied: Vec<&Turn> = turns
        .iter()
        .filter(|t| t.proxy_prefix_stable.is_some())
        .collect();
    if !proxied.is_empty() {
        let stable: usize = proxied.iter().filter_map(|t| t.proxy_prefix_stable).sum();
        let previous: usize = proxied.iter().map(|t| t.previous_messages).sum();
        out.push_str(&format!(
            "\nproxy sessions: {stable} of {previous} earlier messages byte-identical ({:.1}%, the proxy's own `prefix_stable_messages`).",
            percent(stable, previous)
        ));
    }
    out.push('\n');
    out
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// A request seen for the first time by a process that has seen none of it (cold), and the same
/// request sent again (warm): ms each.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Resend {
    pub first_ms: f64,
    pub again_ms: f64,
}

/// [`Resend`] through the library: a fresh engine and memo, then the same engine again.
pub fn library_resend(request: &Value) -> Result<Resend, String> {
    let engine = Headroom::builder()
        .memo(std::sync::Arc::new(headroom::Memo::new(
            headroom::DEFAULT_MEMO_BYTES,
        )))
        .build()
        .map_err(|e| e.to_string())?;
    let body = serde_json::to_vec(request).expect("serializes");
    engine
        .compress_json(br#"{"model":"gpt-4o","messages":[]}"#)
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    engine.compress_json(&body).map_err(|e| e.to_string())?;
    let first_ms = ms(started);
    let started = Instant::now();
    engine.compress_json(&body).map_err(|e| e.to_string())?;
    Ok(Resend {
        first_ms,
        again_ms: ms(started),
    })
}

/// [`Resend`] through a proxy at `address` that has not seen the request.
pub fn proxy_resend(address: &str, request: &Value) -> Result<Resend, String> {
    let mut stream =
        TcpStream::connect(address).map_err(|e| format!("cannot reach {address}: {e}"))?;
    let body = serde_json::to_vec(request).expect("serializes");
    let started = Instant::now();
    post(&mut stream, address, &body)?;
    let first_ms = ms(started);
    let started = Instant::now();
    post(&mut stream, address, &body)?;
    Ok(Resend {
        first_ms,
        again_ms: ms(started),
    })
}

/// One line per door: how much faster the re-send was.
pub fn resend_markdown(turn: usize, library: Resend, proxy: Option<Resend>) -> String {
    let line = |door: &str, r: Resend| {
        format!(
            "\n{door}: the request of turn {turn}, first seen by a cold process, {:.1} ms; sent again {:.1} ms: {:.1}× faster (target ≥ 20×).",
            r.first_ms,
            r.again_ms,
            r.first_ms / r.again_ms.max(1e-3)
        )
    };
    let mut out = line("library", library);
    if let Some(p) = proxy {
        out.push_str(&line("proxy", p));
    }
    out.push('\n');
    out
}
