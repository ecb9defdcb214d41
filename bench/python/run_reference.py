#!/usr/bin/env python3
"""Runs the Python reference, headroom-ai from PyPI, over the benchmark corpus, in process.

For every case it compresses the request's messages (one warm-up call, then N timed calls, each
after emptying its compression caches so that it does the work) and
writes one JSON line: the messages it returned, each call's wall time, and, for every hash its
output names, the original its compression store holds (so retrievability is judged on what it
can really give back).

Settings: `compress(messages, model=request["model"], protect_recent=0)`. headroom-ai protects the
last 4 messages by default (the live turn); every case ends with the tool result being asked
about, so with the default nothing would be compressed. `protect_recent=0` makes it compress the
same tool result Headroom compresses; every other setting is its default.

Usage: run_reference.py CORPUS_DIR OUT.jsonl [--repeats N]
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import time

HASH = re.compile(r"(?:<<ccr:|hash=)([0-9a-f]{12,24})")


def contents(messages):
    for m in messages:
        c = m.get("content")
        if isinstance(c, str):
            yield c
        elif isinstance(c, list):
            for part in c:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    yield part["text"]


def clear_caches() -> None:
    """Empties headroom-ai's cross-request caches, so a timed call does the work (a repeated call on
    the same content would otherwise be answered from its compression cache in a few ms)."""
    from headroom.compress import _get_pipeline

    for transform in getattr(_get_pipeline(), "transforms", []):
        for name, value in vars(transform).items():
            if ("cache" in name or "memo" in name) and hasattr(value, "clear"):
                value.clear()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus")
    ap.add_argument("out")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    from headroom import compress
    from headroom._version import __version__
    from headroom.cache.compression_store import get_compression_store

    index = json.load(open(f"{args.corpus}/index.json"))
    with open(args.out, "w") as out:
        for entry in index:
            case_id = entry["id"]
            request = json.load(open(f"{args.corpus}/{case_id}.request.json"))
            messages = request["messages"]
            record = {"id": case_id, "version": __version__, "times_us": [], "originals": {}}
            try:
                result = compress(copy.deepcopy(messages), model=request["model"], protect_recent=0)
                for _ in range(args.repeats):
                    batch = copy.deepcopy(messages)
                    clear_caches()
                    # CPU time of the process, as the Rust harness measures (bench/src/clock.rs).
                    start = time.process_time()
                    result = compress(batch, model=request["model"], protect_recent=0)
                    record["times_us"].append((time.process_time() - start) * 1e6)
                record["messages"] = result.messages
                record["transforms"] = list(result.transforms_applied)
                store = get_compression_store()
                for text in contents(result.messages):
                    for h in HASH.findall(text):
                        entry_ = store.retrieve(h)
                        if entry_ is not None:
                            record["originals"][h] = entry_.original_content
            except Exception as e:  # the reference failing on a case is a result, not a crash
                record["messages"] = messages
                record["error"] = f"{type(e).__name__}: {e}"
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
            times = sorted(record["times_us"])
            median = times[len(times) // 2] / 1000 if times else float("nan")
            print(f"reference {case_id:<34} median {median:8.1f} ms", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
