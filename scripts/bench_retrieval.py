"""Retrieval benchmark driver: see scripts/bench-retrieval."""

import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ONCALL = os.path.join(ROOT, "target", "release", "oncall")
FAMILIES = 8


def measured(args, env, stdout_path):
    """Runs oncall; returns (seconds, peak RSS in MiB)."""
    started = time.monotonic()
    with open(stdout_path, "w") as out:
        process = subprocess.Popen([ONCALL, *args], env=env, stdout=out)
        _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        sys.exit(f"oncall {' '.join(args)} failed with status {status}")
    return time.monotonic() - started, usage.ru_maxrss / 1024


def du_mib(path):
    """Disk actually allocated (the vector engine preallocates sparse files)."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            total += os.stat(os.path.join(folder, name)).st_blocks * 512
    return total / (1 << 20)


def fts5_peer(corpus, queries):
    """SQLite FTS5 over the same lines: load time, size, query latency."""
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "peer.db")
        db = sqlite3.connect(path)
        db.execute("CREATE VIRTUAL TABLE lines USING fts5(body, source UNINDEXED)")
        started = time.monotonic()
        for folder, _, files in os.walk(corpus):
            for name in files:
                file = os.path.join(folder, name)
                with open(file, errors="replace") as handle:
                    db.executemany(
                        "INSERT INTO lines VALUES (?, ?)",
                        ((line, name) for line in handle if line.strip()),
                    )
        db.commit()
        load_secs = time.monotonic() - started
        size = os.path.getsize(path) / (1 << 20)
        latencies = []
        for text in queries:
            words = [w for w in re.findall(r"\w+", text)]
            if not words:
                continue
            match = " OR ".join(f'"{w}"' for w in words)
            started = time.monotonic()
            db.execute(
                "SELECT rowid FROM lines WHERE lines MATCH ? ORDER BY bm25(lines) LIMIT 10",
                (match,),
            ).fetchall()
            latencies.append((time.monotonic() - started) * 1000)
        db.close()
    latencies.sort()
    pick = lambda p: latencies[round((len(latencies) - 1) * p)] if latencies else 0.0
    return load_secs, size, pick(0.5), pick(0.95)


def bench(records, work):
    corpus = os.path.join(work, f"corpus-{records}")
    home = os.path.join(work, f"home-{records}")
    env = dict(os.environ, ONCALL_HOME=home, ONCALL_TENANT="bench")
    lines = records // FAMILIES
    subprocess.run(
        [ONCALL, "gen", "--family", "all", "--seed", "1", "--lines", str(lines), "--out", corpus],
        env=env, check=True, stdout=subprocess.DEVNULL,
    )
    out = os.path.join(work, "ingest.json")
    ingest_secs, ingest_rss = measured(["ingest", "--json", corpus], env, out)
    with open(out) as handle:
        summary = json.loads(handle.readline())
    out = os.path.join(work, "search.json")
    search_secs, search_rss = measured(["eval", "search", "--queries", "200", "--json"], env, out)
    with open(out) as handle:
        search = json.load(handle)
    peer = fts5_peer(corpus, [q["text"] for q in search["queries"]])
    return {
        "records": summary["records"],
        "ingest_secs": ingest_secs,
        "ingest_rss_mib": ingest_rss,
        "vector_units": summary["vector_units"],
        "embedded_texts": summary["embedded_texts"],
        "embedding_secs": summary["embedding_secs"],
        "text_index_mib": du_mib(os.path.join(home, "text")),
        "vector_index_mib": du_mib(os.path.join(home, "vectors")),
        "search_rss_mib": search_rss,
        "latencies": search["latencies"],
        "ann_recall_at_10": search["ann_recall_at_10"],
        "peer": dict(zip(["load_secs", "db_mib", "p50_ms", "p95_ms"], peer)),
    }


def report(figures):
    n = figures["records"]
    print(f"\n== {n:,} records")
    print(f"ingest into both stores: {figures['ingest_secs']:.1f} s "
          f"({n / figures['ingest_secs']:,.0f} records/s), peak RSS {figures['ingest_rss_mib']:.0f} MiB")
    units = figures["vector_units"]
    print(f"vector units: {units:,} (1 per {n / max(units, 1):,.0f} records); "
          f"texts embedded: {figures['embedded_texts']:,} in {figures['embedding_secs']:.1f} s "
          f"({figures['embedded_texts'] / max(figures['embedding_secs'], 1e-9):.0f} embeddings/s)")
    print(f"on disk: text index {figures['text_index_mib']:.0f} MiB, "
          f"vector index {figures['vector_index_mib']:.0f} MiB")
    print(f"{'mode':<8} {'filters':<8} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for row in figures["latencies"]:
        print(f"{row['mode']:<8} {'yes' if row['filtered'] else 'no':<8} {row['queries']:>7} "
              f"{row['p50_ms']:>8.2f} {row['p95_ms']:>8.2f}")
    peer = figures["peer"]
    text = next(r for r in figures["latencies"] if r["mode"] == "text" and not r["filtered"])
    print(f"peer SQLite FTS5 (same lines, same query words OR-ed, bm25 top 10): "
          f"load {peer['load_secs']:.1f} s, {peer['db_mib']:.0f} MiB, "
          f"p50 {peer['p50_ms']:.2f} ms, p95 {peer['p95_ms']:.2f} ms")
    if peer["p50_ms"] > 0:
        print(f"text search p50 vs FTS5: {peer['p50_ms'] / max(text['p50_ms'], 1e-9):.2f}x "
              f"({'faster' if text['p50_ms'] < peer['p50_ms'] else 'slower'})")
    if figures["ann_recall_at_10"] is not None:
        print(f"vector index recall@10 vs exact search: {figures['ann_recall_at_10']:.3f}")


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [1_000_000, 5_000_000]
    with tempfile.TemporaryDirectory(dir=os.path.join(ROOT, "target")) as work:
        for records in sizes:
            report(bench(records, work))


if __name__ == "__main__":
    main()
