"""A small real comparison of the embedded detector on the four Human3.6M frames of ``h36m_fixture`` (a sanity
check, four frames: not an accuracy figure).

Per frame: the detector's 2D error against the labels, and the 3D error (MPJPE and P-MPJPE, mm, camera frame,
root-relative) of

* ``a``: the detector's 2D lifted by our model with the frame's known camera (``Camera.E``),
* ``a_upright``: the same with the upright camera (what a photo without calibration gets),
* ``b``: MediaPipe's own 3D (its world landmarks, camera axes, mapped to our joints),
* ``c``: the ground-truth 2D lifted by our model with the known camera.
"""
from __future__ import annotations

import json
import os

import numpy as np

from lifting import skeleton
from lifting.cameras import read_h36m_cameras_json
from lifting.lift import STATUS_NAMES, Lifter
from lifting.metrics import mpjpe, p_mpjpe

from .detect import DEFAULT_MIN_CONFIDENCE, DETECTOR_NAME, PoseDetector
from .media import read_image

#: the 12 joints both skeletons define the same way (hips, knees, ankles, shoulders, elbows, wrists)
LIMB_JOINTS = tuple(skeleton.JOINT_INDEX[n] for n in ("RHip", "RKnee", "RFoot", "LHip", "LKnee", "LFoot",
                                                      "LShoulder", "LElbow", "LWrist", "RShoulder", "RElbow",
                                                      "RWrist"))
METHODS = {
    "a": "(a) MediaPipe 2D, lifted by our model, known camera",
    "a_upright": "(a') MediaPipe 2D, lifted by our model, upright camera (no calibration)",
    "b": "(b) MediaPipe's own 3D (world landmarks)",
    "c": "(c) ground-truth 2D, lifted by our model, known camera",
}


def read_fixture(folder):
    """``(labels dict of arrays, {(subject, camera id): Camera})`` of an ``h36m_fixture`` folder."""
    with np.load(os.path.join(folder, "labels.npz")) as z:
        labels = {k: z[k] for k in z.files}
    return labels, read_h36m_cameras_json(os.path.join(folder, "cameras.json"))


def _errors(pred_cam_mm, truth_cam_mm):
    """Root-relative MPJPE and P-MPJPE (mm) of one pose."""
    p = pred_cam_mm - pred_cam_mm[:1]
    t = truth_cam_mm - truth_cam_mm[:1]
    return float(mpjpe(p[None], t[None])[0]), float(p_mpjpe(p[None], t[None])[0])


def compare(folder, model, min_confidence=DEFAULT_MIN_CONFIDENCE):
    """One row per fixture frame (see the module's docstring), plus what the figure draws."""
    labels, cams = read_fixture(folder)
    rows = []
    with PoseDetector() as det:
        for i, name in enumerate(labels["image"]):
            rgb = read_image(os.path.join(folder, "images", str(name)))
            E = cams[(str(labels["subject"][i]), str(labels["camera"][i]))].E
            gt2d = labels["joints2d_px"][i]
            vis = labels["visible"][i]
            truth = labels["joints3d_camera_m"][i] * 1000.0
            d = det.detect(rgb)
            pts, w = d.joints(min_confidence)
            err2d = np.linalg.norm(pts - gt2d, axis=-1)
            limb = [j for j in LIMB_JOINTS if w[j] > 0 and vis[j] > 0]
            seen = [j for j in range(skeleton.NUM_JOINTS) if w[j] > 0 and vis[j] > 0]
            row = {"image": str(name), "subject": str(labels["subject"][i]), "camera": str(labels["camera"][i]),
                   "person_height_px": float(np.ptp(gt2d[vis > 0, 1])), "person_found": bool(d.found),
                   "joints_detected": int(np.count_nonzero(w > 0)),
                   "err2d_limb_px": float(err2d[limb].mean()) if limb else None,
                   "err2d_all_px": float(err2d[seen].mean()) if seen else None,
                   "err2d_per_joint_px": [None if not np.isfinite(e) else round(float(e), 1) for e in err2d]}
            poses = {"truth": truth - truth[:1]}
            for key, (p2, ww, cam) in {"a": (pts, w, E), "a_upright": (pts, w, None), "c": (gt2d, vis, E)}.items():
                if key != "c" and not d.found:
                    row[key] = {"status": "no person detected"}
                    continue
                res = Lifter(model, camera=cam).lift(p2[None], ww[None])
                st = int(res.status[0])
                row[key] = {"status": STATUS_NAMES[st]}
                if st == 0:
                    row[key]["mpjpe_mm"], row[key]["p_mpjpe_mm"] = _errors(res.pose3d_camera_mm[0], truth)
                    poses[key] = res.pose3d_camera_mm[0]
            if d.found:
                world = d.world_joints_mm()
                row["b"] = {"status": "ok"}
                row["b"]["mpjpe_mm"], row["b"]["p_mpjpe_mm"] = _errors(world, truth)
                poses["b"] = world - world[:1]
            else:
                row["b"] = {"status": "no person detected"}
            rows.append({"row": row, "rgb": rgb, "joints2d": pts, "weights": w, "gt2d": gt2d, "poses": poses})
    return rows


def summarise(rows):
    """Per method: frames with a 3D result, MPJPE and P-MPJPE mean and median (mm)."""
    out = {}
    for key in METHODS:
        ok = [r["row"][key] for r in rows if "mpjpe_mm" in r["row"][key]]
        e1 = np.array([o["mpjpe_mm"] for o in ok])
        e2 = np.array([o["p_mpjpe_mm"] for o in ok])
        out[key] = {"frames": len(ok), "of": len(rows),
                    "mpjpe_mean": float(e1.mean()) if ok else None,
                    "mpjpe_median": float(np.median(e1)) if ok else None,
                    "p_mpjpe_mean": float(e2.mean()) if ok else None,
                    "p_mpjpe_median": float(np.median(e2)) if ok else None}
    return out


def _f(v):
    return "-" if v is None else f"{v:.1f}"


def markdown(rows, summary):
    lines = [f"Detector: {DETECTOR_NAME}. Four real Human3.6M frames (`h36m_fixture`): a sanity check, not an "
             "accuracy figure. 2D error: mean distance to the labels, px (12 limb joints: hips, knees, ankles, "
             "shoulders, elbows, wrists; all: every detected joint, including the derived Hip, Spine, Thorax, "
             "Neck/Nose, Head). 3D: camera frame, root-relative, mm; `-` = no 3D (status given).", "",
             "| frame | person height px | joints detected | 2D error, 12 limb joints px | 2D error, all px | "
             + " | ".join(f"{k} MPJPE / P-MPJPE" for k in ("(a)", "(a')", "(b)", "(c)")) + " |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        row = r["row"]
        cells = []
        for key in METHODS:
            m = row[key]
            cells.append(f"{_f(m['mpjpe_mm'])} / {_f(m['p_mpjpe_mm'])}" if "mpjpe_mm" in m else f"- ({m['status']})")
        lines.append(f"| {row['image']} | {row['person_height_px']:.0f} | {row['joints_detected']} | "
                     f"{_f(row['err2d_limb_px'])} | {_f(row['err2d_all_px'])} | " + " | ".join(cells) + " |")
    lines += ["", "| 3D source | frames | MPJPE mean / median mm | P-MPJPE mean / median mm |", "|---|---|---|---|"]
    for key, label in METHODS.items():
        s = summary[key]
        lines.append(f"| {label} | {s['frames']} of {s['of']} | {_f(s['mpjpe_mean'])} / {_f(s['mpjpe_median'])} | "
                     f"{_f(s['p_mpjpe_mean'])} / {_f(s['p_mpjpe_median'])} |")
    return "\n".join(lines) + "\n"


def draw(path, rows):
    """One row per frame: the photo with the labels' 2D (dashed) and the detector's; the 3D poses from the camera
    (x right, y down) and from its side (depth, y down), truth in black."""
    from lifting.plot import draw_skeleton_2d, new_figure, save_figure

    colours = {"truth": "k", "a": "tab:blue", "b": "tab:orange", "c": "tab:green"}
    fig = new_figure(1500, 420 * len(rows))
    for i, r in enumerate(rows):
        ax = fig.add_subplot(len(rows), 3, 3 * i + 1)
        lo = np.nanmin(r["gt2d"], 0) - 80
        hi = np.nanmax(r["gt2d"], 0) + 80
        ax.imshow(r["rgb"])
        draw_skeleton_2d(ax, r["gt2d"], style="--", colour="k", label="labels")
        draw_skeleton_2d(ax, r["joints2d"], r["weights"], label="MediaPipe")
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(hi[1], lo[1])
        ax.set_title(r["row"]["image"], fontsize=8)
        ax.legend(fontsize=7, loc="lower right")
        views = (((0, 1), "camera view: x, y (mm)"), ((2, 1), "side view: z (depth), y (mm)"))
        for j, (cols, name) in enumerate(views):
            a = fig.add_subplot(len(rows), 3, 3 * i + 2 + j)
            for key, p in r["poses"].items():
                if key not in colours:
                    continue
                lab = "truth" if key == "truth" else METHODS[key].split(")")[0] + ")"
                draw_skeleton_2d(a, p[:, cols], colour=colours[key], label=lab, alpha=0.9)
            a.set_title(name, fontsize=8)
            a.tick_params(labelsize=7)
            a.legend(fontsize=6, loc="upper right")
    fig.tight_layout()
    save_figure(fig, path)


def write_report(prefix, rows, summary):
    """``<prefix>.md``, ``<prefix>.json``, ``<prefix>.png``."""
    from lifting.files import atomic_write_text

    atomic_write_text(prefix + ".md", markdown(rows, summary))
    atomic_write_text(prefix + ".json", json.dumps({"detector": DETECTOR_NAME, "methods": METHODS,
                                                    "frames": [r["row"] for r in rows], "summary": summary},
                                                   indent=1))
    draw(prefix + ".png", rows)
