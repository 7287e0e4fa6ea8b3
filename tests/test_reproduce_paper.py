"""scripts/reproduce_paper.sh (a thin wrapper of `lifting reproduce`): bad arguments and missing inputs are refused at
once, naming what is missing, before anything runs; the full schedule on a CPU-only build is refused with the time it
would take; and `--miniature` runs the whole chain (release, stand-in weights, prepare, fit K=1/K=3, convert, train
both nets, five evaluations, paper tables) to tables that pass CI's checks, then resumes by skipping every step."""
import json
import os
import subprocess
import sys

import pytest

from tests.helpers import shared_path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "reproduce_paper.sh")
ENV = {**os.environ, "GLOG_minloglevel": "2", "PYTHONPATH": ROOT,
       "LIFTING": os.path.join(os.path.dirname(sys.executable), "lifting")}


def run(*args, cwd, timeout=120):
    return subprocess.run(["bash", SCRIPT, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=ENV)


def test_usage_and_missing_inputs(tmp_path):
    r = run(cwd=tmp_path)
    assert r.returncode == 2 and "usage: " in r.stderr and "--miniature | H36M_ROOT CPM_CAFFEMODEL" in r.stderr
    r = run(str(tmp_path), "--gpu", cwd=tmp_path)
    assert r.returncode == 2 and "--gpu: expected one argument" in r.stderr
    r = run(str(tmp_path), cwd=tmp_path)
    assert r.returncode == 2 and "give H36M_ROOT and CPM_CAFFEMODEL" in r.stderr
    for s in ("S1", "S5", "S6", "S7", "S8", "S9"):
        (tmp_path / s).mkdir()
    r = run(str(tmp_path), str(tmp_path / "w.caffemodel"), cwd=tmp_path)
    assert r.returncode == 2 and f"H36M_ROOT (S11) {tmp_path}/S11: no such folder" in r.stderr, r.stderr
    (tmp_path / "S11").mkdir()
    r = run(str(tmp_path), str(tmp_path / "w.caffemodel"), cwd=tmp_path)
    assert r.returncode == 2 and "pose_deploy_centerMap.prototxt nor model__trained_MPI_pose_deploy_centerMap" \
        in r.stderr, r.stderr
    (tmp_path / "pose_deploy_centerMap.prototxt").write_text("")
    r = run(str(tmp_path), str(tmp_path / "w.caffemodel"), cwd=tmp_path)
    assert r.returncode == 2 and f"--cameras {tmp_path}/cameras.h5: no such file" in r.stderr, r.stderr
    r = run("--miniature", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 2 and "--miniature makes its own release" in r.stderr
    assert not (tmp_path / "runs").exists()  # nothing ran


def test_the_full_schedule_on_a_cpu_is_refused_with_its_time(tmp_path):
    for s in ("S1", "S5", "S6", "S7", "S8", "S9", "S11"):
        (tmp_path / s).mkdir()
    for f in ("cameras.h5", "w.caffemodel", "pose_deploy_centerMap.prototxt"):
        (tmp_path / f).write_text("")
    r = run(str(tmp_path), str(tmp_path / "w.caffemodel"), cwd=tmp_path)
    # 2 nets x 172,980 iterations x 84 s = 8,072 h; 3 x 109,867 frames x 4.2 s = 385 h
    assert r.returncode == 2 and "about 8,072 h of training (2 nets x 172,980 iterations" in r.stderr, r.stderr
    assert "385 h of evaluation" in r.stderr and "--cpu-anyway" in r.stderr
    r = run(str(tmp_path), str(tmp_path / "w.caffemodel"), "--fraction", "0.5", cwd=tmp_path)
    assert r.returncode == 2 and "about 4,036 h of training (2 nets x 86,490 iterations" in r.stderr
    assert not (tmp_path / "runs").exists()


def test_miniature_runs_the_whole_chain_and_resumes(tmp_path):
    """The toy run: every step's output, CI's checks of the tables, per-step time and memory, then a rerun that skips
    every step."""
    from tools.reproduce import LABELS, check_tables

    shared_path("data", "h36m_fixture")
    work = tmp_path / "mini"
    r = run("--miniature", "--work", str(work), cwd=tmp_path, timeout=1500)
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
    assert "checked: " in r.stdout and "RANDOM" in r.stdout
    stem = str(work / "paper_tables")
    assert check_tables(stem, LABELS) == []
    md = open(stem + ".md").read()
    assert md.startswith("# TOY RUN, NOT THE PAPER'S NUMBERS")
    steps = json.load(open(work / "steps.json"))
    assert [s["step"] for s in steps][:4] == ["miniature release", "stand-in CPM weights (RANDOM)",
                                              "prepare train set", "prepare test set"]
    assert len(steps) == 16 and all(s["status"] == "ok" and s["wall_s"] > 0 and s["peak_rss_mib"] > 0 for s in steps)
    assert sorted(f for f in os.listdir(work / "train_lifting") if f.endswith(".caffemodel")) == [
        "snap_iter_4.caffemodel"]
    again = run("--miniature", "--work", str(work), cwd=tmp_path, timeout=300)
    assert again.returncode == 0 and again.stdout.count(": skipped (done") == 16, again.stdout[-3000:]
    # the checker itself fails on a damaged table
    text = open(stem + ".md").read().replace("| baseline CPM + lift, K=3: MPJPE (P1), 21 frames, 0 failed |", "| x |")
    open(stem + ".md", "w").write(text.replace("TOY RUN", "RUN"))
    problems = check_tables(stem, LABELS)
    assert any("Table 1 has no row 'baseline CPM" in p for p in problems) and any("toy run" in p for p in problems)


def test_checker_finds_nan_and_missing_counts(tmp_path):
    from tools.reproduce import check_tables

    stem = str(tmp_path / "t")
    for ext in (".md", ".csv", ".png"):
        open(stem + ext, "w").write("# TOY RUN\n| a: MPJPE (P1) | nan |\n")
    open(stem + ".json", "w").write(json.dumps({"frames": {"a": [3, None]}}))
    problems = check_tables(stem, ["a"])
    assert any("holds 'nan'" in p for p in problems) and any("failed-frame count for 'a'" in p for p in problems)
    assert f"{stem}.json: runs['a']: expected a JSON object with the fields ['frames', " in "\n".join(problems)
    assert any("no section '## Table 2'" in p for p in problems)
    os.unlink(stem + ".png")
    assert check_tables(stem, ["a"]) == [f"{stem}.png: missing or empty"]


@pytest.mark.parametrize("argv, message", [
    (["--miniature", "--gpu", "0"], "--gpu: --miniature makes its own release"),
    (["--miniature", "--iterations", "0"], "--iterations"),
])
def test_reproduce_argument_errors(argv, message, capsys):
    from lifting_cli.main import main

    try:
        code = main(["reproduce", *argv])
    except SystemExit as e:  # argparse's own refusals
        code = e.code
    assert code == 2 and message in capsys.readouterr().err


def test_plan_passes_the_authors_conventions_and_the_sizes(tmp_path):
    """The authors' conventions (h36m-prepare --crop authors, --protocol authors-test for the test set, train --augment
    authors) are on every command line that takes them; the sizes reach every step."""
    from tools.reproduce import Sizes, plan

    sizes = Sizes(train_subjects=["S1"], test_subjects=["S9"], step=10, iterations=7, snapshot=5, gpus="0,1")
    steps = {s.name: (s.argv() if callable(s.argv) else s.argv) for s in
             plan(str(tmp_path / "w"), "/r", "/r/c.h5", "/c/w.caffemodel", "/c/p.prototxt", sizes, lifting=["lifting"])}
    assert steps["prepare train set"][-2:] == ["--crop", "authors"]
    test = steps["prepare test set"]  # a sized test set (S9 alone, step 10) cannot be the authors' frames
    assert "--protocol" not in test and test[test.index("--subjects") + 1] == "S9"
    assert test[test.index("--step") + 1] == "10"
    authors = {s.name: s.argv for s in plan(str(tmp_path / "w"), "/r", "/r/c.h5", "/c/w.caffemodel", "/c/p.prototxt",
                                           Sizes(), lifting=["lifting"])}
    assert authors["prepare test set"][-4:] == ["--crop", "authors", "--protocol", "authors-test"]
    assert "--subjects" not in authors["prepare test set"] and "--step" not in authors["prepare test set"]
    for net in ("lifting", "cpm"):
        train = steps[f"train {net} net"]
        assert train[train.index("--augment") + 1] == "authors" and train[train.index("--gpu") + 1] == "0,1"
        assert train[-2:] == ["--iterations", "7"] and "--weights" in train
    ev = steps["evaluate ours, extended net, K=3"]
    assert ev[ev.index("--weights") + 1].endswith("train_lifting/snap_iter_5.caffemodel") and ev[-2:] == ["--gpu", "0"]


def test_run_steps_skips_what_is_done_times_each_step_and_stops_on_failure(tmp_path):
    """A step whose output exists is skipped; a step that exits 1 (a command's Ctrl-C) stops the chain as interrupted,
    one that exits 2 as failed, naming the step and its command; steps.json records wall time and peak memory."""
    from lifting.errors import Interrupted
    from tools.reproduce import Step, StepFailed, run_steps

    fake = tmp_path / "fake_lifting"
    fake.write_text("#!/bin/sh\ncase \"$1\" in touch) touch \"$2\";; fail) exit \"$2\";; esac\n")
    fake.chmod(0o755)
    done, made = tmp_path / "done", tmp_path / "made"
    done.write_text("")
    steps = [Step("already there", ["touch", str(done)], str(done)), Step("make", ["touch", str(made)], str(made))]
    records = run_steps(steps, str(tmp_path / "w"), lifting=[str(fake)], log=None)
    assert [r["status"] for r in records] == ["skipped", "ok"] and made.exists()
    assert records[1]["wall_s"] >= 0 and records[1]["peak_rss_mib"] >= 0 and records[1]["command"] == \
        f"lifting touch {made}"
    with pytest.raises(Interrupted, match=r"stopped in step 1 \(train\); run the same command again to resume"):
        run_steps([Step("train", ["fail", "1"], str(tmp_path / "never"))], str(tmp_path / "w"), lifting=[str(fake)],
                  log=None)
    with pytest.raises(StepFailed, match=r"step 1 \(evaluate\) failed with exit code 2: lifting fail 2"):
        run_steps([Step("evaluate", ["fail", "2"], str(tmp_path / "never"))], str(tmp_path / "w"),
                  lifting=[str(fake)], log=None)
    log = open(tmp_path / "w" / "reproduce.log").read()
    assert "[1/2] already there: skipped" in log and "[1/1] evaluate: exit 2" in log
