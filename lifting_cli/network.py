"""``lifting prototxt``, ``lifting convert-cpm``, ``lifting estimate``, ``lifting train`` (over :mod:`prototxt` and
:mod:`tools`; the synthetic demo reads its poses with :mod:`model_fitting.data`)."""
from __future__ import annotations

import os

from prototxt import FOLDER as PROTO

from .checks import box, check_files, float_in, int_in, subjects


def _cmd_prototxt(args):
    from prototxt.generate import files, write_all

    shipped = os.path.abspath(args.out) == os.path.abspath(PROTO)  # the package's own generated files: regenerated
    check_files(output_folders=[("--out", args.out)], force=args.force or shipped,
                outputs=[("--out", os.path.join(args.out, name)) for name in files(args.out)])
    for p in write_all(args.out, args.fusion):
        print(p)
    return 0


def _cmd_convert(args):
    from tools.convert import convert

    check_files(inputs=[("--cpm-prototxt", args.cpm_prototxt), ("--cpm-weights", args.cpm_weights),
                        ("--target", args.target)], outputs=[("-o", args.output)], force=args.force)
    convert(args.cpm_prototxt, args.cpm_weights, args.target, args.output, order=args.joint_order,
            new_layers=args.new_layers)
    return 0


def _cmd_estimate(args):
    import sys

    from tools.detect import DetectorUnavailable
    from tools.estimate import estimate
    from tools.media import output_paths
    from tools.photo import SAMPLE_NAME, collect_inputs, is_video, run, sample_image

    from .checks import read_camera

    detector = args.detector or ("network" if args.weights else "mediapipe")
    files = collect_inputs(args.images, recursive=args.recursive) if args.images else []
    exports = tuple(e for e in ("bvh", "csv", "html") if getattr(args, e))
    named = [(f, stem, is_video(f)) for f, stem in files] + ([(None, SAMPLE_NAME, False)] if args.sample else [])
    outputs = [(f"--out ({f or 'sample'})", path) for f, stem, video in named
               for path in output_paths(args.out, stem, video, plot=not args.no_plot, exports=exports)]
    check_files(inputs=[("INPUT", f) for f, _ in files]
                + [("--camera", args.camera if args.camera not in (None, "upright") else None)]
                + ([("--weights", args.weights), ("--prototxt", args.prototxt)] if detector == "network" else []),
                output_folders=[("--out", args.out)], outputs=outputs, force=args.force)
    camera = read_camera(args.camera)
    focal, principal = _intrinsics(args)
    try:
        if detector == "mediapipe":
            if args.weights or args.box:
                print("lifting estimate: --weights and --box belong to --detector network; not used here")
            from lifting.lift import Lifter
            from lifting.model import load_model

            lifter = Lifter(load_model(args.model), camera=camera)
            _, failed, found = run(args.images, args.out, lifter, camera_label=args.camera or "upright",
                                   min_confidence=args.min_confidence, sample=args.sample, plot=not args.no_plot,
                                   people=args.people, focal_px=focal, principal_px=principal,
                                   smooth=not args.no_smooth, exports=exports, recursive=args.recursive)
            if not found:
                print("lifting estimate: error: no person was found in any input", file=sys.stderr)
                return 2
            return 2 if failed else 0
        if exports or args.people != "all" or args.no_smooth or args.focal_px:
            print("lifting estimate: --people, --focal-px, --no-smooth, --bvh, --csv and --html belong to the "
                  "embedded detector; not used with --detector network")
        inputs = [f for f, _ in collect_inputs(args.images, recursive=args.recursive)]
        if any(is_video(p) for p in inputs):
            raise ValueError("videos need the embedded detector (--detector mediapipe)")
        if args.sample:
            inputs = [("sample", sample_image())] + inputs
        box = args.box if args.box else _detector_box()
        records = estimate(inputs, args.weights, args.prototxt, args.out, box=box, camera=camera,
                           plot=not args.no_plot)
        return 2 if any(r.get("status") == "unreadable" for r in records) else 0
    except DetectorUnavailable as e:
        print(f"lifting estimate: error: {e}", file=sys.stderr)
        return 2


def people_arg(text):
    """``--people`` for argparse: all, largest, center or N."""
    import argparse

    from tools.people import parse_people

    try:
        return parse_people(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e).replace("--people ", "", 1)) from None


def _intrinsics(args):
    """``(focal px or None, principal point px or None)``: ``--focal-px``, else ``f`` and ``c`` in the ``--camera``
    JSON (Human3.6M's calibration names), else None (the assumption of lifting/world.py)."""
    if args.focal_px is not None:
        return args.focal_px, None
    if args.camera in (None, "upright"):
        return None, None
    from lifting.files import read_json

    obj = read_json(args.camera)
    f, c = (obj.get(k) if isinstance(obj, dict) else None for k in ("f", "c"))
    if f is None:
        return None, None
    import numpy as np

    fa = np.asarray(f, np.float64).reshape(-1)
    if fa.size not in (1, 2) or not np.all(np.isfinite(fa)) or np.any(fa <= 0):
        raise ValueError(f"--camera {args.camera}: 'f' must be one or two focal lengths > 0 in pixels, got {f!r}")
    ca = None
    if c is not None:
        ca = np.asarray(c, np.float64).reshape(-1)
        if ca.size != 2 or not np.all(np.isfinite(ca)):
            raise ValueError(f"--camera {args.camera}: 'c' must be the principal point [cx, cy] in pixels, got {c!r}")
    return fa, ca


def _detector_box():
    """The network path's CPM crop: a function image -> MediaPipe's person box where MediaPipe works, else None (the
    whole image). The detector starts at the first image, after the network's files have been checked."""
    from tools.detect import DetectorUnavailable, PoseDetector

    state = {}

    def box_of(rgb):
        if "det" not in state:
            try:
                state["det"] = PoseDetector()
            except DetectorUnavailable as e:
                print(f"lifting estimate: the CPM crop is the whole image: {e}")
                state["det"] = None
        return None if state["det"] is None else state["det"].detect(rgb).box()

    return box_of


#: the record a training run writes into its folder: where the folder belongs (a copy is told apart)
RUN_RECORD = "run_folder.json"


def check_run_folder(out):
    """A run folder records where it belongs (``run_folder.json``: its real path, :func:`record_run_folder`); a run
    refuses a folder whose record names another place (a copy: its snapshots' ``learned_net`` fields point into the
    original, so a resume there would continue from the original's weights)."""
    from lifting.files import read_json

    path = os.path.join(out, RUN_RECORD)
    if os.path.exists(path):
        rec = read_json(path)
        there = rec.get("folder") if isinstance(rec, dict) else None
        if there != os.path.realpath(out):
            raise ValueError(f"{path}: this run folder belongs to {there!r}, not {os.path.realpath(out)!r} (copied or "
                             "moved): its snapshots would resume from the original folder's weights; resume in the "
                             "original folder, or start a new run in a new --out")


def record_run_folder(out):
    """Write ``run_folder.json`` into a run folder that exists (once the run has made it)."""
    from lifting.files import atomic_write_json

    path = os.path.join(out, RUN_RECORD)
    if os.path.isdir(out) and not os.path.exists(path):
        atomic_write_json(path, {"folder": os.path.realpath(out)})


def _cmd_train(args):
    import numpy as np

    if (args.data is None) == (args.h36m_npz is None):
        raise ValueError("give either --data (a prepared Human3.6M dataset) or --h36m-npz (the synthetic demo)")
    check_run_folder(args.out)
    started = []
    try:
        h = _train(args, started)
    finally:
        if started:  # the checks passed and training began: the folder is this run's
            record_run_folder(args.out)
    loss = np.array(h["loss"])
    k = max(1, min(20, len(loss) // 5))
    print(f"iterations {h['iteration'][0]}..{h['iteration'][-1]}: loss first {k} mean {loss[:k].mean():.5g}, "
          f"last {k} mean {loss[-k:].mean():.5g}; fusion weights {h['fusion'][-1] if h['fusion'] else []}")
    return 0


def _train(args, started):
    import glob

    if args.data is None and args.augment != "authors":
        raise ValueError("--augment sets the data layer of --data training; the --h36m-npz demo renders its own images")
    if args.data is not None:
        check_files(inputs=[("--prototxt", args.prototxt), ("--solver", args.solver), ("--weights", args.weights),
                            ("--resume", args.resume)], input_folders=[("--data", args.data)],
                    output_folders=[("--out", args.out)],
                    outputs=[(f"--out ({name})", os.path.join(args.out, name)) for name in
                             ("net.prototxt", "solver.prototxt", "loss.json", "loss.png")],
                    force=args.force or bool(args.resume))
    if args.data is not None:
        h = _train_on_dataset(args, started)
    else:
        if args.gpu is not None or args.solver is not None:
            raise ValueError("--gpu and --solver train on a prepared dataset: give --data")
        from model_fitting.data import load_h36m_npz

        from tools.train import train

        prototxt = args.prototxt or os.path.abspath(os.path.join(PROTO, f"{args.net}_h36m_small_train.prototxt"))
        if not args.resume and glob.glob(os.path.join(glob.escape(args.out), "snap_iter_*")):
            raise ValueError(f"--out {args.out} holds the snapshots of an earlier run, which a new run would "
                             "overwrite: resume it with --resume <its newest .solverstate>, or give another --out")
        check_files(inputs=[("--h36m-npz", args.h36m_npz), ("--prototxt", prototxt), ("--weights", args.weights),
                            ("--resume", args.resume)], output_folders=[("--out", args.out)],
                    outputs=[(f"--out ({name})", os.path.join(args.out, name)) for name in
                             ("solver.prototxt", "loss.json", "loss.png")],
                    force=args.force or bool(args.resume))  # a resumed run replaces what it made itself
        poses, _, _ = load_h36m_npz(args.h36m_npz, args.subjects)
        started.append(True)
        h = train(prototxt, args.out, poses, args.iterations or 300, base_lr=args.base_lr or 1e-3,
                  snapshot_every=100 if args.snapshot is None else args.snapshot, resume=args.resume,
                  weights=args.weights, seed=args.seed, fusion_init=args.fusion_init)
    return h


def _train_on_dataset(args, started):
    from tools.devices import parse_gpus
    from tools.train_h36m import SHIPPED_SOLVER, train_dataset

    if args.base_lr is not None:
        raise ValueError("--base-lr: with --data the solver's base_lr is used as shipped; give a solver of your own "
                         "with --solver to change it")
    devices = parse_gpus(args.gpu) if args.gpu is not None else ["cpu"]
    started.append(True)
    return train_dataset(args.data, args.out, net=args.net, prototxt=args.prototxt,
                         solver=args.solver or SHIPPED_SOLVER, devices=devices, iterations=args.iterations,
                         resume=args.resume, weights=args.weights, seed=args.seed, workers=args.workers,
                         snapshot_every=args.snapshot, fusion_init=args.fusion_init, augment=args.augment)


def register(sub):
    p = sub.add_parser("prototxt", help="(re)write the generated prototxt files",
                       description="Write every network and solver prototxt from the one definition.")
    p.add_argument("--out", default=os.path.abspath(PROTO), help="folder (default: the package's prototxt/)")
    p.add_argument("--fusion", choices=("paper", "authors"), default="paper",
                   help="the fusion layers: paper (default, eq. 8) or authors (their processheatmaps.py: weights "
                        "start at (0, 1), fused map rescaled to the CNN map's maximum, their backward; to another "
                        "--out)")
    p.set_defaults(func=_cmd_prototxt)

    p = sub.add_parser("convert-cpm", help="original CPM weights -> initial weights of the extended net",
                       description="Copy original CPM weights (MPI or LSP/LEEDS order) into a caffemodel for the "
                                   "extended Human3.6M net; the layers whose shape changes are initialised randomly "
                                   "(the paper) or remapped by joint; prints what was copied, remapped, initialised.")
    p.add_argument("--cpm-prototxt", required=True, help="the CPM deploy prototxt the weights belong to")
    p.add_argument("--cpm-weights", required=True, help="CPM .caffemodel (e.g. pose_iter_985000_addLEEDS)")
    p.add_argument("--target", default=os.path.abspath(os.path.join(PROTO, "lifting_h36m_full_train.prototxt")),
                   help="target net prototxt (default: the extended full train net)")
    p.add_argument("--joint-order", choices=("mpi", "lsp"), default="mpi", help="joint order of the CPM maps")
    p.add_argument("--new-layers", choices=("random", "remap"), default="random",
                   help="the layers whose shape changes with the joint count (conv7_stage1_new, Mconv1/5_stageN_new): "
                        "random as in the paper (default), or remap: copy CPM's filters of the corresponding joints")
    p.add_argument("-o", "--output", required=True, help="output .caffemodel")
    p.set_defaults(func=_cmd_convert)

    p = sub.add_parser("estimate", help="photos, folders, videos -> 2D joints and 3D pose (JSON + PNG / npz + MP4)",
                       description="Photos, folders of photos and videos -> 2D joints -> 3D pose. Without --weights "
                                   "the embedded MediaPipe pose detector finds the 2D joints and the shipped 3D pose "
                                   "model lifts them (per photo: JSON + PNG; per video: npz + JSON + MP4). With "
                                   "--weights the extended network runs instead (CPM preprocessing, forward, final 3D "
                                   "lift; its 2D joints are the projection of its 3D pose). An input that cannot "
                                   "be read is "
                                   "reported and the others go on (exit status 2).")
    p.add_argument("images", nargs="*", metavar="INPUT", help="photos, folders of photos, videos (.mp4, .avi, ...)")
    p.add_argument("--sample", action="store_true", help="also estimate the embedded sample photo "
                                                         "(skimage.data.camera(), a man behind a camera)")
    p.add_argument("--detector", choices=("mediapipe", "network"),
                   help="2D source: the embedded MediaPipe detector (default without --weights) or the network "
                        "(default with --weights)")
    p.add_argument("--camera", default=None,
                   help="JSON file with the 3x3 world->camera rotation 'R' (world y up); default: upright camera")
    p.add_argument("--model", default=None, help="3D pose-model file (.h5) for the detector path; default: shipped")
    p.add_argument("--min-confidence", type=float, default=0.5,
                   help="detector path: joints whose visibility is below this are missing (default 0.5)")
    p.add_argument("--weights", help="trained or converted .caffemodel (see `lifting convert-cpm`)")
    p.add_argument("--prototxt", default=os.path.abspath(os.path.join(PROTO, "lifting_h36m_full_deploy.prototxt")))
    p.add_argument("--box", type=box, help="network path: person box x,y,w,h in image pixels (default: MediaPipe's "
                                           "person box where MediaPipe works, else the whole image)")
    p.add_argument("--out", default="estimates", help="output folder (default ./estimates)")
    p.add_argument("--no-plot", action="store_true", help="no PNG (photos) or MP4 (videos)")
    p.add_argument("--people", type=people_arg, default="all",
                   help="who is estimated: all (default), largest, center (nearest the image centre) or N (the N "
                        "largest)")
    p.add_argument("--focal-px", type=float_in(1, 1e6), default=None,
                   help="focal length in pixels for the root position in metres (default: 'f' in the --camera JSON, "
                        "else assumed: a 60-degree horizontal field of view, stated in the output)")
    p.add_argument("--no-smooth", action="store_true",
                   help="videos: no temporal filtering (One Euro on the 2D, ground-plane angle continuity)")
    p.add_argument("--bvh", action="store_true", help="also a BVH motion file per person (<name>.person<id>.bvh)")
    p.add_argument("--csv", action="store_true", help="also <name>.csv: one row per frame, person and joint")
    p.add_argument("--html", action="store_true",
                   help="also <name>.html: an interactive 3D view (self-contained, opens offline; a frame slider "
                        "for videos)")
    p.add_argument("--recursive", action="store_true", help="folders: also their subfolders (outputs keep them)")
    p.set_defaults(func=_cmd_estimate)

    p = sub.add_parser("train", help="train the net on a prepared Human3.6M dataset (CPU or GPUs), or the CPU demo "
                                      "on synthetic images of real poses",
                       description="Train (or resume) with snapshots, a JSON loss log and a PNG curve. With --data: "
                                   "the paper's run on a dataset made by `lifting h36m-prepare`, with the shipped "
                                   "solver as it is (batch 8 per device), the full extended net (or --net cpm, the "
                                   "baseline), on the CPU or --gpu N / --gpu 0,1,... (one solver process per GPU). "
                                   "With --h36m-npz: the small net on synthetic images rendered from real 3D poses.")
    p.add_argument("--data", help="a prepared dataset folder (`lifting h36m-prepare`)")
    p.add_argument("--net", choices=("lifting", "cpm"), default="lifting",
                   help="the extended net (default) or the baseline CPM (the paper's Table 2 comparison)")
    p.add_argument("--gpu", help="GPU id, or a comma-separated list for data-parallel training through Caffe's NCCL, "
                                 "one solver process per GPU (needs Caffe built with CUDA: scripts/setup.sh --cuda)")
    p.add_argument("--solver", help="solver prototxt (default with --data: the shipped "
                                    "prototxt/lifting_h36m_full_solver.prototxt, used as it is)")
    p.add_argument("--workers", type=int_in(0, 64), default=2,
                   help="data-layer worker processes per solver (default 2)")
    p.add_argument("--prototxt", help="train net prototxt (default: the full net of --net with --data, the small "
                                      "one with --h36m-npz)")
    p.add_argument("--h36m-npz", help="poses to render for the synthetic demo (../shared/data layout)")
    p.add_argument("--subjects", type=subjects, default=["S1", "S5", "S6", "S7", "S8"])
    p.add_argument("--iterations", type=int_in(1, 10**8),
                   help="iterations to run now (default: to the solver's max_iter with "
                                                  "--data, 300 for the demo)")
    p.add_argument("--base-lr", type=float_in(0, 1, lo_open=True), help="the demo's learning rate in (0, 1] "
                                                                         "(default 1e-3)")
    p.add_argument("--snapshot", type=int_in(0),
                   help="snapshot every N iterations (default: the solver's with --data, 100 "
                                                "for the demo)")
    p.add_argument("--resume", help="a .solverstate to resume from")
    p.add_argument("--weights", help="initial .caffemodel")
    p.add_argument("--seed", type=int_in(0, 2**31 - 1), default=0)
    p.add_argument("--fusion-init", type=float_in(0, 1), help="start every fusion weight w at this value (default: the "
                                                     "prototxt's, 1 = plain CPM)")
    p.add_argument("--augment", choices=("authors", "prototxt"), default="authors",
                   help="with --data, the data layer's augmentation: authors (default: none, as the authors' "
                        "data_transformer.cpp ran) or prototxt (scale 0.7-1.2 with p 0.7, rotation +-10 degrees: the "
                        "values of their prototxt, what stock CPM does)")
    p.add_argument("--out", default="runs/train", help="run folder")
    p.set_defaults(func=_cmd_train)
