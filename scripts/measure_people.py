"""Every person in a photo, scored against labelled people: PCK@0.2 of the torso on ../shared/data/people (4 COCO
and 2 CrowdPose photographs; the 12 limb joints both label: shoulders, elbows, wrists, hips, knees, ankles), and the
count of mixed skeletons (a detection with 2 or more joints that miss its own labelled person but hit another's).

    .venv/bin/python scripts/measure_people.py [--people ../shared/data/people] [--out results/people_pck]

Rows: (1) MediaPipe's raw output, legacy solution (tools/detect.py, one person per image, every landmark), the
reference of issue 19; (2) the same with the 0.5 visibility cut (what `lifting estimate` reported before: joints
below the cut missing); (3) the multi-person detector (tools/people.py) with every joint's 2D (what `lifting estimate`
now reports: every joint, with `observed`); (4) the same with only the observed joints (confidence >= 0.5).
Scoring (lifting/pck.py): one-to-one matching by the number of joints within the threshold; labelled people left
without a detection score 0; labelled people without a torso pair are not scored.
"""
import argparse
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
#: the 12 limb joints in COCO-17 indices (5..16) and CrowdPose-14 indices (0..11): left/right interleaved
COCO12 = tuple(range(5, 17))
CROWDPOSE12 = tuple(range(12))
MEDIAPIPE12 = (11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)


def labelled_people(folder):
    """``[(image path, [joints (12, 2)], [labelled (12,)])]`` of coco/ and crowdpose/."""
    out = []
    for sub, ann, idx in (("coco", "test_coco.json", COCO12), ("crowdpose", "test_crowdpose.json", CROWDPOSE12)):
        with open(os.path.join(folder, sub, ann), encoding="utf-8") as f:
            d = json.load(f)
        for im in d["images"]:
            gts, labs = [], []
            for a in d["annotations"]:
                if a["image_id"] != im["id"]:
                    continue
                k = np.asarray(a["keypoints"], np.float64).reshape(-1, 3)[list(idx)]
                gts.append(k[:, :2])
                labs.append(k[:, 2] > 0)
            out.append((os.path.join(folder, sub, im["file_name"]), gts, labs))
    return out


def main(argv=None):
    from lifting.pck import match_people
    from tools.detect import PoseDetector
    from tools.people import MultiPoseDetector
    from tools.photo import read_image

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", default=os.path.join(ROOT, "..", "shared", "data", "people"))
    ap.add_argument("--out", default=os.path.join(ROOT, "results", "people_pck"))
    ap.add_argument("--cut", type=float, default=0.5)
    args = ap.parse_args(argv)
    if not os.path.isdir(args.people):
        print(f"measure_people: folder not found: {args.people}", file=sys.stderr)
        return 2
    data = labelled_people(args.people)
    methods = {"legacy_raw": "MediaPipe raw output (legacy, one person, every landmark)",
               "legacy_cut": f"the same, joints below visibility {args.cut} missing (before issue 19)",
               "multi_all": "multi-person detector, every joint's 2D (`lifting estimate` now)",
               "multi_observed": f"multi-person detector, observed joints only (visibility >= {args.cut})"}
    preds = {k: [] for k in methods}
    with PoseDetector() as single, MultiPoseDetector() as multi:
        for path, _, _ in data:
            rgb = read_image(path)
            d = single.detect(rgb)
            if d.found:
                lm, v = d.landmarks_px[list(MEDIAPIPE12)], d.visibility[list(MEDIAPIPE12)]
                preds["legacy_raw"].append([lm])
                preds["legacy_cut"].append([np.where(v[:, None] >= args.cut, lm, np.nan)])
            else:
                preds["legacy_raw"].append([])
                preds["legacy_cut"].append([])
            people = multi.detect(rgb)
            preds["multi_all"].append([p.detection.landmarks_px[list(MEDIAPIPE12)] for p in people])
            preds["multi_observed"].append([np.where(p.detection.visibility[list(MEDIAPIPE12)][:, None] >= args.cut,
                                                     p.detection.landmarks_px[list(MEDIAPIPE12)], np.nan)
                                            for p in people])
    summary = {}
    for key, label in methods.items():
        tot_c = tot_l = mixed = found = 0
        per_image = []
        for (path, gts, labs), pred in zip(data, preds[key]):
            r = match_people(pred, gts, labs)
            tot_c += r["correct"]
            tot_l += r["labelled"]
            m = sum(f >= 2 for f in r["foreign"])
            mixed += m
            found += len(pred)
            per_image.append({"image": os.path.relpath(path, args.people), "detected": len(pred),
                              "labelled_people": len(gts) - r["unscored"], "matched": len(r["pairs"]),
                              "pck": r["pck"], "mixed": m})
        summary[key] = {"label": label, "pck": tot_c / tot_l, "correct": tot_c, "labelled_joints": tot_l,
                        "detected": found, "mixed_skeletons": mixed, "per_image": per_image}
    lines = ["| method | people detected | PCK@0.2 torso, 12 limb joints | mixed skeletons |", "|---|---|---|---|"]
    for key, s in summary.items():
        lines.append(f"| {s['label']} | {s['detected']} | {100 * s['pck']:.1f}% ({s['correct']} of "
                     f"{s['labelled_joints']}) | {s['mixed_skeletons']} |")
    lines += ["", "| image | labelled people (scored) | " + " | ".join(methods) + " |",
              "|---|---|" + "---|" * len(methods)]
    for i, (path, _, _) in enumerate(data):
        cells = [f"{summary[k]['per_image'][i]['detected']} found, "
                 f"{100 * summary[k]['per_image'][i]['pck']:.0f}%" for k in methods]
        lines.append(f"| {summary['multi_all']['per_image'][i]['image']} | "
                     f"{summary['multi_all']['per_image'][i]['labelled_people']} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    from lifting.files import atomic_write_json, atomic_write_text

    atomic_write_text(args.out + ".md", text)
    atomic_write_json(args.out + ".json", summary)
    print(text)
    print(f"-> {args.out}.md, {args.out}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
