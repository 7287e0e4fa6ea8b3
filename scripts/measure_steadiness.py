"""Steadiness of `lifting estimate`'s video path on sequences with known 3D: CMU motion capture (../shared/data/cmu)
projected through a pinhole camera, with detector-like noise and dropped joints, lifted frame by frame with and
without smoothing (One Euro on the 2D + ground-plane angle continuity; tools/people.py PeopleEstimator, the same
code as `lifting estimate` on a video). Reports 3D error (MPJPE and P-MPJPE, mean and median, camera frame,
root-relative; P-MPJPE is the fair figure for the upright camera, which does not know the tilt),
mean frame-to-frame joint displacement (the truth's beside it) and facing flips > 90 degrees between
consecutive frames.

    .venv/bin/python scripts/measure_steadiness.py [--cmu ../shared/data/cmu] [--out results/steadiness]

Camera: f = 1000 px, 1280 x 720, 5 m in front of the sequence's mean root at 1.6 m height (about 12 degrees down),
the sequence's mean facing about 45 degrees from the camera. Noise: Gaussian 2D noise of 1.5% of the person's 2D height
per coordinate; confidences uniform in [0.6, 1]; 10% of joint-frames "dropped" (confidence uniform in [0, 0.45],
2D noise 6% of the height). CMU at 120 fps, kept every 4th frame (30 fps), at most 300 frames per trial.
"""
import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
#: (camera given to the lifter, smoothing): the known rotation E, or the upright camera (what `lifting estimate` assumes
#: without --camera); without (--no-smooth) and with smoothing
KEYS = ("known_raw", "known_smooth", "upright_raw", "upright_smooth")
TRIALS = (("02", "02_01"), ("02", "02_02"), ("02", "02_03"), ("03", "03_01"), ("03", "03_02"))


class _NoDetector:
    def close(self):
        pass


def make_sequence(poses_world_mm, rng, noise=0.015, drop=0.10, f=1000.0, size=(720, 1280)):
    """World poses ``(T, 17, 3)`` (y up, mm) -> (2D ``(T, 17, 2)``, confidences, truth in camera axes (mm),
    camera rotation E, intrinsics)."""
    from lifting.cameras import look_at

    centre = poses_world_mm[:, 0].mean(0)
    fwd = np.cross(poses_world_mm[:, 4] - poses_world_mm[:, 1], [0.0, 1.0, 0.0]).mean(0)
    fwd[1] = 0
    fwd /= np.linalg.norm(fwd)
    ang = np.radians(45.0)
    d = np.array([fwd[0] * np.cos(ang) - fwd[2] * np.sin(ang), 0.0, fwd[0] * np.sin(ang) + fwd[2] * np.cos(ang)])
    cam_pos = centre + 5000.0 * d
    cam_pos[1] = 1600.0 + (centre[1] - poses_world_mm[:, :, 1].min())  # 1.6 m above the floor
    E = look_at(cam_pos, centre, up=(0.0, 1.0, 0.0))
    X = np.einsum("ij,tlj->tli", E, poses_world_mm - cam_pos)
    c = np.array([size[1] / 2, size[0] / 2])
    uv = f * X[..., :2] / X[..., 2:3] + c
    height = np.ptp(uv[..., 1], axis=1)[:, None, None]
    conf = rng.uniform(0.6, 1.0, uv.shape[:2])
    dropped = rng.random(uv.shape[:2]) < drop
    conf[dropped] = rng.uniform(0.0, 0.45, dropped.sum())
    sigma = np.where(dropped[..., None], 0.06, noise) * height
    return uv + rng.normal(size=uv.shape) * sigma, conf, X, E, (f, c, size)


def run(poses2d, conf, E, intr, smooth, model, known=True):
    from lifting.lift import Lifter
    from tools.detect import Detection
    from tools.people import PeopleEstimator, Person

    f, c, size = intr
    from lifting.geometry import UPRIGHT_CAMERA

    est = PeopleEstimator(Lifter(model, camera=E if known else UPRIGHT_CAMERA), video=True, smooth=smooth,
                          focal_px=f, principal_px=c, detector=_NoDetector())
    out_cam, out_world, roots = [], [], []
    for i, (p, w) in enumerate(zip(poses2d, conf)):
        lo, hi = p.min(0), p.max(0)
        person = Person(Detection.none(), 1.0, (lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]))
        e = est.lift_joints([person], p[None], w[None], size, t=i / 30.0, frame=i)[0]
        out_cam.append(e.pose3d_camera_mm)
        out_world.append(e.pose3d_mm)
        roots.append(e.root_camera_m)
    return np.array(out_cam), np.array(out_world), np.array(roots)


def main(argv=None):
    from lifting.metrics import mpjpe, p_mpjpe
    from lifting.model import load_model
    from lifting.smoothing import facing_flips, mean_displacement
    from model_fitting.readers import read_asf_amc

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cmu", default=os.path.join(ROOT, "..", "shared", "data", "cmu"))
    ap.add_argument("--out", default=os.path.join(ROOT, "results", "steadiness"))
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if not os.path.isdir(args.cmu):
        print(f"measure_steadiness: CMU folder not found: {args.cmu}", file=sys.stderr)
        return 2
    model = load_model(None)
    rng = np.random.default_rng(args.seed)
    rows = []
    acc = {k: {"cam": [], "truth": [], "flips": 0, "truth_flips": 0, "disp": [], "truth_disp": [], "root": []}
           for k in KEYS}
    for subj, trial in TRIALS:
        world = read_asf_amc(os.path.join(args.cmu, subj, f"{subj}.asf"),
                             os.path.join(args.cmu, subj, f"{trial}.amc"), step=4)[:args.frames]
        p2, conf, X, E, intr = make_sequence(world, rng)
        truth_cam = X - X[:, :1]
        truth_world = world - world[:, :1]
        row = {"trial": trial, "frames": len(world)}
        for key in KEYS:
            cam, wld, root = run(p2, conf, E, intr, key.endswith("smooth"), model, known=key.startswith("known"))
            ok = np.isfinite(cam).all((1, 2))
            e1, e2 = mpjpe(cam[ok], truth_cam[ok]), p_mpjpe(cam[ok], truth_cam[ok])
            flips = facing_flips(wld)
            disp = mean_displacement(cam)
            rerr = np.linalg.norm(root[ok] * 1000.0 - X[ok, 0], axis=1)
            row[key] = {"lifted": int(ok.sum()), "mpjpe_mean": float(e1.mean()), "mpjpe_median": float(np.median(e1)),
                        "p_mpjpe_mean": float(e2.mean()), "p_mpjpe_median": float(np.median(e2)),
                        "displacement_mm": disp, "flips": flips, "root_error_mm_median": float(np.median(rerr))}
            a = acc[key]
            a["cam"].append(e1), a["truth"].append(e2), a["disp"].append(disp), a["root"].append(rerr)
            a["flips"] += flips
        row["truth_displacement_mm"] = mean_displacement(truth_cam)
        row["truth_flips"] = facing_flips(truth_world)
        rows.append(row)
    summary = {}
    for key, a in acc.items():
        e1, e2 = np.concatenate(a["cam"]), np.concatenate(a["truth"])
        summary[key] = {"mpjpe_mean": float(e1.mean()), "mpjpe_median": float(np.median(e1)),
                        "p_mpjpe_mean": float(e2.mean()), "p_mpjpe_median": float(np.median(e2)),
                        "displacement_mm": float(np.mean(a["disp"])), "flips": a["flips"],
                        "root_error_mm_median": float(np.median(np.concatenate(a["root"])))}
    summary["truth_displacement_mm"] = float(np.mean([r["truth_displacement_mm"] for r in rows]))
    summary["truth_flips"] = int(sum(r["truth_flips"] for r in rows))
    summary["frames"] = int(sum(r["frames"] for r in rows))
    lines = ["| trial | frames | lifter's camera | smoothing | MPJPE mean / median mm | P-MPJPE mean / median mm | "
             "frame-to-frame displacement mm (truth) | facing flips > 90 deg (truth) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows + [dict(trial="all", frames=summary["frames"], **{k: summary[k] for k in KEYS},
                          truth_displacement_mm=summary["truth_displacement_mm"], truth_flips=summary["truth_flips"])]:
        for key in KEYS:
            s = r[key]
            cam = "known E" if key.startswith("known") else "upright (assumed)"
            lines.append(f"| {r['trial']} | {r['frames']} | {cam} | "
                         f"{'on' if key.endswith('smooth') else 'off (--no-smooth)'} | "
                         f"{s['mpjpe_mean']:.1f} / {s['mpjpe_median']:.1f} | {s['p_mpjpe_mean']:.1f} / "
                         f"{s['p_mpjpe_median']:.1f} | {s['displacement_mm']:.1f} ({r['truth_displacement_mm']:.1f}) | "
                         f"{s['flips']} ({r['truth_flips']}) |")
    text = "\n".join(lines) + "\n"
    from lifting.files import atomic_write_json, atomic_write_text

    atomic_write_text(args.out + ".md", text)
    atomic_write_json(args.out + ".json", {"rows": rows, "summary": summary, "seed": args.seed})
    print(text)
    print(f"-> {args.out}.md, {args.out}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
