"""`make eval`: MeetPilot's meeting analysis and search measured on real meetings, each beside a baseline.

    python -m eval.real.run                     # every section
    python -m eval.real.run actions search      # some of them
    python -m eval.real.run --provider llm      # the LLM provider beside the local one (make eval-llm)

Sections: ``actions`` (action items and decisions, AMI ES dev, 5 meeting-series folds), ``factcheck`` (spoken
numbers against the meeting's decisions document), ``search`` (QMSum val dev, recall@5/@10 across and within
meetings). Data: EVAL_DATA_DIR, default ../shared/datasets (see eval/real/data.py).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from eval.real.data import DataMissing

SECTIONS = ("actions", "factcheck", "search")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sections", nargs="*", help=f"any of {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--provider", choices=["local", "llm"], default="local")
    args, _ = parser.parse_known_args(argv)
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {SECTIONS}")
    failed = False
    for name in args.sections or SECTIONS:
        # Each section is its own module so one can be run alone (python -m eval.real.<section>).
        module = importlib.import_module(f"eval.real.{name}")
        started = time.monotonic()
        print(f"\n=== {name} ===", flush=True)
        try:
            print(module.run(args), flush=True)
        except DataMissing as exc:
            print(str(exc))
            return 2
        except Exception as exc:  # one broken section must not hide the others' figures
            failed = True
            print(f"{name} failed: {exc!r}")
        print(f"({name}: {time.monotonic() - started:.0f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
