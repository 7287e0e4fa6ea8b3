"""``lifting reproduce`` (over :mod:`tools.reproduce`), ``lifting h36m-miniature`` (over
:mod:`model_fitting.miniature`), ``lifting cpm-standin`` (over :func:`tools.convert.write_standin_cpm`): the paper's
Human3.6M experiment at any size, its miniature dry run, and the stand-in inputs of that dry run."""
from __future__ import annotations

import os

from .checks import check_files, float_in, int_in, subjects

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared"))
FIXTURE = os.path.join(SHARED, "data", "h36m_fixture")
CPM_MPI_PROTOTXT = os.path.join(SHARED, "cpm", "model__trained_MPI_pose_deploy_centerMap.prototxt")


def _cmd_miniature(args):
    from model_fitting.miniature import write_release

    check_files(input_folders=[("FIXTURE", args.fixture)], output_folders=[("--out", args.out)])
    write_release(args.fixture, args.out)
    return 0


def _cmd_standin(args):
    from tools.convert import write_standin_cpm

    check_files(inputs=[("--cpm-prototxt", args.cpm_prototxt)], outputs=[("-o", args.output)])
    write_standin_cpm(args.cpm_prototxt, args.output, seed=args.seed)
    return 0


def _cmd_reproduce(args):
    from tools import reproduce as R

    work = args.work
    if args.miniature:
        for flag, given in (("H36M_ROOT", args.root), ("CPM_CAFFEMODEL", args.cpm_weights), ("--gpu", args.gpu)):
            if given:
                raise ValueError(f"{flag}: --miniature makes its own release and stand-in weights and runs on the "
                                 "CPU; give no release, weights or GPU")
        work = work or "runs/miniature"
        check_files(input_folders=[("--fixture", args.fixture)], inputs=[("--cpm-prototxt", args.cpm_prototxt
                                                                           or CPM_MPI_PROTOTXT)],
                    output_folders=[("--work", work)])
        iters = args.iterations or 4
        sizes = R.Sizes(train_subjects=args.train_subjects or ["S1", "S5"],
                        test_subjects=args.test_subjects or ["S9", "S11"],
                        step=args.step or 5, iterations=iters, snapshot=args.snapshot, nets="small",
                        basis=args.basis or 3, workers=0, force_fit=True)
        release, cpm_proto = os.path.join(work, "release"), args.cpm_prototxt or CPM_MPI_PROTOTXT
        cpm_weights = os.path.join(work, "cpm", "pose_RANDOM_STANDIN.caffemodel")
        lifting = R.lifting_command()
        steps = [R.Step("miniature release", ["h36m-miniature", args.fixture, "--out", release], release),
                 R.Step("stand-in CPM weights (RANDOM)",
                        ["cpm-standin", "--cpm-prototxt", cpm_proto, "-o", cpm_weights],
                        cpm_weights)]
        os.makedirs(os.path.dirname(cpm_weights), exist_ok=True)
        steps += R.plan(work, release, os.path.join(release, "cameras.h5"), cpm_weights, cpm_proto, sizes,
                        lifting=lifting, title=R.TOY_TITLE.format(iterations=iters))
        print(f"reproduce --miniature: a toy run of the whole chain in {work} (miniature release, RANDOM stand-in "
              f"CPM weights, small nets, {iters} iterations): a check that the chain runs, not the paper's numbers")
    else:
        if not args.root or not args.cpm_weights:
            raise ValueError("give H36M_ROOT and CPM_CAFFEMODEL (the Human3.6M release and the original CPM weights), "
                             "or --miniature for the toy run")
        work = work or "runs/paper"
        cameras = args.cameras or os.path.join(args.root, "cameras.h5")
        sizes = R.Sizes(step=args.step or 5, iterations=args.iterations, fraction=args.fraction,
                        snapshot=args.snapshot, gpus=args.gpu, basis=args.basis or 24, workers=args.workers)
        if args.train_subjects:
            sizes.train_subjects = args.train_subjects
        if args.test_subjects:
            sizes.test_subjects = args.test_subjects
        check_files(input_folders=[("H36M_ROOT", args.root)] + [(f"H36M_ROOT ({s})", os.path.join(args.root, s))
                                                                for s in sizes.train_subjects + sizes.test_subjects])
        cpm_proto = args.cpm_prototxt or R.find_cpm_prototxt(args.cpm_weights)
        check_files(inputs=[("--cameras", cameras), ("CPM_CAFFEMODEL", args.cpm_weights),
                            ("--cpm-prototxt", cpm_proto)],
                    output_folders=[("--work", work)])
        iters = R.target_iterations(sizes)
        if sizes.snapshot is not None and sizes.snapshot > iters:
            raise ValueError(f"--snapshot {sizes.snapshot}: after the last iteration trained ({iters})")
        if args.gpu:
            from tools.devices import parse_gpus, probe_gpus

            probe_gpus(parse_gpus(args.gpu))  # a CPU-only build fails here, before any work
        else:
            train_h, eval_h = R.cpu_hours(sizes)
            if train_h + eval_h > R.CPU_LIMIT_HOURS and not args.cpu_anyway:
                raise ValueError(f"no --gpu: on this CPU the run would take about {train_h:,.0f} h of training (2 "
                                 f"nets x {iters:,} iterations at about {R.CPU_SECONDS_PER_ITERATION:g} s each, "
                                 f"batch 8, ~11 GB) and {eval_h:,.0f} h of evaluation (about "
                                 f"{R.CPU_SECONDS_PER_TEST_FRAME:g} s a frame); give --gpu N, fewer iterations "
                                 "(--iterations N or --fraction F), or --cpu-anyway to start it all the same")
        lifting = R.lifting_command()
        steps = R.plan(work, args.root, cameras, args.cpm_weights, cpm_proto, sizes, cpm_order=args.cpm_order,
                       lifting=lifting)
    try:
        R.run_steps(steps, work, lifting=lifting)
    except R.StepFailed as e:
        import sys

        print(f"lifting reproduce: error: {e}", file=sys.stderr)
        return 2 if e.code == 2 else 1
    stem = os.path.join(work, "paper_tables")
    if args.miniature:
        problems = R.check_tables(stem, R.LABELS, toy=True)
        if problems:
            raise RuntimeError("the miniature run's tables fail their checks: " + "; ".join(problems))
        print(f"checked: {stem}.md/.csv/.json/.png hold Table 1, Table 2 and Figure 3 with a row per run, the "
              "failed-frame counts, no NaN, and the toy-run label")
    print(f"-> {stem}.md, .csv, .json, .png; per-step time and memory: {os.path.join(work, 'steps.json')}; log: "
          f"{os.path.join(work, 'reproduce.log')}")
    return 0


def _cmd_check(args):
    from tools.reproduce import LABELS, check_tables

    problems = check_tables(args.stem, LABELS, toy=not args.not_toy)
    for p in problems:
        print(p)
    if problems:
        raise ValueError(f"{args.stem}: {len(problems)} problem(s) (listed above)")
    print(f"{args.stem}: Table 1, Table 2, Figure 3 with every run's row and failed-frame count, no NaN")
    return 0


def register(sub):
    p = sub.add_parser("reproduce", help="the paper's Human3.6M experiment end to end at any size (--miniature: a "
                                         "toy run of the whole chain in minutes on a CPU)",
                       description="prepare -> fit K=1 and K=3 -> convert-cpm -> train the extended net and the "
                                   "baseline CPM -> evaluate-images (net K=3 / K=1, CPM, true 2D) -> paper-tables, "
                                   "each step printed before it runs and skipped when its output exists (run the same "
                                   "command again to resume). Per-step wall time and peak memory: WORK/steps.json.")
    p.add_argument("root", nargs="?", metavar="H36M_ROOT", help="the Human3.6M release (official layout)")
    p.add_argument("cpm_weights", nargs="?", metavar="CPM_CAFFEMODEL",
                   help="the original CPM weights (pose_iter_985000_addLEEDS.caffemodel)")
    p.add_argument("--miniature", action="store_true",
                   help="the whole chain on the miniature release of the fixture with RANDOM stand-in CPM weights "
                        "and the small nets: a toy run in a few minutes on a CPU")
    p.add_argument("--work", help="run folder (default runs/paper, runs/miniature with --miniature)")
    p.add_argument("--cameras", help="camera file (default H36M_ROOT/cameras.h5: Martinez et al.'s)")
    p.add_argument("--cpm-prototxt", help=f"CPM's deploy prototxt (default: {os.path.basename(CPM_MPI_PROTOTXT)} "
                                          "from ../shared/cpm with --miniature, else "
                                          "pose_deploy_centerMap.prototxt or "
                                          "model__trained_MPI_pose_deploy_centerMap.prototxt beside CPM_CAFFEMODEL)")
    p.add_argument("--cpm-order", choices=("mpi", "lsp"), default="mpi", help="joint order of the CPM weights")
    p.add_argument("--fixture", default=FIXTURE, help="--miniature: the h36m_fixture folder (default ../shared/data/"
                                                      "h36m_fixture)")
    p.add_argument("--train-subjects", type=subjects, help="default S1,S5,S6,S7,S8 (--miniature: S1,S5)")
    p.add_argument("--test-subjects", type=subjects,
                   help="default S9,S11: the authors' test frames (--protocol authors-test); other subjects or another "
                        "--step: a plain test set")
    p.add_argument("--step", type=int_in(1), help="keep every N-th frame of the 50 fps videos (default 5)")
    p.add_argument("--iterations", type=int_in(1, 10**8), help="training iterations of each net (default: the "
                                                               "solver's 172,980; --miniature: 4)")
    p.add_argument("--fraction", type=float_in(0, 1, lo_open=True),
                   help="train this fraction of the solver's schedule instead")
    p.add_argument("--snapshot", type=int_in(1), help="the iteration whose snapshot is evaluated (default: the last)")
    p.add_argument("--gpu", help="GPU id or list (0 or 0,1,2,3): training on all, evaluation on the first")
    p.add_argument("-J", "--basis", type=int_in(1, 47), help="basis size of the fitted models (default 24; "
                                                             "--miniature: 3)")
    p.add_argument("--workers", type=int_in(0, 64), default=2, help="data workers per training process (default 2)")
    p.add_argument("--cpu-anyway", action="store_true", help="start a run estimated at over "
                                                             "2 h on the CPU all the same")
    p.set_defaults(func=_cmd_reproduce)

    p = sub.add_parser("reproduce-check", help="check a reproduction's paper tables (what CI checks)",
                       description="Table 1, Table 2 and Figure 3 files present with a row per run, every run's "
                                   "failed-frame count, no NaN; by default also the toy-run label.")
    p.add_argument("stem", help="the tables' path without extension (WORK/paper_tables)")
    p.add_argument("--not-toy", action="store_true", help="a real run: do not require the toy-run label")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("h36m-miniature", help="the miniature official-layout Human3.6M release made from the "
                                              "fixture (the tests' release; reproduce --miniature's input)",
                       description="Write a miniature Human3.6M release in the official layout (CDF poses, MP4 "
                                   "videos, cameras.h5) from ../shared/data/h36m_fixture: S1, S5, S9, S11, one "
                                   "11-frame sequence each, four cameras, with the release's known defects.")
    p.add_argument("fixture", nargs="?", default=FIXTURE, help="the h36m_fixture folder (default ../shared/data/"
                                                               "h36m_fixture)")
    p.add_argument("--out", required=True, help="release folder (must not exist)")
    p.set_defaults(func=_cmd_miniature)

    p = sub.add_parser("cpm-standin", help="a stand-in CPM caffemodel of RANDOM weights with the shapes of CPM's "
                                           "deploy prototxt (dry runs only)",
                       description="Write a caffemodel with the parameter shapes of a CPM deploy prototxt and RANDOM "
                                   "weights (the file's net name says so): a stand-in for the original CPM weights in "
                                   "dry runs of the reproduction. Numbers made with it say nothing about the paper.")
    p.add_argument("--cpm-prototxt", default=CPM_MPI_PROTOTXT,
                   help=f"CPM deploy prototxt (default ../shared/cpm/{os.path.basename(CPM_MPI_PROTOTXT)})")
    p.add_argument("-o", "--output", required=True, help="output .caffemodel (name it as random, e.g. "
                                                         "pose_RANDOM_STANDIN.caffemodel)")
    p.add_argument("--seed", type=int_in(0, 2**32 - 1), default=0)
    p.set_defaults(func=_cmd_standin)
