"""Bad input never loses data, never aborts the process, never passes as a result (issue 14).

One table per class of the issue's measurements: an input overwritten; the process aborted inside Caffe; a wrong
result with exit 0; a raw traceback; a cryptic message; invalid JSON outputs. Every refusal must exit 2 with one
line naming the file or option and the problem, leave every input as it was and print no traceback. The cases that
once aborted inside Caffe run in a subprocess, so that a regression fails its test instead of killing the suite.
"""
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from lifting.geometry import project, rotate_ground
from lifting.model import load_model
from lifting.synthetic import make_model, sample_poses
from lifting_cli.main import main
from tests.helpers import interrupted_after
from tests.model_fitting.test_readers import write_amc, write_asf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROTO = os.path.join(ROOT, "prototxt")
GLOG_LINE = re.compile(r"^[IWEF]\d{4}", re.M)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Small valid inputs of every subcommand, made once: a 1-component model, 2D keypoints, 3D poses, a Human3.6M
    npz (S1, S9), a CMU-style ASF/AMC folder and random weights of the small nets."""
    d = tmp_path_factory.mktemp("inputs")
    m = make_model(K=1, J=3, seed=2)
    m.save(d / "model.h5")
    canon, _, theta, _ = sample_poses(m, 300, seed=3)
    y = project(rotate_ground(canon, theta), scale=200, offset=(300, 300))
    np.save(d / "kp.npy", y[:5])
    (d / "kp.json").write_text(json.dumps({"keypoints": y[:5].tolist()}))
    mm = rotate_ground(canon, theta) * 1000.0
    np.save(d / "poses.npy", mm)
    x, yy, z = mm[..., 0], mm[..., 1], mm[..., 2]  # the shared file's layout: z up, mirrored
    np.savez(d / "h36m.npz", positions_17=np.stack([-x, -z, yy], -1).astype(np.float32),
             subject=np.repeat(["S1", "S9"], 150), action=np.full(300, "walking_1"))
    (d / "cmu").mkdir()
    write_asf(d / "cmu" / "t.asf")
    write_amc(d / "cmu" / "t_01.amc", [{"lfemur": [a, 0, 0], "rfemur": [-a, 0, 0]} for a in range(0, 40, 4)])
    (d / "cam.json").write_text(json.dumps({"R": np.eye(3).tolist()}))
    (d / "p.mat").write_bytes(b"MATLAB 5.0 MAT-file" + bytes(200))
    return d


@pytest.fixture(scope="module")
def weights(inputs):
    """Random weights of the small deploy/train nets (lifting and plain CPM)."""
    import caffe

    out = {}
    for name in ("lifting_h36m_small_deploy", "lifting_h36m_small_train", "cpm_h36m_small_deploy"):
        out[name] = str(inputs / f"{name}.caffemodel")
        caffe.Net(os.path.join(PROTO, f"{name}.prototxt"), caffe.TEST).save(out[name])
    return out


@pytest.fixture
def work(tmp_path, inputs):
    """A private copy of the inputs (a case may try to overwrite them)."""
    shutil.copytree(inputs, tmp_path, dirs_exist_ok=True)
    return tmp_path


def run(argv, capsys):
    """``lifting argv`` in this process: (exit code, stdout, stderr)."""
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as e:
        rc = e.code
    out, err = capsys.readouterr()
    return rc, out, err


def assert_refused(rc, err, pattern):
    """Exit 2, no traceback, and a last line ``lifting <cmd>: error: ...`` that matches ``pattern``."""
    last = err.strip().splitlines()[-1] if err.strip() else ""
    assert rc == 2, err
    assert "Traceback" not in err and "Check failed" not in err, err
    assert re.match(r"lifting [a-z0-9-]+: error: ", last) and re.search(pattern, last), last


def refused_case(table, case, work, capsys):
    """Run a ``{case: (setup(d) or None, argv, pattern)}`` row in ``work``; it must be refused. Returns stdout."""
    setup, argv, pattern = table[case]
    if setup:
        setup(work)
    rc, out, err = run(expand(argv, work), capsys)
    assert_refused(rc, err, pattern)
    return out


def expand(argv, d):
    return [str(a).replace("{d}", str(d)) for a in argv]


def snapshot(d):
    return {p: p.read_bytes() for p in d.rglob("*") if p.is_file()}


FIT = ["fit", "--poses", "{d}/poses.npy", "-J", "3", "-K", "1", "--final-iterations", "2", "--em-iterations", "2"]


def lift(path):
    return ["lift", path, "--model", "{d}/model.h5"]


LIFT = lift("{d}/kp.json")

# ---- class 1: an input overwritten ------------------------------------------------------------------------------
OVERWRITE = {
    "lift -o the input": (LIFT + ["-o", "{d}/kp.json"], r"-o .*kp.json is also the input INPUT"),
    "lift --plot the input": (LIFT + ["-o", "{d}/o.json", "--plot", "{d}/kp.json"], r"--plot .*is also the input"),
    "lift -o the camera": (LIFT + ["--camera", "{d}/cam.json", "-o", "{d}/cam.json"], r"also the input --camera"),
    "lift -o a link to the input": (LIFT + ["-o", "{d}/link.json"], r"link.json is also the input INPUT"),
    "lift -o and --plot one file": (LIFT + ["-o", "{d}/o.json", "--plot", "{d}/o.json"], r"name the same file"),
    "fit -o the poses": (FIT + ["-o", "{d}/poses.npy"], r"-o .*poses.npy is also the input --poses"),
    "fit --report the poses": (FIT + ["-o", "{d}/m.h5", "--report", "{d}/poses.npy"], r"--report .*also the input"),
    "fit --checkpoint the poses": (FIT + ["-o", "{d}/m.h5", "--checkpoint", "{d}/poses.npy"], r"--checkpoint .*also"),
    "fit -o an AMC": (["fit", "--cmu", "{d}/cmu", "-o", "{d}/cmu/t_01.amc"], r"also the input --cmu"),
    "import-authors-model -o the mat": (["import-authors-model", "{d}/p.mat", "-o", "{d}/p.mat"],
                                        r"also the input MAT"),
    "evaluate -o over its cameras": (["evaluate", "--model", "m={d}/model.h5", "--h36m-npz", "{d}/h36m.npz",
                                      "--cameras", "{d}/cam.json", "-o", "{d}/cam"], r"cam.json is also the input"),
    "convert-cpm -o the weights": (["convert-cpm", "--cpm-prototxt", f"{PROTO}/cpm_h36m_small_deploy.prototxt",
                                    "--cpm-weights", "{d}/p.mat", "-o", "{d}/p.mat"], r"also the input --cpm-weights"),
    "estimate over its image": (["estimate", "{d}/out/photo.png", "--weights", "{d}/p.mat", "--out", "{d}/out"],
                                r"photo.png is also the input INPUT"),
    "train over its prototxt": (["train", "--h36m-npz", "{d}/h36m.npz", "--prototxt", "{d}/run/solver.prototxt",
                                 "--out", "{d}/run"], r"solver.prototxt is also the input --prototxt"),
}


@pytest.mark.parametrize("case", OVERWRITE)
def test_no_input_is_ever_overwritten(case, work, capsys):
    (work / "link.json").symlink_to(work / "kp.json")
    (work / "out").mkdir()
    (work / "out" / "photo.png").write_bytes(b"\x89PNG not really")
    (work / "run").mkdir()
    (work / "run" / "solver.prototxt").write_text('net: "x"\n')
    before = snapshot(work)
    argv, pattern = OVERWRITE[case]
    rc, _, err = run(expand(argv, work), capsys)
    assert_refused(rc, err, pattern)
    assert snapshot(work) == before  # nothing changed, nothing added


# ---- class 2: the process aborted inside Caffe ------------------------------------------------------------------
def _solverstate(path, learned_net, shapes):
    from caffe.proto import caffe_pb2

    st = caffe_pb2.SolverState(iter=2, learned_net=str(learned_net))
    for s in shapes:
        st.history.add().shape.dim.extend(s)
    path.write_bytes(st.SerializeToString())


def _caffe_files(d, weights):
    import caffe

    from tools.caffe_files import param_shapes

    net = caffe.Net(os.path.join(PROTO, "lifting_h36m_small_train.prototxt"), caffe.TEST)
    shapes = [s for blobs in param_shapes(net).values() for s in blobs]
    _solverstate(d / "other.solverstate", weights["lifting_h36m_small_train"], shapes[:3])
    _solverstate(d / "moved.solverstate", d / "gone.caffemodel", shapes)
    raw = open(weights["lifting_h36m_small_deploy"], "rb").read()
    (d / "truncated.caffemodel").write_bytes(raw[: len(raw) // 3])
    (d / "truncated.solverstate").write_bytes(b"\x08\x05\x12\x10abc")
    text = open(os.path.join(PROTO, "lifting_h36m_small_deploy.prototxt")).read()
    (d / "unwired.prototxt").write_text(text.replace('bottom: "pool1_stage1"', 'bottom: "pool9_stage1"', 1))
    (d / "garbage.prototxt").write_text("layer { nonsense }\n")


TRAIN = ["train", "--h36m-npz", "{d}/h36m.npz", "--subjects", "S1", "--iterations", "2", "--out", "{d}/run"]
ESTIMATE = ["estimate", "{d}/img.png", "--out", "{d}/est", "--no-plot"]
SMALL_DEPLOY = os.path.join(PROTO, "lifting_h36m_small_deploy.prototxt")
CAFFE = {
    "estimate: small-net weights on the full net": (ESTIMATE + ["--weights", "{lifting_h36m_small_deploy}"],
                                                    r"28 of the 45 parameter layers .* are missing"),
    "estimate: a truncated caffemodel": (ESTIMATE + ["--weights", "{d}/truncated.caffemodel", "--prototxt",
                                                     SMALL_DEPLOY], r"truncated.caffemodel: .*truncated"),
    "estimate: a prototxt whose bottom nobody makes": (ESTIMATE + ["--weights", "{lifting_h36m_small_deploy}",
                                                                   "--prototxt", "{d}/unwired.prototxt"],
                                                       r"takes bottom 'pool9_stage1', which no input"),
    "train --resume: a missing file": (TRAIN + ["--resume", "{d}/nope.solverstate"], r"--resume .*: no such file"),
    "train --resume: a truncated file": (TRAIN + ["--resume", "{d}/truncated.solverstate"], r"truncated or not a"),
    "train --resume: a caffemodel": (TRAIN + ["--resume", "{lifting_h36m_small_train}"], r"not a Caffe solverstate"),
    "train --resume: the state of another net": (TRAIN + ["--resume", "{d}/other.solverstate"],
                                                 r"holds 3 history blobs, .* has 33"),
    "train --resume: its weights file moved": (TRAIN + ["--resume", "{d}/moved.solverstate"],
                                               r"gone.caffemodel \(field 'learned_net'\) does not exist"),
    "train --weights: another net": (TRAIN + ["--weights", "{cpm_h36m_small_deploy}"],
                                     r"1 of the 17 parameter layers .* missing \(merge_hm_stage1\)"),
    "convert-cpm: a garbage prototxt": (["convert-cpm", "--cpm-prototxt", "{d}/garbage.prototxt", "--cpm-weights",
                                         "{cpm_h36m_small_deploy}", "-o", "{d}/x.caffemodel"],
                                        r"garbage.prototxt: not a valid net prototxt \(1:9"),
}


@pytest.mark.parametrize("case", CAFFE)
def test_no_file_reaches_caffe_unchecked(case, work, weights, capsys):
    import cv2

    _caffe_files(work, weights)
    cv2.imwrite(str(work / "img.png"), np.full((120, 100, 3), 128, np.uint8))
    argv, pattern = CAFFE[case]
    argv = [a.format(**weights) for a in expand(argv, work)]
    env = {k: v for k, v in os.environ.items() if k != "GLOG_minloglevel"}  # the command line quiets Caffe itself
    p = subprocess.run([sys.executable, "-m", "lifting_cli.main", *argv], capture_output=True, text=True, env=env,
                       cwd=work, timeout=300)
    assert p.returncode == 2, p.stderr[-3000:]  # not 134 (abort) or 0 (a random net)
    assert_refused(p.returncode, p.stderr, pattern)
    assert not GLOG_LINE.search(p.stderr), p.stderr  # Caffe's log stays quiet without --verbose
    assert not (work / "est").exists() or not list((work / "est").iterdir())


def test_verbose_lets_caffe_log(work):
    env = {k: v for k, v in os.environ.items() if k != "GLOG_minloglevel"}
    argv = expand(TRAIN[:-4] + ["--iterations", "1", "--snapshot", "0"], work)
    quiet = subprocess.run([sys.executable, "-m", "lifting_cli.main", *argv, "--out", work / "q"], capture_output=True,
                           text=True, env=env)
    loud = subprocess.run([sys.executable, "-m", "lifting_cli.main", *argv, "--out", work / "v", "--verbose"],
                          capture_output=True, text=True, env=env)
    assert quiet.returncode == loud.returncode == 0, quiet.stderr + loud.stderr
    assert not GLOG_LINE.search(quiet.stderr) and "Solver scaffolding done" in loud.stderr


# ---- class 3: a wrong result with exit 0 -------------------------------------------------------------------------
def _csv(d, name, first="", header=None, bom=False):
    y = np.load(d / "kp.npy")
    rows = [",".join(f"{v:.4f}" for v in r) for r in y.reshape(5, -1)]
    if first is None:  # an empty first cell: the Hip x of frame 0 is missing
        rows[0] = "," + rows[0].split(",", 1)[1]
    text = "\n".join(([header] if header else []) + rows) + "\n"
    (d / name).write_bytes(("\ufeff" if bom else "").encode() + text.encode())


def test_csv_with_a_bom_or_an_empty_first_cell_keeps_every_frame(work, capsys):
    _csv(work, "bom.csv", bom=True)
    _csv(work, "empty.csv", first=None)
    ref = run(expand(lift("{d}/kp.npy") + ["-o", "{d}/ref.json"], work), capsys)
    assert ref[0] == 0
    expected = json.loads((work / "ref.json").read_text())["frames"]
    for name in ("bom.csv", "empty.csv"):
        rc, out, err = run(["lift", work / name, "--model", work / "model.h5", "-o", work / f"o_{name}.json"], capsys)
        assert rc == 0, err
        frames = json.loads((work / f"o_{name}.json").read_text())["frames"]
        assert len(frames) == 5 and all(f["status"] == "ok" for f in frames), out
        if name == "bom.csv":  # exactly the frames of the npy (to the CSV's 4 decimals)
            np.testing.assert_allclose([f["pose3d_mm"] for f in frames], [f["pose3d_mm"] for f in expected], atol=1)


SILENT = {
    "a header of column numbers": (lambda d: _csv(d, "h.csv", header=",".join(str(i) for i in range(34))),
                                   lift("{d}/h.csv") + ["-o", "{d}/o.json"], r"h.csv: line 1 holds the column"),
    "3D poses in mm as 2D + confidence": (lambda d: np.save(d / "p3.npy", np.load(d / "poses.npy")[:5]),
                                          lift("{d}/p3.npy") + ["-o", "{d}/o.json"],
                                          r"p3.npy: \d+ confidences lie outside \[0, 1\].*3D poses cannot be lifted"),
    "a confidence of 7": (lambda d: np.save(d / "c.npy", np.concatenate([np.load(d / "kp.npy"),
                                                                         np.full((5, 17, 1), 7.0)], -1)),
                          lift("{d}/c.npy") + ["-o", "{d}/o.json"], r"c.npy: 85 confidences .* \(first: 7 at"),
    "evaluate without data": (None, ["evaluate", "--model", "m={d}/model.h5", "-o", "{d}/ev"],
                              r"no data to evaluate on: give --h36m-npz"),
    "evaluate with one name twice": (None, ["evaluate", "--model", "m={d}/model.h5", "--model", "m={d}/model.h5",
                                            "--h36m-npz", "{d}/h36m.npz", "-o", "{d}/ev"],
                                     r"--model: the name 'm' is given twice"),
    "evaluate --cmu without motion files": (lambda d: (d / "nocmu").mkdir(exist_ok=True),
                                            ["evaluate", "--model", "m={d}/model.h5", "--h36m-npz", "{d}/h36m.npz",
                                             "--cmu", "{d}/nocmu", "-o", "{d}/ev"],
                                            r"--cmu .*nocmu: expected one .asf and at least one .amc "
                                            r"\(found 0 and 0\)"),
    "fit --step 1000000000": (None, FIT + ["--step", "1000000000", "-o", "{d}/m.h5"],
                              r"2 poses to fit \(after --step 1000000000\), fewer than J \+ 1 = 4"),
    "fit --step 0": (None, FIT + ["--step", "0", "-o", "{d}/m.h5"], r"argument --step: must be >= 1, got 0"),
    "fit --step -1": (None, FIT + ["--step", "-1", "-o", "{d}/m.h5"], r"argument --step: must be >= 1, got -1"),
    "fit --subjects ,": (None, ["fit", "--h36m-npz", "{d}/h36m.npz", "--subjects", ",", "-o", "{d}/m.h5"],
                         r"argument --subjects: names no subject"),
    "fit -K with components below J + 1": (None, ["fit", "--poses", "{d}/poses.npy", "-J", "8", "-K", "40",
                                                  "--final-iterations", "1", "--em-iterations", "2", "-o",
                                                  "{d}/m.h5"], r"components \[.*\] hold \[.*\] poses, fewer than J"),
    "a truncated AMC": (lambda d: (d / "cmu" / "t_01.amc").write_text(
        "\n".join((d / "cmu" / "t_01.amc").read_text().splitlines()[:-5]) + "\n"),
        ["fit", "--cmu", "{d}/cmu", "-o", "{d}/m.h5"], r"t_01.amc: frame 10 of 10 has no line for bone 'lhumerus'"),
}


@pytest.mark.parametrize("case", SILENT)
def test_a_wrong_result_is_refused(case, work, capsys):
    out = refused_case(SILENT, case, work, capsys)
    assert not {"o.json", "m.h5", "ev.json", "ev.md"} & set(os.listdir(work))  # nothing passes as a result
    if case.startswith("evaluate"):
        assert "MPJPE" not in out  # refused before any evaluation ran


def test_fit_force_writes_small_components_with_a_loud_warning(work, capsys):
    argv = ["fit", "--poses", work / "poses.npy", "-J", "8", "-K", "40", "--final-iterations", "1",
            "--em-iterations", "2", "-o", work / "m.h5", "--force"]
    rc, _, err = run(argv, capsys)
    assert rc == 0 and "WARNING: components" in err
    report = json.loads((work / "m.report.json").read_text())
    assert any(n < 9 for n in report["component_sizes"]) and "fewer than J + 1 = 9" in report["warnings"][0]
    assert load_model(work / "m.h5").num_basis == 8


def test_estimate_box_outside_the_image_or_not_finite(work, weights, capsys):
    import cv2

    cv2.imwrite(str(work / "img.png"), np.full((120, 100, 3), 128, np.uint8))
    argv = expand(ESTIMATE, work) + ["--weights", weights["lifting_h36m_small_deploy"], "--prototxt", SMALL_DEPLOY]
    rc, _, err = run(argv + ["--box", "500,500,10,10"], capsys)
    assert_refused(rc, err, r"img.png: person box .* lies outside the 100 x 120 image")
    rc, _, err = run(argv + ["--box", "nan,0,10,10"], capsys)
    assert_refused(rc, err, r"argument --box: expected x,y,w,h: four finite numbers")
    (work / "empty.caffemodel").write_bytes(b"")
    rc, _, err = run(expand(ESTIMATE, work) + ["--weights", work / "empty.caffemodel", "--prototxt", SMALL_DEPLOY],
                     capsys)
    assert_refused(rc, err, r"empty.caffemodel: file is empty")
    assert not (work / "est").exists() or not list((work / "est").iterdir())


# ---- class 4: a raw traceback --------------------------------------------------------------------------------------
TRACEBACK = {
    "-o in a missing folder": (None, LIFT + ["-o", "{d}/no/o.json"], r"-o .*: folder .*/no does not exist"),
    "-o a folder": (None, FIT + ["-o", "{d}/cmu"], r"-o .*cmu: is a folder; give a file name"),
    "-o where nothing can be written": (None, LIFT + ["-o", "/proc/lifting-test.json"],
                                        r"cannot write in folder /proc"),
    "fit -o in a missing folder, before fitting": (None, FIT + ["-o", "{d}/no/m.h5"], r"folder .*/no does not exist"),
    "evaluate -o in a missing folder": (None, ["evaluate", "--model", "m={d}/model.h5", "--h36m-npz",
                                               "{d}/h36m.npz", "-o", "{d}/no/ev"], r"folder .*/no does not exist"),
    "an empty .npy": (lambda d: (d / "e.npy").write_bytes(b""), lift("{d}/e.npy") + ["-o", "{d}/o.json"],
                      r"e.npy: not a readable .npy file \(empty, truncated"),
    "a truncated .npz": (lambda d: (d / "t.npz").write_bytes((d / "h36m.npz").read_bytes()[:500]),
                         ["fit", "--h36m-npz", "{d}/t.npz", "-o", "{d}/m.h5"], r"t.npz: not a readable .npz file"),
    "an empty .mat": (lambda d: (d / "e.mat").write_bytes(b""), ["import-authors-model", "{d}/e.mat", "-o",
                                                                  "{d}/m.h5"], r"e.mat: not a readable MATLAB file"),
    "a missing prototxt": (None, ["estimate", "{d}/kp.npy", "--weights", "{d}/model.h5", "--prototxt",
                                  "{d}/nope.prototxt", "--out", "{d}/est"], r"--prototxt .*nope.prototxt: no such"),
    "a folder as input": (lambda d: (d / "x.json").mkdir(), lift("{d}/x.json") + ["-o", "{d}/o.json"],
                          r"INPUT .*x.json: is a folder, not a file"),
    "train --iterations 0": (None, TRAIN[:-4] + ["--iterations", "0"], r"argument --iterations: must be in 1\.\."),
    "--angles 1000000000": (None, LIFT + ["-o", "{d}/o.json", "--angles", "1000000000"],
                            r"argument --angles: must be in 3\.\.10000"),
    "--noise-2d 0": (None, LIFT + ["-o", "{d}/o.json", "--noise-2d", "0"],
                     r"argument --noise-2d: must be a finite number in \(0, 1\], got 0"),
    "--noise-2d nan": (None, LIFT + ["-o", "{d}/o.json", "--noise-2d", "nan"],
                       r"argument --noise-2d: must be a finite number in \(0, 1\], got nan"),
    "--noise-2d word": (None, ["evaluate", "--model", "m={d}/model.h5", "--h36m-npz", "{d}/h36m.npz",
                               "--noise-2d", "high", "-o", "{d}/ev"], r"argument --noise-2d: expected a number"),
    "--plot-frame past the end": (None, LIFT + ["-o", "{d}/o.json", "--plot", "{d}/p.png", "--plot-frame", "5"],
                                  r"--plot-frame 5: out of range, .* holds frames 0\.\.4"),
}


@pytest.mark.parametrize("case", TRACEBACK)
def test_no_raw_traceback(case, work, capsys):
    if case.endswith("nothing can be written") and not os.path.isdir("/proc"):
        pytest.skip("no /proc on this system")
    out = refused_case(TRACEBACK, case, work, capsys)
    assert "fitting" not in out and "H36M" not in out  # refused before any work


def test_traceback_only_with_debug_and_a_bug_is_named_as_one(work, capsys, monkeypatch):
    argv = expand(lift("{d}/nope.json") + ["-o", "{d}/o.json"], work)
    rc, _, err = run(argv, capsys)
    assert rc == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    rc, _, err = run(argv + ["--debug"], capsys)
    assert rc == 2 and "Traceback" in err and err.strip().splitlines()[-1].startswith("lifting lift: error:")

    def broken(*a, **k):
        raise TypeError("boom")

    monkeypatch.setattr("lifting.files.read_keypoints", broken)
    rc, _, err = run(expand(LIFT + ["-o", "{d}/o.json"], work), capsys)
    assert rc == 3 and err.strip() == ("lifting lift: internal error (a bug, please report it): TypeError: boom; "
                                       "rerun with --debug for the traceback")


# ---- class 5: a cryptic message ------------------------------------------------------------------------------------
def _nan_amc(d):
    lines = (d / "cmu" / "t_01.amc").read_text().splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.startswith("lfemur"))
    lines[i] = "lfemur nan 0 0"
    (d / "cmu" / "t_01.amc").write_text("\n".join(lines) + "\n")
    return i + 1


CRYPTIC = {
    "a ragged CSV": (lambda d: (d / "r.csv").write_text(",".join(["1"] * 34) + "\n1,2,3\n"),
                     lift("{d}/r.csv") + ["-o", "{d}/o.json"], r"r.csv: line 2 holds 3 values where line 1"),
    "a text cell in a CSV": (lambda d: (d / "t.csv").write_text(",".join(["1"] * 34) + "\n" +
                                                                ",".join(["1"] * 33 + ["x1"]) + "\n"),
                             lift("{d}/t.csv") + ["-o", "{d}/o.json"], r"t.csv: line 2, column 34: 'x1' is not"),
    "a ragged JSON": (lambda d: (d / "r.json").write_text(json.dumps({"keypoints": [[[1, 2]] * 17, [[1, 2]] * 9]})),
                      lift("{d}/r.json") + ["-o", "{d}/o.json"], r"r.json: frame 1 must list 17 joints, got 9"),
    "a non-UTF-8 JSON": (lambda d: (d / "n.json").write_bytes(b'{"keypoints": "\xff"}'),
                         lift("{d}/n.json") + ["-o", "{d}/o.json"], r"n.json: not UTF-8 text \(byte 0xff at"),
    "NaN in an AMC": (_nan_amc, ["fit", "--cmu", "{d}/cmu", "-o", "{d}/m.h5"], r"t_01.amc:\d+: NaN or inf in 'lfemur"),
    "an unrelated npz as --checkpoint": (None, FIT + ["-o", "{d}/m.h5", "--checkpoint", "{d}/h36m.npz"],
                                         r"h36m.npz: not a fit checkpoint \(arrays \['fingerprint'"),
    "a short OpenPose person": (lambda d: (d / "op.json").write_text(json.dumps(
        {"people": [{"pose_keypoints_2d": [1.0, 2.0, 0.9] * 16}]})), lift("{d}/op.json") + ["-o", "{d}/o.json"],
        r"op.json: people\[0\].pose_keypoints_2d must hold 51 numbers .* got 48"),
}


@pytest.mark.parametrize("case", CRYPTIC)
def test_messages_name_the_file_and_the_place(case, work, capsys):
    refused_case(CRYPTIC, case, work, capsys)


# ---- class 6: invalid JSON outputs --------------------------------------------------------------------------------
def strict_json(path):
    """Parse as JSON that has no NaN/Infinity (which Python's json would accept)."""
    def refuse(name):
        raise ValueError(f"{path}: {name} is not JSON")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_json_outputs_are_valid_and_self_describing(work, capsys, monkeypatch):
    # lift: a frame that cannot be lifted (NaN input) gets a status and nulls
    y = np.load(work / "kp.npy")
    y[2] = np.nan
    np.save(work / "k.npy", y)
    rc, _, err = run(["lift", work / "k.npy", "--model", work / "model.h5", "-o", work / "o.json"], capsys)
    assert rc == 0, err
    out = strict_json(work / "o.json")
    assert out["frames"][2]["status"] != "ok" and out["frames"][2]["pose3d_mm"] is None
    assert "millimetres" in out["fields"]["pose3d_mm"] and "y up" in out["fields"]["pose3d_model_units"]
    # evaluate: named fields, units, failed-frame counts, null (never NaN) where no frame was lifted
    from model_fitting import evaluate as ev

    real = ev.evaluate

    def none_lifted(model, truth, y, *a, **k):
        err, res = real(model, truth, y, *a, **k)
        return {**err, "ok": np.zeros_like(err["ok"]), "mpjpe": err["mpjpe"] * np.nan,
                "p_mpjpe": err["p_mpjpe"] * np.nan}, res

    rc, _, err = run(["evaluate", "--model", f"m={work / 'model.h5'}", "--h36m-npz", work / "h36m.npz", "-o",
                      work / "ev"], capsys)
    assert rc == 0, err
    res = strict_json(work / "ev.json")
    assert res["units"]["errors"] == "millimetres" and res["h36m"]["summary"]["m"]["failed"] == 0
    assert res["h36m"]["p_mpjpe"]["m"]["per_action"]["walking"]["frames"] == 150
    monkeypatch.setattr(ev, "evaluate", none_lifted)
    rc, _, err = run(["evaluate", "--model", f"m={work / 'model.h5'}", "--cmu", work / "cmu", "--cmu-step", "1",
                      "-o", work / "ev2"], capsys)
    assert rc == 0, err
    cmu = strict_json(work / "ev2.json")["cmu"]["m"][str(work / "cmu")]
    assert cmu["mpjpe"] is None and cmu["summary"]["failed"] == cmu["poses"] == 10


# ---- interrupted runs resume to the same result --------------------------------------------------------------------
def test_interrupted_fit_says_where_its_checkpoint_is_and_resumes_to_the_same_model(work, capsys, monkeypatch):
    argv = ["fit", "--poses", work / "poses.npy", "-J", "3", "-K", "2", "--final-iterations", "4",
            "--em-iterations", "4"]
    assert run(argv + ["-o", work / "ref.h5"], capsys)[0] == 0
    with monkeypatch.context() as patch:
        patch.setattr("model_fitting.fit.atomic_savez", interrupted_after(5))
        rc, _, err = run(argv + ["-o", work / "m.h5"], capsys)
    ck = work / "m.checkpoint.npz"
    assert rc == 1 and err.strip().splitlines()[-1] == (
        f"lifting fit: fit interrupted; the checkpoint {ck} holds every completed iteration: run the same command "
        "again to resume from it")
    assert ck.exists() and not (work / "m.h5").exists()
    rc, out, _ = run(argv + ["-o", work / "m.h5"], capsys)
    assert rc == 0 and "resuming from" in out and not ck.exists()  # the default checkpoint goes once it has served
    ref, got = load_model(work / "ref.h5"), load_model(work / "m.h5")
    for name in ("mean", "basis", "variances", "noise_variance", "weights"):
        np.testing.assert_array_equal(getattr(got, name), getattr(ref, name))


@pytest.fixture
def no_dropout(tmp_path):
    """The small train net without dropout (whose masks Caffe does not store in a snapshot)."""
    text = open(os.path.join(PROTO, "lifting_h36m_small_train.prototxt")).read()
    assert text.count("dropout_ratio: 0.5") == 2
    path = tmp_path / "train.prototxt"
    path.write_text(text.replace("dropout_ratio: 0.5", "dropout_ratio: 0.0"))
    return path


def test_interrupted_training_snapshots_and_resumes_to_the_same_weights(work, no_dropout, capsys, monkeypatch):
    import tools.synth as synth
    from tools.caffe_files import read_caffemodel

    argv = ["train", "--prototxt", no_dropout, "--h36m-npz", work / "h36m.npz", "--subjects", "S1", "--snapshot", "2"]
    assert run(argv + ["--iterations", "4", "--out", work / "a"], capsys)[0] == 0
    real, calls = synth.make_batch, []

    def interrupt_at_the_fourth(*a, **k):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(*a, **k)

    with monkeypatch.context() as patch:
        patch.setattr(synth, "make_batch", interrupt_at_the_fourth)
        rc, _, err = run(argv + ["--iterations", "4", "--out", work / "b"], capsys)
    snap = work / "b" / "snap_iter_3.solverstate"
    assert rc == 1 and err.strip().splitlines()[-1] == (
        f"lifting train: training interrupted after 3 iterations; the snapshot {snap} holds the first 3 iterations: "
        f"resume with --resume {snap} and the same prototxt, data and --out")
    rc, _, err = run(argv + ["--iterations", "1", "--out", work / "b", "--resume", snap], capsys)
    assert rc == 0, err
    a, b = (read_caffemodel(work / run / "snap_iter_4.caffemodel") for run in ("a", "b"))
    assert a.keys() == b.keys()
    for k in a:
        for x, y in zip(a[k], b[k]):
            np.testing.assert_array_equal(x, y)
    assert strict_json(work / "a" / "loss.json") == strict_json(work / "b" / "loss.json")
    # a new run into a folder of snapshots would overwrite them: refused
    rc, _, err = run(argv + ["--iterations", "1", "--out", work / "b"], capsys)
    assert_refused(rc, err, r"--out .*b holds the snapshots of an earlier run")


DIVERGE = """
import sys
import numpy as np
import tools.synth as synth
real, calls = synth.make_batch, []
def make_batch(*a, **k):
    calls.append(1)
    b = real(*a, **k)
    if len(calls) == 4:
        b["data"][...] = np.nan
    return b
synth.make_batch = make_batch
from lifting_cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_training_stops_at_the_first_non_finite_value_and_keeps_the_last_good_snapshot(work, capsys):
    argv = expand(TRAIN[:-4] + ["--iterations", "6", "--snapshot", "2", "--out", "{d}/run"], work)
    env = {k: v for k, v in os.environ.items() if k != "GLOG_minloglevel"}
    p = subprocess.run([sys.executable, "-c", DIVERGE, *argv], capture_output=True, text=True, env=env, timeout=300)
    snap = work / "run" / "snap_iter_2.solverstate"
    assert p.returncode == 2, p.stderr[-3000:]  # not 134: the bad step stopped before its backward pass
    assert_refused(p.returncode, p.stderr, rf"training diverged at iteration 3 \(Prob3DPoseLayer: .* NaN or inf.*\); "
                                           rf"the last good snapshot is {snap}: resume from it")
    assert sorted(os.listdir(work / "run")) == ["loss.json", "run_folder.json", "snap_iter_2.caffemodel",
                                                "snap_iter_2.solverstate", "solver.prototxt"]
    assert strict_json(work / "run" / "loss.json")["iteration"] == [0, 1, 2]
    rc, _, err = run(argv + ["--resume", snap, "--iterations", "2"], capsys)
    assert rc == 0, err
    assert strict_json(work / "run" / "loss.json")["iteration"] == [0, 1, 2, 3]
