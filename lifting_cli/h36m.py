"""``lifting h36m-prepare`` (over :mod:`model_fitting.prepare`)."""
from __future__ import annotations


def _subjects(text):
    subjects = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in subjects if not (s[:1] == "S" and s[1:].isdigit())]
    if not subjects or bad:
        import argparse

        raise argparse.ArgumentTypeError(f"expected subjects like S1,S5,S6; got {text!r}")
    return subjects


def _cmd_prepare(args):
    from lifting.dataset import MANIFEST
    from model_fitting.prepare import prepare

    from .checks import check_files

    check_files(input_folders=[("ROOT", args.root)], inputs=[("--cameras", args.cameras)],
                output_folders=[("--out", args.out)], force=args.force, run_folders=[("--out", args.out, MANIFEST)])
    m = prepare(args.root, args.out, args.cameras, subjects=args.subjects, step=args.step, margin=args.margin,
                jpeg_quality=args.jpeg_quality)
    print(f"-> {args.out} ({m['summary']['samples']} samples)")
    return 0


def register(sub):
    from model_fitting.h36m import TEST_SUBJECTS, TRAIN_SUBJECTS
    from model_fitting.prepare import MAX_MARGIN

    from .checks import float_in, int_in

    p = sub.add_parser("h36m-prepare", help="official Human3.6M layout -> prepared training/testing dataset",
                       description="Turn a Human3.6M download (official layout: <root>/<S>/MyPoseFeatures/"
                                   "D2_Positions, D3_Positions, D3_Positions_mono and <root>/<S>/Videos) into person "
                                   "crops (JPEG) with 2D/3D labels and camera rotations, one HDF5 shard per sequence. "
                                   "Resumable: run the same command again after an interruption.")
    p.add_argument("root", help="the Human3.6M release folder (holds S1, S5, ...)")
    p.add_argument("--cameras", required=True,
                   help="camera parameters: the Martinez et al. cameras.h5 or the h36m_fixture cameras.json layout")
    p.add_argument("--out", required=True, help="dataset folder (created; resumed if it holds an unfinished run)")
    p.add_argument("--subjects", type=_subjects, default=list(TRAIN_SUBJECTS),
                   help=f"comma-separated (default the training subjects {','.join(TRAIN_SUBJECTS)}; the test set: "
                        f"{','.join(TEST_SUBJECTS)})")
    p.add_argument("--step", type=int_in(1, 10_000), default=5, help="keep every N-th frame of the 50 fps source (default 5 = "
                                                       "10 fps, the paper's rate)")
    p.add_argument("--margin", type=float_in(1, MAX_MARGIN), default=2.1,
                   help=f"crop side over the person box side, 1..{MAX_MARGIN:g} (default 2.1: room for scale 0.7 and 10 "
                        "degrees)")
    p.add_argument("--jpeg-quality", type=int_in(1, 100), default=90, help="JPEG quality of the crops (default 90)")
    p.set_defaults(func=_cmd_prepare)
