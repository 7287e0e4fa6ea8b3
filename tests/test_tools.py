"""estimate / train / synthetic data, end to end on the small network variant."""
import json
import os

import numpy as np
import pytest

caffe = pytest.importorskip("caffe")

from conftest import shared_path
from lifting.belief_maps import argmax_2d
from prototxt import generate
from tools.estimate import MissingWeightsError, estimate, map_to_image, preprocess
from tools.synth import make_batch

SMALL_DEPLOY = os.path.join(generate.HERE, "lifting_h36m_small_deploy.prototxt")
SMALL_TRAIN = os.path.join(generate.HERE, "lifting_h36m_small_train.prototxt")


@pytest.fixture(scope="module")
def poses():
    from model_fitting.data import load_h36m_npz

    return load_h36m_npz(shared_path("data", "h36m_poses_17j_5fps.npz"), ["S1"], step=10)[0]


def test_synthetic_labels_peak_at_the_projected_joints(poses):
    b = make_batch(poses, 3, 96, np.random.default_rng(0))
    assert b["data"].shape == (3, 4, 96, 96) and b["label"].shape == (3, 18, 12, 12)
    pts, _ = argmax_2d(b["label"][:, :17])
    expected = (b["joints2d"] - 3.5) / 8
    assert np.abs(pts - expected).max() <= 0.5 + 1e-9
    assert np.all((b["joints2d"] > 0) & (b["joints2d"] < 95))


def test_preprocess_and_back_to_image_coordinates():
    img = np.zeros((200, 300, 3), np.uint8)
    data, tf = preprocess(img, box=(100, 50, 60, 120))
    assert data.shape == (4, 368, 368)
    scale, ox, oy = tf
    p = np.array([[130.0, 110.0]])  # box centre -> window centre
    assert np.allclose(p * scale + [ox, oy], 184)
    win_map = (p * scale + [ox, oy] - 3.5) / 8
    assert np.allclose(map_to_image(win_map, tf), p)
    with pytest.raises(ValueError, match="positive width"):
        preprocess(img, box=(0, 0, 0, 10))


def test_estimate_without_weights_names_the_conversion(tmp_path):
    with pytest.raises(MissingWeightsError, match="lifting convert-cpm"):
        estimate(["x.png"], None, SMALL_DEPLOY, str(tmp_path))


def test_estimate_end_to_end_on_the_real_photo(tmp_path):
    img = shared_path("data", "images", "test_image.png")
    net = caffe.Net(SMALL_DEPLOY, caffe.TEST)  # xavier-initialised weights
    w = tmp_path / "small.caffemodel"
    net.save(str(w))
    res = estimate([img], str(w), SMALL_DEPLOY, str(tmp_path / "out"), log=None)
    rec = json.loads((tmp_path / "out" / "test_image.json").read_text())
    assert len(rec["joints2d_px"]) == 17 and rec == res[0]
    assert (tmp_path / "out" / "test_image.png").stat().st_size > 10_000


def test_train_loss_falls_and_resume_continues(tmp_path, poses):
    from tools.train import train

    h = train(SMALL_TRAIN, str(tmp_path / "run"), poses, 40, base_lr=1e-3, snapshot_every=20, log=None)
    loss = np.array(h["loss"])
    assert np.all(np.isfinite(loss)) and loss[-10:].mean() < loss[:10].mean()
    assert (tmp_path / "run" / "loss.png").exists()
    h2 = train(SMALL_TRAIN, str(tmp_path / "run"), poses, 5, base_lr=1e-3, snapshot_every=0,
               resume=str(tmp_path / "run" / "snap_iter_40.solverstate"), log=None)
    assert h2["iteration"] == list(range(45))
