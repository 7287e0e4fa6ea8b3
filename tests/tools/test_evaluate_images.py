"""``lifting evaluate-images`` on the real fixture (../shared/data/h36m_fixture, 4 frames) as a tiny test split: the
true 2D through the crop round trip and the lift, a randomly initialised small extended net and baseline CPM, an
interrupted evaluation resumed to identical tables, settings that do not match, and --gpu on a CPU-only Caffe."""
import json
import os

import numpy as np
import pytest

import caffe  # noqa: E402  (set-up builds it: a missing Caffe must fail, never skip)

from lifting import metrics  # noqa: E402
from lifting.cameras import read_h36m_cameras_json  # noqa: E402
from lifting.lift import Lifter  # noqa: E402
from lifting.model import load_model  # noqa: E402
from lifting_cli.main import main  # noqa: E402
from model_fitting.fixture_split import write_fixture_split  # noqa: E402
from prototxt import generate  # noqa: E402
from tests.helpers import shared_path  # noqa: E402
from tools.evaluate_images import evaluate_images  # noqa: E402
from tools.devices import DeviceError  # noqa: E402


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    out = tmp_path_factory.mktemp("fixture_split")
    write_fixture_split(shared_path("data", "h36m_fixture"), str(out))
    return str(out)


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory):
    """Random (xavier) weights of the small extended net and the small baseline CPM."""
    folder = tmp_path_factory.mktemp("random_nets")
    caffe.set_mode_cpu()
    caffe.set_random_seed(0)
    out = {}
    for kind in ("lifting", "cpm"):
        proto = os.path.join(generate.HERE, f"{kind}_h36m_small_deploy.prototxt")
        out[kind] = (proto, str(folder / f"{kind}.caffemodel"))
        caffe.Net(proto, caffe.TEST).save(out[kind][1])
    return out


def test_true_2d_matches_a_direct_lift_of_the_labels(split, tmp_path):
    s = evaluate_images(split, str(tmp_path / "gt"), mode="gt", chunk=3, log=None)
    f = np.load(tmp_path / "gt" / "frames.npz")
    z = np.load(shared_path("data", "h36m_fixture", "labels.npz"))
    cams = read_h36m_cameras_json(shared_path("data", "h36m_fixture", "cameras.json"))
    # the crop -> frame round trip gives back the labels, and the truth is the labels' 3D
    assert np.abs(f["gt2d_px"] - z["joints2d_px"]).max() < 1e-3
    assert np.abs(f["gt3d_mm"] - z["joints3d_camera_m"] * 1000).max() < 1e-2
    model = load_model()
    for i in range(4):
        res = Lifter(model, camera=cams[(z["subject"][i], z["camera"][i])].E).lift(z["joints2d_px"][i:i + 1])
        assert np.abs(f["pred3d_mm"][i] - res.pose3d_camera_mm[0]).max() < 1e-3
    p1 = metrics.mpjpe(f["pred3d_mm"], f["gt3d_mm"])
    # the fixture check's column (c) of the README (scripts/compare_detector.py, another code path)
    assert p1 == pytest.approx([39.7, 341.6, 95.6, 92.0], abs=0.1)
    assert s.p1.per_action["sittingdown"].mean == pytest.approx(p1[1])
    assert s.p1.frame_mean == pytest.approx(p1.mean()) and s.stages == ()
    md = (tmp_path / "gt" / "results.md").read_text()
    assert "| true 2D + lift (K=3): MPJPE (P1), 4 frames, 0 failed | 39.72 |" in md and "Table 2" not in md


@pytest.mark.parametrize("kind", ["lifting", "cpm"])
def test_random_small_net_and_resume(split, random_weights, tmp_path, kind):
    proto, weights = random_weights[kind]
    out = tmp_path / kind
    # the grid argmax: what the net's own lifting layer uses (the default, the authors' upsampled argmax, below)
    args = dict(mode="net", net=kind, weights=weights, prototxt=proto, chunk=2, batch=2, scoring="grid", log=None)
    s = evaluate_images(split, str(out), **args)
    f = dict(np.load(out / "frames.npz"))
    assert f["stage2d_px"].shape == (4, 2, 17, 2) and f["stage3d_mm"].shape == (4, 2, 17, 3)
    assert np.isfinite(f["argmax2d_px"]).all() and len(s.stages) == 2
    if kind == "lifting":  # the net's own final lift is the lift of its last stage's argmax
        ok = np.isfinite(f["pred3d_mm"]).all(axis=(1, 2))
        assert ok.any() and np.abs(f["pred3d_mm"][ok] - f["stage3d_mm"][ok, -1]).max() < 0.01
        assert not np.allclose(f["pred2d_px"], f["argmax2d_px"])
    else:  # the baseline's 2D is its argmax
        assert np.array_equal(f["pred2d_px"], f["argmax2d_px"])
    assert os.path.exists(out / "results.png")
    tables = {ext: (out / f"results.{ext}").read_bytes() for ext in ("md", "csv", "json")}
    # interrupted after the first chunk: the second chunk and the results are gone; the rerun finishes the same
    first = out / "chunks" / "00000.npz"
    stamp = os.stat(first).st_mtime_ns
    for name in ("chunks/00001.npz", "frames.npz", "results.md", "results.csv", "results.json"):
        os.unlink(out / name)
    evaluate_images(split, str(out), **args)
    assert os.stat(first).st_mtime_ns == stamp  # not recomputed
    assert {ext: (out / f"results.{ext}").read_bytes() for ext in tables} == tables
    with pytest.raises(ValueError, match=r"run.json: the folder holds another evaluation, 1 difference\(s\) with this "
                                         r"run \(num_angles: 80 -> 40\)"):
        evaluate_images(split, str(out), **{**args, "num_angles": 40})
    with pytest.raises(ValueError, match=r"run.json: the folder holds another evaluation, 1 difference\(s\) with this "
                                         r"run \(scoring: grid -> upsampled\)"):
        evaluate_images(split, str(out), **{**args, "scoring": "upsampled"})
    # the default scoring: the same maps, upsampled to the frame before the argmax (tests/tools/test_scoring.py)
    up = evaluate_images(split, str(tmp_path / f"{kind}_up"), **{**args, "scoring": "upsampled"})
    g = dict(np.load(tmp_path / f"{kind}_up" / "frames.npz"))
    assert np.isfinite(g["stage2d_px"]).all() and not np.array_equal(g["stage2d_px"], f["stage2d_px"])
    np.testing.assert_array_equal(g["gt2d_px"], f["gt2d_px"])
    assert up.frames == 4 and json.loads((tmp_path / f"{kind}_up" / "run.json").read_text())["scoring"] == \
        "upsampled"


def test_cli_gt_table_and_bad_requests(split, tmp_path, capsys):
    assert main(["evaluate-images", "--data", split, "--out", str(tmp_path / "e"), "--2d", "gt"]) == 0
    out = capsys.readouterr().out
    assert "| Method | Directions | Discussion |" in out and "Avg (frame-weighted)" in out
    assert main(["evaluate-images", "--data", split, "--out", str(tmp_path / "w"), "--weights", "nope.caffemodel"]) == 2
    assert "--weights nope.caffemodel: no such file" in capsys.readouterr().err
    assert main(["paper-tables", "--run", f"a K=3={tmp_path / 'e'}", "--out", str(tmp_path / "t" / "paper")]) == 0
    assert (tmp_path / "t" / "paper.md").read_text().count("| a K=3: MPJPE (P1), 4 frames, 0 failed |") == 1
    assert main(["paper-tables", "--run", f"b={tmp_path / 'none'}", "--out", str(tmp_path / "t2")]) == 2
    assert "frames.npz: no per-frame results" in capsys.readouterr().err


def test_gpu_on_a_cpu_only_caffe_fails_at_once(split, tmp_path, random_weights):
    out = tmp_path / "gpu"
    with pytest.raises(DeviceError, match=r"built CPU-only; build Caffe with CUDA .*scripts/setup.sh --cuda"):
        evaluate_images(split, str(out), weights=random_weights["lifting"][1], device=0, log=None)
    assert not out.exists()
