"""The project's one command: ``lifting <subcommand>``; ``lifting <subcommand> --help`` for each.

This module builds the parser and runs ``lift`` and ``import-authors-model``; :mod:`lifting_cli.fitting` and
:mod:`lifting_cli.network` register the other subcommands."""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def _cmd_lift(args):
    from lifting import skeleton
    from lifting.files import atomic_savez, atomic_write_text, read_keypoints
    from lifting.lift import STATUS_NAMES, Lifter
    from lifting.model import load_model

    points, weights = read_keypoints(args.input, args.format)
    if args.weights == "binary":  # one precomputation per visibility pattern: fast
        weights = (weights >= args.min_confidence).astype(np.float64)
    else:  # the confidences themselves: one precomputation per distinct row (slow for many distinct rows)
        weights = np.where(weights >= args.min_confidence, weights, 0.0)
    model = load_model(args.model)
    lifter = Lifter(model, num_angles=args.angles, refine=args.refine, min_visible=args.min_visible)
    res = lifter.lift(points, weights, strict=args.strict)
    out = args.output
    if out.endswith(".npz"):
        atomic_savez(out, pose3d=res.pose3d, pose3d_mm=res.pose3d_mm, pose3d_camera_mm=res.pose3d_camera_mm, angle=res.angle,
                     scale=res.scale, coefficients=res.coefficients, component=res.component,
                     residual=res.residual, reprojected=res.reprojected, status=res.status,
                     joint_names=np.array(skeleton.JOINT_NAMES))
    else:
        frames = []
        for i in range(len(res)):
            ok = res.status[i] == 0
            frames.append({
                "status": STATUS_NAMES[int(res.status[i])],
                "pose3d_model_units": res.pose3d[i].round(6).tolist() if ok else None,
                "pose3d_mm": res.pose3d_mm[i].round(3).tolist() if ok else None,
                "pose3d_camera_mm": res.pose3d_camera_mm[i].round(3).tolist() if ok else None,
                "angle_rad": float(res.angle[i]) if ok else None,
                "scale_px_per_unit": float(res.scale[i]) if ok else None,
                "component": int(res.component[i]),
                "coefficients": res.coefficients[i].tolist() if ok else None,
                "residual_px2": float(res.residual[i]) if ok else None,
                "reprojected": res.reprojected[i].round(3).tolist() if ok else None,
            })
        atomic_write_text(out, json.dumps({"joint_names": list(skeleton.JOINT_NAMES), "model": args.model or "default",
                                           "frames": frames}, indent=1))
    if args.plot:
        from lifting.plot import save_lift_figure

        i = args.plot_frame
        if not 0 <= i < len(res):
            raise SystemExit(f"--plot-frame {i} out of range (0..{len(res) - 1})")
        save_lift_figure(args.plot, points[i], res.pose3d_mm[i], weights[i], res.reprojected[i], title=f"frame {i}")
    bad = int(np.count_nonzero(res.status))
    print(f"lifted {len(res) - bad} of {len(res)} frames -> {out}" + (f" ({bad} not lifted: see status)" if bad else ""))
    return 0


def _cmd_import_authors(args):
    from lifting.model import import_authors_model

    m = import_authors_model(args.mat)
    m.save(args.output)
    print(f"imported K={m.num_components}, J={m.num_basis}, mm_per_unit={m.mm_per_unit:.1f} -> {args.output}")
    return 0


def build_parser():
    ap = argparse.ArgumentParser(prog="lifting", description="Lifting from the Deep: 2D/3D human pose (CVPR 2017).")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("lift", help="lift 2D keypoints to 3D with a pose model",
                       description="Lift 2D keypoints (JSON/CSV/npy/npz) to 3D poses (JSON or npz).")
    p.add_argument("input", help="keypoint file (.json, .csv, .npy, .npz)")
    p.add_argument("-o", "--output", required=True, help="output file: .json or .npz")
    p.add_argument("--format", default="h36m", help="keypoint order: h36m, coco, mpii, cpm14, body25 (default h36m)")
    p.add_argument("--model", default=None, help="pose-model file (.h5); default: the shipped model")
    p.add_argument("--angles", type=int, default=80, help="quantised ground-plane angles (default 80)")
    p.add_argument("--refine", action="store_true", help="refine the best angle by a 1D search")
    p.add_argument("--min-visible", type=int, default=5, help="frames with fewer visible joints are not lifted")
    p.add_argument("--min-confidence", type=float, default=0.05,
                   help="joints with a lower confidence are missing (default 0.05)")
    p.add_argument("--weights", choices=("binary", "confidence"), default="binary",
                   help="per-joint weights: 1 for every visible joint (default), or the confidences themselves")
    p.add_argument("--strict", action="store_true", help="fail on the first bad frame")
    p.add_argument("--plot", metavar="PNG", help="draw the 2D input beside the 3D skeleton")
    p.add_argument("--plot-frame", type=int, default=0, help="frame drawn by --plot (default 0)")
    p.set_defaults(func=_cmd_lift)

    p = sub.add_parser("import-authors-model", help="convert the authors' prob_model_params.mat to our format",
                       description="Convert the authors' released .mat model to our HDF5 pose-model format.")
    p.add_argument("mat", help="prob_model_params.mat")
    p.add_argument("-o", "--output", required=True, help="output .h5")
    p.set_defaults(func=_cmd_import_authors)

    from .fitting import register as register_fitting
    from .network import register as register_network

    register_fitting(sub)
    register_network(sub)
    return ap


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, KeyError) as e:
        print(f"lifting {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
