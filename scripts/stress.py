#!/usr/bin/env python3
"""The hardening probes of issue 16, on loopback, bounded: peak and settled RSS and time per shape.

Run by scripts/stress.sh (which builds the release binaries first). Every body is made from the
repository's real fixtures, repeated to size. Prints one table; `--json FILE` also writes it as JSON.

Shapes (CLI = `headroom compress FILE`, proxy = `headroom proxy` in front of a fake upstream):
  json-31mb         one tool result holding a 31 MB JSON array (CLI, then the proxy's chat route)
  logs/search/diff/text-30mb   one 30 MB tool result of each kind (CLI)
  parts-1m          /v1/compress with 1,000,000 text content parts
  json-31mb x4      four 31 MB requests at once through the proxy
  body-52mb         a 52 MB body (CLI; proxy with --max-body-bytes 64 MiB)
  models-10x10mb    ten chat requests whose `model` is 10 MB long, then /stats
  time-budget       a 30 MB segment of each kind with a 200 ms budget (CLI `--time-budget-ms`)
  sqlite-0/100/470mb  /v1/compress writes (4 clients) and /health under them, store pre-filled
  accept-200        200 clients connecting at once
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target/release/headroom")
UPSTREAM_BIN = os.path.join(ROOT, "target/release/fake_upstream")
FIX = os.path.join(ROOT, "headroom/tests/fixtures")
BIG = os.path.join(ROOT, "target/fixtures")
MB = 1_000_000


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def repeat_to(text, size):
    return (text * (size // len(text) + 1))[:size].rsplit("\n", 1)[0] + "\n"


def issues(size):
    """A pretty-printed JSON array of real GitHub issues, renumbered, of about `size` bytes."""
    path = os.path.join(BIG, "github-closed-issues.json")
    base = json.load(open(path if os.path.exists(path) else os.path.join(FIX, "github-issues.json")))
    one = len(json.dumps(base, indent=2)) / len(base)
    items = []
    for i in range(int(size / one)):
        item = dict(base[i % len(base)])
        item["number"] = i + 1
        item["id"] = 10_000_000 + i
        items.append(item)
    return json.dumps(items, indent=2)


def tool_request(content, question="What failed?", name="run"):
    return {"model": "gpt-4o", "messages": [
        {"role": "user", "content": question},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": name, "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": content}]}


def shapes(work):
    """name → path of a request body on disk (built once, reused)."""
    out = {}

    def put(name, make):
        path = os.path.join(work, name + ".json")
        if not os.path.exists(path):
            body = make()
            with open(path, "w", encoding="utf-8") as f:
                json.dump(body, f) if not isinstance(body, str) else f.write(body)
        out[name] = path

    # 27 MB of pretty JSON is a 31 MB body once escaped into the request (under the 32 MiB limit).
    put("json-31mb", lambda: tool_request(issues(27 * MB), "Which issue mentions the Windows build?", "list_issues"))
    logs = read(os.path.join(FIX, "logs/cargo-build-vv-deps-type-error.txt"))
    put("logs-30mb", lambda: tool_request(repeat_to(logs, 30 * MB), "Why did the build fail?", "cargo_build"))
    search = read(os.path.join(FIX, "search/grep-memchr-unsafe-fn.txt"))
    put("search-30mb", lambda: tool_request(repeat_to(search, 30 * MB), "Where is memchr_raw?", "grep"))
    diff = read(os.path.join(FIX, "diff/foldhash-0.1.5-0.2.0.diff"))
    put("diff-30mb", lambda: tool_request(repeat_to(diff, 30 * MB), "What changed in the hasher?", "git_diff"))
    prose = read(os.path.join(FIX, "prose/serde_json-README.md"))
    put("text-30mb", lambda: tool_request(repeat_to(prose, 30 * MB), "How do I parse untyped JSON?", "read_file"))
    put("parts-1m", lambda: {"model": "gpt-4o", "messages": [
        {"role": "user", "content": "Summarise the parts."},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "parts", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1",
         "content": [{"type": "text", "text": f"part {i}"} for i in range(1_000_000)]}]})
    put("body-52mb", lambda: tool_request(repeat_to(logs, 52 * MB), "Why did the build fail?", "cargo_build"))
    return out


# ------------------------------------------------------------------------------------ processes

def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak(pid):
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def cli(path, extra=()):
    """Runs `headroom compress` on a file: (peak RSS MiB, seconds, stats line)."""
    started = time.monotonic()
    proc = subprocess.Popen([BIN, "compress", path, "--store", "memory:", "--stats", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, _, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - started
    err = proc.stderr.read().decode(errors="replace").strip().splitlines()
    stats = json.loads(err[-1]) if err and err[-1].startswith("{") else {"error": err[-1:] or "?"}
    return usage.ru_maxrss / 1024, elapsed, stats


def start(cmd, env=None):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    line = proc.stdout.readline()
    at = line.find("http://")
    if at < 0:
        proc.kill()
        raise SystemExit(f"did not start: {cmd}: {line!r}")
    host, port = line[at + 7:].split()[0].rstrip("/").split(":")
    return proc, (host, int(port))


def request(addr, method, path, body=None, headers=None, timeout=600):
    conn = http.client.HTTPConnection(*addr, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {"content-type": "application/json"})
        reply = conn.getresponse()
        data = reply.read()
        return reply.status, data
    finally:
        conn.close()


def settle(pid, seconds=5):
    time.sleep(seconds)
    return rss_kib(pid) / 1024


class Proxy:
    def __init__(self, upstream, store="memory:", extra=()):
        env = dict(os.environ, HEADROOM_LOG="error")
        self.proc, self.addr = start([BIN, "proxy", "--port", "0", "--upstream", upstream,
                                      "--store", store, *extra], env)
        self.pid = self.proc.pid

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def probe(proxy, send):
    """Resets the proxy's peak RSS, runs `send`, returns (peak MiB, seconds, settled MiB, result)."""
    reset_peak(proxy.pid)
    started = time.monotonic()
    result = send()
    elapsed = time.monotonic() - started
    peak = rss_kib(proxy.pid, "VmHWM") / 1024
    return peak, elapsed, settle(proxy.pid), result


# ------------------------------------------------------------------------------------ the probes

def post_file(addr, path, route="/v1/chat/completions", extra_headers=None):
    with open(path, "rb") as f:
        body = f.read()
    headers = {"content-type": "application/json", **(extra_headers or {})}
    return request(addr, "POST", route, body, headers)


def sqlite_fill(path, megabytes):
    """Pre-fills a store file (the schema SqliteStore creates) with `megabytes` of originals."""
    conn = sqlite3.connect(path)
    conn.executescript("""PRAGMA journal_mode=WAL;
        CREATE TABLE IF NOT EXISTS originals (namespace TEXT NOT NULL, hash TEXT NOT NULL,
            text TEXT NOT NULL, stored_ms INTEGER NOT NULL, PRIMARY KEY (namespace, hash));
        CREATE INDEX IF NOT EXISTS originals_age ON originals(stored_ms);""")
    chunk = repeat_to(read(os.path.join(FIX, "logs/cargo-build-vv-deps-type-error.txt")), 64 * 1024)
    now = int(time.time() * 1000)
    rows = int(megabytes * MB / len(chunk))
    conn.executemany("INSERT INTO originals VALUES ('default', ?, ?, ?)",
                     ((f"{i:024x}", chunk, now - rows + i) for i in range(rows)))
    conn.commit()
    conn.close()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


def sqlite_probe(upstream, work, megabytes, seconds=8):
    """4 clients compressing (each request stores a new original) and one polling /health."""
    path = os.path.join(work, f"store-{megabytes}.sqlite3")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    if megabytes:
        sqlite_fill(path, megabytes)
    proxy = Proxy(upstream, "sqlite:" + path)
    log = read(os.path.join(FIX, "logs/cargo-build-vv-deps-type-error.txt"))
    stop = time.monotonic() + seconds
    writes, health = [], []
    counter = iter(range(10**9))
    lock = threading.Lock()

    def writer():
        while time.monotonic() < stop:
            with lock:
                n = next(counter)
            body = json.dumps(tool_request(f"run {n}\n" + log, "Why did the build fail?", "cargo_build"))
            t = time.monotonic()
            status, _ = request(proxy.addr, "POST", "/v1/compress", body)
            writes.append((time.monotonic() - t) * 1000)
            assert status == 200, status

    def poller():
        while time.monotonic() < stop:
            t = time.monotonic()
            request(proxy.addr, "GET", "/health")
            health.append((time.monotonic() - t) * 1000)
            time.sleep(0.02)

    threads = [threading.Thread(target=writer) for _ in range(4)] + [threading.Thread(target=poller)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    proxy.stop()
    return {"writes": len(writes), "req_per_s": len(writes) / seconds,
            "write_p50_ms": percentile(writes, 50), "write_p99_ms": percentile(writes, 99),
            "health_p50_ms": percentile(health, 50), "health_p99_ms": percentile(health, 99)}


def accept_probe(addr, clients=200):
    """200 clients connect and send at once: how many took over 2 s, and the slowest."""
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    barrier = threading.Barrier(clients)

    def one(_):
        barrier.wait()
        t = time.monotonic()
        status, _ = request(addr, "POST", "/v1/chat/completions", body, timeout=30)
        return time.monotonic() - t, status

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(one, range(clients)))
    times = [t for t, _ in results]
    return {"over_2s": sum(t > 2 for t in times), "max_s": max(times),
            "non_200": sum(s != 200 for _, s in results)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--only", help="comma-separated probe groups: cli,proxy,budget,sqlite,accept")
    parser.add_argument("--bin-dir", help="where headroom and fake_upstream are (default: target/release)")
    args = parser.parse_args()
    if args.bin_dir:
        global BIN, UPSTREAM_BIN
        BIN = os.path.join(args.bin_dir, "headroom")
        UPSTREAM_BIN = os.path.join(args.bin_dir, "fake_upstream")
    groups = set((args.only or "cli,proxy,budget,sqlite,accept").split(","))
    work = os.path.join(ROOT, "target/stress")
    os.makedirs(work, exist_ok=True)
    files = shapes(work)
    rows, results = [], {}

    def row(name, door, size, peak, secs, settled=None, note=""):
        ratio = peak / (size / 2**20) if size else float("nan")
        rows.append((name, door, size / MB, peak, ratio, secs, settled, note))
        results[f"{name} ({door})"] = {"body_mb": size / MB, "peak_mib": peak, "peak_per_body": ratio,
                                        "seconds": secs, "settled_mib": settled, "note": note}
        settled_text = "" if settled is None else f"{settled:8.0f}"
        print(f"{name:<18} {door:<6} {size / MB:7.1f} {peak:9.0f} {ratio:6.1f}x {secs:8.2f} {settled_text:>8}  {note}",
              flush=True)

    print(f"{'shape':<18} {'door':<6} {'body MB':>7} {'peak MiB':>9} {'/body':>7} {'seconds':>8} {'settled':>8}  note")
    size = lambda name: os.path.getsize(files[name])

    if "cli" in groups:
        for name in ["json-31mb", "logs-30mb", "search-30mb", "diff-30mb", "text-30mb", "parts-1m", "body-52mb"]:
            peak, secs, stats = cli(files[name])
            note = stats.get("passthrough_reason") or f"{stats.get('tokens_before')}→{stats.get('tokens_after')} tokens"
            row(name, "cli", size(name), peak, secs, None, note)

    if "budget" in groups:
        for name in ["json-31mb", "logs-30mb", "search-30mb", "diff-30mb", "text-30mb"]:
            peak, secs, stats = cli(files[name], ["--time-budget-ms", "200"])
            row("budget-200ms " + name.split("-")[0], "cli", size(name), peak, secs, None,
                str(stats.get("passthrough_reason") or "compressed within the budget"))

    upstream = None
    if groups & {"proxy", "sqlite", "accept"}:
        upstream_proc, upstream_addr = start([UPSTREAM_BIN, "0"])
        upstream = f"http://{upstream_addr[0]}:{upstream_addr[1]}"
    try:
        if "proxy" in groups:
            proxy = Proxy(upstream, extra=["--max-body-bytes", str(64 * 2**20)])
            print(f"{'proxy idle':<18} {'proxy':<6} {'':>7} {rss_kib(proxy.pid) / 1024:9.0f}", flush=True)
            peak, secs, settled, (status, _) = probe(proxy, lambda: post_file(proxy.addr, files["json-31mb"]))
            row("json-31mb", "proxy", size("json-31mb"), peak, secs, settled, f"status {status}")
            peak, secs, settled, (status, _) = probe(
                proxy, lambda: post_file(proxy.addr, files["parts-1m"], "/v1/compress"))
            row("parts-1m", "proxy", size("parts-1m"), peak, secs, settled, f"/v1/compress, status {status}")

            def four():
                with concurrent.futures.ThreadPoolExecutor(4) as pool:
                    return list(pool.map(lambda _: post_file(proxy.addr, files["json-31mb"])[0], range(4)))
            peak, secs, settled, statuses = probe(proxy, four)
            row("json-31mb x4", "proxy", 4 * size("json-31mb"), peak, secs, settled, f"statuses {statuses}")
            peak, secs, settled, (status, _) = probe(proxy, lambda: post_file(proxy.addr, files["body-52mb"]))
            row("body-52mb", "proxy", size("body-52mb"), peak, secs, settled, f"status {status}")

            def models():
                name = "m" * (10 * MB)
                for _ in range(10):
                    request(proxy.addr, "POST", "/v1/chat/completions",
                            json.dumps({"model": name, "messages": [{"role": "user", "content": "hi"}]}))
                _, stats = request(proxy.addr, "GET", "/stats")
                return len(stats)
            peak, secs, settled, stats_len = probe(proxy, models)
            row("models-10x10mb", "proxy", 100 * MB, peak, secs, settled, f"/stats is {stats_len} bytes")
            proxy.stop()

        if "sqlite" in groups:
            for megabytes in (0, 100, 470):
                r = sqlite_probe(upstream, work, megabytes)
                results[f"sqlite-{megabytes}mb"] = r
                print(f"sqlite-{megabytes}mb: {r['req_per_s']:.1f} req/s (4 clients), write p50 {r['write_p50_ms']:.1f} ms "
                      f"p99 {r['write_p99_ms']:.1f} ms; /health p50 {r['health_p50_ms']:.1f} ms p99 {r['health_p99_ms']:.1f} ms",
                      flush=True)

        if "accept" in groups:
            proxy = Proxy(upstream)
            r = accept_probe(proxy.addr)
            proxy.stop()
            results["accept-200"] = r
            print(f"accept-200: {r['over_2s']} of 200 took over 2 s, slowest {r['max_s']:.2f} s, non-200 {r['non_200']}",
                  flush=True)
    finally:
        if upstream:
            upstream_proc.kill()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
