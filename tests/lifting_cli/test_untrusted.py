"""Untrusted files never run code, outputs never destroy a user's files, resumes never mix runs, and numbers that
cannot be right are refused (issue 21). One test (or a small table) per class of the issue; each failed on the code
before the issue (checked once with the library files of the parent commit)."""
import json
import os
import shutil
import sys

import h5py
import numpy as np
import pytest

from lifting.dataset import MANIFEST, DatasetError, PreparedDataset, write_manifest, write_shard
from lifting.synthetic import make_model, sample_poses
from lifting_cli.main import main
from tests.helpers import shared_path
from tests.lifting_cli.test_bad_input import assert_refused, run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROTO = os.path.join(ROOT, "prototxt")


# ---- 1. a prototxt never makes the program import or run anything -------------------------------------------------
PROBE = """
import os
open(os.environ["LIFTING_PROBE_MARK"], "w").write("imported")
class layer:
    pass
class Probe:
    pass
"""


def _python_layer_prototxt(path, module, cls="layer", v1=False):
    """A net whose second layer is a Python layer ``module.cls``; ``v1``: with a V1 ``layers`` entry too (the old
    format, which the checker once accepted on its presence alone)."""
    path.write_text(('layers { name: "old" type: RELU bottom: "data" top: "data" }\n' if v1 else "")
                    + 'layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 1 dim: 2 '
                    'dim: 2 } } }\n'
                    f'layer {{ name: "p" type: "Python" bottom: "data" top: "out" '
                    f'python_param {{ module: "{module}" layer: "{cls}" }} }}\n')
    return path


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """An importable module that leaves a mark when it is imported."""
    (tmp_path / "lifting_probe_mod.py").write_text(PROBE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("LIFTING_PROBE_MARK", str(tmp_path / "MARK"))
    yield tmp_path
    sys.modules.pop("lifting_probe_mod", None)


@pytest.mark.parametrize("v1", [False, True])
def test_a_prototxt_naming_foreign_code_is_refused_before_any_import(probe, v1):
    from tools.caffe_files import CaffeFileError, read_prototxt

    proto = _python_layer_prototxt(probe / "evil.prototxt", "lifting_probe_mod", "Probe", v1=v1)
    with pytest.raises(CaffeFileError, match=r"evil.prototxt: layer 'p' names the Python layer 'lifting_probe_mod'"
                                             r"\.'Probe', which is not one of this project's layers"):
        read_prototxt(proto)
    assert not (probe / "MARK").exists() and "lifting_probe_mod" not in sys.modules
    # an explicit extra allow-list (tests' own layers) lets it through: then it is imported, as Caffe would
    if not v1:
        read_prototxt(proto, allow={"lifting_probe_mod": ("Probe",)})
        assert (probe / "MARK").exists()


@pytest.mark.parametrize("module", ["this", "code", "sys", "os"])
def test_every_command_refuses_a_prototxt_naming_a_standard_module(module, tmp_path, capsys):
    proto = _python_layer_prototxt(tmp_path / "evil.prototxt", module, "interact" if module == "code" else "layer")
    before = set(sys.modules)
    rc, _, err = run(["train", "--h36m-npz", shared_path("data", "h36m_poses_17j_5fps.npz"), "--prototxt", proto,
                      "--out", tmp_path / "run", "--iterations", "1"], capsys)
    assert_refused(rc, err, rf"evil.prototxt: layer 'p' names the Python layer '{module}'")
    assert module in before or module not in sys.modules  # never imported by the check
    rc, _, err = run(["convert-cpm", "--cpm-prototxt", proto, "--cpm-weights", proto, "-o", tmp_path / "o.caffemodel"],
                     capsys)
    assert_refused(rc, err, "not one of this project's layers")


def test_a_user_solver_may_not_bring_nets_of_its_own(tmp_path):
    from caffe.proto import caffe_pb2

    from tools.caffe_files import CaffeFileError, check_solver_nets

    sp = caffe_pb2.SolverParameter(net="a.prototxt")
    check_solver_nets(sp, "s.prototxt")  # the net field is replaced by the run's checked net
    sp.test_net.append("evil.prototxt")
    with pytest.raises(CaffeFileError, match=r"solver s.prototxt: field 'test_net' names a net of its own"):
        check_solver_nets(sp, "s.prototxt")
    sp = caffe_pb2.SolverParameter()
    sp.train_net_param.name = "inline"
    with pytest.raises(CaffeFileError, match="'train_net_param'"):
        check_solver_nets(sp, "s.prototxt")


# ---- 1b. paths read from files stay inside their folder --------------------------------------------------------------
def _shard(path, n=1):
    arrays = {"joints2d": np.zeros((n, 17, 2)), "visible": np.ones((n, 17)), "objpos": np.zeros((n, 2)),
              "box": np.ones(n), "E": np.tile(np.eye(3), (n, 1, 1)), "joints3d_camera_mm": np.zeros((n, 17, 3)),
              "crop_transform": np.tile([1.0, 0, 0], (n, 1)), "frame": np.arange(n), "camera": [b"1"] * n}
    write_shard(str(path), [b"\xff\xd8"] * n, arrays, "S1", "walking", "Walking 1")


@pytest.mark.parametrize("file, pattern", [("../outside.h5", "leads outside"), ("ABS", "is an absolute path"),
                                           ("shards/a.h5|twice", "list the same file")])
def test_dataset_manifest_paths_stay_inside_and_count_once(tmp_path, file, pattern):
    d = tmp_path / "d"
    _shard(d / "shards" / "a.h5")
    _shard(tmp_path / "outside.h5")
    files = {"ABS": [str(tmp_path / "outside.h5")], "shards/a.h5|twice": ["shards/a.h5", "shards/./a.h5"]}.get(
        file, [file])
    write_manifest(str(d), {"format_version": 1, "complete": True,
                            "shards": [{"file": f, "samples": 1} for f in files]})
    with pytest.raises(DatasetError, match=pattern):
        PreparedDataset(d)


def _fixture_copy(tmp_path):
    src = shared_path("data", "h36m_fixture")
    dst = tmp_path / "fixture"
    shutil.copytree(src, dst)
    return dst


def _edit_labels(fixture, **changes):
    with np.load(fixture / "labels.npz") as z:
        labels = {k: z[k] for k in z.files}
    labels.update(changes)
    np.savez(fixture / "labels.npz", **labels)


def test_fixture_image_names_stay_inside_the_images_folder(tmp_path, capsys):
    fx = _fixture_copy(tmp_path)
    shutil.copy(fx / "images" / "S1_Directions_1.54138969_000001.jpg", tmp_path / "secret.jpg")
    with np.load(fx / "labels.npz") as z:
        names = z["image"].copy().astype(object)
    names[0] = "../../secret.jpg"
    _edit_labels(fx, image=np.array(names.tolist()))
    rc, _, err = run(["h36m-fixture", fx, "--out", tmp_path / "out"], capsys)
    assert_refused(rc, err, r"labels.npz: image\[0\] '\.\./\.\./secret.jpg' leads outside")


# ---- 2. resumes never mix runs -----------------------------------------------------------------------------------
@pytest.fixture
def fixture_dataset(tmp_path, capsys):
    out = tmp_path / "ds"
    assert main(["h36m-fixture", shared_path("data", "h36m_fixture"), "--out", str(out)]) == 0
    capsys.readouterr()
    return out


def test_evaluate_images_refuses_to_resume_after_the_model_changed_in_place(fixture_dataset, tmp_path, capsys):
    from lifting.model import load_model

    model = tmp_path / "m.h5"
    load_model().save(model)
    out = tmp_path / "ev"
    argv = ["evaluate-images", "--data", fixture_dataset, "--2d", "gt", "--model", model, "--chunk", "1",
            "--num-angles", "8", "--out", out]
    rc, _, err = run(argv, capsys)
    assert rc == 0, err
    size = os.path.getsize(model)
    with h5py.File(model, "r+") as f:  # the same path, the same size, another model
        f.attrs["mm_per_unit"] = float(f.attrs["mm_per_unit"]) * 1.5
    assert os.path.getsize(model) == size
    for name in ("00002.npz", "00003.npz"):
        os.unlink(out / "chunks" / name)
    rc, out_text, err = run(argv, capsys)
    assert_refused(rc, err, r"run.json: the folder holds another evaluation.*model\.sha256")
    assert "resuming" not in out_text


def test_h36m_prepare_never_reuses_shards_made_with_other_settings(official_tree, tmp_path, capsys):
    root, cams = official_tree[0], shared_path("data", "h36m_fixture", "cameras.json")
    out = tmp_path / "d"
    assert main(["h36m-prepare", root, "--cameras", cams, "--out", str(out), "--subjects", "S5", "--step", "5"]) == 0
    os.unlink(out / MANIFEST)  # the record of the settings is gone; the shards remain
    capsys.readouterr()
    argv = ["h36m-prepare", root, "--cameras", cams, "--out", out, "--subjects", "S5", "--step", "2"]
    rc, _, err = run(argv, capsys)
    assert_refused(rc, err, r"the folder holds other files \(shards\) and no dataset.json")
    rc, _, err = run(argv + ["--force"], capsys)
    assert_refused(rc, err, r"this shard was made from other inputs or settings than this run's \(config\.fps")


def test_train_resume_refuses_a_copied_run_folder(tmp_path):
    from lifting_cli.network import RUN_RECORD, check_run_folder, record_run_folder

    (tmp_path / "run").mkdir()
    record_run_folder(str(tmp_path / "run"))
    assert json.loads((tmp_path / "run" / RUN_RECORD).read_text())["folder"] == os.path.realpath(tmp_path / "run")
    check_run_folder(str(tmp_path / "run"))  # its own folder: fine
    shutil.copytree(tmp_path / "run", tmp_path / "copy")
    with pytest.raises(ValueError, match=r"run_folder.json: this run folder belongs to .*run'.*copied or moved"):
        check_run_folder(str(tmp_path / "copy"))


def test_a_solverstate_whose_weights_lie_in_another_folder_is_refused(tmp_path):
    import caffe

    from tests.lifting_cli.test_bad_input import _solverstate
    from tools.caffe_files import CaffeFileError, check_solverstate, param_shapes

    net = caffe.Net(os.path.join(PROTO, "lifting_h36m_small_deploy.prototxt"), caffe.TEST)
    (tmp_path / "orig").mkdir()
    (tmp_path / "copy").mkdir()
    net.save(str(tmp_path / "orig" / "snap.caffemodel"))
    net.save(str(tmp_path / "copy" / "snap.caffemodel"))
    shapes = [s for blobs in param_shapes(net).values() for s in blobs]
    _solverstate(tmp_path / "copy" / "snap.solverstate", str(tmp_path / "orig" / "snap.caffemodel"), shapes)
    with pytest.raises(CaffeFileError, match=r"its weights file .*orig/snap.caffemodel .* lies in another folder"):
        check_solverstate(tmp_path / "copy" / "snap.solverstate", net, "net")


# ---- 3. Ctrl-C in fit always leaves a checkpoint to resume from ----------------------------------------------------
def test_fit_interrupted_by_a_real_sigint_at_random_moments_always_leaves_a_checkpoint(tmp_path):
    import signal
    import subprocess
    import time

    np.save(tmp_path / "poses.npy", _mm_poses(3000))
    ckpt = tmp_path / "m.checkpoint.npz"
    argv = [sys.executable, "-m", "lifting_cli.main", "fit", "--poses", str(tmp_path / "poses.npy"), "-J", "4", "-K",
            "2", "--final-iterations", "2000", "--em-iterations", "2000", "-o", str(tmp_path / "m.h5")]
    rng = np.random.default_rng(0)
    landed = 0
    for attempt in range(8):
        before = ckpt.stat().st_mtime_ns if ckpt.exists() else None
        # the child gets Ctrl-C's default disposition: a suite started in the background (`pytest &` in a
        # non-interactive shell) ignores SIGINT, and an ignored disposition is inherited
        p = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.time() + 120
        while (not ckpt.exists() or ckpt.stat().st_mtime_ns == before) and p.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.3))  # a random moment after this run's first checkpoint
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=120)
        if p.returncode == 0:  # the fit ended before the signal came: complete outputs, the default checkpoint gone
            assert (tmp_path / "m.h5").exists() and not ckpt.exists(), err[-2000:]
            for name in ("m.h5", "m.report.json", "m.png"):
                (tmp_path / name).unlink(missing_ok=True)
            continue  # the next attempt starts afresh
        landed += 1
        assert p.returncode == 1, err[-2000:]
        assert f"the checkpoint {ckpt} holds every completed iteration" in err, err[-2000:]
        with np.load(ckpt) as z:  # complete and readable, never half-written
            assert {"fingerprint", "step"} <= set(z.files)
        assert [f for f in os.listdir(tmp_path) if f.endswith(".tmp")] == []
        assert not (tmp_path / "m.h5").exists()  # outputs all or nothing
    assert landed >= 3, landed  # most signals came while the fit ran


# ---- 4. outputs never destroy a user's files -------------------------------------------------------------------
def _photo(path):
    from PIL import Image
    from skimage import data

    Image.fromarray(data.astronaut()[::4, ::4]).save(path)
    return path


def test_estimate_never_replaces_a_users_file(tmp_path, capsys):
    pair = tmp_path / "pair"
    pair.mkdir()
    _photo(pair / "shot.jpg")
    (pair / "shot.png").write_bytes(b"the user's own picture")
    rc, _, err = run(["estimate", pair / "shot.jpg", "--out", pair], capsys)
    assert_refused(rc, err, r"shot.png: the file exists and this run did not make it.*--force")
    assert (pair / "shot.png").read_bytes() == b"the user's own picture"
    # two results with one name are refused also when the output folder does not exist yet
    _photo(tmp_path / "sample.jpg")
    rc, _, err = run(["estimate", tmp_path / "sample.jpg", "--sample", "--out", tmp_path / "new"], capsys)
    assert_refused(rc, err, r"name the same file .*new/sample.json")
    assert not (tmp_path / "new").exists()


def test_lift_and_fixture_refuse_existing_outputs_unless_forced(fixture_dataset, tmp_path, capsys):
    before = (fixture_dataset / MANIFEST).read_bytes()
    rc, _, err = run(["h36m-fixture", shared_path("data", "h36m_fixture"), "--out", fixture_dataset], capsys)
    assert_refused(rc, err, r"dataset.json: the file exists and this run did not make it")
    assert (fixture_dataset / MANIFEST).read_bytes() == before
    (tmp_path / "poses.json").write_text("mine")
    rc, _, err = run(["lift", "--sample", "-o", tmp_path / "poses.json"], capsys)
    assert_refused(rc, err, r"-o .*poses.json: the file exists")
    assert (tmp_path / "poses.json").read_text() == "mine"
    rc, _, err = run(["lift", "--sample", "-o", tmp_path / "poses.json", "--force"], capsys)
    assert rc == 0, err
    assert json.loads((tmp_path / "poses.json").read_text())["frames"]


def test_outputs_are_replaced_together_and_temp_files_never_outlive_a_run(tmp_path):
    from lifting.files import TEMP_PREFIX, commit_together, run_temp_folder
    from tools.photo import collect_inputs

    out = tmp_path / "o"
    dead = out / f"{TEMP_PREFIX}999999999-x"  # a killed run's folder (no such process)
    dead.mkdir(parents=True)
    (dead / "video.raw").write_bytes(b"x" * 100)
    (out / "old.json").write_text("old json")
    (out / "old.npz").write_text("old npz")
    with pytest.raises(RuntimeError):
        with run_temp_folder(str(out)) as tmp:
            assert not dead.exists()  # removed by the next run
            (open(os.path.join(tmp, "a"), "w")).write("new json")
            with pytest.raises(FileNotFoundError):  # one result missing: nothing is replaced
                commit_together([(os.path.join(tmp, "a"), out / "old.json"), (os.path.join(tmp, "b"), out / "old.npz")])
            raise RuntimeError("killed")
    assert (out / "old.json").read_text() == "old json" and (out / "old.npz").read_text() == "old npz"
    assert os.listdir(out) == ["old.json", "old.npz"] or sorted(os.listdir(out)) == ["old.json", "old.npz"]
    # leftovers of killed runs of older versions are never taken as input videos
    shutil.copy(_photo(tmp_path / "p.png"), out / "tmpab12.tmp.mp4")
    shutil.copy(tmp_path / "p.png", out / ".hidden.png")
    shutil.copy(tmp_path / "p.png", out / "real.png")
    assert [os.path.basename(p) for p, _ in collect_inputs([str(out)])] == ["real.png"]


def test_a_bad_video_does_not_stop_a_folder_run(tmp_path, monkeypatch):
    import tools.video
    from lifting.lift import Lifter
    from lifting.model import load_model
    from tools.photo import run as estimate_run

    d = tmp_path / "in"
    d.mkdir()
    (d / "a.mp4").write_bytes(b"x")
    (d / "b.mp4").write_bytes(b"x")

    def fake(path, out_dir, *a, **k):
        if path.endswith("a.mp4"):
            raise RuntimeError("OpenCV: decoder exploded")
        return {"input": path, "status": "ok"}

    monkeypatch.setattr(tools.video, "estimate_video", fake)
    records, failed, _ = estimate_run([str(d)], str(tmp_path / "out"), Lifter(load_model()), log=None)
    assert failed == 1 and [r["status"] for r in records] == ["unreadable", "ok"]
    assert "decoder exploded" in json.loads((tmp_path / "out" / "a.json").read_text())["error"]


def test_a_zero_byte_photo_does_not_stop_a_folder_run_of_the_network(tmp_path, capsys):
    import caffe

    deploy = os.path.join(PROTO, "lifting_h36m_small_deploy.prototxt")
    weights = tmp_path / "w.caffemodel"
    caffe.Net(deploy, caffe.TEST).save(str(weights))
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.jpg").write_bytes(b"")
    _photo(d / "b.jpg")
    rc, _, err = run(["estimate", d, "--weights", weights, "--prototxt", deploy, "--box", "10,10,100,100", "--out",
                      tmp_path / "out"], capsys)
    assert rc == 2, err
    assert json.loads((tmp_path / "out" / "a.json").read_text())["status"] == "unreadable"
    assert json.loads((tmp_path / "out" / "b.json").read_text())["joints2d_px"]


def test_a_video_whose_frames_cannot_hold_a_person_is_recorded_not_a_traceback(tmp_path, capsys):
    import cv2

    w = cv2.VideoWriter(str(tmp_path / "thin.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (4000, 16))
    for _ in range(3):
        w.write(np.full((16, 4000, 3), 128, np.uint8))
    w.release()
    rc, _, err = run(["estimate", tmp_path / "thin.mp4", "--out", tmp_path / "out"], capsys)
    assert rc == 2 and "Traceback" not in err, err
    rec = json.loads((tmp_path / "out" / "thin.json").read_text())
    assert rec["status"] == "unreadable" and "frames of 4000 x 16 pixels" in rec["error"]
    assert [f for f in os.listdir(tmp_path / "out") if f != "thin.json"] == []  # no temp file left


def test_a_video_whose_frame_size_changes_is_refused_and_replaces_none_of_its_outputs(tmp_path, monkeypatch):
    import tools.people
    import tools.video
    from lifting.lift import Lifter
    from lifting.model import load_model
    from tools.photo import InputError

    class NoPerson:  # the detector is not what is tested here
        def __init__(self, *a, **k):
            pass

        def detect(self, rgb, enough=None):
            return []

        def close(self):
            pass

    class Cap:  # two frames of 64 x 48, then one of 80 x 48
        def __init__(self):
            self.frames = [np.zeros((48, 64, 3), np.uint8)] * 2 + [np.zeros((48, 80, 3), np.uint8)]

        def read(self):
            return (True, self.frames.pop(0)) if self.frames else (False, None)

        def release(self):
            pass

    monkeypatch.setattr(tools.people, "MultiPoseDetector", NoPerson)
    monkeypatch.setattr(tools.video, "open_video", lambda path: (Cap(), 25.0, 3))
    out = tmp_path / "out"
    out.mkdir()
    old = {ext: f"old {ext}".encode() for ext in (".json", ".npz", ".mp4")}
    for ext, data in old.items():
        (out / f"clip{ext}").write_bytes(data)
    with pytest.raises(InputError, match=r"clip.mp4: frame 2 is 80 x 48 pixels, the video's first frame 64 x 48"):
        tools.video.estimate_video(str(tmp_path / "clip.mp4"), str(out), Lifter(load_model()), plot=False,
                                   progress=False)
    assert {ext: (out / f"clip{ext}").read_bytes() for ext in old} == old  # none replaced
    assert sorted(os.listdir(out)) == ["clip.json", "clip.mp4", "clip.npz"]  # no temporary file left


# ---- 5. numbers that cannot be right ------------------------------------------------------------------------------
def _mm_poses(n=300, seed=3):
    from lifting.geometry import rotate_ground

    m = make_model(K=1, J=3, seed=2)
    canon, _, theta, _ = sample_poses(m, n, seed=seed)
    return rotate_ground(canon, theta) * 1000.0


FIT = ["fit", "-J", "3", "-K", "1", "--final-iterations", "2", "--em-iterations", "2", "--no-mirror"]


@pytest.mark.parametrize("case, poses, pattern", [
    ("identical poses", lambda p: np.repeat(p[:1], 200, axis=0), r"component 0: .*collapsed"),
    ("metres as mm", lambda p: p / 1000.0, r"poses.npy: 300 of 300 poses are not the size of a person.*metres"),
    ("x1e30", lambda p: p * 1e30, r"poses.npy: 300 of 300 poses are not the size of a person"),
])
def test_fit_refuses_poses_and_models_that_cannot_be_right(case, poses, pattern, tmp_path, capsys):
    np.save(tmp_path / "poses.npy", poses(_mm_poses()))
    rc, _, err = run(FIT + ["--poses", tmp_path / "poses.npy", "-o", tmp_path / "m.h5"], capsys)
    assert_refused(rc, err, pattern)
    assert not (tmp_path / "m.h5").exists()


def test_evaluate_refuses_held_out_poses_in_metres(tmp_path, capsys):
    m = _mm_poses(50) / 1000.0
    x, y, z = m[..., 0], m[..., 1], m[..., 2]  # the shared file's layout: z up, mirrored
    np.savez(tmp_path / "h36m.npz", positions_17=np.stack([-x, -z, y], -1), subject=np.full(50, "S9"),
             action=np.full(50, "walking_1"))
    rc, _, err = run(["evaluate", "--model", "m=default", "--h36m-npz", tmp_path / "h36m.npz", "-o", tmp_path / "ev"],
                     capsys)
    assert_refused(rc, err, r"h36m.npz: 50 of 50 poses are not the size of a person .*metres")
    assert not (tmp_path / "ev.md").exists()


@pytest.mark.parametrize("case, edit, pattern", [
    ("bit flip in mu", lambda m: m["mu"].__setitem__((0, 5), m["mu"][0, 5] + 29800.0), r"mean pose of component 0 is "
                                                                                         r"not a body"),
    ("negative sigma", lambda m: m["sigma"].__setitem__((1, 2), -abs(m["sigma"][1, 2])),
     r"'sigma' holds 1 values <= 0"),
    ("complex sigma", lambda m: m.__setitem__("sigma", m["sigma"] * (1 + 1e-3j)), r"'sigma' must hold real numbers"),
])
def test_import_refuses_a_corrupted_authors_model(case, edit, pattern, tmp_path, capsys):
    from scipy.io import loadmat, savemat

    m = {k: v for k, v in loadmat(shared_path("data", "prob_model_params.mat")).items() if not k.startswith("__")}
    edit(m)
    savemat(tmp_path / "p.mat", m)
    rc, _, err = run(["import-authors-model", tmp_path / "p.mat", "-o", tmp_path / "m.h5"], capsys)
    assert_refused(rc, err, r"p.mat.*" + pattern)
    assert not (tmp_path / "m.h5").exists()


def test_fixture_labels_in_the_wrong_units_or_nan_are_refused(tmp_path, capsys):
    fx = _fixture_copy(tmp_path)
    with np.load(fx / "labels.npz") as z:
        m, d2 = z["joints3d_camera_m"], z["joints2d_px"]
    _edit_labels(fx, joints3d_camera_m=m * 1000.0)  # millimetres where metres are expected
    rc, _, err = run(["h36m-fixture", fx, "--out", tmp_path / "a"], capsys)
    assert_refused(rc, err, r"joints3d_camera_m' \(metres\): 4 of 4 poses are not the size of a person")
    d2 = d2.copy()
    d2[1, 3, 0] = np.nan
    _edit_labels(fx, joints3d_camera_m=m, joints2d_px=d2)
    rc, _, err = run(["h36m-fixture", fx, "--out", tmp_path / "b"], capsys)
    assert_refused(rc, err, r"labels.npz: field 'joints2d_px' holds NaN")


@pytest.mark.parametrize("case, arr, pattern", [
    ("near 1e302", lambda a: a * 1e300, r"170 coordinates are infinite or beyond 1e\+06 px"),
    ("complex", lambda a: a + 1j, r"holds complex numbers"),
])
def test_lift_refuses_keypoints_that_are_not_pixels(case, arr, pattern, tmp_path, capsys):
    from lifting.geometry import project

    kp = project(_mm_poses(5), scale=0.2, offset=(300, 300))
    np.save(tmp_path / "kp.npy", arr(kp))
    rc, _, err = run(["lift", tmp_path / "kp.npy", "-o", tmp_path / "o.json"], capsys)
    assert_refused(rc, err, r"kp.npy: " + pattern)


def test_a_typo_in_a_csv_first_row_is_not_a_header(tmp_path, capsys):
    rows = [",".join(f"{v:.1f}" for v in np.arange(34) + 10 * i) for i in range(3)]
    rows[0] = rows[0].replace("2.0", "2.o", 1)
    (tmp_path / "kp.csv").write_text("\n".join(rows) + "\n")
    rc, _, err = run(["lift", tmp_path / "kp.csv", "-o", tmp_path / "o.json"], capsys)
    assert_refused(rc, err, r"kp.csv: line 1 mixes numbers with 1 cell\(s\) that are not numbers \(first: '2.o'\)")


# ---- other classes: readers, tracebacks, cryptic messages, paper-tables ----------------------------------------------
def test_16_bit_and_float_images_are_read_with_their_intensities(tmp_path):
    from PIL import Image
    from skimage import data

    from tools.photo import InputError, read_image

    gray = data.camera()
    Image.fromarray(gray.astype(np.uint16) * 257).save(tmp_path / "g16.png")
    Image.fromarray(gray.astype(np.float32) / 255.0).save(tmp_path / "f.tiff")
    for name in ("g16.png", "f.tiff"):
        rgb = read_image(tmp_path / name)
        assert rgb.shape == gray.shape + (3,) and np.abs(rgb[..., 0].astype(int) - gray).max() <= 1, name
    Image.fromarray(gray.astype(np.float32) * 1000.0).save(tmp_path / "big.tiff")
    with pytest.raises(InputError, match=r"big.tiff: float image with values 0..255000"):
        read_image(tmp_path / "big.tiff")


@pytest.mark.parametrize("case, manifest, pattern", [
    ("shards not a list", {"shards": {"a": 1}}, r"field 'shards' must be a list"),
    ("entry without samples", {"shards": [{"file": "shards/a.h5"}]}, r"shards\[0\] must be an object with fields"),
    ("samples a word", {"shards": [{"file": "shards/a.h5", "samples": "many"}]}, r"shards\[0\].samples must be"),
    ("version a string", {"format_version": "1"}, r"format_version '1', this code reads 1"),
])
def test_malformed_manifests_are_named_not_tracebacks(case, manifest, pattern, tmp_path, capsys):
    d = tmp_path / "d"
    d.mkdir()
    m = {"format_version": 1, "complete": True, "shards": [{"file": "shards/a.h5", "samples": 1}], **manifest}
    (d / MANIFEST).write_text(json.dumps(m))
    rc, _, err = run(["evaluate-images", "--data", d, "--2d", "gt", "--out", tmp_path / "ev"], capsys)
    assert_refused(rc, err, pattern)


def test_a_shard_without_its_attributes_is_named_not_a_traceback(fixture_dataset, tmp_path, capsys):
    shard = next(fixture_dataset.glob("shards/*/*.h5"))
    with h5py.File(shard, "r+") as f:
        del f.attrs["action"]
    rc, _, err = run(["evaluate-images", "--data", fixture_dataset, "--2d", "gt", "--out", tmp_path / "ev"], capsys)
    assert_refused(rc, err, rf"{shard.name}: attribute 'action' is missing")


def test_deeply_nested_json_and_unbounded_margin_are_refused(tmp_path, capsys):
    (tmp_path / "kp.json").write_text("[" * 100000 + "]" * 100000)
    rc, _, err = run(["lift", tmp_path / "kp.json", "-o", tmp_path / "o.json"], capsys)
    assert_refused(rc, err, r"kp.json: JSON nested too deeply")
    for margin in ("inf", "1000"):
        rc, _, err = run(["h36m-prepare", tmp_path, "--cameras", tmp_path / "kp.json", "--out", tmp_path / "o",
                          "--margin", margin], capsys)
        assert_refused(rc, err, r"--margin: must be a finite number in \[1, 4")


@pytest.mark.parametrize("hierarchy, pattern", [
    ("ROOT Hips\n{\n OFFSET 0 0 zero\n CHANNELS 3 Xposition Yposition Zposition\n}\n", "could not convert"),
    ("ROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS three Xposition Yposition Zposition\n}\n", "invalid literal"),
    ("ROOT Hips\n{\n OFFSET 0 0 0\n}\n}\n", "IndexError"),
])
def test_a_malformed_bvh_hierarchy_is_named(hierarchy, pattern, tmp_path, capsys):
    (tmp_path / "m.bvh").write_text("HIERARCHY\n" + hierarchy + "MOTION\nFrames: 1\nFrame Time: 0.1\n0 0 0\n")
    rc, _, err = run(["fit", "--bvh", tmp_path / "m.bvh", "-o", tmp_path / "m.h5"], capsys)
    assert_refused(rc, err, rf"m.bvh: cannot parse the HIERARCHY section near token \d+ \(.*{pattern}")


def test_a_fixture_labels_file_that_is_no_zip_is_named(tmp_path, capsys):
    fx = _fixture_copy(tmp_path)
    (fx / "labels.npz").write_bytes(b"not a zip at all")
    rc, _, err = run(["h36m-fixture", fx, "--out", tmp_path / "o"], capsys)
    assert_refused(rc, err, r"labels.npz: not a readable labels .npz file")


def test_paper_tables_refuses_runs_that_do_not_belong_in_one_table(fixture_dataset, tmp_path, capsys):
    for name, angles in (("a", "8"), ("b", "8"), ("c", "12")):
        rc, _, err = run(["evaluate-images", "--data", fixture_dataset, "--2d", "gt", "--num-angles", angles,
                          "--out", tmp_path / name], capsys)
        assert rc == 0, err
    out = ["--out", tmp_path / "t"]
    rc, _, err = run(["paper-tables", "--run", f"x={tmp_path / 'a'}", "--run", f"x={tmp_path / 'b'}"] + out, capsys)
    assert_refused(rc, err, r"the label 'x' is given twice")
    rc, _, err = run(["paper-tables", "--run", f"a|b={tmp_path / 'a'}"] + out, capsys)
    assert_refused(rc, err, r"a label may not hold '\|'")
    rc, _, err = run(["paper-tables", "--run", f"a={tmp_path / 'a'}", "--run", f"c={tmp_path / 'c'}"] + out, capsys)
    assert_refused(rc, err, r"the runs are not comparable \(num_angles: 8 -> 12\)")
    rc, _, err = run(["paper-tables", "--run", f"a={tmp_path / 'a'}", "--run", f"b={tmp_path / 'b'}"] + out, capsys)
    assert rc == 0, err
