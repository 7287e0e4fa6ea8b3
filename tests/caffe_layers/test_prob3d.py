"""Prob3DPoseLayer (eqs. 4-7) through real caffe.Net objects built from temporary prototxt files."""
import json

import numpy as np
import pytest

import caffe  # noqa: E402  (set-up builds it: a missing Caffe must fail, never skip)

from lifting import skeleton
from lifting.belief_maps import background_map, render_belief_maps
from lifting.geometry import UPRIGHT_CAMERA, project, rotate_ground
from lifting.synthetic import make_model, sample_poses

PROB_NET = """
force_backward: true
layer {{ name: "maps" type: "Input" top: "maps" input_param {{ shape {{ dim: {n} dim: 18 dim: 46 dim: 46 }} }} }}
layer {{ name: "camera" type: "Input" top: "camera" input_param {{ shape {{ dim: {n} dim: 9 }} }} }}
layer {{ name: "prob" type: "Python" bottom: "maps" bottom: "camera" top: "proj" top: "pose3d" top: "joints2d"
  python_param {{ module: "caffe_layers" layer: "Prob3DPoseLayer" param_str: '{param}' }} }}
"""


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    m = make_model(K=1, J=3, seed=21, noise=1e-6)
    path = tmp_path_factory.mktemp("model") / "m.h5"
    m.save(path)
    return m, str(path)


def prob_net(tmp_path, model_path, n, **extra):
    p = tmp_path / "prob.prototxt"
    p.write_text(PROB_NET.format(n=n, param=json.dumps({"model": model_path, "sigma": 1.0, **extra})))
    return caffe.Net(str(p), caffe.TRAIN)


def test_prob3d_lifts_the_argmax_and_renders_gaussians(tmp_path, model_file):
    m, path = model_file
    canon, a, theta, _ = sample_poses(m, 3, seed=4)
    world = rotate_ground(canon, theta)
    pts = project(world, scale=20.0, offset=(23, 23))  # on the 46 x 46 grid, upright camera
    pts = np.round(pts)  # belief maps peak on integer pixels
    maps = render_belief_maps(pts, 46, 46, sigma=1.5)
    net = prob_net(tmp_path, path, 3)
    net.blobs["maps"].data[:, :17] = maps
    net.blobs["maps"].data[:, 17] = background_map(maps)
    net.blobs["camera"].data[...] = UPRIGHT_CAMERA.reshape(-1)
    net.forward()
    j2d = net.blobs["joints2d"].data
    assert np.abs(j2d - pts).max() < 1.0  # reprojection of a plausible pose stays within a pixel of the argmax
    pose = net.blobs["pose3d"].data
    truth = (world - world[:, :1]) * m.mm_per_unit
    assert np.abs(pose - truth).max() < 0.08 * m.mm_per_unit * np.abs(world).max()
    proj = net.blobs["proj"].data
    expected = render_belief_maps(j2d.astype(np.float64), 46, 46, sigma=1.0)
    np.testing.assert_allclose(proj[:, :17], expected, atol=1e-6)
    np.testing.assert_allclose(proj[:, 17], background_map(expected), atol=1e-6)
    assert proj[:, :17].max() == pytest.approx(1.0)


def test_prob3d_uses_the_camera_bottom_per_sample(tmp_path, model_file):
    m, path = model_file
    canon, _, theta, _ = sample_poses(m, 2, seed=6)
    world = rotate_ground(canon, theta)
    tilt = np.array([[1, 0, 0], [0, np.cos(0.5), -np.sin(0.5)], [0, np.sin(0.5), np.cos(0.5)]]) @ UPRIGHT_CAMERA
    cams = [UPRIGHT_CAMERA, tilt]
    pts = np.stack([project(world[i:i + 1], cams[i], 20.0, (23, 23))[0] for i in range(2)])
    maps = render_belief_maps(np.round(pts), 46, 46)
    net = prob_net(tmp_path, path, 2)
    net.blobs["maps"].data[:, :17] = maps
    net.blobs["camera"].data[...] = np.stack([c.reshape(-1) for c in cams])
    net.forward()
    truth = (world - world[:, :1]) * m.mm_per_unit
    err = np.abs(net.blobs["pose3d"].data - truth).max(axis=(1, 2))
    assert np.all(err < 0.08 * m.mm_per_unit * np.abs(world).max())


def test_prob3d_passes_no_gradient_to_its_bottoms(tmp_path, model_file, rng):
    _, path = model_file
    net = prob_net(tmp_path, path, 2)
    net.blobs["maps"].data[...] = rng.random(net.blobs["maps"].data.shape)
    net.blobs["camera"].data[...] = UPRIGHT_CAMERA.reshape(-1)
    net.forward()
    net.blobs["maps"].diff[...] = 123.0
    net.blobs["proj"].diff[...] = rng.normal(size=net.blobs["proj"].data.shape)
    net.backward(start="prob")
    assert np.all(net.blobs["maps"].diff == 0)
    # and the output is locally constant in the input: a small perturbation changes nothing
    before = net.blobs["proj"].data.copy()
    net.blobs["maps"].data[...] += 1e-4 * rng.normal(size=net.blobs["maps"].data.shape).astype(np.float32) * (
        net.blobs["maps"].data < 0.9 * net.blobs["maps"].data.max(axis=(2, 3), keepdims=True))
    net.forward()
    np.testing.assert_array_equal(net.blobs["proj"].data, before)


def test_prob3d_rejects_unknown_params(tmp_path, model_file):
    _, path = model_file
    with pytest.raises(ValueError, match=r"Prob3DPoseLayer: unknown param_str keys \['sigmaa'\]"):
        prob_net(tmp_path, path, 1, sigmaa=2)
    with pytest.raises(ValueError, match=r"Prob3DPoseLayer: channels \[.*, 25\] do not fit a bottom with 18"):
        prob_net(tmp_path, path, 1, background_channel=25)


def test_prob3d_reshapes_to_another_batch_size(tmp_path, model_file):
    m, path = model_file
    canon, _, theta, _ = sample_poses(m, 5, seed=8)
    pts = np.round(project(rotate_ground(canon, theta), scale=20.0, offset=(23, 23)))
    maps = render_belief_maps(pts, 46, 46, sigma=1.5)
    net = prob_net(tmp_path, path, 2)
    net.blobs["maps"].data[:, :17] = maps[:2]
    net.blobs["camera"].data[...] = UPRIGHT_CAMERA.reshape(-1)
    net.forward()
    first = net.blobs["pose3d"].data.copy()
    for n in (5, 1):  # larger, then smaller than the prototxt's batch
        net.blobs["maps"].reshape(n, 18, 46, 46)
        net.blobs["camera"].reshape(n, 9)
        net.reshape()
        net.blobs["maps"].data[...] = 0
        net.blobs["maps"].data[:, :17] = maps[:n]
        net.blobs["camera"].data[...] = UPRIGHT_CAMERA.reshape(-1)
        net.forward()
        assert net.blobs["proj"].data.shape == (n, 18, 46, 46)
        assert net.blobs["pose3d"].data.shape == (n, 17, 3) and net.blobs["joints2d"].data.shape == (n, 17, 2)
        np.testing.assert_allclose(net.blobs["pose3d"].data[:min(n, 2)], first[:min(n, 2)], atol=1e-3)
        assert np.isfinite(net.blobs["pose3d"].data).all()


def test_prob3d_confidence_weights_drop_a_missing_joint(tmp_path, model_file):
    """A joint whose map is empty (peak 0, argmax in the corner): with confidence "binary" it is dropped from the
    lift; with "none" (the paper's layer) its corner location pulls the 3D pose away."""
    m, path = model_file
    canon, _, theta, _ = sample_poses(m, 2, seed=9)
    world = rotate_ground(canon, theta)
    pts = np.round(project(world, UPRIGHT_CAMERA, scale=20.0, offset=(23, 23)))
    maps = render_belief_maps(pts, 46, 46, sigma=1.5)
    maps[:, skeleton.JOINT_INDEX["LWrist"]] = 0.0
    truth = (world - world[:, :1]) * m.mm_per_unit
    err = {}
    for conf in ("none", "binary", "peak"):
        net = prob_net(tmp_path, path, 2, confidence=conf, min_confidence=0.2, noise_2d=0.01)
        net.blobs["maps"].data[:, :17] = maps
        net.blobs["camera"].data[...] = UPRIGHT_CAMERA.reshape(-1)
        net.forward()
        err[conf] = np.abs(net.blobs["pose3d"].data - truth).mean()
    assert err["binary"] < 0.5 * err["none"]
    assert err["peak"] == pytest.approx(err["binary"], rel=0.2)  # the other peaks are ~1: the same weights
    with pytest.raises(ValueError, match="confidence must be one of"):
        prob_net(tmp_path, path, 1, confidence="soft")


def test_prob3d_search_selects_the_lifters_angle_search(tmp_path, model_file):
    """``search: grid`` lifts with the paper's quantised angles, the default with the exact angle optimum: the layer's
    3D poses equal those of the Lifter with the same search on the argmax joints; an unknown search is refused."""
    from lifting.belief_maps import argmax_2d
    from lifting.lift import Lifter

    m, path = model_file
    canon, _, theta, _ = sample_poses(m, 4, seed=11)
    theta = theta + 0.02  # between the grid's angles: the two searches differ
    pts = np.round(project(rotate_ground(canon, theta), scale=20.0, offset=(23, 23)))
    maps = render_belief_maps(pts, 46, 46, sigma=1.5)
    poses = {}
    for search in ("grid", None):
        net = prob_net(tmp_path, path, 4, num_angles=12, **({"search": search} if search else {}))
        net.blobs["maps"].data[:, :17] = maps
        net.blobs["maps"].data[:, 17] = background_map(maps)
        net.blobs["camera"].data[...] = UPRIGHT_CAMERA.reshape(-1)
        net.forward()
        poses[search] = net.blobs["pose3d"].data.copy()
        res = Lifter(m, num_angles=12, search=search).lift(argmax_2d(maps)[0])
        np.testing.assert_allclose(poses[search], res.pose3d_mm, atol=1e-3)
    assert np.abs(poses["grid"] - poses[None]).max() > 1e-3
    with pytest.raises(ValueError, match=r"Prob3DPoseLayer: .*search"):
        prob_net(tmp_path, path, 1, search="exhaustive")
