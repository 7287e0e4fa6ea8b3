"""Every person in a photo: what the multi-person detector (tools/people.py: the Tasks PoseLandmarker on the whole
image plus 2 x 2 overlapping crops, duplicates merged) costs per photo, beside the whole-image pass alone (tiles 0)
and the legacy single-person solution (tools/detect.py, the reference: what `lifting estimate` ran before), on the
six labelled photographs of ../shared/data/people (batch size 1: one photo at a time, as `lifting estimate` runs),
with the people each finds. The lift of every person is included in the "with lift" row (PeopleEstimator).

    .venv/bin/python benchmarks/bench_people.py [--people ../shared/data/people] [--repeat 3]
"""
import argparse
import glob
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    from common import machine

    from lifting.lift import Lifter
    from lifting.model import load_model
    from tools.detect import PoseDetector
    from tools.media import read_image
    from tools.people import MultiPoseDetector, PeopleEstimator

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", default=os.path.join(ROOT, "..", "shared", "data", "people"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    paths = sorted(glob.glob(os.path.join(args.people, "*", "*.jpg")))
    if not paths:
        print(f"bench_people: no photographs in {args.people}", file=sys.stderr)
        return 2
    images = [read_image(p) for p in paths]

    def timed(run):
        best, found = float("inf"), 0
        for _ in range(args.repeat):
            t = time.perf_counter()
            found = sum(run(rgb) for rgb in images)
            best = min(best, time.perf_counter() - t)
        return best / len(images), found

    rows = []
    with PoseDetector() as single:
        rows.append(("legacy single-person solution (reference)", *timed(lambda r: int(single.detect(r).found))))
    with MultiPoseDetector(tiles=0) as whole:
        rows.append(("multi-person, whole image only (tiles 0)", *timed(lambda r: len(whole.detect(r)))))
    with MultiPoseDetector(tiles=2) as tiled:
        rows.append(("multi-person, whole image + 2 x 2 crops (default)", *timed(lambda r: len(tiled.detect(r)))))
        est = PeopleEstimator(Lifter(load_model(None)), detector=tiled)
        rows.append(("the same + every person's lift (PeopleEstimator)", *timed(lambda r: len(est(r)))))
    ref = rows[0][1]
    print(f"machine: {machine()}")
    print(f"photos: {len(images)} ({', '.join(os.path.basename(p) for p in paths)}), batch size 1, best of "
          f"{args.repeat}")
    print("| detector | ms per photo | people found (6 photos) | time / reference |")
    print("|---|---|---|---|")
    for name, t, n in rows:
        print(f"| {name} | {1000 * t:.0f} | {n} | {t / ref:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
