"""`make eval-regression`: the meeting-analysis pipeline on the hand-written transcripts in eval/data.

    python eval/run.py                      # the local pipeline, all files
    python eval/run.py --split heldout      # only the held-out transcripts
    python eval/run.py --provider llm       # the LLM variant, when LLM_BASE_URL is configured
    python eval/run.py --errors             # also list misses and extras per file
    python eval/run.py --json out.json      # machine-readable report
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.harness import (
    COSINE_THRESHOLD,
    case_paths,
    cosine_similarity,
    evaluate,
    format_table,
    llm_chat_complete,
    local_embedder,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--provider", choices=["local", "llm", "both"], default="local")
    parser.add_argument("--split", choices=["all", "tune", "heldout"], default="all")
    parser.add_argument("--files", nargs="*", help="score these JSON files instead of eval/data")
    parser.add_argument("--errors", action="store_true", help="print misses and extras per file")
    parser.add_argument("--json", help="write the full report here")
    parser.add_argument("--embed", action="store_true",
                        help="give the local pipeline MiniLM embeddings (topics, summaries) instead of TF-IDF")
    parser.add_argument("--match", choices=["tokens", "embed"], default="tokens",
                        help="match items by content-token F1 (default) or by embedding cosine")
    args = parser.parse_args(argv)

    paths = [Path(f) for f in args.files] if args.files else case_paths(args.split)
    if not paths:
        print("no labelled files found", file=sys.stderr)
        return 1
    embed = local_embedder() if args.embed or args.match == "embed" else None
    if (args.embed or args.match == "embed") and embed is None:
        print("embeddings: not available, using TF-IDF and token matching")
    options = {}
    if args.match == "embed" and embed is not None:
        options = {"similarity": cosine_similarity(embed), "threshold": COSINE_THRESHOLD}
    reports = {}
    if args.provider in ("local", "both"):
        reports["local"] = evaluate(paths, provider="local", embed=embed if args.embed else None, **options)
    if args.provider in ("llm", "both"):
        chat_complete, status = llm_chat_complete()
        if chat_complete is None:
            print(status)
        else:
            reports["llm"] = evaluate(paths, provider="llm", chat_complete=chat_complete, **options)
    for name, report in reports.items():
        print(f"\n== provider: {name} ==")
        print(format_table(report))
        if "live_latency" in report:
            lat = report["live_latency"]
            print(f"\nlive detectors per caption ({lat['captions']} captions): mean {lat['mean_ms']:.2f} ms, "
                  f"p95 {lat['p95_ms']:.2f} ms, max {lat['max_ms']:.2f} ms")
        if args.errors:
            for r in report["files"]:
                print(f"\n-- {r['id']}")
                for key, values in r["misses"].items():
                    for v in values:
                        print(f"   {key}: {v}")
    if args.json:
        Path(args.json).write_text(json.dumps(reports, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
