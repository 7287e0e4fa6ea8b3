"""Accuracy of pose models on held-out motion capture: lift exact (optionally noisy) weak-perspective projections
of every pose at a random ground-plane angle, compare with the 3D truth (MPJPE protocol 1, P-MPJPE protocol 2)."""
from __future__ import annotations

import json

import numpy as np

from lifting import metrics
from lifting.io import atomic_write_text
from lifting.lift import DEFAULT_NOISE_2D, Lifter, project, rotate_ground
from lifting.model import PoseModel, import_authors_model, load_model

from .views import camera_views, h36m_rig, lift_views, summarise, view_errors


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


def evaluate(model, truth, y, angles=80, noise_2d=DEFAULT_NOISE_2D):
    """Lift ``y (N, 17, 2)`` (upright camera) and compare with ``truth (N, 17, 3)`` mm -> per-frame errors (dict of
    ``mpjpe``, ``p_mpjpe``, ``limb_ratio``, ``ok``; NaN where not lifted) and the LiftResult."""
    res = Lifter(model, num_angles=angles, noise_2d=noise_2d).lift(y)
    err = view_errors(model, {"status": res.status, "pose3d_camera_mm": res.pose3d_mm}, {"truth_camera": truth})
    return err, res


def summary_markdown(summaries):
    """``{model: summarise(...)}`` -> a markdown table with mean and median errors, scale blow-ups, failures."""
    lines = ["| model | frames | not lifted | MPJPE mean | MPJPE median | P-MPJPE mean | P-MPJPE median | "
             "limb scale off > 1.5x |", "|---|---|---|---|---|---|---|---|"]
    f = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
    for name, s in summaries.items():
        lines.append(f"| {name} | {s['frames']} | {s['failed']} | {f(s['mpjpe_mean'])} | {f(s['mpjpe_median'])} | "
                     f"{f(s['p_mpjpe_mean'])} | {f(s['p_mpjpe_median'])} | "
                     + ("-" if s["scale_off_1.5x"] is None else f"{100 * s['scale_off_1.5x']:.2f}%") + " |")
    return "\n".join(lines)


def evaluate_cli(args):
    from .data import load_cmu_folder, load_h36m_npz

    models = [resolve_model(s) for s in args.model]
    out = {"protocol": {"angles": args.angles, "noise_mm": args.noise_mm, "seed": args.seed, "noise_2d": args.noise_2d,
                        "projection": "weak perspective, upright camera, random ground-plane angle per pose"}}
    md = []
    if args.h36m_npz:
        poses, _, actions = load_h36m_npz(args.h36m_npz, args.subjects)
        if args.cameras:
            from lifting.cameras import read_h36m_cameras_json

            rig = h36m_rig(read_h36m_cameras_json(args.cameras), args.camera_subject)
            views = camera_views(poses, rig, args.seed, args.noise_mm)
            out["protocol"]["projection"] = (f"pinhole, the four Human3.6M cameras of {args.camera_subject} "
                                             f"({args.cameras}), random place and ground-plane angle per pose; "
                                             "errors in the camera frame")
        else:
            truth, y = project_random(poses, args.seed, args.noise_mm)
        rows_p, rows_m, summaries = {}, {}, {}
        for name, m in models:
            if args.cameras:
                err = view_errors(m, lift_views(m, views, rig, num_angles=args.angles, noise_2d=args.noise_2d), views)
            else:
                err, _ = evaluate(m, truth, y, args.angles, args.noise_2d)
            ok = err["ok"]
            summaries[name] = summarise(err)
            rows_m[name] = metrics.per_action(err["mpjpe"][ok], actions[ok])
            rows_p[name] = metrics.per_action(err["p_mpjpe"][ok], actions[ok])
            s = summaries[name]
            print(f"{name}: H36M {','.join(args.subjects)} ({len(ok)} poses, {s['failed']} not lifted) MPJPE mean "
                  f"{s['mpjpe_mean']:.2f} median {s['mpjpe_median']:.2f} mm, P-MPJPE mean {s['p_mpjpe_mean']:.2f} "
                  f"median {s['p_mpjpe_median']:.2f} mm, limb scale off > 1.5x {100 * s['scale_off_1.5x']:.2f}%")
        out["h36m"] = {"subjects": args.subjects, "frames": int(len(poses)), "summary": summaries,
                       "p_mpjpe": {k: v for k, v in rows_p.items()}, "mpjpe": {k: v for k, v in rows_m.items()}}
        md += [f"Summary, {', '.join(args.subjects)}, {len(poses)} poses (mm)", "", summary_markdown(summaries), "",
               f"P-MPJPE (mm), {', '.join(args.subjects)}, {len(poses)} poses", "", metrics.table_markdown(rows_p),
               f"MPJPE (mm), {', '.join(args.subjects)}", "", metrics.table_markdown(rows_m)]
        atomic_write_text(args.output + ".csv", metrics.table_csv(rows_p) + metrics.table_csv(rows_m))
    if args.cmu:
        lines = ["| model | " + " | ".join(["trials", "poses", "MPJPE", "P-MPJPE"]) + " |", "|---|---|---|---|---|"]
        out["cmu"] = {}
        for folder in args.cmu:
            poses, trial = load_cmu_folder(folder, args.cmu_step)
            truth, y = project_random(poses, args.seed, args.noise_mm)
            for name, m in models:
                err, _ = evaluate(m, truth, y, args.angles, args.noise_2d)
                mp, pm = err["mpjpe"], err["p_mpjpe"]
                out["cmu"].setdefault(name, {})[folder] = {"mpjpe": float(np.nanmean(mp)), "p_mpjpe": float(np.nanmean(pm)),
                                                          "poses": int(len(y)), "summary": summarise(err)}
                lines.append(f"| {name} ({folder.rstrip('/').split('/')[-1]}) | {len(set(trial))} | {len(y)} | "
                             f"{np.nanmean(mp):.2f} | {np.nanmean(pm):.2f} |")
                print(f"{name}: CMU {folder} ({len(y)} poses) MPJPE {np.nanmean(mp):.2f}, P-MPJPE {np.nanmean(pm):.2f}")
        md += ["CMU motion capture (never seen in training)", ""] + lines + [""]
    atomic_write_text(args.output + ".md", "\n".join(md) + "\n")
    atomic_write_text(args.output + ".json", json.dumps(out, indent=1, default=float))
    return 0
