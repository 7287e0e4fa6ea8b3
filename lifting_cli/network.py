"""``lifting prototxt``, ``lifting convert-cpm``, ``lifting estimate``, ``lifting train`` (over :mod:`prototxt` and
:mod:`tools`; train reads its poses with :mod:`model_fitting.data`)."""
from __future__ import annotations

import os

from .checks import box, check_files, float_in, int_in, subjects

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "..", "prototxt")


def _cmd_prototxt(args):
    from prototxt.generate import write_all

    check_files(output_folders=[("--out", args.out)])
    for p in write_all(args.out):
        print(p)
    return 0


def _cmd_convert(args):
    from tools.convert import convert

    check_files(inputs=[("--cpm-prototxt", args.cpm_prototxt), ("--cpm-weights", args.cpm_weights),
                        ("--target", args.target)], outputs=[("-o", args.output)])
    convert(args.cpm_prototxt, args.cpm_weights, args.target, args.output, order=args.joint_order)
    return 0


def _cmd_estimate(args):
    from tools.estimate import estimate

    stems = {}
    for img in args.images:
        stem = os.path.splitext(os.path.basename(img))[0]
        if stem in stems:
            raise ValueError(f"images {stems[stem]} and {img} would both write {os.path.join(args.out, stem)}.json; "
                             "rename one or run them apart")
        stems[stem] = img
    outputs = [(f"--out ({img})", os.path.join(args.out, stem + ext)) for stem, img in stems.items()
               for ext in (".json",) + (() if args.no_plot else (".png",))]
    inputs = [("IMAGE", img) for img in args.images] + [("--weights", args.weights), ("--prototxt", args.prototxt)]
    check_files(inputs=inputs, output_folders=[("--out", args.out)], outputs=outputs if os.path.isdir(args.out) else [])
    estimate(args.images, args.weights, args.prototxt, args.out, box=args.box, plot=not args.no_plot)
    return 0


def _cmd_train(args):
    import glob

    import numpy as np

    from model_fitting.data import load_h36m_npz

    from tools.train import train

    inputs = [("--h36m-npz", args.h36m_npz), ("--prototxt", args.prototxt), ("--weights", args.weights),
              ("--resume", args.resume)]
    check_files(inputs=inputs, output_folders=[("--out", args.out)],
                outputs=[(f"--out ({name})", os.path.join(args.out, name)) for name in
                         ("solver.prototxt", "loss.json", "loss.png")] if os.path.isdir(args.out) else [])
    if not args.resume and glob.glob(os.path.join(glob.escape(args.out), "snap_iter_*")):
        raise ValueError(f"--out {args.out} holds the snapshots of an earlier run, which a new run would overwrite: "
                         "resume it with --resume <its newest .solverstate>, or give another --out")
    poses, _, _ = load_h36m_npz(args.h36m_npz, args.subjects)
    h = train(args.prototxt, args.out, poses, args.iterations, base_lr=args.base_lr, snapshot_every=args.snapshot,
              resume=args.resume, weights=args.weights, seed=args.seed, fusion_init=args.fusion_init)
    loss = np.array(h["loss"])
    k = max(1, min(20, len(loss) // 5))
    print(f"iterations {h['iteration'][0]}..{h['iteration'][-1]}: loss first {k} mean {loss[:k].mean():.5g}, "
          f"last {k} mean {loss[-k:].mean():.5g}; fusion weights {h['fusion'][-1] if h['fusion'] else []}")
    return 0


def register(sub):
    p = sub.add_parser("prototxt", help="(re)write the generated prototxt files",
                       description="Write every network and solver prototxt from the one definition.")
    p.add_argument("--out", default=os.path.abspath(PROTO), help="folder (default: the package's prototxt/)")
    p.set_defaults(func=_cmd_prototxt)

    p = sub.add_parser("convert-cpm", help="original CPM weights -> initial weights of the extended net",
                       description="Copy/remap original CPM weights (MPI or LSP/LEEDS order) into a caffemodel "
                                   "for the extended Human3.6M net; prints what was copied, remapped, initialised.")
    p.add_argument("--cpm-prototxt", required=True, help="the CPM deploy prototxt the weights belong to")
    p.add_argument("--cpm-weights", required=True, help="CPM .caffemodel (e.g. pose_iter_985000_addLEEDS)")
    p.add_argument("--target", default=os.path.abspath(os.path.join(PROTO, "lifting_h36m_full_train.prototxt")),
                   help="target net prototxt (default: the extended full train net)")
    p.add_argument("--joint-order", choices=("mpi", "lsp"), default="mpi", help="joint order of the CPM maps")
    p.add_argument("-o", "--output", required=True, help="output .caffemodel")
    p.set_defaults(func=_cmd_convert)

    p = sub.add_parser("estimate", help="image(s) -> 2D joints and 3D pose (JSON + PNG)",
                       description="Run the extended network on images: CPM preprocessing, forward, final 3D lift; "
                                   "the 2D joints are the projection of the 3D pose (one solution).")
    p.add_argument("images", nargs="+")
    p.add_argument("--weights", help="trained or converted .caffemodel (see `lifting convert-cpm`)")
    p.add_argument("--prototxt", default=os.path.abspath(os.path.join(PROTO, "lifting_h36m_full_deploy.prototxt")))
    p.add_argument("--box", type=box, help="person box x,y,w,h in image pixels (default: the whole image)")
    p.add_argument("--out", default="estimates", help="output folder (default ./estimates)")
    p.add_argument("--no-plot", action="store_true")
    p.set_defaults(func=_cmd_estimate)

    p = sub.add_parser("train", help="train a net with caffe.SGDSolver on synthetic images of real poses",
                       description="Train (or resume) with snapshots, a JSON loss log and a PNG curve. Images are "
                                   "rendered from real 3D poses (limbs as thick segments, random rotation/scale).")
    p.add_argument("--prototxt", default=os.path.abspath(os.path.join(PROTO, "lifting_h36m_small_train.prototxt")))
    p.add_argument("--h36m-npz", required=True, help="poses to render (../shared/data layout)")
    p.add_argument("--subjects", type=subjects, default=["S1", "S5", "S6", "S7", "S8"])
    p.add_argument("--iterations", type=int_in(1, 10**8), default=300)
    p.add_argument("--base-lr", type=float_in(0, 1, lo_open=True), default=1e-3, help="learning rate in (0, 1]")
    p.add_argument("--snapshot", type=int_in(0), default=100, help="snapshot every N iterations (0: at the end only)")
    p.add_argument("--resume", help="a .solverstate to resume from")
    p.add_argument("--weights", help="initial .caffemodel")
    p.add_argument("--seed", type=int_in(0, 2**31 - 1), default=0)
    p.add_argument("--fusion-init", type=float_in(0, 1), help="start every fusion weight w at this value (default: the "
                                                     "prototxt's, 1 = plain CPM)")
    p.add_argument("--out", default="runs/train", help="run folder")
    p.set_defaults(func=_cmd_train)
