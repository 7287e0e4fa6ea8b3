"""``lifting h36m-prepare`` (over :mod:`model_fitting.prepare`)."""
from __future__ import annotations


from .checks import subjects as _subjects


def _cmd_prepare(args):
    from lifting.dataset import MANIFEST
    from model_fitting.prepare import prepare

    from .checks import check_files

    check_files(input_folders=[("ROOT", args.root)], inputs=[("--cameras", args.cameras)],
                output_folders=[("--out", args.out)], force=args.force, run_folders=[("--out", args.out, MANIFEST)])
    m = prepare(args.root, args.out, args.cameras, subjects=args.subjects, step=args.step, margin=args.margin,
                jpeg_quality=args.jpeg_quality, crop=args.crop, protocol=args.protocol)
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
    p.add_argument("--subjects", type=_subjects, default=None,
                   help=f"comma-separated (default the training subjects {','.join(TRAIN_SUBJECTS)}; the test set: "
                        f"{','.join(TEST_SUBJECTS)}, or --protocol authors-test)")
    p.add_argument("--step", type=int_in(1, 10_000), default=None,
                   help="keep every N-th frame of the 50 fps source (default 5 = 10 fps, the paper's rate)")
    p.add_argument("--crop", choices=("authors", "extent"), default="authors",
                   help="person crop: authors (default: a square around the pelvis, half-side the farthest joint's "
                        "distance + 25 px, clamped to the frame, resized to 368, as their data_transformer.cpp) or "
                        "extent (1.2 x the joints' extent filling 0.8 of the window, with --margin around it)")
    p.add_argument("--protocol", choices=("authors-test",), default=None,
                   help="authors-test: the test set the authors ran (S9 then S11, every 5th frame from the first, "
                        "all 4 cameras but the corrupt S11 Directions 54138969, S11 SittingDown 2 cut to 401 frames "
                        "per camera, their sequence order); default: every --step th frame of --subjects")
    p.add_argument("--margin", type=float_in(1, MAX_MARGIN), default=2.1,
                   help=f"with --crop extent: crop side over the person box side, 1..{MAX_MARGIN:g} (default 2.1: "
                        "room for scale 0.7 and 10 degrees)")
    p.add_argument("--jpeg-quality", type=int_in(1, 100), default=90, help="JPEG quality of the crops (default 90)")
    p.set_defaults(func=_cmd_prepare)
