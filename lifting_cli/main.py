"""The project's one command: ``lifting <subcommand>``; ``lifting <subcommand> --help`` for each.

This module builds the parser and runs ``lift`` and ``import-authors-model``; :mod:`lifting_cli.fitting` and
:mod:`lifting_cli.network` register the other subcommands."""
from __future__ import annotations

import os
import sys

import numpy as np

import lifting
from lifting.lift import DEFAULT_NOISE_2D

from .checks import MAX_ANGLES, Parser, check_files, float_in, int_in, noise_2d, read_camera, report

#: the shipped sample of ``lifting lift --sample`` (made by scripts/make_sample.py)
SAMPLE_KEYPOINTS = os.path.join(os.path.dirname(os.path.abspath(lifting.__file__)), "data", "sample_keypoints.json")


#: what every per-frame field of the lift JSON holds (written into it)
LIFT_FIELDS = {
    "status": "'ok', or why the frame was not lifted (its other fields are then null)",
    "pose3d_model_units": "3D joints in model units (limb scale 1), world frame: y up, root (Hip) at the origin",
    "pose3d_mm": "the same 3D joints in millimetres",
    "pose3d_camera_mm": "the 3D joints in millimetres in the camera's axes (x right, y down, z forward)",
    "angle_rad": "ground-plane rotation of the pose (radians)",
    "scale_px_per_unit": "input pixels per model unit",
    "scale_relative": "the scale relative to the one that maps the model's mean onto the input's 2D size",
    "scale_at_bound": "the scale lies on a bound of the admitted range",
    "component": "mixture component used",
    "coefficients": "basis coefficients of that component",
    "residual_px2": "weighted squared 2D error, input pixels squared",
    "reprojected": "the 3D pose projected back, input pixels (x, y)",
}


def _cmd_lift(args):
    from lifting import skeleton
    from lifting.files import NpzAppender, json_stream, read_json, read_keypoints
    from lifting.lift import Lifter
    from lifting.model import default_model_path, load_model

    truth = None
    if args.sample:
        if args.input is not None:
            raise ValueError("give either a keypoint file or --sample, not both")
        args.input, args.format = SAMPLE_KEYPOINTS, "h36m"
        sample = read_json(SAMPLE_KEYPOINTS)
        truth = np.asarray(sample["truth_camera_mm"], np.float64)
        if args.camera is None:
            args.camera = SAMPLE_KEYPOINTS
        print(f"sample: {sample['description']}")
    elif args.input is None:
        raise ValueError("no keypoint file given (or use --sample for the shipped example)")
    out = args.output
    if os.path.splitext(out)[1].lower() not in (".json", ".npz"):
        raise ValueError(f"-o {out}: the output must end in .json or .npz")
    check_files(inputs=[("INPUT", args.input), ("--model", args.model or default_model_path()),
                        ("--camera", None if args.camera == "upright" else args.camera)],
                outputs=[("-o", out), ("--plot", args.plot)], force=args.force)
    points, weights = read_keypoints(args.input, args.format, person=args.person)
    if args.plot and not 0 <= args.plot_frame < len(points):
        raise ValueError(f"--plot-frame {args.plot_frame}: out of range, {args.input} holds frames "
                         f"0..{len(points) - 1}")
    if args.weights == "binary":  # one precomputation per visibility pattern: fast
        weights = (weights >= args.min_confidence).astype(np.float64)
    else:  # the confidences themselves (solved frame by frame: slower than 0/1 weights, see README)
        weights = np.where(weights >= args.min_confidence, weights, 0.0)
    model = load_model(args.model)
    if args.refine and args.search not in (None, "refine"):
        raise ValueError(f"--refine and --search {args.search}: --refine is --search refine; give one")
    lifter = Lifter(model, camera=read_camera(args.camera), num_angles=args.angles, search=args.search,
                    refine=args.refine, noise_2d=args.noise_2d, min_visible=args.min_visible)
    n = len(points)
    # Frames are lifted and written LIFT_CHUNK at a time: memory stays flat in the number of frames.
    head = {"joint_names": list(skeleton.JOINT_NAMES), "model": args.model or "default", "fields": LIFT_FIELDS}
    status = np.empty(n, np.int64)
    plotted, camera_mm = {}, (np.empty((n, skeleton.NUM_JOINTS, 3)) if truth is not None else None)

    def keep(start, res):  # what the summary, --plot and the sample's comparison need, not the whole result
        status[start:start + len(res)] = res.status
        if args.plot and start <= args.plot_frame < start + len(res):
            i = args.plot_frame - start
            plotted.update(pose3d_mm=res.pose3d_mm[i], reprojected=res.reprojected[i])
        if camera_mm is not None:
            camera_mm[start:start + len(res)] = res.pose3d_camera_mm

    if out.lower().endswith(".npz"):
        import tempfile

        f8 = np.float64
        dtypes = {"pose3d": f8, "pose3d_mm": f8, "pose3d_camera_mm": f8, "angle": f8, "scale": f8,
                  "coefficients": f8, "component": np.int64, "residual": f8, "reprojected": f8, "status": np.int64,
                  "scale_relative": f8, "scale_at_bound": bool}
        with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(out)), prefix=".npz-stream-") as tmp:
            z = NpzAppender(out, tmp)
            try:
                z.add(joint_names=np.array(skeleton.JOINT_NAMES))
                for start, res in _lift_chunks(lifter, points, weights, args.strict):
                    z.extend(**{name: np.asarray(getattr(res, name), dt) for name, dt in dtypes.items()})
                    keep(start, res)
                z.finish()
            finally:
                z.close()
    else:
        with json_stream(out, head, "frames") as add:
            for start, res in _lift_chunks(lifter, points, weights, args.strict):
                for i in range(len(res)):
                    add(res.frame_record(i))
                keep(start, res)
    if args.plot:
        from lifting.plot import save_lift_figure

        i = args.plot_frame
        save_lift_figure(args.plot, points[i], plotted["pose3d_mm"], weights[i], plotted["reprojected"],
                         title=f"frame {i}")
    bad = int(np.count_nonzero(status))
    print(f"lifted {n - bad} of {n} frames -> {out}" + (f" ({bad} not lifted: see status)" if bad else ""))
    if truth is not None:
        from lifting.metrics import mpjpe, p_mpjpe

        ok = status == 0
        pred = camera_mm[ok] - camera_mm[ok][:, :1]
        e1 = mpjpe(pred, truth[ok])
        e2 = p_mpjpe(pred, truth[ok])
        print(f"sample vs its 3D truth (camera frame, root-relative, mm): MPJPE mean {e1.mean():.1f} median "
              f"{np.median(e1):.1f}; P-MPJPE mean {e2.mean():.1f} median {np.median(e2):.1f}")
    return 0


def _cmd_import_authors(args):
    from lifting.model import import_authors_model

    check_files(inputs=[("MAT", args.mat)], outputs=[("-o", args.output)], force=args.force)
    m = import_authors_model(args.mat)
    m.save(args.output)
    print(f"imported K={m.num_components}, J={m.num_basis}, mm_per_unit={m.mm_per_unit:.1f} -> {args.output}")
    return 0


#: frames lifted and written at a time by ``lift``
LIFT_CHUNK = 50_000


def _lift_chunks(lifter, points, weights, strict=False):
    """Lift ``points`` LIFT_CHUNK frames at a time (yields ``(first frame, result)``), with a progress bar for more
    than one chunk. ``strict``: a chunk with a frame that cannot be lifted raises ValueError naming the frames (the
    outputs are written atomically, so nothing is left behind)."""
    from tqdm import tqdm

    from lifting.lift import STATUS_NAMES

    n = len(points)
    # no monitor thread (it only refreshes a stalled bar): the lifter forks its workers only from a process with no
    # other thread (Lifter's ``workers``)
    tqdm.monitor_interval = 0
    with tqdm(total=n, unit="frame", disable=n <= LIFT_CHUNK, desc="lift") as bar:
        for start in range(0, n, LIFT_CHUNK):
            res = lifter.lift(points[start:start + LIFT_CHUNK], weights[start:start + LIFT_CHUNK])
            bar.update(len(res))
            bad = np.flatnonzero(res.status != 0)
            if strict and bad.size:
                msgs = [f"frame {start + i}: {STATUS_NAMES[res.status[i]]}" for i in bad[:10]]
                raise ValueError(f"{bad.size} of frames {start}..{start + len(res) - 1} cannot be lifted: "
                                 + "; ".join(msgs))
            yield start, res


def build_parser():
    ap = Parser(prog="lifting", description="Lifting from the Deep: 2D/3D human pose (CVPR 2017).")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("lift", help="lift 2D keypoints to 3D with a pose model",
                       description="Lift 2D keypoints (JSON/CSV/npy/npz) to 3D poses (JSON or npz).")
    p.add_argument("input", nargs="?", help="keypoint file (.json, .csv, .npy, .npz)")
    p.add_argument("--sample", action="store_true",
                   help="lift the shipped sample (CMU walk seen by a tilted camera) and compare with its 3D truth")
    p.add_argument("--camera", default=None,
                   help="JSON file with the 3x3 world->camera rotation 'R' (world y up); default: upright camera")
    p.add_argument("-o", "--output", required=True, help="output file: .json or .npz")
    p.add_argument("--format", default="h36m", help="keypoint order: h36m, coco, mpii, cpm14, body25 (default h36m); "
                   "`lifting estimate`'s own .json/.npz are recognised (h36m)")
    p.add_argument("--person", type=int_in(0), default=None,
                   help="with `lifting estimate`'s output: the person id to lift (needed when it holds several)")
    p.add_argument("--model", default=None, help="pose-model file (.h5); default: the shipped model")
    p.add_argument("--angles", type=int_in(3, MAX_ANGLES), default=80,
                   help=f"quantised ground-plane angles, 3..{MAX_ANGLES} (default 80)")
    p.add_argument("--search", choices=("optimum", "grid", "refine"), default=None,
                   help="angle search: 'optimum' (default: the exact minimum over the continuous angle), 'grid' (the "
                        "paper's: the best of --angles quantised angles), 'refine' (grid + golden-section search)")
    p.add_argument("--refine", action="store_true", help="the same as --search refine")
    p.add_argument("--noise-2d", type=noise_2d, default=DEFAULT_NOISE_2D,
                   help="assumed 2D noise as a fraction of the person's 2D size (RMS joint spread), or 'model' for "
                        f"the model's own residual (default {DEFAULT_NOISE_2D}, chosen on held-out data)")
    p.add_argument("--min-visible", type=int_in(1, 17), default=5,
                   help="frames with fewer visible joints are not lifted (1..17, default 5)")
    p.add_argument("--min-confidence", type=float_in(0, 1), default=0.05,
                   help="joints with a lower confidence are missing (default 0.05)")
    p.add_argument("--weights", choices=("binary", "confidence"), default="binary",
                   help="per-joint weights: 1 for every visible joint (default), or the confidences themselves")
    p.add_argument("--strict", action="store_true", help="fail on the first bad frame")
    p.add_argument("--plot", metavar="PNG", help="draw the 2D input beside the 3D skeleton")
    p.add_argument("--plot-frame", type=int_in(0), default=0, help="frame drawn by --plot (default 0)")
    p.set_defaults(func=_cmd_lift)

    p = sub.add_parser("import-authors-model", help="convert the authors' prob_model_params.mat to our format",
                       description="Convert the authors' released .mat model to our HDF5 pose-model format.")
    p.add_argument("mat", help="prob_model_params.mat")
    p.add_argument("-o", "--output", required=True, help="output .h5")
    p.set_defaults(func=_cmd_import_authors)

    from .evaluation import register as register_evaluation
    from .fitting import register as register_fitting
    from .h36m import register as register_h36m
    from .network import register as register_network
    from .reproduce import register as register_reproduce

    register_fitting(sub)
    register_h36m(sub)
    register_network(sub)
    register_evaluation(sub)
    register_reproduce(sub)
    for p in sub.choices.values():
        if "--force" not in p._option_string_actions:
            p.add_argument("--force", action="store_true",
                           help="replace output files that exist already (by default a run never replaces a file it "
                                "did not make)")
        p.add_argument("--debug", action="store_true", help="on an error, print the traceback too")
        p.add_argument("--verbose", action="store_true", help="let Caffe log (its INFO messages are hidden)")
    return ap


def main(argv=None):
    """Run one subcommand. Exit codes: 0 done, 2 bad input or option (a one-line message naming the file or option
    and the problem), 1 interrupted (the message says where the checkpoint is and how to resume), 3 a bug; the
    traceback only with ``--debug``."""
    args = build_parser().parse_args(argv)
    # before anything imports Caffe: its INFO/WARNING log floods stderr unless asked for
    if args.verbose:
        os.environ["GLOG_minloglevel"] = "0"
    else:
        os.environ.setdefault("GLOG_minloglevel", "2")
    try:
        return args.func(args)
    except BaseException as e:
        if not isinstance(e, Exception | KeyboardInterrupt):
            raise  # SystemExit and friends
        return report(args.command, e, debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
