"""Image -> 2D joints and 3D pose with the small network variant, end to end."""
import json
import os

import numpy as np
import pytest

caffe = pytest.importorskip("caffe")

from conftest import shared_path
from prototxt import generate
from tools.estimate import MissingWeightsError, estimate, map_to_image, preprocess

SMALL_DEPLOY = os.path.join(generate.HERE, "lifting_h36m_small_deploy.prototxt")


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


