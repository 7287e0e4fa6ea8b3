"""Choice of J (basis size), K (components) and the lifter's 2D noise level, on held-out *training* data.

Fits models on S1, S5, S6, S7 of ``../shared/data/h36m_poses_17j_5fps.npz`` and evaluates them on S8 (never on the
test subjects S9/S11): every 3rd S8 pose stands in the room and is seen by the four real Human3.6M cameras of
``../shared/data/h36m_fixture/cameras.json`` (tilted 10-16 degrees down, pinhole), with 2D noise of 0, 10, 20, 40
and 60 mm at the subject. Writes ``results/model_selection.md`` and ``.json``; fitted models are cached in
``results/model_selection/`` (git-ignored).

    .venv/bin/python scripts/model_selection.py [--js 16 24 32] [--ks 1 3] [--noise2d none 0.03 0.05 0.08 0.12]
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from lifting.cameras import read_h36m_cameras_json  # noqa: E402
from lifting.files import atomic_write_text  # noqa: E402
from lifting.model import load_model  # noqa: E402
from model_fitting.data import load_h36m_npz  # noqa: E402
from model_fitting.views import camera_views, h36m_rig, lift_views, summarise, view_errors  # noqa: E402

DATA = os.path.join(ROOT, "..", "shared", "data")
NOISE_MM = (0, 10, 20, 40, 60)
SELECT_ON = (20, 40)  # the noise levels the choice is made on: real network 2D is of this order


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--js", type=int, nargs="+", default=[16, 24, 32])
    ap.add_argument("--ks", type=int, nargs="+", default=[1, 3])
    ap.add_argument("--noise2d", nargs="+", default=["none", "0.03", "0.05", "0.08", "0.12"])
    ap.add_argument("--step", type=int, default=3, help="every step-th S8 pose (default 3)")
    args = ap.parse_args()
    cache = os.path.join(ROOT, "results", "model_selection")
    os.makedirs(cache, exist_ok=True)
    npz = os.path.join(DATA, "h36m_poses_17j_5fps.npz")
    models = {}
    for J in args.js:
        for K in args.ks:
            path = os.path.join(cache, f"J{J}_K{K}.h5")
            if not os.path.exists(path):
                print(f"fitting J={J} K={K} on S1,S5,S6,S7 -> {path}", file=sys.stderr)
                with open(path[:-3] + ".log", "w") as log:
                    subprocess.run([os.path.join(ROOT, ".venv", "bin", "lifting"), "fit", "--h36m-npz", npz,
                                    "--subjects", "S1,S5,S6,S7", "-J", str(J), "-K", str(K), "-o", path],
                                   check=True, stdout=log, stderr=subprocess.STDOUT)
            models[f"J={J} K={K}"] = load_model(path)
    rig = h36m_rig(read_h36m_cameras_json(os.path.join(DATA, "h36m_fixture", "cameras.json")), "S8")
    poses, _, _ = load_h36m_npz(npz, ["S8"], step=args.step)
    views = {mm: camera_views(poses, rig, seed=8, noise_mm=mm) for mm in NOISE_MM}
    rows = []
    for name, model in models.items():
        for n2 in args.noise2d:
            noise_2d = None if n2 == "none" else float(n2)
            row = {"model": name, "noise_2d": noise_2d, "by_noise_mm": {}}
            for mm, v in views.items():
                row["by_noise_mm"][mm] = summarise(view_errors(model, lift_views(model, v, rig, noise_2d=noise_2d), v))
            row["select"] = float(np.mean([row["by_noise_mm"][mm].p_mpjpe_mean for mm in SELECT_ON]))
            # a model that drops frames must not win by dropping the hard ones: count each as the worst error seen
            row["select"] += float(np.mean([row["by_noise_mm"][mm].failed for mm in SELECT_ON])) / len(poses) * 500
            rows.append(row)
            print(f"{name} noise_2d={n2}: " + ", ".join(f"{mm} mm {s.p_mpjpe_mean:.1f}/{s.mpjpe_mean:.1f}"
                                                       for mm, s in row["by_noise_mm"].items()), file=sys.stderr)
    best = min(rows, key=lambda r: r["select"])
    n2s = lambda v: "model's own" if v is None else f"{v:g}"  # noqa: E731
    md = ["# Model selection on held-out training data (made by `scripts/model_selection.py`)", "",
          f"Fitted on S1, S5, S6, S7; evaluated on {len(poses)} S8 poses (every {args.step}rd of the 5 fps file) "
          "seen by "
          "the four real Human3.6M cameras (pinhole, 10-16 degrees down) with Gaussian 2D noise of the given size at "
          "the subject. Errors in mm, camera frame, root-relative: P-MPJPE mean / MPJPE mean / MPJPE median; "
          "`off` = fraction of lifted frames whose 3D limb scale is off the truth's by more than 1.5x; `not lifted` = "
          "frames given a status (implausible 3D: limb scale outside [0.5, 2] x the model's). Choice: the lowest "
          f"P-MPJPE averaged over {' and '.join(map(str, SELECT_ON))} mm.", "",
          "| model | noise_2d | " + " | ".join(f"{mm} mm" for mm in NOISE_MM) + " | select |",
          "|---|---|" + "---|" * len(NOISE_MM) + "---|"]
    for r in rows:
        cells = []
        for mm in NOISE_MM:
            s = r["by_noise_mm"][mm]
            cells.append(f"{s.p_mpjpe_mean:.1f} / {s.mpjpe_mean:.1f} / {s.mpjpe_median:.1f}"
                         + (f" (off {s.scale_off_1_5x:.3f})" if s.scale_off_1_5x else "")
                         + (f" ({s.failed} not lifted)" if s.failed else ""))
        mark = " **chosen**" if r is best else ""
        md.append(f"| {r['model']} | {n2s(r['noise_2d'])} | " + " | ".join(cells) + f" | {r['select']:.2f}{mark} |")
    md += ["", f"Chosen: {best['model']}, noise_2d = {n2s(best['noise_2d'])}."]
    atomic_write_text(os.path.join(ROOT, "results", "model_selection.md"), "\n".join(md) + "\n")
    written = [{**r, "by_noise_mm": {mm: s.to_json() for mm, s in r["by_noise_mm"].items()}} for r in rows]
    atomic_write_text(os.path.join(ROOT, "results", "model_selection.json"),
                      json.dumps({"select_on_noise_mm": SELECT_ON, "chosen": {"model": best["model"],
                                  "noise_2d": best["noise_2d"]}, "rows": written}, indent=1))
    print("\n".join(md))


if __name__ == "__main__":
    main()
