"""A photo's whole job against its detector: what `lifting estimate photo.jpg` adds to the detector's time (the lift of
every person, the JSON and the PNG drawn with OpenCV, written and replaced together), on the six labelled photographs
of ../shared/data/people, batch size 1 (one photo at a time, as the tool runs); and one of them scaled to a very large
photo (default 12,000 x 12,000), in a fresh process each, with its peak RSS (the drawing's canvas is bounded).

    .venv/bin/python benchmarks/bench_photo.py [--people ../shared/data/people] [--repeat 3] [--large 12000]

The issue's figure: the whole job within the detector's time plus 100 ms.
"""
import argparse
import glob
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def _large(path, side, what):
    """In this (fresh) process: the photo at ``path`` scaled to ``side`` x ``side``, then ``what`` ("detector" or
    "job") timed once; prints seconds and peak RSS in MB."""
    import cv2

    from lifting.lift import Lifter
    from lifting.model import load_model
    from tools.media import read_image
    from tools.people import PeopleEstimator
    from tools.photo import estimate_photo

    rgb = cv2.resize(read_image(path), (side, side), interpolation=cv2.INTER_LINEAR)
    with PeopleEstimator(Lifter(load_model(None))) as est, tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        if what == "detector":
            n = len(est.detector.detect(rgb))
        else:
            n = estimate_photo(path, rgb, est, out, "large")["num_people"]
        dt = time.perf_counter() - t
    print(f"{dt:.3f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} {n}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", default=os.path.join(ROOT, "..", "shared", "data", "people"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--large", type=int, default=12000, help="the side of the large photo (0: none)")
    ap.add_argument("--_large", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._large:
        return _large(args._large[0], int(args._large[1]), args._large[2])

    from common import machine

    from lifting.lift import Lifter
    from lifting.model import load_model
    from tools.media import read_image
    from tools.people import PeopleEstimator
    from tools.photo import estimate_photo

    paths = sorted(glob.glob(os.path.join(args.people, "*", "*.jpg")))
    if not paths:
        print(f"bench_photo: no photographs in {args.people}", file=sys.stderr)
        return 2
    images = [read_image(p) for p in paths]
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    print(f"photos: {len(images)} ({', '.join(os.path.basename(p) for p in paths)}), batch size 1, best of "
          f"{args.repeat}, detector and whole job alternating")
    print("| photo | size | people | detector ms | whole job ms | job - detector ms |")
    print("|---|---|---|---|---|---|")
    extra = []
    with PeopleEstimator(Lifter(load_model(None))) as est, tempfile.TemporaryDirectory() as out:
        est(images[0])  # warm: the lifter's ranking grids, the detector's graphs
        for path, rgb in zip(paths, images):
            td = tj = float("inf")
            for _ in range(args.repeat):
                t = time.perf_counter()
                n = len(est.detector.detect(rgb))
                td = min(td, time.perf_counter() - t)
                t = time.perf_counter()
                estimate_photo(path, rgb, est, out, "photo")
                tj = min(tj, time.perf_counter() - t)
            extra.append(tj - td)
            print(f"| {os.path.basename(path)} | {rgb.shape[1]} x {rgb.shape[0]} | {n} | {1e3 * td:.0f} | "
                  f"{1e3 * tj:.0f} | {1e3 * (tj - td):.0f} |")
    print(f"whole job - detector: at most {1e3 * max(extra):.0f} ms, mean {1e3 * sum(extra) / len(extra):.0f} ms "
          "(target < 100 ms)")
    if args.large:
        rows = {}
        for what in ("detector", "job"):
            run = subprocess.run([sys.executable, __file__, "--_large", paths[0], str(args.large), what],
                                 capture_output=True, text=True, check=True)
            rows[what] = [float(v) for v in run.stdout.split()[-3:]]
        (td, rd, n), (tj, rj, _) = rows["detector"], rows["job"]
        print(f"large photo: {os.path.basename(paths[0])} scaled to {args.large} x {args.large} (fresh process each): "
              f"{n:.0f} people; detector {td:.2f} s (peak RSS {rd:.0f} MB), whole job {tj:.2f} s (peak RSS {rj:.0f} "
              f"MB): job - detector {1e3 * (tj - td):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
