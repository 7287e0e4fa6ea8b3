"""Accuracy of pose models on held-out motion capture: lift exact (optionally noisy) weak-perspective projections
of every pose at a random ground-plane angle, compare with the 3D truth (MPJPE protocol 1, P-MPJPE protocol 2)."""
from __future__ import annotations

import re

import numpy as np

from lifting import metrics, report
from lifting.files import atomic_write_json, atomic_write_text, json_safe
from lifting.geometry import project, rotate_ground
from lifting.lift import DEFAULT_NOISE_2D, Lifter
from lifting.model import PoseModel, import_authors_model, load_model

from .views import camera_views, h36m_rig, lift_views, summarise, view_errors


def parse_model_spec(spec):
    """``NAME=PATH[:k]`` -> ``(name, kind, path, k)``: kind 'default' (path None), 'authors' (PATH was
    ``authors:<mat>``) or 'file'; k None for every component."""
    if "=" not in spec:
        raise ValueError(f"--model expects NAME=PATH, got {spec!r}")
    name, path = spec.rsplit("=", 1)
    component = None
    picked = re.fullmatch(r"(.+):(\d+)", path)
    if picked:
        path, component = picked.group(1), int(picked.group(2))
    if path == "default":
        return name, "default", None, component
    if path.startswith("authors:"):
        return name, "authors", path[len("authors:"):], component
    return name, "file", path, component


def resolve_model(spec) -> tuple[str, PoseModel]:
    """``NAME=PATH[:k]`` with PATH a model file, ``default`` or ``authors:<prob_model_params.mat>``; ``:k`` keeps
    component k only (:meth:`PoseModel.subset`)."""
    name, kind, path, component = parse_model_spec(spec)
    model = {"default": lambda: load_model(), "authors": lambda: import_authors_model(path),
             "file": lambda: load_model(path)}[kind]()
    if component is not None:
        if component >= model.num_components:
            raise ValueError(f"--model {spec!r}: no component {component} (the model has {model.num_components})")
        model = model.subset([component])
    return name, model


def project_random(poses, seed=0, noise_mm=0.0):
    """Ground-truth ``(N, 17, 3)`` y-up poses -> (root-centred rotated truth, 2D projections)."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0, 2 * np.pi, len(poses))
    world = rotate_ground(poses, theta)
    world = world - world[:, :1]
    y = project(world)
    if noise_mm:
        y = y + rng.normal(size=y.shape) * noise_mm
    return world, y


def evaluate(model, truth, y, angles=80, noise_2d=DEFAULT_NOISE_2D):
    """Lift ``y (N, 17, 2)`` (upright camera) and compare with ``truth (N, 17, 3)`` mm -> per-frame errors (dict of
    ``mpjpe``, ``p_mpjpe``, ``limb_ratio``, ``ok``; NaN where not lifted) and the LiftResult."""
    res = Lifter(model, num_angles=angles, noise_2d=noise_2d).lift(y)
    # one upright camera: the lift's world-frame pose against the world-frame truth
    err = view_errors(model, {"status": res.status, "pose3d_world_mm": res.pose3d_mm}, {"truth_world": truth},
                      frame="world")
    return err, res


def evaluate_models(models, output, h36m_npz=None, subjects=("S9",), cmu=None, cmu_step=4, angles=80, noise_mm=0.0,
                    seed=0, noise_2d=DEFAULT_NOISE_2D, cameras=None, camera_subject="S9", log=print):
    """Accuracy of every ``(name, PoseModel)`` of ``models`` on held-out Human3.6M poses (an npz in the shared
    layout, the given subjects, per action) and CMU subject folders (every ``cmu_step``-th frame); writes
    ``<output>.md``, ``<output>.csv`` (the Human3.6M tables) and ``<output>.json``, and returns the JSON's dict.

    ``cameras``: a Human3.6M camera file (:func:`lifting.cameras.read_h36m_cameras_json`): the Human3.6M poses are
    then seen through the four real cameras of ``camera_subject`` (:func:`model_fitting.views.camera_views`) instead
    of an upright weak-perspective camera. Every table reports mean and median errors, the fraction of frames whose
    limb scale is off by more than 1.5x, and the frames not lifted."""
    from lifting.plausible import check_poses_mm

    from .data import load_cmu_folder, load_h36m_npz

    log = log or (lambda *a, **k: None)
    if not h36m_npz and not cmu:
        raise ValueError("no data to evaluate on: give --h36m-npz (with --subjects) or --cmu")
    subjects = list(subjects)
    if h36m_npz and not subjects:
        raise ValueError("no subject to evaluate on (--subjects is empty)")
    out = {"protocol": {"angles": angles, "noise_mm": noise_mm, "seed": seed, "noise_2d": noise_2d,
                        "projection": "weak perspective, upright camera, random ground-plane angle per pose"},
           "units": UNITS}
    md = []
    if h36m_npz:
        poses, _, actions = load_h36m_npz(h36m_npz, subjects)
        poses = check_poses_mm(poses, h36m_npz)  # labels in other units would give MPJPEs of another scale
        if cameras:
            from lifting.cameras import read_h36m_cameras_json

            rig = h36m_rig(read_h36m_cameras_json(cameras), camera_subject)
            views = camera_views(poses, rig, seed, noise_mm)
            out["protocol"]["projection"] = (f"pinhole, the four Human3.6M cameras of {camera_subject} ({cameras}), "
                                             "random place and ground-plane angle per pose; errors in the camera frame")
        else:
            truth, y = project_random(poses, seed, noise_mm)
        rows_p, rows_m, summaries = {}, {}, {}
        for name, m in models:
            if cameras:
                err = view_errors(m, lift_views(m, views, rig, num_angles=angles, noise_2d=noise_2d), views)
            else:
                err, _ = evaluate(m, truth, y, angles, noise_2d)
            ok = err["ok"]
            summaries[name] = s = summarise(err)
            rows_m[name] = metrics.per_action(err["mpjpe"][ok], actions[ok])
            rows_p[name] = metrics.per_action(err["p_mpjpe"][ok], actions[ok])
            if s.failed == len(ok):
                log(f"{name}: H36M {','.join(subjects)}: none of the {len(ok)} poses was lifted")
                continue
            log(f"{name}: H36M {','.join(subjects)} ({len(ok)} poses, {s.failed} not lifted) MPJPE mean "
                f"{s.mpjpe_mean:.2f} median {s.mpjpe_median:.2f} mm, P-MPJPE mean {s.p_mpjpe_mean:.2f} "
                f"median {s.p_mpjpe_median:.2f} mm, limb scale off > 1.5x {100 * s.scale_off_1_5x:.2f}%")
        out["h36m"] = {"subjects": subjects, "frames": int(len(poses)),
                       "summary": {k: s.to_json() for k, s in summaries.items()},
                       "p_mpjpe": {k: named_table(v) for k, v in rows_p.items()},
                       "mpjpe": {k: named_table(v) for k, v in rows_m.items()}}
        md += [f"Summary, {', '.join(subjects)}, {len(poses)} poses (mm)", "", report.summary_markdown(summaries), "",
               f"P-MPJPE (mm), {', '.join(subjects)}, {len(poses)} poses", "", report.table_markdown(rows_p),
               f"MPJPE (mm), {', '.join(subjects)}", "", report.table_markdown(rows_m)]
        atomic_write_text(output + ".csv", report.table_csv(rows_p) + report.table_csv(rows_m))
    if cmu:
        lines = ["| model | " + " | ".join(["trials", "poses", "MPJPE", "P-MPJPE"]) + " |", "|---|---|---|---|---|"]
        out["cmu"] = {}
        for folder in cmu:
            poses, trial = load_cmu_folder(folder, cmu_step)
            poses = check_poses_mm(poses, folder)
            truth, y = project_random(poses, seed, noise_mm)
            for name, m in models:
                err, _ = evaluate(m, truth, y, angles, noise_2d)
                s = summarise(err)  # means over the lifted frames; None when none was lifted
                mp, pm = s.mpjpe_mean, s.p_mpjpe_mean
                out["cmu"].setdefault(name, {})[folder] = {"mpjpe": mp, "p_mpjpe": pm, "poses": int(len(y)),
                                                          "summary": s.to_json()}
                mp, pm = ("-" if v is None else f"{v:.2f}" for v in (mp, pm))
                lines.append(f"| {name} ({folder.rstrip('/').split('/')[-1]}) | {len(set(trial))} | {len(y)} | "
                             f"{mp} | {pm} |")
                log(f"{name}: CMU {folder} ({len(y)} poses, {s.failed} not lifted) MPJPE {mp}, P-MPJPE {pm}")
        md += ["CMU motion capture (never seen in training)", ""] + lines + [""]
    atomic_write_text(output + ".md", "\n".join(md) + "\n")
    atomic_write_json(output + ".json", out)
    return json_safe(out)


#: what the numbers of the evaluation JSON are (written into it)
UNITS = {"errors": "millimetres", "mpjpe": "mean joint distance after aligning the roots (protocol 1)",
         "p_mpjpe": "mean joint distance after a Procrustes alignment (protocol 2)",
         "frames": "poses evaluated; errors are over the lifted ones, 'failed' counts those not lifted",
         "scale_off_1.5x": "fraction of lifted frames whose limb scale is off the truth's by more than 1.5x"}


def named_table(row):
    """:func:`lifting.metrics.per_action` output -> ``{"per_action": {action: {"mean_mm", "frames"}},
    "action_mean_mm", "frame_mean_mm"}`` (the JSON form: named fields, not positions)."""
    table, action_mean, frame_mean = row
    return {"per_action": {k: {"mean_mm": m, "frames": n} for k, (m, n) in table.items()},
            "action_mean_mm": action_mean, "frame_mean_mm": frame_mean}
