"""The embedded detector on the four Human3.6M fixture frames (a sanity check): 2D error, and the 3D error of its 2D
lifted by our model, of MediaPipe's own 3D and of the ground-truth 2D lifted by our model.

    .venv/bin/python scripts/compare_detector.py [--fixture ../shared/data/h36m_fixture] \
        [--out results/detector_fixture]

Writes <out>.md (the README's table), <out>.json and <out>.png.
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    from lifting.model import load_model
    from tools.detector_check import compare, summarise, write_report

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fixture", default=os.path.join(ROOT, "..", "shared", "data", "h36m_fixture"))
    ap.add_argument("--model", default=None, help="3D pose model (.h5); default: the shipped one")
    ap.add_argument("--out", default=os.path.join(ROOT, "results", "detector_fixture"))
    args = ap.parse_args(argv)
    if not os.path.isdir(args.fixture):
        print(f"compare_detector: fixture folder not found: {args.fixture}", file=sys.stderr)
        return 2
    rows = compare(args.fixture, load_model(args.model))
    summary = summarise(rows)
    write_report(args.out, rows, summary)
    with open(args.out + ".md", encoding="utf-8") as f:
        print(f.read())
    print(f"-> {args.out}.md, .json, .png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
