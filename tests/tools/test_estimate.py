"""Image -> 2D joints and 3D pose with the small network variant, end to end."""
import json
import os

import pytest

caffe = pytest.importorskip("caffe")

from prototxt import generate
from tests.helpers import shared_path
from tools.estimate import MissingWeightsError, estimate

SMALL_DEPLOY = os.path.join(generate.HERE, "lifting_h36m_small_deploy.prototxt")


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


