"""``lifting fit`` and ``lifting evaluate`` (over :mod:`model_fitting`)."""
from __future__ import annotations

import os

from lifting.lift import DEFAULT_NOISE_2D

from .checks import MAX_ANGLES, check_files, float_in, int_in, noise_2d, subjects


def _fit_files(args):
    """Inputs and outputs of ``fit``: (inputs, input folders, outputs, checkpoint)."""
    import glob

    stem = os.path.splitext(args.output)[0]
    inputs = [("--h36m-npz", args.h36m_npz)] + [("--bvh", f) for f in args.bvh or []] + \
        [("--poses", f) for f in args.poses or []]
    folders = [("--h36m-cdf", args.h36m_cdf)] + [("--cmu", f) for f in args.cmu or []]
    inputs += [("--cmu", f) for d in args.cmu or [] for ext in ("asf", "amc")
               for f in sorted(glob.glob(os.path.join(d, f"*.{ext}")))]
    checkpoint = args.checkpoint or stem + ".checkpoint.npz"
    outputs = [("-o", args.output), ("--report", args.report or stem + ".report.json"),
               ("--figure", args.figure or stem + ".png"), ("--checkpoint", checkpoint)]
    return inputs, folders, outputs, checkpoint


def _cmd_fit(args):
    import sys

    from lifting.errors import Interrupted
    from model_fitting.data import gather
    from model_fitting.fit import FitConfig, enough_poses, fit, save_outputs, underdetermined_components

    inputs, folders, outputs, checkpoint = _fit_files(args)
    check_files(inputs=inputs, input_folders=folders, outputs=outputs, force=args.force, resumed=("--checkpoint",))
    poses = gather(h36m_npz=args.h36m_npz, h36m_cdf=args.h36m_cdf, subjects=args.subjects, cmu=args.cmu, bvh=args.bvh,
                   bvh_unit_mm=args.bvh_unit_mm, poses=args.poses, up_axis=args.up_axis, step=args.step,
                   rotations=args.augment_rotations, seed=args.seed)
    cfg = FitConfig(num_basis=args.basis, max_components=args.components, rotation_solver=args.rotation_solver,
                    em_iterations=args.em_iterations, mirror=not args.no_mirror, seed=args.seed,
                    inner_iterations=args.inner_iterations, final_iterations=args.final_iterations)
    fitted = len(poses) * (2 if cfg.mirror else 1)
    if not enough_poses(fitted, cfg.num_basis):
        raise ValueError(f"{fitted} poses to fit (after --step {args.step}{'' if cfg.mirror else ', --no-mirror'}), "
                         f"fewer than J + 1 = {cfg.num_basis + 1}: the J basis poses would not be determined by "
                         "the data; give more poses, a smaller --step or a smaller -J")
    print(f"fitting {len(poses)} poses (x2 mirrored: {cfg.mirror}), J={cfg.num_basis}, K<={cfg.max_components}")
    import model_fitting.figures  # noqa: F401 -- before the fit: an import that Ctrl-C cuts short fails as ImportError
    from lifting.plot import _mpl

    _mpl()
    try:
        model, report, extras = fit(poses, cfg, checkpoint=checkpoint)
    except KeyboardInterrupt:
        raise Interrupted(f"fit interrupted; the checkpoint {checkpoint} holds every completed iteration: run the "
                          "same command again to resume from it") from None
    small = underdetermined_components(report["component_sizes"], cfg.num_basis)
    if small:
        what = (f"components {sorted(small)} hold {sorted(small.values())} poses, fewer than J + 1 = "
                f"{cfg.num_basis + 1}: their basis poses are not determined by the data")
        if not args.force:
            raise ValueError(f"{what}; nothing written: use a smaller -K or -J, more poses, or --force to write "
                             "the model anyway")
        print(f"WARNING: {what}; written anyway (--force)", file=sys.stderr)
        report["warnings"] = [what]
    from lifting.plausible import check_model

    try:
        check_model(model, f"the model fitted for -o {args.output}", exempt=set(small) if args.force else ())
    except ValueError as e:
        raise ValueError(f"{e}; nothing written") from None
    model.provenance.update({"inputs": {k: v for k, v in vars(args).items() if k not in ("func", "debug", "verbose")}})
    paths = (args.output, outputs[1][1], outputs[2][1])

    def stamp(path):
        return os.stat(path).st_mtime_ns if os.path.exists(path) else None

    before = {path: stamp(path) for path in paths}
    try:
        save_outputs(model, report, extras, *paths)
    except KeyboardInterrupt:
        for path in paths:  # all or nothing: what this run wrote goes (each file was written atomically)
            if stamp(path) is not None and stamp(path) != before[path]:
                os.unlink(path)
        raise Interrupted(f"fit interrupted while writing its outputs, so none was kept; the checkpoint {checkpoint} "
                          "holds every completed iteration: run the same command again to finish from it") from None
    if not args.checkpoint and os.path.exists(checkpoint):
        os.unlink(checkpoint)  # the default checkpoint only serves an interrupted run
    t = report["timings_s"]
    print(f"model K={model.num_components} J={model.num_basis} -> {args.output}; sizes {report['component_sizes']}; "
          f"align {t['align_s']:.1f}s, mixture {t['mixture_s']:.1f}s")
    return 0


def _cmd_evaluate(args):
    from model_fitting.evaluate import evaluate_models, parse_model_spec, resolve_model

    specs = [parse_model_spec(m) for m in args.model]
    names = [spec[0] for spec in specs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"--model: the name {repeated[0]!r} is given twice; every model needs its own NAME (its table "
                         "row)")
    models = [spec[2] for spec in specs]
    for folder in args.cmu or []:  # the CMU folders' contents, before any evaluation runs
        if os.path.isdir(folder):
            asf = [f for f in os.listdir(folder) if f.endswith(".asf")]
            amc = [f for f in os.listdir(folder) if f.endswith(".amc")]
            if len(asf) != 1 or not amc:
                raise ValueError(f"--cmu {folder}: expected one .asf and at least one .amc (found {len(asf)} and "
                                 f"{len(amc)})")
    check_files(inputs=[("--model", m) for m in models] + [("--h36m-npz", args.h36m_npz), ("--cameras", args.cameras)],
                input_folders=[("--cmu", f) for f in args.cmu or []],
                outputs=[("-o", args.output + ext) for ext in (".md", ".csv", ".json")], force=args.force)
    evaluate_models([resolve_model(s) for s in args.model], args.output, h36m_npz=args.h36m_npz,
                    subjects=args.subjects, cmu=args.cmu, cmu_step=args.cmu_step, angles=args.angles,
                    noise_mm=args.noise_mm, seed=args.seed, noise_2d=args.noise_2d, cameras=args.cameras,
                    camera_subject=args.camera_subject)
    return 0


def register(sub):
    p = sub.add_parser("fit", help="fit the 3D pose model on motion capture",
                       description="Fit the mixture-of-PPCA 3D pose model (paper sec. 4) and write model, JSON "
                                   "report and PNG (aligned poses in 2D PCA, component means).")
    src = p.add_argument_group("inputs (any combination)")
    src.add_argument("--h36m-npz", help="npz with positions_17 (z up, mm), subject, action (../shared/data layout)")
    src.add_argument("--h36m-cdf", help="root of the official Human3.6M release (S*/MyPoseFeatures/D3_Positions)")
    src.add_argument("--subjects", type=subjects, default=None,
                     help="comma-separated subjects, e.g. S1,S5,S6,S7,S8")
    src.add_argument("--cmu", nargs="*", help="CMU subject folders with one .asf and .amc files")
    src.add_argument("--bvh", nargs="*", help="BVH files (CMU or Mixamo joint names)")
    src.add_argument("--bvh-unit-mm", type=float_in(0, lo_open=True), default=1.0,
                     help="millimetres per BVH unit (default 1)")
    src.add_argument("--poses", nargs="*", help="(N, 17, 3) arrays: .npz/.npy/.csv in mm")
    src.add_argument("--up-axis", choices=("y", "z"), default="y", help="up axis of --poses arrays (default y)")
    src.add_argument("--step", type=int_in(1), default=1, help="keep every step-th frame")
    src.add_argument("--augment-rotations", type=int_in(1, 1000), default=1,
                     help="random ground-plane rotated copies per pose (1..1000)")
    p.add_argument("-o", "--output", required=True, help="model file (.h5)")
    p.add_argument("--report", help="JSON report (default: <output>.report.json)")
    p.add_argument("--figure", help="PNG (default: <output>.png)")
    p.add_argument("--checkpoint", help="checkpoint .npz, resumed when present (default: <output>.checkpoint.npz, "
                                        "deleted once the outputs are written)")
    p.add_argument("-J", "--basis", type=int_in(1, 47), default=24,
                   help="basis poses per component (1..47, default 24)")
    p.add_argument("-K", "--components", type=int_in(1, 100), default=3,
                   help="maximum mixture components (1..100, default 3)")
    p.add_argument("--force", action="store_true",
                   help="write the model even when a component holds fewer than J + 1 poses (a loud warning), and "
                        "replace output files that exist already")
    p.add_argument("--rotation-solver", choices=("closed-form", "ceres"), default="closed-form")
    p.add_argument("--inner-iterations", type=int_in(0, 1000), default=2)
    p.add_argument("--final-iterations", type=int_in(1, 100_000), default=30)
    p.add_argument("--em-iterations", type=int_in(1, 100_000), default=40)
    p.add_argument("--no-mirror", action="store_true", help="do not add mirrored poses")
    p.add_argument("--seed", type=int_in(0, 2**32 - 1), default=0)
    p.set_defaults(func=_cmd_fit)

    p = sub.add_parser("evaluate", help="accuracy of pose models lifting exact projections (tables)",
                       description="Lift exact weak-perspective projections (random ground-plane rotations) of "
                                   "held-out poses with one or more models; per-action MPJPE / P-MPJPE tables.")
    p.add_argument("--model", action="append", required=True, metavar="NAME=PATH",
                   help="a model to evaluate (repeatable); PATH 'default' = shipped model, 'authors:<mat>' = the "
                        "authors' .mat imported on the fly; NAME=PATH:k picks component k only")
    p.add_argument("--h36m-npz", help="npz in the ../shared/data layout")
    p.add_argument("--subjects", type=subjects, default=["S9"])
    p.add_argument("--cmu", nargs="*", help="CMU subject folders")
    p.add_argument("--cmu-step", type=int_in(1), default=4, help="keep every n-th CMU frame (120 fps) (default 4)")
    p.add_argument("--angles", type=int_in(3, MAX_ANGLES), default=80)
    p.add_argument("--noise-mm", type=float_in(0, 1000), default=0.0,
                   help="Gaussian 2D noise (mm at the subject) added (0..1000)")
    p.add_argument("--noise-2d", type=noise_2d, default=DEFAULT_NOISE_2D,
                   help="the lifter's assumed 2D noise, a fraction of the person's 2D size, or 'model' for the "
                        f"model's own (default {DEFAULT_NOISE_2D})")
    p.add_argument("--cameras", help="Human3.6M camera JSON (the h36m_fixture layout): view the poses through the "
                                     "four real cameras (pinhole) instead of an upright weak-perspective camera")
    p.add_argument("--camera-subject", default="S9", help="whose cameras --cameras uses (default S9)")
    p.add_argument("--seed", type=int_in(0, 2**32 - 1), default=0)
    p.add_argument("-o", "--output", required=True, help="output stem: writes <stem>.md, <stem>.csv, <stem>.json")
    p.set_defaults(func=_cmd_evaluate)
