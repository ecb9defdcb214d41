//! Peak memory per request (issue 16): compressing a body never takes more than ten times its
//! size on the heap, for each shape of the probes — a big JSON array, a big log, search hits, a
//! diff, prose, and fifty thousand tiny content parts. Measured with a counting allocator (exact,
//! not timing-dependent); the shapes are a few megabytes, and memory grows linearly with them
//! (`scripts/stress.sh` runs the 30 MB ones on the release binary).

use headroom::Headroom;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

struct Counting;
static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            let now = NOW.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(now, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        System.dealloc(p, layout);
        NOW.fetch_sub(layout.size(), Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = System.realloc(p, layout, new_size);
        if !q.is_null() {
            if new_size >= layout.size() {
                let now =
                    NOW.fetch_add(new_size - layout.size(), Relaxed) + new_size - layout.size();
                PEAK.fetch_max(now, Relaxed);
            } else {
                NOW.fetch_sub(layout.size() - new_size, Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[path = "support/shapes.rs"]
mod shapes;
use shapes::{fixture, issues, repeated, request};

/// Heap bytes compressing `body` takes beyond what was held before (the body included), over
/// the body's size.
fn peak_per_body(hr: &Headroom, body: &[u8]) -> f64 {
    let before = NOW.load(Relaxed);
    PEAK.store(before, Relaxed);
    let out = hr.compress_json(body).unwrap();
    let peak = PEAK.load(Relaxed) - before;
    drop(out);
    peak as f64 / body.len() as f64
}

/// One measurement at a time: the allocator's counters are the process's, so a test running beside
/// another would count the other's allocations too.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Each shape's peak over its body, at most ten times.
fn check(shapes: &[(&str, Vec<u8>)]) {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // Fitting to the window is off: these bodies are larger than any window, on purpose.
    // A memo of its own: what other engines of the process left in the shared one is not this
    // request's to hold, and a hit from them would hide the work measured.
    let hr = Headroom::builder()
        .fit_to_window(false)
        .memo(std::sync::Arc::new(headroom::Memo::new(
            headroom::DEFAULT_MEMO_BYTES,
        )))
        .build()
        .unwrap();
    // One-time work (tokenizer tables, statics) is not a request's memory.
    hr.warm_up();
    let mut over = Vec::new();
    for (name, body) in shapes {
        let ratio = peak_per_body(&hr, body);
        eprintln!("{name}: {} bytes, peak {ratio:.1}x the body", body.len());
        if ratio > 10.0 {
            over.push(format!("{name}: {ratio:.1}x"));
        }
    }
    assert!(over.is_empty(), "over ten times the body: {over:?}");
}

#[test]
fn compressing_takes_at_most_ten_times_the_body() {
    let size = 1_500_000;
    check(&[
        ("json array", request(issues(size).into(), "list_issues")),
        (
            "logs",
            request(
                repeated(&fixture("logs/cargo-build-vv-deps-type-error.txt"), size).into(),
                "cargo_build",
            ),
        ),
        (
            "search",
            request(
                repeated(&fixture("search/grep-memchr-unsafe-fn.txt"), size).into(),
                "grep",
            ),
        ),
        (
            "diff",
            request(
                repeated(&fixture("diff/foldhash-0.1.5-0.2.0.diff"), size).into(),
                "git_diff",
            ),
        ),
        (
            "text",
            request(
                repeated(&fixture("prose/serde_json-README.md"), size).into(),
                "read_file",
            ),
        ),
    ]);
}

#[test]
fn many_tiny_parts_take_at_most_ten_times_the_body() {
    let parts: Vec<serde_json::Value> = (0..50_000)
        .map(|i| serde_json::json!({"type": "text", "text": format!("part {i}")}))
        .collect();
    check(&[("50k parts", request(parts.into(), "parts"))]);
}
