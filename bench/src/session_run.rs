//! `headroom-bench session`: a long agent session turn by turn, through the library and through
//! the proxy's `/v1/compress` (sessions on), with what each turn costs and what a provider's
//! prompt cache could reuse. Every cost is measured twice: wall clock, and CPU time of the process
//! doing the work (this one for the library, the proxy's for the proxy), which a machine shared
//! with other work distorts far less. [`crate::session_report`] writes the tables.

use crate::clock::{cpu_time, process_cpu_time};
use headroom::tokens::TokenCounter;
use headroom::Headroom;
use serde::Serialize;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A provider caches a prefix of at least this many tokens, in steps of [`CACHE_STEP`].
pub const CACHE_MIN: usize = 1024;
/// See [`CACHE_MIN`].
pub const CACHE_STEP: usize = 128;

/// What one piece of work cost: wall-clock ms, and CPU ms of the process that did it (`None` when
/// that process's clock cannot be read, e.g. a proxy given by address).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Cost {
    pub wall_ms: f64,
    pub cpu_ms: Option<f64>,
}

impl Cost {
    /// CPU ms when measured, else wall ms.
    ///
    /// ```
    /// use headroom_bench::session_run::Cost;
    /// assert_eq!(Cost { wall_ms: 9.0, cpu_ms: Some(2.0) }.ms(), 2.0);
    /// assert_eq!(Cost { wall_ms: 9.0, cpu_ms: None }.ms(), 9.0);
    /// ```
    pub fn ms(&self) -> f64 {
        self.cpu_ms.unwrap_or(self.wall_ms)
    }
}

/// Runs `work`, timing it on the wall clock and on `cpu` (a process's CPU clock).
///
/// ```
/// use headroom_bench::{clock, session_run::timed};
/// let (sum, cost) = timed(|| Some(clock::cpu_time()), || (0..1_000_000u64).map(std::hint::black_box).sum::<u64>());
/// assert!(sum > 0 && cost.cpu_ms.unwrap() > 0.0 && cost.wall_ms > 0.0);
/// ```
pub fn timed<T>(cpu: impl Fn() -> Option<Duration>, work: impl FnOnce() -> T) -> (T, Cost) {
    let (cpu_before, started) = (cpu(), Instant::now());
    let out = work();
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    let cpu_ms = cpu()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before).as_secs_f64() * 1000.0);
    (out, Cost { wall_ms, cpu_ms })
}

/// One turn of the session.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Turn {
    pub turn: usize,
    pub messages: usize,
    /// Prompt tokens as the agent sent them.
    pub tokens_without: usize,
    /// Prompt tokens after Headroom.
    pub tokens_with: usize,
    /// Library: the first sight of this request (its new turn), and the same request sent again.
    pub library: Cost,
    pub library_resend: Cost,
    /// Proxy (`/v1/compress`, one keep-alive connection): per call, and the same call again.
    pub proxy: Option<Cost>,
    pub proxy_resend: Option<Cost>,
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
/// earlier turns), timing the first sight and a re-send of each on this process's CPU clock.
pub fn library(engine: &Headroom, requests: &[Value]) -> Result<Vec<Turn>, String> {
    let counter = headroom::tokens::counter_for_model(
        requests
            .first()
            .and_then(|r| r["model"].as_str())
            .unwrap_or("gpt-4o"),
    );
    let mut turns = Vec::new();
    let mut previous: Option<(Vec<Value>, Vec<Value>)> = None;
    let cpu = || Some(cpu_time());
    for (i, request) in requests.iter().enumerate() {
        let body = serde_json::to_vec(request).expect("serializes");
        let (out, library) = timed(cpu, || engine.compress_json(&body));
        let out = out.map_err(|e| format!("turn {}: {e}", i + 1))?;
        let (again, library_resend) = timed(cpu, || engine.compress_json(&body));
        let again = again.map_err(|e| e.to_string())?;
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
            library,
            library_resend,
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

/// A proxy the benchmark talks to: its `host:port`, and its process id when the benchmark
/// started it (then its CPU time is read around each call).
#[derive(Debug, Clone)]
pub struct Proxy {
    pub address: String,
    pub pid: Option<u32>,
}

impl Proxy {
    /// Posts `body` to `/v1/compress` on `stream`, timing the proxy's work.
    fn call(&self, stream: &mut TcpStream, body: &[u8]) -> Result<(Value, Cost), String> {
        let pid = self.pid;
        let (reply, cost) = timed(
            || pid.and_then(process_cpu_time),
            || post(stream, &self.address, body),
        );
        Ok((reply?, cost))
    }

    fn connect(&self) -> Result<TcpStream, String> {
        let stream = TcpStream::connect(&self.address)
            .map_err(|e| format!("cannot reach {}: {e}", self.address))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(stream)
    }
}

/// Sends every request to `proxy`'s `/v1/compress` with one session id, filling the proxy
/// columns of `turns`.
pub fn proxy(proxy: &Proxy, requests: &[Value], turns: &mut [Turn]) -> Result<(), String> {
    let mut stream = proxy.connect()?;
    for (request, turn) in requests.iter().zip(turns.iter_mut()) {
        let mut call = request.clone();
        call["session_id"] = Value::from("bench-session");
        let body = serde_json::to_vec(&call).expect("serializes");
        let (reply, cost) = proxy.call(&mut stream, &body)?;
        turn.proxy = Some(cost);
        turn.proxy_prefix_stable = reply["prefix_stable_messages"].as_u64().map(|n| n as usize);
        // The same call again (its session sees the same reply, so its prefix stays whole).
        turn.proxy_resend = Some(proxy.call(&mut stream, &body)?.1);
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

/// A request seen for the first time by a process that has seen none of it (cold), and the same
/// request sent again (warm).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Resend {
    pub first: Cost,
    pub again: Cost,
}

/// [`Resend`] through the library: a fresh engine and memo (warmed up on the built-in sample, as
/// a process's first request would find it), then the same engine again.
pub fn library_resend(request: &Value) -> Result<Resend, String> {
    let engine = Headroom::builder()
        .memo(std::sync::Arc::new(headroom::Memo::new(
            headroom::DEFAULT_MEMO_BYTES,
        )))
        .build()
        .map_err(|e| e.to_string())?;
    engine.warm_up();
    let body = serde_json::to_vec(request).expect("serializes");
    let cpu = || Some(cpu_time());
    let (first, first_cost) = timed(cpu, || engine.compress_json(&body));
    first.map_err(|e| e.to_string())?;
    let (again, again_cost) = timed(cpu, || engine.compress_json(&body));
    again.map_err(|e| e.to_string())?;
    Ok(Resend {
        first: first_cost,
        again: again_cost,
    })
}

/// [`Resend`] through a proxy that has not seen the request.
pub fn proxy_resend(proxy: &Proxy, request: &Value) -> Result<Resend, String> {
    let mut stream = proxy.connect()?;
    let body = serde_json::to_vec(request).expect("serializes");
    let first = proxy.call(&mut stream, &body)?.1;
    let again = proxy.call(&mut stream, &body)?.1;
    Ok(Resend { first, again })
}
