"""Image -> 2D joints and 3D pose with the small network variant, end to end."""
import json
import os

import matplotlib.pyplot as plt
import numpy as np
import pytest

import caffe  # noqa: E402  (set-up builds it: a missing Caffe must fail, never skip)

from lifting.geometry import project
from prototxt import generate
from tests.helpers import shared_path
from tools.estimate import MissingWeightsError, estimate

SMALL_DEPLOY = os.path.join(generate.HERE, "lifting_h36m_small_deploy.prototxt")


def test_estimate_without_weights_names_the_conversion(tmp_path):
    with pytest.raises(MissingWeightsError, match="lifting convert-cpm"):
        estimate(["x.png"], None, SMALL_DEPLOY, str(tmp_path))


def random_weights(tmp_path, prototxt):
    net = caffe.Net(prototxt, caffe.TEST)  # xavier-initialised weights
    w = tmp_path / "small.caffemodel"
    net.save(str(w))
    return str(w)


def test_estimate_end_to_end_2d_and_3d_from_one_solution(tmp_path):
    img = shared_path("data", "images", "test_image.png")
    # Random weights give random maps, whose argmaxes no plausible pose explains (the lifter then reports no 3D).
    # Trusting the prior far more than such 2D (noise_2d 1.0) keeps a plausible pose: the property tested here,
    # 2D and 3D from one solution, does not depend on the noise level.
    text = open(SMALL_DEPLOY).read().replace('\\"model\\": null,', '\\"model\\": null, \\"noise_2d\\": 1.0,')
    assert text.count("noise_2d") == 2
    deploy = tmp_path / "deploy.prototxt"
    deploy.write_text(text)
    res = estimate([img], random_weights(tmp_path, str(deploy)), str(deploy), str(tmp_path / "out"), log=None)
    rec = json.loads((tmp_path / "out" / "test_image.json").read_text())
    assert rec == res[0] and len(rec["confidence"]) == 17
    assert rec["pose3d_mm"] is not None
    # the reported 2D joints are a weak-perspective image of the reported 3D pose: s * Pi E X + t, to rounding
    # (a separate argmax of the maps, even a sub-pixel one, misses by pixels: the lift regularises)
    xy = project(np.array([rec["pose3d_mm"]]))[0]
    A = np.zeros((34, 3))
    A[0::2, 0], A[1::2, 0], A[0::2, 1], A[1::2, 2] = xy[:, 0], xy[:, 1], 1, 1
    j2 = np.array(rec["joints2d_px"]).reshape(-1)
    sol = np.linalg.lstsq(A, j2, rcond=None)[0]
    assert sol[0] > 0 and np.abs(A @ sol - j2).max() < 0.05
    png = plt.imread(tmp_path / "out" / "test_image.png")
    assert png.shape[0] > 200 and png.shape[1] > 400 and png[..., :3].std() > 0.05  # photo + skeleton drawn


def test_estimate_refuses_a_net_without_the_final_lift(tmp_path):
    cpm = os.path.join(generate.HERE, "cpm_h36m_small_deploy.prototxt")
    with pytest.raises(ValueError, match="no joints2d or pose3d top; estimate needs the extended net"):
        estimate(["x.png"], random_weights(tmp_path, cpm), cpm, str(tmp_path))




def test_estimate_takes_arrays_and_a_box_function_and_records_the_crop(tmp_path):
    rgb = np.zeros((300, 200, 3), np.uint8)
    rgb[50:250, 60:140] = 200  # a bright "person"
    seen = []

    def box(img):
        seen.append(img.shape)
        return (60.0, 50.0, 80.0, 200.0)

    res = estimate([("bright", rgb)], random_weights(tmp_path, SMALL_DEPLOY), SMALL_DEPLOY, str(tmp_path / "o"),
                   box=box, plot=False, log=None)
    assert seen == [(300, 200, 3)] and res[0]["cpm_box"] == [60.0, 50.0, 80.0, 200.0]
    assert json.loads((tmp_path / "o" / "bright.json").read_text())["image"] == "bright"


def test_cli_network_path_needs_weights_and_refuses_videos(tmp_path, capsys):
    from lifting_cli.main import main

    assert main(["estimate", "--detector", "network", "--sample", "--out", str(tmp_path)]) == 2
    assert "network weights not found" in capsys.readouterr().err
    (tmp_path / "clip.mp4").write_bytes(b"x")
    assert main(["estimate", str(tmp_path / "clip.mp4"), "--weights", "w.caffemodel", "--out", str(tmp_path)]) == 2
    assert "videos need the embedded detector (--detector mediapipe)" in capsys.readouterr().err


def test_cli_network_path_centres_the_cpm_crop_on_mediapipes_person_box(tmp_path):
    from lifting_cli.main import main

    folder = shared_path("data", "h36m_fixture")
    with np.load(os.path.join(folder, "labels.npz")) as z:
        name, gt = str(z["image"][2]), z["joints2d_px"][2]
    args = ["estimate", os.path.join(folder, "images", name), "--weights", random_weights(tmp_path, SMALL_DEPLOY),
            "--prototxt", SMALL_DEPLOY, "--out", str(tmp_path / "o"), "--no-plot"]
    assert main(args) == 0
    x, y, w, h = json.loads((tmp_path / "o" / (name[:-4] + ".json")).read_text())["cpm_box"]
    assert x < gt[:, 0].min() and gt[:, 0].max() < x + w and y < gt[:, 1].min() and gt[:, 1].max() < y + h
    assert h < 0.6 * 1002  # the person, not the whole frame
