"""Ingest benchmark: template mining against Drain3 on the LogHub samples,
then a full ingest of a generated 1,000,000-line corpus.

Run through scripts/bench-ingest, which prepares the venv and the release
build. Prints figures; asserts nothing about speed.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

from drain3 import TemplateMiner
from drain3.template_miner_config import TemplateMinerConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ONCALL = os.path.join(ROOT, "target", "release", "oncall")
LOGHUB = os.path.join(ROOT, "..", "shared", "data", "loghub")
PASSES = int(os.environ.get("BENCH_PASSES", "5"))
CORPUS_LINES = int(os.environ.get("BENCH_LINES", "1000000"))


def header_regex(log_format):
    """The LogHub convention, as logparser compiles it."""
    parts = re.split(r"(<[^<>]+>)", log_format)
    pattern = ""
    for index, part in enumerate(parts):
        if index % 2 == 0:
            pattern += re.sub(" +", r"\\s+", part)
        else:
            pattern += "(?P<%s>.*?)" % part.strip("<>")
    return re.compile("^" + pattern + "$")


def drain3_lines_per_sec(system, log_format):
    regex = header_regex(log_format)
    with open(os.path.join(LOGHUB, system, f"{system}_2k.log"), encoding="utf-8", errors="replace") as f:
        lines = [line.rstrip("\n") for line in f]
    contents = []
    for line in lines:
        match = regex.match(line.strip())
        contents.append(match.group("Content") if match else line)
    config = TemplateMinerConfig()
    config.profiling_enabled = False
    started = time.perf_counter()
    for _ in range(PASSES):
        miner = TemplateMiner(config=config)
        for content in contents:
            miner.add_log_message(content)
    return len(contents) * PASSES / (time.perf_counter() - started)


def main():
    if not os.path.exists(os.path.join(LOGHUB, "formats.tsv")):
        print("SKIPPED LogHub comparison: ../shared/data/loghub is absent")
    else:
        ours = json.loads(subprocess.check_output([ONCALL, "eval", "loghub", LOGHUB, "--passes", str(PASSES), "--json"]))
        formats = dict(line.split("\t", 1) for line in open(os.path.join(LOGHUB, "formats.tsv")).read().splitlines()[1:] if line)
        print(f"Template mining, {PASSES} passes over each LogHub 2k sample (mining only, both sides):")
        print(f"{'system':<12} {'oncall lines/s':>15} {'Drain3 lines/s':>15} {'ratio':>7} {'oncall GA':>10}")
        ratios = []
        for system in ours["systems"]:
            name = system["system"]
            drain3 = drain3_lines_per_sec(name, formats[name].strip())
            ratio = system["lines_per_sec"] / drain3
            ratios.append(ratio)
            print(f"{name:<12} {system['lines_per_sec']:>15,.0f} {drain3:>15,.0f} {ratio:>6.1f}x {system['grouping_accuracy']:>10.3f}")
        geometric = 1.0
        for ratio in ratios:
            geometric *= ratio
        print(f"geometric mean speed ratio oncall/Drain3: {geometric ** (1 / len(ratios)):.1f}x")

    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "cases")
        subprocess.check_call([ONCALL, "--tenant", "bench", "gen", "--family", "key-rotation", "--seed", "1",
                               "--lines", str(CORPUS_LINES), "--out", out], stdout=subprocess.DEVNULL)
        data = os.path.join(out, "key-rotation-1", "data")
        lines = sum(sum(1 for _ in open(os.path.join(d, f), "rb")) for d, _, files in os.walk(data) for f in files)
        home = os.path.join(scratch, "home")
        timing = os.path.join(scratch, "time.txt")
        started = time.perf_counter()
        summary = json.loads(subprocess.check_output(["/usr/bin/time", "-v", "-o", timing, ONCALL, "--home", home, "--tenant", "bench", "ingest", data, "--json"]))
        elapsed = time.perf_counter() - started
        peak_kb = next(int(line.split(":")[1]) for line in open(timing) if "Maximum resident set size" in line)
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(os.path.join(home, "text")) for f in files)
        print(f"\nFull ingest (parse + templates + text index + commits) of a generated corpus:")
        print(f"  input lines {lines:,}, records {summary['records']:,}, bad {len(summary['bad'])}")
        print(f"  {elapsed:.1f} s, {summary['records'] / elapsed:,.0f} records/s, peak RSS {peak_kb / 1024:.0f} MiB, index {size / 2**20:.0f} MiB")


if __name__ == "__main__":
    sys.exit(main())
