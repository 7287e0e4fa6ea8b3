"""``lifting evaluate-images``, ``lifting paper-tables``, ``lifting h36m-fixture`` (over :mod:`tools.evaluate_images`,
:mod:`lifting.image_eval` and :mod:`model_fitting.fixture_split`): the paper's evaluation on Human3.6M images."""
from __future__ import annotations

from .checks import check_files, int_in


def _cmd_evaluate_images(args):
    from tools.evaluate_images import evaluate_images
    from tools.devices import parse_gpus

    check_files(inputs=[("--weights", args.weights), ("--prototxt", args.prototxt), ("--model", args.model)],
                input_folders=[("--data", args.data)], output_folders=[("--out", args.out)], force=args.force,
                run_folders=[("--out", args.out, "run.json")])
    device = "cpu"
    if args.gpu is not None:
        gpus = parse_gpus(args.gpu)
        if len(gpus) != 1:
            raise ValueError(f"--gpu: evaluation runs on one GPU, got {args.gpu!r}")
        device = gpus[0]
    evaluate_images(args.data, args.out, mode=args.two_d, net=args.net, weights=args.weights, prototxt=args.prototxt,
                    model=args.model, device=device, batch=args.batch, chunk=args.chunk, num_angles=args.num_angles,
                    label=args.label, scoring=args.scoring, interpolation=args.interpolation)
    return 0


def _run(text):
    label, sep, folder = text.rpartition("=")  # the last '=': labels such as "K=3" hold one
    if not sep or not label or not folder:
        import argparse

        raise argparse.ArgumentTypeError(f"expected LABEL=FOLDER (an evaluate-images --out), got {text!r}")
    return label, folder


def _cmd_paper_tables(args):
    import os

    from lifting.image_eval import load_frames, summarise, write_report

    out_folder = os.path.dirname(os.path.abspath(args.out))
    outputs = [("--out", args.out + ext) for ext in (".md", ".csv", ".json", ".png")]
    if bool(args.run) == bool(args.per_frame_errors):
        raise ValueError("paper-tables: give either --run LABEL=FOLDER (evaluate-images runs) or "
                         "--per-frame-errors FILE.npz, not both and not neither")
    check_files(inputs=[("--per-frame-errors", args.per_frame_errors)], output_folders=[("--out", out_folder)],
                outputs=outputs, force=args.force)
    if args.per_frame_errors:
        from lifting.image_eval import load_per_frame_errors, write_per_frame_error_tables

        data = load_per_frame_errors(args.per_frame_errors)
        label = args.label or os.path.basename(args.per_frame_errors)
        print(write_per_frame_error_tables(args.out, data["error_mm"], data["action"], data["subject"], label,
                                           os.path.abspath(args.per_frame_errors)))
        print(f"-> {args.out}.md, .csv, .json")
        return 0
    from lifting.files import differences, read_json

    runs, first = {}, None
    for label, folder in args.run:
        if label in runs:
            raise ValueError(f"--run {label}={folder}: the label {label!r} is given twice; every run needs its own "
                             "label (its table row)")
        if any(c in label for c in "|\n\r`"):
            raise ValueError(f"--run {label}={folder}: a label may not hold '|', '`' or a line break (they break the "
                             "markdown table)")
        path = os.path.join(folder, "frames.npz")
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no per-frame results (run `lifting evaluate-images --out {folder}` "
                                    "to the end first)")
        record = os.path.join(folder, "run.json")
        if not os.path.exists(record):
            raise FileNotFoundError(f"{record}: missing, so what {path} was computed from is unknown")
        settings = read_json(record)
        same = {k: (settings.get(k) if isinstance(settings, dict) else None)
                for k in ("dataset", "samples", "num_angles")}
        if first is None:
            first = (label, same)
        else:
            changed = differences(first[1], same)
            if changed:
                raise ValueError(f"--run {label}={folder} and --run {first[0]}=...: the runs are not comparable "
                                 f"({'; '.join(changed[:3])}): one table needs runs over the same dataset and lift "
                                 "settings")
        runs[label] = summarise(load_frames(path))
    print(write_report(args.out, runs, args.title))
    print(f"-> {args.out}.md, .csv, .json" + (", .png" if any(s.stages for s in runs.values()) else ""))
    return 0


def _cmd_fixture(args):
    import os

    from model_fitting.fixture_split import write_fixture_split

    from lifting.dataset import MANIFEST

    check_files(input_folders=[("FIXTURE", args.fixture)], output_folders=[("--out", args.out)], force=args.force,
                outputs=[("--out", os.path.join(args.out, MANIFEST))], run_folders=[("--out", args.out, MANIFEST)])
    m = write_fixture_split(args.fixture, args.out, crop=args.crop)
    print(f"-> {args.out} ({len(m['shards'])} frames: a 4-frame check, not an accuracy figure)")
    return 0


def register(sub):
    p = sub.add_parser("evaluate-images", help="the paper's evaluation on images: a trained net (or the true 2D) "
                                               "over a prepared test set -> per-frame results, Table 1/2, Figure 3",
                       description="Run the extended net (--net lifting) or the baseline CPM (--net cpm, its "
                                   "last-stage argmax lifted by the same 3D pose model) over a dataset made by "
                                   "`lifting h36m-prepare --subjects S9,S11`, with every frame's known camera; or "
                                   "--2d gt: lift the true 2D (the lifting-only upper bound). Writes per-frame results "
                                   "(resumable: run the same command again after an interruption) and the tables "
                                   "beside the paper's: protocol 1 MPJPE, protocol 2 P-MPJPE per action (Table 1 "
                                   "order), 2D pixel error (Table 2), per-stage errors (Figure 3).")
    p.add_argument("--data", required=True, help="prepared test set folder (`lifting h36m-prepare`)")
    p.add_argument("--out", required=True, help="output folder (resumed when it holds an unfinished run)")
    p.add_argument("--2d", dest="two_d", choices=("net", "gt"), default="net",
                   help="2D source: the network (default) or the ground truth (no network)")
    p.add_argument("--net", choices=("lifting", "cpm"), default="lifting",
                   help="the extended net (default) or the baseline CPM (Table 2's comparison)")
    p.add_argument("--weights", help="trained .caffemodel (`lifting train --data`); needed with --2d net")
    p.add_argument("--prototxt", help="deploy prototxt (default: the full deploy net of --net)")
    p.add_argument("--model", help="3D pose model (.h5) for every lift, also inside the extended net (default: the "
                                   "shipped K=3 model; a K=1 model for the paper's single-PPCA row)")
    p.add_argument("--gpu", help="GPU id (needs Caffe built with CUDA: scripts/setup.sh --cuda)")
    p.add_argument("--batch", type=int_in(1, 1024), default=8, help="images per forward pass (default 8)")
    p.add_argument("--chunk", type=int_in(1, 10**6), default=256,
                   help="frames per resumable results file (default 256)")
    p.add_argument("--num-angles", type=int_in(3, 10000), default=80,
                   help="ground-plane angles of the lift (default 80)")
    p.add_argument("--label", help="row label in the tables (default: from the net and the model's K)")
    p.add_argument("--scoring", choices=("upsampled", "grid"), default="upsampled",
                   help="the network's 2D joints: upsampled (default: each belief map resized to the frame pixels it "
                        "covers with Lanczos, then the argmax, as the authors' restoreSize/findPredictions) or grid "
                        "(the argmax on the 46 x 46 grid, what the lifting layer uses)")
    p.add_argument("--interpolation", choices=("cubic", "linear"), default="cubic",
                   help="the warp into the network window: cubic (default, as CPM) or linear; use what the net's data "
                        "layer trained with (its param_str 'interpolation')")
    p.set_defaults(func=_cmd_evaluate_images)

    p = sub.add_parser("paper-tables", help="several evaluate-images runs -> Table 1, Table 2, Figure 3 beside the "
                                            "paper's numbers (markdown, CSV, JSON, PNG)",
                       description="Combine evaluate-images runs (e.g. the extended net with K=3 and K=1 models and "
                                   "the baseline CPM) into the paper's Table 1 (per action, beside its rows), Table 2 "
                                   "(2D pixel error) and Figure 3 (error per stage).")
    p.add_argument("--run", type=_run, action="append", metavar="LABEL=FOLDER",
                   help="an evaluate-images output folder and its row label (repeat)")
    p.add_argument("--per-frame-errors", metavar="FILE.npz",
                   help="instead of --run: per-frame 3D errors (fields error_mm, subject, action; the layout of "
                        "../shared/data/authors_table1/per_frame_errors.npz) -> Table 1 beside the paper's rows "
                        "(.md, .csv, .json: each action's mean under its column name, average_frames)")
    p.add_argument("--label", help="row label with --per-frame-errors (default: the file's name)")
    p.add_argument("-o", "--out", required=True, help="output path without extension (writes .md, .csv, .json, .png)")
    p.add_argument("--title", default="Paper evaluation on Human3.6M images", help="title of the report")
    p.set_defaults(func=_cmd_paper_tables)

    p = sub.add_parser("h36m-fixture", help="the real 4-frame Human3.6M fixture -> a tiny prepared test set",
                       description="Crop the frames of ../shared/data/h36m_fixture as h36m-prepare crops video frames "
                                   "and write them as a prepared dataset: a 4-frame end-to-end check of "
                                   "evaluate-images, not an accuracy figure.")
    p.add_argument("fixture", help="the h36m_fixture folder (labels.npz, cameras.json, images/)")
    p.add_argument("--out", required=True, help="dataset folder")
    p.add_argument("--crop", choices=("authors", "extent"), default="authors",
                   help="person crop, as h36m-prepare --crop (default authors)")
    p.set_defaults(func=_cmd_fixture)
