"""Accuracy of pose models on held-out motion capture: lift exact (optionally noisy) weak-perspective projections
of every pose at a random ground-plane angle, compare with the 3D truth (MPJPE protocol 1, P-MPJPE protocol 2)."""
from __future__ import annotations

import json

import numpy as np

from lifting import metrics, report
from lifting.files import atomic_write_text
from lifting.geometry import project, rotate_ground
from lifting.lift import Lifter
from lifting.model import PoseModel, import_authors_model, load_model


def resolve_model(spec) -> tuple[str, PoseModel]:
    """``NAME=PATH`` with PATH a model file, ``default`` or ``authors:<prob_model_params.mat>``."""
    if "=" not in spec:
        raise ValueError(f"--model expects NAME=PATH, got {spec!r}")
    name, path = spec.rsplit("=", 1)
    if path == "default":
        return name, load_model()
    if path.startswith("authors:"):
        return name, import_authors_model(path[len("authors:"):])
    return name, load_model(path)


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
    res = Lifter(model, num_angles=angles).lift(y)
    ok = res.status == 0
    mp = np.full(len(y), np.nan)
    pm = np.full(len(y), np.nan)
    mp[ok] = metrics.mpjpe(res.pose3d_mm[ok], truth[ok])
    pm[ok] = metrics.p_mpjpe(res.pose3d_mm[ok], truth[ok])
    return mp, pm, res


def evaluate_cli(args):
    from .data import load_cmu_folder, load_h36m_npz

    models = [resolve_model(s) for s in args.model]
    out = {"protocol": {"angles": args.angles, "noise_mm": args.noise_mm, "seed": args.seed,
                        "projection": "weak perspective, upright camera, random ground-plane angle per pose"}}
    md = []
    if args.h36m_npz:
        poses, _, actions = load_h36m_npz(args.h36m_npz, args.subjects)
        truth, y = project_random(poses, args.seed, args.noise_mm)
        rows_p, rows_m = {}, {}
        for name, m in models:
            mp, pm, _ = evaluate(m, truth, y, args.angles)
            rows_m[name] = metrics.per_action(mp, actions)
            rows_p[name] = metrics.per_action(pm, actions)
            print(f"{name}: H36M {','.join(args.subjects)} ({len(y)} poses) MPJPE {np.mean(mp):.2f} mm, "
                  f"P-MPJPE {np.mean(pm):.2f} mm")
        out["h36m"] = {"subjects": args.subjects, "frames": int(len(y)),
                       "p_mpjpe": {k: v for k, v in rows_p.items()}, "mpjpe": {k: v for k, v in rows_m.items()}}
        md += [f"P-MPJPE (mm), {', '.join(args.subjects)}, {len(y)} poses", "", report.table_markdown(rows_p),
               f"MPJPE (mm), {', '.join(args.subjects)}", "", report.table_markdown(rows_m)]
        atomic_write_text(args.output + ".csv", report.table_csv(rows_p) + report.table_csv(rows_m))
    if args.cmu:
        lines = ["| model | " + " | ".join(["trials", "poses", "MPJPE", "P-MPJPE"]) + " |", "|---|---|---|---|---|"]
        out["cmu"] = {}
        for folder in args.cmu:
            poses, trial = load_cmu_folder(folder, args.cmu_step)
            truth, y = project_random(poses, args.seed, args.noise_mm)
            for name, m in models:
                mp, pm, _ = evaluate(m, truth, y, args.angles)
                out["cmu"].setdefault(name, {})[folder] = {"mpjpe": float(np.nanmean(mp)), "p_mpjpe": float(np.nanmean(pm)),
                                                          "poses": int(len(y))}
                lines.append(f"| {name} ({folder.rstrip('/').split('/')[-1]}) | {len(set(trial))} | {len(y)} | "
                             f"{np.nanmean(mp):.2f} | {np.nanmean(pm):.2f} |")
                print(f"{name}: CMU {folder} ({len(y)} poses) MPJPE {np.nanmean(mp):.2f}, P-MPJPE {np.nanmean(pm):.2f}")
        md += ["CMU motion capture (never seen in training)", ""] + lines + [""]
    atomic_write_text(args.output + ".md", "\n".join(md) + "\n")
    atomic_write_text(args.output + ".json", json.dumps(out, indent=1, default=float))
    return 0
