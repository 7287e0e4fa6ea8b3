"""Evaluation on Human3.6M images (the paper's sec. 6): per-frame results of ``lifting evaluate-images`` -> protocol 1
MPJPE, protocol 2 P-MPJPE and the 2D pixel error, per action (the paper's Table 1 order) and per stage (its Figure
3), and the tables that put a run beside the paper's numbers (:mod:`lifting.paper`).

Per-frame results (:data:`FRAME_FIELDS`, N frames, S stages; arrays in one npz):

* ``subject``, ``action``, ``camera`` (N,) str; ``frame`` (N,) int: which test frame;
* ``gt2d_px`` (N, 17, 2): the labelled 2D joints in original-frame pixels; ``visible`` (N, 17);
* ``gt3d_mm`` (N, 17, 3): the true 3D joints in the camera frame, mm;
* ``pred2d_px`` (N, 17, 2): the final 2D estimate in original-frame pixels: the projection of the final 3D pose (an
  extra Table 2 row); for the baseline CPM the argmax of its last stage; with ``--2d gt`` the projection of the
  pose lifted from the true 2D;
* ``argmax2d_px`` (N, 17, 2): the argmax of the last stage's belief maps (eq. 4), frame pixels (NaN with ``--2d gt``):
  Table 2's rows, "ours including 3D refinement" for the extended net (the authors' ``runCaffeTest.py`` scores the
  stage-6 argmax, line 105) and "trained CPM" for the baseline; the maps upsampled to the frame first (Lanczos) as
  the authors' ``restoreSize`` unless the run's ``scoring`` is ``grid``;
* ``pred3d_mm`` (N, 17, 3): the final 3D pose in the camera frame, mm (NaN where the lift gave a status);
* ``status`` (N,) int: the final lift's status (:data:`lifting.lift.STATUS_NAMES`);
* ``stage2d_px`` (N, S, 17, 2), ``stage3d_mm`` (N, S, 17, 3): per stage, the argmax of the stage's CNN belief maps
  and its lift (what the stage's probabilistic 3D pose layer computes); S = 0 with ``--2d gt``.

**Metric scale of the 3D output (protocol 1).** A single image fixes a weak-perspective pose up to its size. The
lifted pose is in model units times the model's ``mm_per_unit`` (the RMS limb length of the poses the model was
fitted on, the training subjects), with the per-frame limb scale the lift chose (bounded by ``limb_scale_range``).
No test-time truth is used to scale it: protocol 1 compares this pose with the truth after moving both roots (Hip)
to the origin, in the camera frame (``pred3d = E @ world pose``). Protocol 2 additionally removes the rotation,
translation and scale (similarity Procrustes). Every test frame is counted, as in the authors' per-frame errors:
frames whose lift failed are scored with a stated fallback (:data:`FALLBACK`) and their count is in every table.
"""
from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import metrics, paper, records, report, skeleton
from .files import atomic_write_text, json_safe

FRAME_FIELDS = ("subject", "action", "camera", "frame", "gt2d_px", "visible", "gt3d_mm", "pred2d_px", "argmax2d_px",
                "pred3d_mm", "status", "stage2d_px", "stage3d_mm")


def crop_scales(crop_transform):
    """``(N, 2)``: the (x, y) scales of the per-sample ``crop_transform`` (see :func:`crop_to_frame`)."""
    ct = np.asarray(crop_transform, np.float64)
    return ct[:, [0, 0]] if ct.shape[1] == 3 else ct[:, [0, 3]]


def crop_to_frame(points, crop_transform):
    """Points in dataset-crop pixels ``(N, ..., 2)`` -> original-frame pixels, for the per-sample
    ``crop_transform (N, 3)`` = ``(scale, ox, oy)`` of :mod:`lifting.dataset` (``crop = frame * scale + (ox, oy)``),
    or ``(N, 4)`` = ``(scale_x, ox, oy, scale_y)`` where the axes scale differently (the authors' crop)."""
    p = np.asarray(points, np.float64)
    ct = np.asarray(crop_transform, np.float64)
    if ct.ndim != 2 or ct.shape[0] != p.shape[0] or ct.shape[1] not in (3, 4) or p.shape[-1] != 2:
        raise ValueError(f"points (N, ..., 2) and crop_transform (N, 3) or (N, 4) expected; got {p.shape} and "
                         f"{ct.shape}")
    extra = (1,) * (p.ndim - 2)
    scale = crop_scales(ct).reshape((-1,) + extra + (2,))
    offset = ct[:, 1:3].reshape((-1,) + extra + (2,))
    return (p - offset) / scale


def lift_known_cameras(model, points2d, cameras, **lifter_args):
    """Lift 2D poses ``(N, 17, 2)`` (any pixel unit), each with its own known camera rotation ``E (N, 3, 3)``: one
    :class:`lifting.lift.Lifter` per distinct camera. Returns ``(pose3d_camera_mm (N, 17, 3), reprojected (N, 17, 2),
    status (N,))``; NaN where the status is not ok."""
    from .per_camera import lift_per_camera

    got = lift_per_camera(model, points2d, cameras, **lifter_args)
    return got["pose3d_camera_mm"], got["reprojected"], got["status"]


#: how a frame whose lift failed is scored (it is never left out): every joint predicted at the true root (protocol 1
#: and the 2D error) or at the true centroid (protocol 2): the error of no pose at all
FALLBACK = ("frames whose 3D lift failed are kept and scored as no pose: every joint at the true root (MPJPE and the "
            "2D error of the projection) or at the true centroid (P-MPJPE)")


class ActionError(NamedTuple):
    """One action's column of Table 1: the mean error over that action's frames (the unit of its
    :class:`ErrorStats`) and how many frames they are. JSON: ``[mean, frames]``."""

    mean: float
    frames: int


@dataclass(frozen=True)
class ErrorStats:
    """One error of one run over every test frame (frames whose lift failed carry their :data:`FALLBACK` error), in
    the error's unit: mm for protocols 1 and 2 (:attr:`RunSummary.p1`, :attr:`RunSummary.p2`), original-frame pixels
    for the 2D errors (:attr:`RunSummary.px2d`, :attr:`RunSummary.px2d_argmax`). Averages and median are NaN (null in
    JSON) only when there are no frames."""

    #: action key (:func:`lifting.skeleton.action_key`) -> its mean and frame count, in Table 1's column order
    per_action: dict[str, ActionError]
    #: the mean of the per-action means (every action weighted equally)
    action_mean: float
    #: the mean over all frames (every frame weighted equally: the paper's "Average")
    frame_mean: float
    #: the median over all frames
    median: float
    #: how many frames (all of the run's)
    frames: int

    @classmethod
    def of(cls, errors, actions):
        """Per-frame ``errors (N,)`` (all finite: failed frames carry their fallback error) of frames of ``actions``
        (N,) -> the per-action table, both averages and the median."""
        errors = np.asarray(errors, np.float64)
        if not np.isfinite(errors).all():
            raise ValueError("per-frame errors must all be finite (failed frames carry their fallback error)")
        table, action_mean, frame_mean = metrics.per_action(errors, np.asarray(actions))
        return cls({k: ActionError(m, n) for k, (m, n) in table.items()}, action_mean, frame_mean,
                   float(np.median(errors)) if len(errors) else float("nan"), int(len(errors)))

    def row(self):
        """The row form of :func:`lifting.report.table1`: ``(table, action_mean, frame_mean)``."""
        return dict(self.per_action), self.action_mean, self.frame_mean

    def to_json(self):
        return {"per_action": {k: [m, n] for k, (m, n) in self.per_action.items()}, "action_mean": self.action_mean,
                "frame_mean": self.frame_mean, "median": self.median, "frames": self.frames}

    @classmethod
    def from_json(cls, data, where="error stats"):
        """The dict of :meth:`to_json` as read back from a JSON file; ``where`` names the file and field in errors."""
        d = records.fields(data, records.names(cls), where)
        per_action = {}
        for k, v in records.mapping(d["per_action"], f"{where}.per_action").items():
            at = f"{where}.per_action[{k!r}]"
            if not isinstance(v, list) or len(v) != 2:
                raise ValueError(f"{at}: expected [mean, frames], got {v!r}")
            per_action[k] = ActionError(records.number(v[0], f"{at}[0] (mean)"),
                                        records.count(v[1], f"{at}[1] (frames)"))
        averages = {k: records.number(d[k], f"{where}.{k}", null=float("nan"))  # null: NaN, no frames
                    for k in ("action_mean", "frame_mean", "median")}
        return cls(per_action, **averages, frames=records.count(d["frames"], f"{where}.frames"))


@dataclass(frozen=True)
class StageSummary:
    """One CNN stage of one run (the paper's Figure 3): the argmax of the stage's belief maps (2D, original-frame
    pixels, all 17 joints) and the stage's lift (3D, mm), over every frame (failed lifts carry their
    :data:`FALLBACK` error)."""

    #: the stage, 1-based
    stage: int
    #: 2D error of the stage's argmax, px: mean and median over frames
    px2d_mean: float
    px2d_median: float
    #: protocol 1 (MPJPE) of the stage's lift, mm: mean and median
    p1_mean: float
    p1_median: float
    #: protocol 2 (P-MPJPE) of the stage's lift, mm: mean and median
    p2_mean: float
    p2_median: float
    #: frames the stage's lift failed on (scored with the fallback)
    not_lifted: int

    def to_json(self):
        return {k: getattr(self, k) for k in records.names(self)}

    @classmethod
    def from_json(cls, data, where="stage"):
        """The dict of :meth:`to_json` as read back; ``where`` names the file and field in errors."""
        d = records.fields(data, records.names(cls), where)
        counts = ("stage", "not_lifted")
        return cls(**{k: (records.count if k in counts else records.number)(v, f"{where}.{k}") for k, v in d.items()})


@dataclass(frozen=True)
class RunSummary:
    """The summary of one ``lifting evaluate-images`` run (:func:`summarise`): the errors of the paper's Table 1,
    Table 2 and Figure 3 over every test frame. A run's ``results.json`` holds it under ``runs[label]``
    (:meth:`to_json`)."""

    #: how many test frames (all are scored)
    frames: int
    #: frames whose final 3D lift failed (scored with :data:`FALLBACK`)
    not_lifted: int
    #: frames without a final 2D estimate (scored with :data:`FALLBACK`)
    not_projected: int
    #: how failed frames are scored (:data:`FALLBACK`)
    fallback: str
    #: protocol 1, MPJPE, mm
    p1: ErrorStats
    #: protocol 2, P-MPJPE, mm
    p2: ErrorStats
    #: the final 2D, px: the projection of the final 3D pose (the baseline CPM: its argmax)
    px2d: ErrorStats
    #: the last stage's argmax, px (Table 2's row); None when the true 2D was lifted (``--2d gt``)
    px2d_argmax: ErrorStats | None
    #: per CNN stage (Figure 3); empty with ``--2d gt``
    stages: tuple[StageSummary, ...]

    def to_json(self):
        return {"frames": self.frames, "not_lifted": self.not_lifted, "not_projected": self.not_projected,
                "fallback": self.fallback, "p1": self.p1.to_json(), "p2": self.p2.to_json(),
                "px2d": self.px2d.to_json(),
                "px2d_argmax": None if self.px2d_argmax is None else self.px2d_argmax.to_json(),
                "stages": [r.to_json() for r in self.stages]}

    @classmethod
    def from_json(cls, data, where="run summary"):
        """The dict of :meth:`to_json` as read back (e.g. ``runs[label]`` of a ``results.json``); ``where`` names the
        file and field in errors."""
        d = records.fields(data, records.names(cls), where)
        stats = {k: ErrorStats.from_json(d[k], f"{where}.{k}") for k in ("p1", "p2", "px2d")}
        argmax = d["px2d_argmax"]
        return cls(records.count(d["frames"], f"{where}.frames"),
                   records.count(d["not_lifted"], f"{where}.not_lifted"),
                   records.count(d["not_projected"], f"{where}.not_projected"),
                   records.string(d["fallback"], f"{where}.fallback"), **stats,
                   px2d_argmax=None if argmax is None else ErrorStats.from_json(argmax, f"{where}.px2d_argmax"),
                   stages=tuple(StageSummary.from_json(r, f"{where}.stages[{i}]")
                                for i, r in enumerate(records.sequence(d["stages"], f"{where}.stages"))))


def fallback_errors(gt, centre):
    """The error of no pose (:data:`FALLBACK`): mean distance of the true joints ``(N, J, D)`` from their root
    (``centre="root"``) or their centroid (``"centroid"``). ``(N,)``."""
    gt = np.asarray(gt, np.float64)
    c = gt[:, :1] if centre == "root" else gt.mean(axis=1, keepdims=True)
    return np.linalg.norm(gt - c, axis=-1).mean(-1)


def _errors3d(pred, gt):
    """Protocol 1 and 2 errors ``(N,)`` each and the failed frames ``(N,)`` bool; a failed frame (a non-finite pose)
    gets its fallback error (:data:`FALLBACK`)."""
    ok = np.isfinite(pred).all(axis=(-2, -1))
    p1, p2 = fallback_errors(gt, "root"), fallback_errors(gt, "centroid")
    if ok.any():
        p1[ok] = metrics.mpjpe(pred[ok], gt[ok])
        p2[ok] = metrics.p_mpjpe(pred[ok], gt[ok])
    return p1, p2, ~ok


def _errors2d(pred, gt):
    """The 2D error over all 17 joints (the authors' ``computeError``), a failed frame (non-finite) scored as no
    pose; ``(errors (N,), failed (N,))``."""
    ok = np.isfinite(pred).all(axis=(-2, -1))
    e = fallback_errors(gt, "root")
    if ok.any():
        e[ok] = metrics.pixel_error(pred[ok], gt[ok])
    return e, ~ok


def summarise(frames) -> RunSummary:
    """Per-frame results (a mapping with :data:`FRAME_FIELDS`) -> the summary of one run (:class:`RunSummary`):
    ``p1``, ``p2`` (mm), ``px2d`` (the final 2D, px: the projection of the final 3D pose; the baseline's argmax),
    ``px2d_argmax`` (the last stage's argmax: Table 2's row; None with ``--2d gt``), each with per-action means
    (Table 1 order), the action-mean and frame-weighted averages and the median, over every frame; ``stages``: per
    stage the mean and median 2D (argmax) and 3D errors; ``frames``, ``not_lifted`` (frames scored with
    :data:`FALLBACK`), ``fallback``. 2D errors are over all 17 joints, as the authors' ``computeError``."""
    missing = [k for k in FRAME_FIELDS if k not in frames]
    if missing:
        raise ValueError(f"per-frame results lack the fields {missing}")
    actions = np.asarray(frames["action"])
    gt3d = np.asarray(frames["gt3d_mm"], np.float64)
    gt2d = np.asarray(frames["gt2d_px"], np.float64)
    p1, p2, failed = _errors3d(np.asarray(frames["pred3d_mm"], np.float64), gt3d)
    px, failed2d = _errors2d(np.asarray(frames["pred2d_px"], np.float64), gt2d)
    argmax = np.asarray(frames["argmax2d_px"], np.float64)
    stages = []
    s2d, s3d = np.asarray(frames["stage2d_px"], np.float64), np.asarray(frames["stage3d_mm"], np.float64)
    for t in range(s2d.shape[1] if s2d.ndim == 4 else 0):
        e2, _ = _errors2d(s2d[:, t], gt2d)
        q1, q2, bad = _errors3d(s3d[:, t], gt3d)
        stages.append(StageSummary(stage=t + 1, px2d_mean=float(e2.mean()), px2d_median=float(np.median(e2)),
                                   p1_mean=float(q1.mean()), p1_median=float(np.median(q1)),
                                   p2_mean=float(q2.mean()), p2_median=float(np.median(q2)),
                                   not_lifted=int(bad.sum())))
    return RunSummary(frames=int(len(actions)), not_lifted=int(failed.sum()), not_projected=int(failed2d.sum()),
                      fallback=FALLBACK, p1=ErrorStats.of(p1, actions), p2=ErrorStats.of(p2, actions),
                      px2d=ErrorStats.of(px, actions),
                      px2d_argmax=(ErrorStats.of(_errors2d(argmax, gt2d)[0], actions)
                                   if np.isfinite(argmax).all() and len(argmax) else None),
                      stages=tuple(stages))


def paper_rows():
    """The paper's Table 1 rows in :func:`lifting.report.table1`'s row form; its "Average" goes in the frame-weighted
    column (see :func:`lifting.metrics.per_action`), the action-mean column stays empty."""
    return {name: ({k: (v, None) for k, v in row.items() if k != "average"}, None, row["average"])
            for name, row in paper.TABLE1.items()}


def tables(runs):
    """``runs``: ``{label: RunSummary}`` (:func:`summarise`) -> ``(markdown, csv_text, json_dict)`` with Table 1
    (protocol 1, beside the paper's rows), the same layout for protocol 2, the mean/median summary, Table 2 (2D pixel
    error, beside the paper's: each run's last-stage argmax, the paper's "ours" row, then the projection of its final
    3D pose as an extra row) and the per-stage errors (Figure 3's numbers). Every row names its frames and how many
    failed to lift (scored with :data:`FALLBACK`). The JSON holds each run's :meth:`RunSummary.to_json` under
    ``runs``."""
    def n(s):
        return f"{s.frames} frames, {s.not_lifted} failed"

    p1 = {**{f"{label}: MPJPE (P1), {n(s)}": s.p1.row() for label, s in runs.items()}, **paper_rows()}
    p2 = {f"{label}: P-MPJPE (P2), {n(s)}": s.p2.row() for label, s in runs.items()}
    t2 = []
    for label, s in runs.items():
        if s.px2d_argmax is None:  # the true 2D lifted: no network 2D
            continue
        t2.append((f"{label}: argmax of the last stage's belief maps ({s.frames} frames)", s.px2d_argmax))
        if s.px2d != s.px2d_argmax:  # the extended net: the projection of its final 3D pose, an extra row
            t2.append((f"{label}: projection of the final 3D pose ({n(s)})", s.px2d))
    frames = {label: (s.frames, s.not_lifted) for label, s in runs.items()}
    fallback = ("Every test frame is counted: " + FALLBACK + "; the count of failed frames is in every row.")
    md = ["## Table 1: 3D error per action, protocol 1 (MPJPE, mm)", "",
          "Root-relative (Hip), camera frame, no alignment; metric scale from the 3D pose model "
          "(lifting/image_eval.py). "
          "Each action column is the mean over that action's frames; \"Avg (frame-weighted)\" the mean over all "
          "frames (the paper's \"Average\"), \"Avg (action mean)\" the mean of the columns. " + fallback + " Paper "
          "rows: literal reference data, " + paper.SOURCE + ", Table 1.", "",
          report.table_markdown(p1), "## The same, protocol 2 (P-MPJPE, mm, similarity Procrustes)", "",
          report.table_markdown(p2), "## Mean and median over frames", "", report.summary_frames_markdown(runs), ""]
    if t2:
        md += ["## Table 2: 2D pixel error (original-frame pixels, all 17 joints)", "",
               "The paper's \"ours\" is the argmax of the last stage's belief maps (the authors' runCaffeTest.py); "
               "maps are upsampled to the frame (Lanczos) before the argmax unless the run says otherwise.", "",
               report.table2_markdown(t2, paper.TABLE2), ""]
    if any(s.stages for s in runs.values()):
        md += ["## Figure 3: error per stage (mean / median)", "",
               report.stages_markdown({k: s.stages for k, s in runs.items() if s.stages}), ""]
    csv_text = report.table_csv(p1) + report.table_csv(p2)
    return "\n".join(md), csv_text, {"runs": {k: s.to_json() for k, s in runs.items()}, "frames": frames,
                                     "fallback": FALLBACK, "paper": {"source": paper.SOURCE, "table1": paper.TABLE1,
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
    stages = {k: s.stages for k, s in runs.items() if s.stages}
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


#: fields of a per-frame error file (``../shared/data/authors_table1/per_frame_errors.npz`` layout)
PER_FRAME_ERROR_FIELDS = ("error_mm", "subject", "action")


def load_per_frame_errors(path):
    """A per-frame 3D error file (fields :data:`PER_FRAME_ERROR_FIELDS`, one row a frame: ``error_mm`` float mm,
    ``subject`` and ``action`` names) -> dict of arrays. Errors name the file and the field; a non-finite error is
    refused (every test frame must carry an error: a failed frame gets its fallback error before it is written)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError) as e:
        raise ValueError(f"{path}: not a readable .npz file ({e})") from None
    missing = [k for k in PER_FRAME_ERROR_FIELDS if k not in data]
    if missing:
        raise ValueError(f"{path}: fields {missing} are missing (expected {list(PER_FRAME_ERROR_FIELDS)}, the layout "
                         "of authors_table1/per_frame_errors.npz)")
    err = data["error_mm"]
    if err.ndim != 1 or not len(err) or not np.issubdtype(err.dtype, np.number):
        raise ValueError(f"{path}: field 'error_mm' must be a non-empty 1-D array of numbers, got {err.dtype} "
                         f"{err.shape}")
    for k in ("subject", "action"):
        if data[k].shape != err.shape:
            raise ValueError(f"{path}: field {k!r} has shape {data[k].shape}, 'error_mm' has {err.shape}")
    bad = np.flatnonzero(~np.isfinite(err.astype(np.float64)))
    if bad.size:
        raise ValueError(f"{path}: field 'error_mm' has {bad.size} non-finite values (first at row {bad[0]}): every "
                         "frame needs an error (give failed frames their fallback error)")
    keys = dict(skeleton.H36M_ACTIONS)
    unknown = sorted({str(a) for a in data["action"] if skeleton.action_key(a) not in keys})
    if unknown:
        raise ValueError(f"{path}: field 'action' holds names that are no Human3.6M action: {unknown[:5]}")
    return {"error_mm": err.astype(np.float64), "subject": data["subject"].astype(str),
            "action": data["action"].astype(str)}


#: Table 1's column names, in its order (the JSON of :func:`per_frame_error_tables` keys each action's mean by these)
ACTION_COLUMNS = tuple(title for _, title in skeleton.H36M_ACTIONS)


def per_frame_error_tables(errors, actions, subjects, label, source):
    """Per-frame 3D errors (mm) -> ``(markdown, csv_text, json_dict)``: Table 1 in the paper's layout (each column
    the mean over that action's frames; "Avg (frame-weighted)" the mean over all frames, which is what the paper
    prints as "Average"; "Avg (action mean)" the mean of the 15 columns), beside the paper's rows; then per subject
    and overall: frames, mean and median. The JSON holds each action's mean under its column name
    (:data:`ACTION_COLUMNS`), ``average_frames`` and ``average_actions`` (both labelled), and the details."""
    errors = np.asarray(errors, np.float64)
    actions, subjects = np.asarray(actions).astype(str), np.asarray(subjects).astype(str)
    table, action_mean, frame_mean = metrics.per_action(errors, actions)
    rows = {f"{label}: MPJPE (P1), per-action frame means": (table, action_mean, frame_mean), **paper_rows()}
    titles = dict(skeleton.H36M_ACTIONS)
    per_subject = {s: {"frames": int((subjects == s).sum()), "mean_mm": float(errors[subjects == s].mean()),
                       "median_mm": float(np.median(errors[subjects == s]))} for s in sorted(set(subjects.tolist()))}
    md = [f"## Table 1 from per-frame errors: {label}", "",
          f"{len(errors)} frames from {source}. Each action column is the mean over that action's frames; "
          "\"Avg (frame-weighted)\" is the mean over all frames (the paper's \"Average\"), \"Avg (action mean)\" the "
          "mean of the 15 columns. Paper rows: literal reference data, " + paper.SOURCE + ", Table 1. The file holds "
          "MPJPE only: P-MPJPE cannot be computed from it.", "", report.table_markdown(rows),
          "| subset | frames | MPJPE mean mm | MPJPE median mm |", "|---|---|---|---|"]
    md += [f"| {s} | {v['frames']} | {v['mean_mm']:.2f} | {v['median_mm']:.2f} |" for s, v in per_subject.items()]
    md += [f"| all | {len(errors)} | {frame_mean:.2f} | {float(np.median(errors)):.2f} |", ""]
    js = {titles.get(k, k): m for k, (m, _) in table.items()}
    js.update(average_frames=frame_mean, average_actions=action_mean, median=float(np.median(errors)),
              frames=int(len(errors)), frames_per_action={titles.get(k, k): n for k, (_, n) in table.items()},
              per_subject=per_subject, label=label, source=source, metric="MPJPE (protocol 1), mm",
              notes="each action column: mean over its frames; average_frames: mean over all frames (the paper's "
                    "Average); average_actions: mean of the action columns",
              paper={"source": paper.SOURCE, "table1": paper.TABLE1})
    return "\n".join(md), report.table_csv(rows), js


def write_per_frame_error_tables(out_stem, errors, actions, subjects, label, source):
    """:func:`per_frame_error_tables` -> ``<out_stem>.md``, ``.csv``, ``.json`` (atomic). Returns the markdown."""
    md, csv_text, js = per_frame_error_tables(errors, actions, subjects, label, source)
    md = f"# Table 1 from per-frame errors\n\n{md}"
    os.makedirs(os.path.dirname(os.path.abspath(out_stem)), exist_ok=True)
    atomic_write_text(out_stem + ".md", md)
    atomic_write_text(out_stem + ".csv", csv_text)
    atomic_write_text(out_stem + ".json", json.dumps(json_safe(js), indent=1, sort_keys=True, allow_nan=False))
    return md
