"""A place in the world, checked: each person's root (Hip) in the camera frame, metres (lifting/world.py), against the
truth on the four Human3.6M fixture frames (../shared/data/h36m_fixture: known cameras; R there is camera <- world,
read by lifting/cameras.py). **Four frames: a sanity check, not an accuracy figure.**

    .venv/bin/python scripts/measure_root_position.py [--fixture ../shared/data/h36m_fixture] \
        [--out results/root_position]

Rows per frame: (a) the multi-person detector's 2D (the largest person) lifted with the known camera rotation and
intrinsics, as `lifting estimate --camera` does; (b) the labelled 2D lifted the same way (the method without the
detector's error); (c) the detector's 2D with the upright camera and the assumed focal length (no calibration).
Errors: the root's 3D distance, its depth (z) error, and its lateral (x, y) error, mm.
"""
import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


class _NoDetector:
    def close(self):
        pass


def main(argv=None):
    from lifting.lift import Lifter
    from lifting.model import load_model
    from tools.detect import Detection
    from tools.detector_check import read_fixture
    from tools.people import MultiPoseDetector, PeopleEstimator, Person
    from tools.photo import read_image

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fixture", default=os.path.join(ROOT, "..", "shared", "data", "h36m_fixture"))
    ap.add_argument("--out", default=os.path.join(ROOT, "results", "root_position"))
    args = ap.parse_args(argv)
    if not os.path.isdir(args.fixture):
        print(f"measure_root_position: fixture folder not found: {args.fixture}", file=sys.stderr)
        return 2
    model = load_model(None)
    labels, cams = read_fixture(args.fixture)
    rows = []
    with MultiPoseDetector() as det:
        for i, name in enumerate(labels["image"]):
            cam = cams[(str(labels["subject"][i]), str(labels["camera"][i]))]
            rgb = read_image(os.path.join(args.fixture, "images", str(name)))
            truth = labels["joints3d_camera_m"][i, 0] * 1000.0
            found = det.detect(rgb)
            row = {"image": str(name), "truth_root_m": (truth / 1000.0).round(3).tolist()}
            for key, known, gt2d in (("a", True, False), ("b", True, True), ("c", False, False)):
                est = PeopleEstimator(Lifter(model, camera=cam.E if known else None), people="largest",
                                      focal_px=cam.f if known else None, principal_px=cam.c if known else None,
                                      detector=_NoDetector())
                if gt2d:
                    p2, w = labels["joints2d_px"][i], labels["visible"][i]
                    lo, hi = p2.min(0), p2.max(0)
                    people = est.lift_joints([Person(Detection.none(), 1.0, (*lo, *(hi - lo)))], p2[None], w[None],
                                             rgb.shape[:2])
                else:
                    people = est.estimate(found, rgb.shape[:2])
                if not people or not people[0].has_3d:
                    row[key] = None
                    continue
                r = people[0].root_camera_m * 1000.0
                row[key] = {"root_m": (r / 1000.0).round(3).tolist(), "error_mm": float(np.linalg.norm(r - truth)),
                            "depth_error_mm": float(r[2] - truth[2]),
                            "lateral_error_mm": float(np.linalg.norm(r[:2] - truth[:2]))}
            rows.append(row)
    labels_ = {"a": "detector 2D, known camera", "b": "labelled 2D, known camera",
               "c": "detector 2D, upright camera, assumed focal length"}
    lines = ["| frame | truth root (m) | " + " | ".join(f"({k}) {v}: error / depth / lateral mm"
                                                    for k, v in labels_.items()) + " |", "|---|---|---|---|---|"]
    for r in rows:
        cells = ["-" if r[k] is None else f"{r[k]['error_mm']:.0f} / {r[k]['depth_error_mm']:+.0f} / "
                 f"{r[k]['lateral_error_mm']:.0f}" for k in labels_]
        lines.append(f"| {r['image']} | {r['truth_root_m']} | " + " | ".join(cells) + " |")
    summary = {}
    for k in labels_:
        e = np.array([r[k]["error_mm"] for r in rows if r[k] is not None])
        summary[k] = {"frames": int(e.size), "mean_mm": float(e.mean()) if e.size else None,
                      "median_mm": float(np.median(e)) if e.size else None}
    lines.append("| mean / median | | " + " | ".join(
        f"{summary[k]['mean_mm']:.0f} / {summary[k]['median_mm']:.0f} ({summary[k]['frames']} frames)"
        for k in labels_) + " |")
    text = "\n".join(lines) + "\n"
    from lifting.files import atomic_write_json, atomic_write_text

    atomic_write_text(args.out + ".md", text)
    atomic_write_json(args.out + ".json", {"rows": rows, "summary": summary})
    print(text)
    print(f"-> {args.out}.md, {args.out}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
