"""Evaluation on Human3.6M images (the paper's sec. 6): per-frame results of ``lifting evaluate-images`` -> protocol 1
MPJPE, protocol 2 P-MPJPE and the 2D pixel error, per action (the paper's Table 1 order) and per stage (its Figure
3), and the tables that put a run beside the paper's numbers (:mod:`lifting.paper`).

Per-frame results (:data:`FRAME_FIELDS`, N frames, S stages; arrays in one npz):

* ``subject``, ``action``, ``camera`` (N,) str; ``frame`` (N,) int: which test frame;
* ``gt2d_px`` (N, 17, 2): the labelled 2D joints in original-frame pixels; ``visible`` (N, 17);
* ``gt3d_mm`` (N, 17, 3): the true 3D joints in the camera frame, mm;
* ``pred2d_px`` (N, 17, 2): the final 2D estimate in original-frame pixels: the projection of the final 3D pose (the
  paper's Table 2 "ours including 3D refinement"); for the baseline CPM the argmax of its last stage (Table 2's
  "trained CPM"); with ``--2d gt`` the projection of the pose lifted from the true 2D;
* ``argmax2d_px`` (N, 17, 2): the argmax of the last stage's belief maps (eq. 4), frame pixels (NaN with ``--2d gt``);
* ``pred3d_mm`` (N, 17, 3): the final 3D pose in the camera frame, mm (NaN where the lift gave a status);
* ``status`` (N,) int: the final lift's status (:data:`lifting.lift.STATUS_NAMES`);
* ``stage2d_px`` (N, S, 17, 2), ``stage3d_mm`` (N, S, 17, 3): per stage, the argmax of the stage's CNN belief maps
  and its lift (what the stage's probabilistic 3D pose layer computes); S = 0 with ``--2d gt``.

**Metric scale of the 3D output (protocol 1).** A single image fixes a weak-perspective pose up to its size. The
lifted pose is in model units times the model's ``mm_per_unit`` (the RMS limb length of the poses the model was
fitted on, the training subjects), with the per-frame limb scale the lift chose (bounded by ``limb_scale_range``).
No test-time truth is used to scale it: protocol 1 compares this pose with the truth after moving both roots (Hip)
to the origin, in the camera frame (``pred3d = E @ world pose``). Protocol 2 additionally removes the rotation,
translation and scale (similarity Procrustes). Frames whose lift failed are left out of the 3D metrics and counted
as "not lifted".
"""
from __future__ import annotations

import json
import os
import zipfile

import numpy as np

from . import metrics, paper, report, skeleton
from .files import atomic_write_text, json_safe

FRAME_FIELDS = ("subject", "action", "camera", "frame", "gt2d_px", "visible", "gt3d_mm", "pred2d_px", "argmax2d_px",
                "pred3d_mm", "status", "stage2d_px", "stage3d_mm")


def crop_to_frame(points, crop_transform):
    """Points in dataset-crop pixels ``(N, ..., 2)`` -> original-frame pixels, for the per-sample
    ``crop_transform (N, 3)`` = ``(scale, ox, oy)`` of :mod:`lifting.dataset` (``crop = frame * scale + (ox, oy)``)."""
    p = np.asarray(points, np.float64)
    ct = np.asarray(crop_transform, np.float64)
    if ct.shape != (p.shape[0], 3) or p.shape[-1] != 2:
        raise ValueError(f"points (N, ..., 2) and crop_transform (N, 3) expected; got {p.shape} and {ct.shape}")
    extra = (1,) * (p.ndim - 2)
    scale = ct[:, 0].reshape((-1,) + extra + (1,))
    offset = ct[:, 1:].reshape((-1,) + extra + (2,))
    return (p - offset) / scale


def lift_known_cameras(model, points2d, cameras, **lifter_args):
    """Lift 2D poses ``(N, 17, 2)`` (any pixel unit), each with its own known camera rotation ``E (N, 3, 3)``: one
    :class:`lifting.lift.Lifter` per distinct camera. Returns ``(pose3d_camera_mm (N, 17, 3), reprojected (N, 17, 2),
    status (N,))``; NaN where the status is not ok."""
    from .lift import Lifter

    pts = np.asarray(points2d, np.float64)
    cams = np.asarray(cameras, np.float64).reshape(len(pts), 9)
    pose = np.full(pts.shape[:2] + (3,), np.nan)
    reproj = np.full(pts.shape, np.nan)
    status = np.zeros(len(pts), np.int64)
    keys, inverse = np.unique(np.round(cams, 6), axis=0, return_inverse=True)
    for k in range(len(keys)):
        idx = np.flatnonzero(inverse.reshape(-1) == k)
        res = Lifter(model, camera=cams[idx[0]].reshape(3, 3), **lifter_args).lift(pts[idx])
        pose[idx], reproj[idx], status[idx] = res.pose3d_camera_mm, res.reprojected, res.status
    return pose, reproj, status


def _stats(errors, actions):
    """Per-action table, both averages, mean and median of per-frame ``errors`` (NaN frames left out)."""
    errors = np.asarray(errors, np.float64)
    ok = np.isfinite(errors)
    table, action_mean, frame_mean = metrics.per_action(errors[ok], np.asarray(actions)[ok])
    return {"per_action": {k: [m, n] for k, (m, n) in table.items()}, "action_mean": action_mean,
            "frame_mean": frame_mean, "median": float(np.median(errors[ok])) if ok.any() else float("nan"),
            "frames": int(ok.sum())}


def _errors3d(pred, gt):
    ok = np.isfinite(pred).all(axis=(-2, -1))
    p1 = np.full(len(pred), np.nan)
    p2 = np.full(len(pred), np.nan)
    if ok.any():
        p1[ok] = metrics.mpjpe(pred[ok], gt[ok])
        p2[ok] = metrics.p_mpjpe(pred[ok], gt[ok])
    return p1, p2


def summarise(frames):
    """Per-frame results (a mapping with :data:`FRAME_FIELDS`) -> the JSON-able summary of one run: ``p1``, ``p2``
    (mm), ``px2d`` (final 2D, px), ``px2d_argmax`` (None with ``--2d gt``), each with per-action means (Table 1
    order), the action-mean and frame-weighted averages and the median; ``stages``: per stage the mean and median 2D
    (argmax) and 3D errors; ``frames``, ``not_lifted``."""
    missing = [k for k in FRAME_FIELDS if k not in frames]
    if missing:
        raise ValueError(f"per-frame results lack the fields {missing}")
    actions = np.asarray(frames["action"])
    gt3d = np.asarray(frames["gt3d_mm"], np.float64)
    gt2d = np.asarray(frames["gt2d_px"], np.float64)
    vis = np.asarray(frames["visible"])
    p1, p2 = _errors3d(np.asarray(frames["pred3d_mm"], np.float64), gt3d)
    px = metrics.pixel_error(np.asarray(frames["pred2d_px"], np.float64), gt2d, vis)
    argmax = np.asarray(frames["argmax2d_px"], np.float64)
    out = {"frames": int(len(actions)), "not_lifted": int(np.sum(~np.isfinite(p1))),
           "p1": _stats(p1, actions), "p2": _stats(p2, actions), "px2d": _stats(px, actions),
           "px2d_argmax": (_stats(metrics.pixel_error(argmax, gt2d, vis), actions)
                           if np.isfinite(argmax).all() and len(argmax) else None), "stages": []}
    s2d, s3d = np.asarray(frames["stage2d_px"], np.float64), np.asarray(frames["stage3d_mm"], np.float64)
    for t in range(s2d.shape[1] if s2d.ndim == 4 else 0):
        e2 = metrics.pixel_error(s2d[:, t], gt2d, vis)
        q1, q2 = _errors3d(s3d[:, t], gt3d)
        f = lambda v: float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")  # noqa: E731
        g = lambda v: float(np.nanmedian(v)) if np.isfinite(v).any() else float("nan")  # noqa: E731
        out["stages"].append({"stage": t + 1, "px2d_mean": f(e2), "px2d_median": g(e2), "p1_mean": f(q1),
                              "p1_median": g(q1), "p2_mean": f(q2), "p2_median": g(q2),
                              "not_lifted": int(np.sum(~np.isfinite(q1)))})
    return out


def _row(stats):
    table = {k: tuple(v) for k, v in stats["per_action"].items()}
    return table, stats["action_mean"], stats["frame_mean"]


def paper_rows():
    """The paper's Table 1 rows in :func:`lifting.report.table1`'s row form; its "Average" goes in the frame-weighted
    column (see :func:`lifting.metrics.per_action`), the action-mean column stays empty."""
    return {name: ({k: (v, None) for k, v in row.items() if k != "average"}, None, row["average"])
            for name, row in paper.TABLE1.items()}


def tables(runs):
    """``runs``: ``{label: summary}`` (:func:`summarise`) -> ``(markdown, csv_text, json_dict)`` with Table 1 (protocol
    1, beside the paper's rows), the same layout for protocol 2, the mean/median summary, Table 2 (2D pixel error,
    beside the paper's) and the per-stage errors (Figure 3's numbers)."""
    p1 = {**{f"{label}: MPJPE (P1)": _row(s["p1"]) for label, s in runs.items()}, **paper_rows()}
    p2 = {f"{label}: P-MPJPE (P2)": _row(s["p2"]) for label, s in runs.items()}
    t2 = []
    for label, s in runs.items():
        if s["px2d_argmax"] is None:
            continue
        if s["px2d"] != s["px2d_argmax"]:  # the extended net: its 2D is the projection of its final 3D pose
            t2.append((f"{label}: projection of the final 3D pose", s["px2d"]))
        t2.append((f"{label}: argmax of the last stage's belief maps", s["px2d_argmax"]))
    frames = {label: (s["frames"], s["not_lifted"]) for label, s in runs.items()}
    md = ["## Table 1: 3D error per action, protocol 1 (MPJPE, mm)", "",
          "Root-relative (Hip), camera frame, no alignment; metric scale from the 3D pose model (lifting/image_eval.py). "
          "Paper rows: literal reference data, " + paper.SOURCE + ", Table 1; its \"Average\" is printed under "
          "\"Avg (frame-weighted)\" because it is not the mean of its action columns.", "",
          report.table_markdown(p1), "## The same, protocol 2 (P-MPJPE, mm, similarity Procrustes)", "",
          report.table_markdown(p2), "## Mean and median over frames", "", report.summary_frames_markdown(runs), ""]
    if t2:
        md += ["## Table 2: 2D pixel error (original-frame pixels, visible joints)", "",
               report.table2_markdown(t2, paper.TABLE2), ""]
    if any(s["stages"] for s in runs.values()):
        md += ["## Figure 3: error per stage (mean / median)", "",
               report.stages_markdown({k: s["stages"] for k, s in runs.items() if s["stages"]}), ""]
    csv_text = report.table_csv(p1) + report.table_csv(p2)
    return "\n".join(md), csv_text, {"runs": runs, "frames": frames, "paper": {"source": paper.SOURCE,
                                                                               "table1": paper.TABLE1,
                                                                               "table2": paper.TABLE2}}


def write_report(out_stem, runs, title):
    """``<out_stem>.md``, ``.csv``, ``.json`` and (with per-stage results) ``.png`` (Figure 3), all atomic. Returns
    the markdown."""
    md, csv_text, js = tables(runs)
    md = f"# {title}\n\n{md}"
    os.makedirs(os.path.dirname(os.path.abspath(out_stem)), exist_ok=True)
    atomic_write_text(out_stem + ".md", md)
    atomic_write_text(out_stem + ".csv", csv_text)
    atomic_write_text(out_stem + ".json", json.dumps(json_safe(js), indent=1, sort_keys=True, allow_nan=False))
    stages = {k: s["stages"] for k, s in runs.items() if s["stages"]}
    if stages:
        from .plot import save_stage_errors

        save_stage_errors(out_stem + ".png", stages, title)
    return md


def load_frames(path):
    """Per-frame results written by ``lifting evaluate-images`` (``frames.npz``); errors name the file and field."""
    try:
        with np.load(path) as z:
            frames = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path}: not a per-frame results file ({type(e).__name__}: {e})") from None
    missing = [k for k in FRAME_FIELDS if k not in frames]
    if missing:
        raise ValueError(f"{path}: fields {missing} are missing (not written by `lifting evaluate-images`)")
    n = len(frames["action"])
    for k in FRAME_FIELDS:
        if len(frames[k]) != n:
            raise ValueError(f"{path}: field {k!r} has {len(frames[k])} rows, 'action' has {n}")
    if frames["gt3d_mm"].shape[1:] != (skeleton.NUM_JOINTS, 3):
        raise ValueError(f"{path}: field 'gt3d_mm' has shape {frames['gt3d_mm'].shape}, expected (N, 17, 3)")
    return frames
