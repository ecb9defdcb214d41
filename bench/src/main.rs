//! `headroom-bench`: builds the corpus, runs every method, writes the table.
//!
//! ```text
//! headroom-bench corpus RAW_DIR CORPUS_DIR
//! headroom-bench run CORPUS_DIR [--reference FILE.jsonl] [--out DIR] [--repeats N]
//! headroom-bench readme TABLE.md README.md
//! headroom-bench session [--turns N] [--max-bytes N] [--model M] [--proxy HOST:PORT | --headroom BIN] [--out DIR]
//! ```

use headroom_bench::corpus::{build_case, Artifact, Case};
use headroom_bench::harness::{run_case, run_variants, ReferenceRun};
use headroom_bench::summary::{
    corpus_throughput, kinds_markdown, losses, markdown, rows, speed_markdown,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("corpus") if args.len() == 3 => corpus(Path::new(&args[1]), Path::new(&args[2])),
        Some("run") if args.len() >= 2 => run(&args[1..]),
        Some("readme") if args.len() == 3 => readme(Path::new(&args[1]), Path::new(&args[2])),
        Some("session") => session(&args[1..]),
        Some("responses") if args.len() == 2 => responses(Path::new(&args[1])),
        _ => Err("usage: headroom-bench corpus RAW_DIR CORPUS_DIR | run CORPUS_DIR [--reference FILE] [--out DIR] [--repeats N] | readme TABLE.md README.md | responses CORPUS_DIR | session [--turns N] [--max-bytes N] [--model M] [--proxy HOST:PORT | --headroom BIN] [--out DIR]".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("headroom-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, String>;

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Turns the collector's manifest into cases: `<id>.request.json` (what methods see) and
/// `<id>.probes.json` (what only the scorer sees), plus `index.json`.
fn corpus(raw: &Path, out: &Path) -> Result<()> {
    let manifest = read(&raw.join("manifest.tsv"))?;
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mut index = Vec::new();
    for line in manifest.lines().filter(|l| !l.trim().is_empty()) {
        let artifact =
            Artifact::from_manifest_line(line, |f| std::fs::read_to_string(raw.join(f)))?;
        let case = match build_case(&artifact) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("headroom-bench: skipping a case: {e}");
                continue;
            }
        };
        write(
            &out.join(format!("{}.request.json", case.id)),
            &serde_json::to_string_pretty(&case.request).expect("serializes"),
        )?;
        write(
            &out.join(format!("{}.case.json", case.id)),
            &serde_json::to_string(&case).expect("serializes"),
        )?;
        index.push(serde_json::json!({"id": case.id, "kind": case.kind, "source": case.source}));
    }
    write(
        &out.join("index.json"),
        &serde_json::to_string_pretty(&index).expect("serializes"),
    )?;
    eprintln!("headroom-bench: {} cases in {}", index.len(), out.display());
    Ok(())
}

fn run(args: &[String]) -> Result<()> {
    let corpus = PathBuf::from(&args[0]);
    let mut reference_path = None;
    let mut out = PathBuf::from("target/bench");
    let mut repeats = 5usize;
    let mut rest = args[1..].iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--reference" => reference_path = Some(PathBuf::from(value)),
            "--out" => out = PathBuf::from(value),
            "--repeats" => {
                repeats = value
                    .parse()
                    .map_err(|_| format!("--repeats: not a number: {value}"))?
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    let mut reference: HashMap<String, ReferenceRun> = HashMap::new();
    if let Some(path) = &reference_path {
        for line in read(path)?.lines().filter(|l| !l.trim().is_empty()) {
            let run: ReferenceRun = serde_json::from_str(line)
                .map_err(|e| format!("{}: bad line: {e}", path.display()))?;
            reference.insert(run.id.clone(), run);
        }
    }
    let index: Vec<serde_json::Value> = serde_json::from_str(&read(&corpus.join("index.json"))?)
        .map_err(|e| format!("index.json: {e}"))?;
    let mut outcomes = Vec::new();
    let mut kind_outcomes = Vec::new();
    for entry in &index {
        let id = entry["id"].as_str().unwrap_or_default();
        let case: Case = serde_json::from_str(&read(&corpus.join(format!("{id}.case.json")))?)
            .map_err(|e| format!("{id}: {e}"))?;
        let rows = run_case(&case, reference.get(id), repeats);
        let dir = out.join("sent").join(id);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        for v in run_variants(&case) {
            let name = serde_json::to_value(v.question_kind).expect("serializes");
            write(
                &dir.join(format!("kind-{}.txt", name.as_str().unwrap_or("kind"))),
                &v.sent,
            )?;
            eprintln!(
                "{:<34} {:<24} {:>7} -> {:>7}  asked+errors {}  {}",
                v.case,
                v.question_kind.label(),
                v.tokens_before,
                v.tokens_after,
                u8::from(v.asked_and_errors),
                v.question
            );
            kind_outcomes.push(v);
        }
        for r in &rows {
            eprintln!(
                "{:<34} {:<24} {:>7} -> {:>7}  asked+errors {}  rec {:>2}/{}  {}",
                r.case,
                r.method.label(),
                r.tokens_before,
                r.tokens_after,
                u8::from(r.fidelity.asked_and_errors()),
                r.fidelity.recoverable,
                r.fidelity.probes,
                r.fidelity.zeroed.as_deref().unwrap_or("")
            );
        }
        for r in &rows {
            let name = serde_json::to_value(r.method).expect("serializes");
            write(
                &dir.join(format!("{}.txt", name.as_str().unwrap_or("method"))),
                &r.sent,
            )?;
        }
        outcomes.extend(rows);
    }
    let table = rows(&outcomes);
    let mut md = String::new();
    md.push_str(&markdown(&table));
    md.push('\n');
    md.push_str(&speed_markdown(&table));
    if let Some(mb_per_s) = corpus_throughput(&outcomes) {
        md.push_str(&format!(
            "\nHeadroom (defaults) over the whole corpus: {mb_per_s:.1} MB/s (input bytes over the sum of the per-case medians).\n"
        ));
    }
    md.push_str("\nRetention per kind of question (Headroom defaults; each cell: variants whose asked-about item and every error line survived, of those asked):\n\n");
    md.push_str(&kinds_markdown(&kind_outcomes));
    let lost = losses(&outcomes);
    md.push_str(&format!("\n<details><summary>Cases where Headroom (defaults) does worse than another method ({})</summary>\n\n", lost.len()));
    for l in &lost {
        md.push_str(&format!("- {l}\n"));
    }
    md.push_str("\n</details>\n");
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    write(&out.join("table.md"), &md)?;
    write(
        &out.join("results.json"),
        &serde_json::to_string_pretty(&serde_json::json!({"rows": table, "outcomes": outcomes, "question_kinds": kind_outcomes}))
            .expect("serializes"),
    )?;
    println!("{md}");
    Ok(())
}

/// The corpus sent as chat and as Responses requests: the comparison table on stdout.
fn responses(corpus: &Path) -> Result<()> {
    use headroom_bench::responses::{compare, markdown};
    let index: Vec<serde_json::Value> = serde_json::from_str(&read(&corpus.join("index.json"))?)
        .map_err(|e| format!("index.json: {e}"))?;
    let mut rows = Vec::new();
    for entry in &index {
        let id = entry["id"].as_str().unwrap_or_default();
        let case: Case = serde_json::from_str(&read(&corpus.join(format!("{id}.case.json")))?)
            .map_err(|e| format!("{id}: {e}"))?;
        rows.push(compare(&case)?);
    }
    println!("{}", markdown(&rows));
    Ok(())
}

const START: &str = "<!-- bench:start -->";
const END: &str = "<!-- bench:end -->";

/// Replaces the generated part of the README's Benchmarks section (between the bench markers).
fn readme(table: &Path, readme: &Path) -> Result<()> {
    let table = read(table)?;
    let text = read(readme)?;
    let (Some(a), Some(b)) = (text.find(START), text.find(END)) else {
        return Err(format!("{} has no {START} … {END} block", readme.display()));
    };
    let new = format!(
        "{}{START}\n{}\n{}",
        &text[..a],
        table.trim_end(),
        &text[b..]
    );
    write(readme, &new)
}

/// A long agent session, turn by turn, through the library and (with `--proxy`) a running proxy.
fn session(args: &[String]) -> Result<()> {
    use headroom_bench::{session, session_report, session_run};
    let mut turns = 40usize;
    let mut max_bytes = 160_000usize;
    let mut model = "gpt-4o".to_string();
    let mut proxy = None;
    let mut binary = None;
    let mut out = PathBuf::from("target/bench");
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag}: not a number: {value}"))
        };
        match flag.as_str() {
            "--turns" => turns = number()?,
            "--max-bytes" => max_bytes = number()?,
            "--model" => model = value.clone(),
            "--proxy" => proxy = Some(value.clone()),
            "--headroom" => binary = Some(PathBuf::from(value)),
            "--out" => out = PathBuf::from(value),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let artifacts = session::artifacts(&root, max_bytes)?;
    let requests = session::requests(&artifacts, turns, &model);
    let engine = headroom::Headroom::builder()
        .memo(std::sync::Arc::new(headroom::Memo::new(
            headroom::DEFAULT_MEMO_BYTES,
        )))
        .build()
        .map_err(|e| e.to_string())?;
    // A warm process, as the proxy is once started: tokenizer tables and every compressor's statics.
    engine.warm_up();
    let mut rows = session_run::library(&engine, &requests)?;
    // A proxy of our own (the release binary, an in-memory store, an upstream it never calls),
    // whose CPU time is read around each call; or one given by address (wall clock only).
    let started = match &binary {
        Some(binary) => Some(start_proxy(binary)?),
        None => None,
    };
    let target = match (&started, proxy) {
        (Some((_, proxy)), _) => Some(proxy.clone()),
        (None, Some(address)) => Some(session_run::Proxy { address, pid: None }),
        (None, None) => None,
    };
    if let Some(target) = &target {
        let result = session_run::proxy(target, &requests, &mut rows);
        if let Some((mut process, _)) = started {
            let _ = process.kill();
            let _ = process.wait();
        }
        result?;
    }
    // A request seen cold, then again: the turn-24 request (the last when shorter).
    let probe = requests.len().min(24);
    let library_resend = session_run::library_resend(&requests[probe - 1])?;
    let proxy_resend = match &binary {
        Some(binary) => {
            let (mut process, proxy) = start_proxy(binary)?;
            let result = session_run::proxy_resend(&proxy, &requests[probe - 1]);
            let _ = process.kill();
            let _ = process.wait();
            Some(result?)
        }
        None => None,
    };
    let window = headroom::models::context_window(&model);
    let mut md = session_report::markdown(&rows, window);
    md.push_str(&session_report::resend_markdown(
        probe,
        rows[probe - 1].tokens_without,
        library_resend,
        proxy_resend,
    ));
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    write(&out.join("session.md"), &md)?;
    write(
        &out.join("session.json"),
        &serde_json::to_string_pretty(&rows).expect("serializes"),
    )?;
    println!("{md}");
    Ok(())
}

/// Starts `binary proxy` on a free port; the process and the proxy (its `host:port` and pid).
fn start_proxy(binary: &Path) -> Result<(std::process::Child, headroom_bench::session_run::Proxy)> {
    use std::io::BufRead;
    let mut child = std::process::Command::new(binary)
        .args([
            "proxy",
            "--port",
            "0",
            "--store",
            "memory:",
            "--upstream",
            "http://127.0.0.1:9",
        ])
        .env("HEADROOM_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let mut line = String::new();
    let stdout = child.stdout.take().ok_or("no stdout")?;
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let at = line
        .find("http://")
        .ok_or_else(|| format!("no address in {line:?}"))?;
    let address = line[at + 7..]
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string();
    let pid = Some(child.id());
    Ok((child, headroom_bench::session_run::Proxy { address, pid }))
}
