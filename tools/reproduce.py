"""The paper's Human3.6M experiment as one resumable chain of ``lifting`` commands (``lifting reproduce``,
``scripts/reproduce_paper.sh``): prepare the training and test sets -> fit the K=1 and K=3 pose models on the training
subjects' D3 poses -> convert the CPM weights for both nets -> train the extended net and the baseline CPM -> evaluate
(extended net with K=3 and K=1, baseline CPM, true 2D with K=3 and K=1) -> paper-tables.

Every step is one ``lifting`` subcommand in its own process: its command line is printed and logged before it runs,
the step is skipped when its output exists (a training resumes from its newest snapshot, an evaluation after its last
chunk), and its wall time and peak memory (the process and its children, ``wait4``) are recorded in
``WORK/steps.json``.

``miniature=True``: the whole chain in minutes on a CPU, on the miniature official-layout release made from
``../shared/data/h36m_fixture`` (:mod:`model_fitting.miniature`) and a stand-in CPM caffemodel of random weights
(:func:`tools.convert.write_standin_cpm`); the nets trained and evaluated are the small variants (96 x 96, 2 stages)
from their fillers, a few iterations each, because one iteration of the full net costs minutes and 11 GB on a CPU. The
convert step still runs on the full nets (it checks the stand-in against CPM's deploy shapes). Its tables are a toy
run: the title says so.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field

from prototxt import path as prototxt_path


#: CPU costs of the full-size nets, measured on the 2-core development machine (README, "Reproducing the paper's
#: tables"): seconds per training iteration at batch 8, and per evaluated test frame.
CPU_SECONDS_PER_ITERATION = 84.0
CPU_SECONDS_PER_TEST_FRAME = 4.2
#: test frames of the authors' protocol (S9, S11 at 10 fps, four cameras)
TEST_FRAMES = 109_867
#: a full-size run on a CPU longer than this is refused unless asked for
CPU_LIMIT_HOURS = 2.0
#: the original CPM deploy prototxt of the MPI weights pose_iter_985000_addLEEDS.caffemodel, looked for beside them:
#: its name in the CPM release (model/_trained_MPI/) and the flattened name of the copy in ../shared/cpm
CPM_DEPLOY = ("pose_deploy_centerMap.prototxt", "model__trained_MPI_pose_deploy_centerMap.prototxt")


def find_cpm_prototxt(weights):
    """CPM's deploy prototxt beside ``weights`` (either name of :data:`CPM_DEPLOY`); ValueError naming both."""
    folder = os.path.dirname(os.path.abspath(weights))
    for name in CPM_DEPLOY:
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise ValueError(f"CPM_CAFFEMODEL {weights}: neither {' nor '.join(CPM_DEPLOY)} is beside it; give CPM's deploy "
                     "prototxt with --cpm-prototxt")
TOY_TITLE = ("TOY RUN, NOT THE PAPER'S NUMBERS: miniature release (4 short sequences made from the 4-frame fixture), "
             "random stand-in CPM weights, small nets trained {iterations} iterations")


@dataclass
class Sizes:
    """What a researcher sizes: subjects, frame step, iterations (or a fraction of the solver's schedule), the
    snapshot to evaluate, GPUs; and the nets (``full`` or the CPU ``small`` variant)."""
    train_subjects: list = field(default_factory=lambda: ["S1", "S5", "S6", "S7", "S8"])
    test_subjects: list = field(default_factory=lambda: ["S9", "S11"])
    step: int = 5
    iterations: int | None = None  # None: the solver's max_iter (or `fraction` of it)
    fraction: float | None = None
    snapshot: int | None = None  # None: the last iteration trained
    gpus: str | None = None
    nets: str = "full"
    basis: int = 24
    fit_step: int = 1
    workers: int = 2
    force_fit: bool = False


@dataclass
class Step:
    name: str
    argv: object  # list of arguments after `lifting`, or a callable returning it (None: nothing to do)
    done: object  # callable -> bool (skip) or a path whose existence means done
    note: str = ""


def max_iter(solver=None):
    from .train_h36m import SHIPPED_SOLVER

    with open(solver or SHIPPED_SOLVER) as f:
        for line in f:
            if line.strip().startswith("max_iter:"):
                return int(line.split(":")[1])
    raise ValueError(f"{solver or SHIPPED_SOLVER}: no max_iter")


def target_iterations(sizes):
    total = max_iter()
    if sizes.iterations is not None:
        return min(int(sizes.iterations), total)
    if sizes.fraction is not None:
        return max(1, int(round(total * float(sizes.fraction))))
    return total


def cpu_hours(sizes):
    """Estimated hours of the training (both nets) and test evaluation (three nets) on this CPU."""
    train = 2 * target_iterations(sizes) * CPU_SECONDS_PER_ITERATION / 3600
    frames = TEST_FRAMES * (len(sizes.test_subjects) / 2) * (5 / sizes.step)
    return train, 3 * frames * CPU_SECONDS_PER_TEST_FRAME / 3600


def _dataset_complete(folder):
    from lifting.dataset import MANIFEST
    from lifting.files import read_json

    path = os.path.join(folder, MANIFEST)
    return os.path.exists(path) and bool(read_json(path).get("complete"))


def _snapshots(folder):
    import glob

    out = {}
    for p in glob.glob(os.path.join(glob.escape(folder), "snap_iter_*.solverstate")):
        m = re.search(r"snap_iter_(\d+)\.solverstate$", p)
        if m:
            out[int(m.group(1))] = p
    return out


def authors_test_set(sizes):
    """Is the test set the authors' (S9 and S11 at their frame step), so that ``--protocol authors-test`` applies?"""
    return sorted(sizes.test_subjects) == ["S11", "S9"] and sizes.step == 5


def plan(work, root, cameras, cpm_weights, cpm_prototxt, sizes, cpm_order="mpi", lifting=None, title=None):
    """The chain's steps for a release at ``root`` (official layout) with ``cameras`` and the CPM weights."""
    lifting = lifting or lifting_command()
    w = lambda *p: os.path.join(work, *p)  # noqa: E731
    iters = target_iterations(sizes)
    snap = sizes.snapshot if sizes.snapshot is not None else iters
    gpu = ["--gpu", sizes.gpus] if sizes.gpus else []
    eval_gpu = ["--gpu", sizes.gpus.split(",")[0]] if sizes.gpus else []
    steps = []
    # the authors' conventions, stated on the command lines even where they are the defaults (README, "The
    # authors' protocol"): their crop, their test frames, no augmentation
    prep_extra = ["--crop", "authors"]
    test_extra = ["--protocol", "authors-test"]
    train_extra = ["--augment", "authors"]
    steps.append(Step("prepare train set", ["h36m-prepare", root, "--cameras", cameras, "--subjects",
                                            ",".join(sizes.train_subjects), "--step", str(sizes.step), "--out",
                                            w("train")] + prep_extra, lambda f=w("train"): _dataset_complete(f)))
    if authors_test_set(sizes):  # their frames: S9 then S11, every 5th, their skipped camera and cut
        test_argv = ["h36m-prepare", root, "--cameras", cameras, "--out", w("test")] + prep_extra + test_extra
        test_note = "the authors' test frames"
    else:
        test_argv = ["h36m-prepare", root, "--cameras", cameras, "--subjects", ",".join(sizes.test_subjects),
                     "--step", str(sizes.step), "--out", w("test")] + prep_extra
        test_note = "sized test set: not the authors' test frames (those need --test-subjects S9,S11 and --step 5)"
    steps.append(Step("prepare test set", test_argv, lambda f=w("test"): _dataset_complete(f), test_note))
    for k in (1, 3):
        out = w(f"k{k}_model.h5")
        steps.append(Step(f"fit K={k} model", ["fit", "--h36m-cdf", root, "--subjects", ",".join(sizes.train_subjects),
                                              "--step", str(sizes.fit_step), "-J", str(sizes.basis), "-K", str(k),
                                              "-o", out, "--checkpoint", w(f"k{k}_model.checkpoint.npz")]
                          + (["--force"] if sizes.force_fit else []), out))
    for net in ("lifting", "cpm"):
        out = w(f"{net}_init.caffemodel")
        steps.append(Step(f"convert CPM -> {net}", ["convert-cpm", "--cpm-prototxt", cpm_prototxt, "--cpm-weights",
                                                    cpm_weights, "--joint-order", cpm_order, "--target",
                                                    prototxt_path(f"{net}_h36m_full_train.prototxt"), "-o", out],
                          out))
    for net in ("lifting", "cpm"):
        folder = w(f"train_{net}")
        final = os.path.join(folder, f"snap_iter_{iters}.caffemodel")

        def train_argv(net=net, folder=folder):
            snaps = {i: p for i, p in _snapshots(folder).items() if i <= iters}
            base = ["train", "--data", w("train"), "--net", net, "--out", folder, "--workers", str(sizes.workers)]
            base += gpu + train_extra
            if sizes.nets == "small":
                base += ["--prototxt", prototxt_path(f"{net}_h36m_small_train.prototxt"), "--snapshot", "0"]
            if snaps:
                last = max(snaps)
                return base + ["--resume", snaps[last], "--iterations", str(iters - last)]
            if sizes.nets == "full":
                base += ["--weights", w(f"{net}_init.caffemodel")]
            return base + ["--iterations", str(iters)]

        steps.append(Step(f"train {net} net", train_argv, final,
                          "small net (96 x 96, 2 stages) from its fillers" if sizes.nets == "small" else ""))
    runs = []
    for net, model, label in (("lifting", 3, "ours, extended net, K=3"), ("lifting", 1, "ours, extended net, K=1"),
                              ("cpm", 3, "baseline CPM + lift, K=3"), (None, 3, "true 2D + lift, K=3"),
                              (None, 1, "true 2D + lift, K=1")):
        out = w(f"eval_{net or 'gt'}_k{model}")
        argv = ["evaluate-images", "--data", w("test"), "--out", out, "--label", label, "--model",
                w(f"k{model}_model.h5")]
        if net is None:
            argv += ["--2d", "gt"]
        else:
            argv += ["--net", net, "--weights", w(f"train_{net}", f"snap_iter_{snap}.caffemodel")] + eval_gpu
            if sizes.nets == "small":
                argv += ["--prototxt", prototxt_path(f"{net}_h36m_small_deploy.prototxt")]
        steps.append(Step(f"evaluate {label}", argv, os.path.join(out, "results.md")))
        runs.append(f"{label}={out}")
    stem = w("paper_tables")
    steps.append(Step("paper tables", ["paper-tables", "--out", stem, "--title",
                                       title or f"Human3.6M reproduction ({iters} iterations, snapshot {snap})"]
                      + [a for r in runs for a in ("--run", r)], stem + ".json"))
    return steps


def lifting_command():
    """The ``lifting`` command of this interpreter (its venv)."""
    exe = os.path.join(os.path.dirname(sys.executable), "lifting")
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "lifting_cli.main"]


def _done(step):
    return step.done() if callable(step.done) else os.path.exists(step.done)


def run_steps(steps, work, lifting=None, log=print):
    """Run the steps in order (skipping those done); returns the records ``{step, command, status, wall_s,
    peak_rss_mib}``, also written to ``WORK/steps.json``; a failing step raises ``StepFailed``."""
    from lifting.files import atomic_write_json

    lifting = lifting or lifting_command()
    os.makedirs(work, exist_ok=True)
    logfile = os.path.join(work, "reproduce.log")
    records_path = os.path.join(work, "steps.json")
    records = []

    def note(text):
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}"
        if log:
            log(line)
        with open(logfile, "a") as f:
            f.write(line + "\n")

    for i, step in enumerate(steps, 1):
        head = f"[{i}/{len(steps)}] {step.name}"
        if _done(step):
            note(f"{head}: skipped (done: {step.done if not callable(step.done) else 'output complete'})")
            records.append({"step": step.name, "status": "skipped"})
            continue
        argv = step.argv() if callable(step.argv) else step.argv
        command = shlex.join(["lifting"] + [str(a) for a in argv])
        note(f"{head}: {command}" + (f"  ({step.note})" if step.note else ""))
        t0 = time.monotonic()
        proc = subprocess.Popen(lifting + [str(a) for a in argv])
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except KeyboardInterrupt:
            from lifting.errors import Interrupted

            proc.wait()  # the step handles Ctrl-C itself (snapshot, checkpoint) and says how it stopped
            note(f"{head}: interrupted")
            raise Interrupted(f"stopped in step {i} ({step.name}); run the same command again to resume: the steps "
                              f"done are skipped and this one continues from what it saved (log: {logfile})") from None
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - t0
        rec = {"step": step.name, "command": command, "status": "ok" if proc.returncode == 0 else "failed",
               "exit_code": proc.returncode, "wall_s": round(wall, 1), "peak_rss_mib": round(usage.ru_maxrss / 1024)}
        records.append(rec)
        atomic_write_json(records_path, records)
        note(f"{head}: exit {proc.returncode}, {wall:.1f} s, peak memory {rec['peak_rss_mib']} MiB")
        if proc.returncode == 1:  # the step's own Ctrl-C handling said what it saved
            from lifting.errors import Interrupted

            raise Interrupted(f"stopped in step {i} ({step.name}); run the same command again to resume: the steps "
                              f"done are skipped and this one continues from what it saved (log: {logfile})")
        if proc.returncode != 0:
            raise StepFailed(f"step {i} ({step.name}) failed with exit code {proc.returncode}: {command}; fix what "
                             f"its message says and run the same reproduce command again (done steps are skipped; "
                             f"log: {logfile})", proc.returncode)
    atomic_write_json(records_path, records)
    return records


class StepFailed(RuntimeError):
    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def check_tables(stem, labels, toy=True):
    """The checks CI makes on a finished run's ``STEM.{md,json,csv,png}``: Table 1 (P1 and P2), Table 2 and Figure 3
    present with a row per run, every run's frame and failed-frame counts shown, its summary readable
    (:meth:`lifting.image_eval.RunSummary.from_json`), no NaN or inf anywhere, and (``toy``)
    the toy-run label in the title. Returns a list of problems (empty: all good)."""
    from lifting.image_eval import RunSummary

    problems = []
    for ext in (".md", ".csv", ".json", ".png"):
        if not os.path.exists(stem + ext) or os.path.getsize(stem + ext) == 0:
            problems.append(f"{stem}{ext}: missing or empty")
    if problems:
        return problems
    texts = {}
    for ext in (".md", ".csv", ".json"):
        with open(stem + ext, encoding="utf-8") as f:
            texts[ext] = f.read()
    md, csv_text = texts[".md"], texts[".csv"]
    for text, where in ((md, ".md"), (csv_text, ".csv")):
        low = text.lower()
        for bad in ("nan", "inf"):
            if re.search(rf"(?<![a-z]){bad}(?![a-z])", low):
                problems.append(f"{stem}{where}: holds {bad!r}")
    try:
        js = json.loads(texts[".json"])  # json.loads accepts NaN: look for it in the text too
    except ValueError as e:
        return problems + [f"{stem}.json: not JSON ({e})"]
    if "NaN" in texts[".json"] or "Infinity" in texts[".json"]:
        problems.append(f"{stem}.json: holds NaN or Infinity")
    for heading in ("## Table 1", "## The same, protocol 2", "## Table 2", "## Figure 3"):
        if heading not in md:
            problems.append(f"{stem}.md: no section {heading!r}")
    for label in labels:
        for metric, table in (("MPJPE (P1)", "Table 1"), ("P-MPJPE (P2)", "protocol 2")):
            # a row names its frame count and failed-frame count: "| LABEL: MPJPE (P1), 21 frames, 0 failed |"
            if not re.search(rf"^\| {re.escape(label)}: {re.escape(metric)}, \d+ frames, \d+ failed \|", md, re.M):
                problems.append(f"{stem}.md: {table} has no row {label!r} with its frame and failed counts")
        frames = js.get("frames", {}).get(label)
        if not (isinstance(frames, list) and len(frames) == 2 and frames[0] > 0 and frames[1] is not None):
            problems.append(f"{stem}.json: no frame / failed-frame count for {label!r} (got {frames!r})")
        try:  # the run's summary reads back into its record (every field there, of its type)
            RunSummary.from_json(js.get("runs", {}).get(label), f"{stem}.json: runs[{label!r}]")
        except ValueError as e:
            problems.append(str(e))
        if not label.startswith("true 2D") and f"{label}: argmax of the last stage" not in md:
            problems.append(f"{stem}.md: Table 2 has no row for {label!r}")
    if "not lifted" not in md and "failed" not in md:
        problems.append(f"{stem}.md: the failed (not lifted) frame counts are not shown")
    if toy and "TOY RUN" not in md.splitlines()[0]:
        problems.append(f"{stem}.md: the title does not say it is a toy run")
    return problems


LABELS = ("ours, extended net, K=3", "ours, extended net, K=1", "baseline CPM + lift, K=3", "true 2D + lift, K=3",
          "true 2D + lift, K=1")
