"""Accuracy of pose models on held-out motion capture: lift exact (optionally noisy) weak-perspective projections
of every pose at a random ground-plane angle, compare with the 3D truth (MPJPE protocol 1, P-MPJPE protocol 2)."""
from __future__ import annotations

import json
import re

import numpy as np

from lifting import metrics, report
from lifting.files import atomic_write_text
from lifting.geometry import project, rotate_ground
from lifting.lift import Lifter
from lifting.model import PoseModel, import_authors_model, load_model


def resolve_model(spec) -> tuple[str, PoseModel]:
    """``NAME=PATH[:k]`` with PATH a model file, ``default`` or ``authors:<prob_model_params.mat>``; ``:k`` keeps
    component k only (:meth:`PoseModel.subset`)."""
    if "=" not in spec:
        raise ValueError(f"--model expects NAME=PATH, got {spec!r}")
    name, path = spec.rsplit("=", 1)
    component = None
    picked = re.fullmatch(r"(.+):(\d+)", path)
    if picked:
        path, component = picked.group(1), int(picked.group(2))
    if path == "default":
        model = load_model()
    elif path.startswith("authors:"):
        model = import_authors_model(path[len("authors:"):])
    else:
        model = load_model(path)
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


def evaluate(model, truth, y, angles=80):
    """Lift ``y (N, 17, 2)`` with ``model``; per-frame MPJPE and P-MPJPE (mm, NaN where not lifted) against
    ``truth (N, 17, 3)``, and the :class:`~lifting.lift.LiftResult`."""
    res = Lifter(model, num_angles=angles).lift(y)
    ok = res.status == 0
    mp = np.full(len(y), np.nan)
    pm = np.full(len(y), np.nan)
    mp[ok] = metrics.mpjpe(res.pose3d_mm[ok], truth[ok])
    pm[ok] = metrics.p_mpjpe(res.pose3d_mm[ok], truth[ok])
    return mp, pm, res


def evaluate_models(models, output, h36m_npz=None, subjects=("S9",), cmu=None, cmu_step=4, angles=80, noise_mm=0.0,
                    seed=0, log=print):
    """Accuracy of every ``(name, PoseModel)`` of ``models`` on held-out Human3.6M poses (an npz in the shared
    layout, the given subjects, per action) and CMU subject folders (every ``cmu_step``-th frame); writes
    ``<output>.md``, ``<output>.csv`` (the Human3.6M tables) and ``<output>.json``, and returns the JSON's dict."""
    from .data import load_cmu_folder, load_h36m_npz

    log = log or (lambda *a, **k: None)
    subjects = list(subjects)
    out = {"protocol": {"angles": angles, "noise_mm": noise_mm, "seed": seed,
                        "projection": "weak perspective, upright camera, random ground-plane angle per pose"}}
    md = []
    if h36m_npz:
        poses, _, actions = load_h36m_npz(h36m_npz, subjects)
        truth, y = project_random(poses, seed, noise_mm)
        rows_p, rows_m = {}, {}
        for name, m in models:
            mp, pm, _ = evaluate(m, truth, y, angles)
            rows_m[name] = metrics.per_action(mp, actions)
            rows_p[name] = metrics.per_action(pm, actions)
            log(f"{name}: H36M {','.join(subjects)} ({len(y)} poses) MPJPE {np.mean(mp):.2f} mm, "
                f"P-MPJPE {np.mean(pm):.2f} mm")
        out["h36m"] = {"subjects": subjects, "frames": int(len(y)),
                       "p_mpjpe": {k: v for k, v in rows_p.items()}, "mpjpe": {k: v for k, v in rows_m.items()}}
        md += [f"P-MPJPE (mm), {', '.join(subjects)}, {len(y)} poses", "", report.table_markdown(rows_p),
               f"MPJPE (mm), {', '.join(subjects)}", "", report.table_markdown(rows_m)]
        atomic_write_text(output + ".csv", report.table_csv(rows_p) + report.table_csv(rows_m))
    if cmu:
        lines = ["| model | " + " | ".join(["trials", "poses", "MPJPE", "P-MPJPE"]) + " |", "|---|---|---|---|---|"]
        out["cmu"] = {}
        for folder in cmu:
            poses, trial = load_cmu_folder(folder, cmu_step)
            truth, y = project_random(poses, seed, noise_mm)
            for name, m in models:
                mp, pm, _ = evaluate(m, truth, y, angles)
                out["cmu"].setdefault(name, {})[folder] = {"mpjpe": float(np.nanmean(mp)), "p_mpjpe": float(np.nanmean(pm)),
                                                          "poses": int(len(y))}
                lines.append(f"| {name} ({folder.rstrip('/').split('/')[-1]}) | {len(set(trial))} | {len(y)} | "
                             f"{np.nanmean(mp):.2f} | {np.nanmean(pm):.2f} |")
                log(f"{name}: CMU {folder} ({len(y)} poses) MPJPE {np.nanmean(mp):.2f}, P-MPJPE {np.nanmean(pm):.2f}")
        md += ["CMU motion capture (never seen in training)", ""] + lines + [""]
    atomic_write_text(output + ".md", "\n".join(md) + "\n")
    atomic_write_text(output + ".json", json.dumps(out, indent=1, default=float))
    return out
