"""FusionLayer and Prob3DPoseLayer through real caffe.Net objects built from temporary prototxt files."""
import json

import numpy as np
import pytest

caffe = pytest.importorskip("caffe")

from caffe_layers.gradcheck import check_gradients
from helpers import make_model, project, rotate, sample_poses
from lifting import skeleton
from lifting.belief_maps import background_map, render_belief_maps

FUSION_NET = """
force_backward: true
layer {{ name: "b" type: "Input" top: "b" input_param {{ shape {{ dim: 2 dim: 3 dim: 5 dim: 4 }} }} }}
layer {{ name: "bh" type: "Input" top: "bh" input_param {{ shape {{ dim: 2 dim: 3 dim: 5 dim: 4 }} }} }}
layer {{ name: "t" type: "Input" top: "t" input_param {{ shape {{ dim: 2 dim: 3 dim: 5 dim: 4 }} }} }}
layer {{ name: "fuse" type: "Python" bottom: "b" bottom: "bh" top: "f" param {{ lr_mult: 1 decay_mult: 0 }}
  python_param {{ module: "caffe_layers" layer: "FusionLayer" param_str: '{param}' }} }}
layer {{ name: "loss" type: "EuclideanLoss" bottom: "f" bottom: "t" top: "loss" }}
"""


def fusion_net(tmp_path, rng, init=0.3):
    p = tmp_path / "fusion.prototxt"
    p.write_text(FUSION_NET.format(param=json.dumps({"init": init})))
    net = caffe.Net(str(p), caffe.TRAIN)
    for name in ("b", "bh", "t"):
        net.blobs[name].data[...] = rng.normal(size=net.blobs[name].data.shape)
    return net, p


def test_fusion_forward_is_eq8(tmp_path, rng):
    net, _ = fusion_net(tmp_path, rng, init=0.3)
    net.forward()
    b, bh = net.blobs["b"].data, net.blobs["bh"].data
    np.testing.assert_allclose(net.blobs["f"].data, 0.3 * b + 0.7 * bh, rtol=1e-6)


def test_fusion_gradients_numeric(tmp_path, rng):
    net, _ = fusion_net(tmp_path, rng, init=0.3)
    checked = check_gradients(net, "f", inputs=["b", "bh"], params=[("fuse", 0)], eps=1e-2, rtol=2e-2)
    assert {c[0] for c in checked} == {"blob 'b'", "blob 'bh'", "param 'fuse'[0]"}


def test_fusion_weight_is_kept_in_unit_interval_and_learned(tmp_path, rng):
    net, proto = fusion_net(tmp_path, rng, init=1.0)
    net.params["fuse"][0].data[0] = 1.7
    net.forward()
    assert net.params["fuse"][0].data[0] == 1.0
    np.testing.assert_allclose(net.blobs["f"].data, net.blobs["b"].data)
    solver_file = tmp_path / "solver.prototxt"
    solver_file.write_text(f'net: "{proto}"\nbase_lr: 0.001\nlr_policy: "fixed"\nmomentum: 0.9\nmax_iter: 100\n'
                           f'display: 0\nsnapshot_prefix: "{tmp_path}/s"\nsolver_mode: CPU\n')
    solver = caffe.SGDSolver(str(solver_file))
    b = rng.normal(size=(2, 3, 5, 4))
    bh = rng.normal(size=(2, 3, 5, 4))
    for name, val in (("b", b), ("bh", bh), ("t", 0.25 * b + 0.75 * bh)):  # the target is w = 0.25
        solver.net.blobs[name].data[...] = val
    solver.net.params["fuse"][0].data[0] = 1.0
    solver.step(60)
    solver.net.forward()
    assert abs(solver.net.params["fuse"][0].data[0] - 0.25) < 0.05
    # saved and loaded with the weights
    solver.net.save(str(tmp_path / "w.caffemodel"))
    net2 = caffe.Net(str(proto), str(tmp_path / "w.caffemodel"), caffe.TEST)
    assert net2.params["fuse"][0].data[0] == solver.net.params["fuse"][0].data[0]


def test_fusion_rejects_bad_params(tmp_path):
    p = tmp_path / "f.prototxt"
    p.write_text(FUSION_NET.format(param=json.dumps({"init": 2.0})))
    with pytest.raises(Exception):
        caffe.Net(str(p), caffe.TRAIN)


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
    world = rotate(canon, theta)
    pts = project(world, scale=20.0, offset=(23, 23))  # on the 46 x 46 grid, upright camera
    pts = np.round(pts)  # belief maps peak on integer pixels
    maps = render_belief_maps(pts, 46, 46, sigma=1.5)
    net = prob_net(tmp_path, path, 3)
    net.blobs["maps"].data[:, :17] = maps
    net.blobs["maps"].data[:, 17] = background_map(maps)
    net.blobs["camera"].data[...] = np.diag([1.0, -1.0, -1.0]).reshape(-1)
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
    world = rotate(canon, theta)
    tilt = np.array([[1, 0, 0], [0, np.cos(0.5), -np.sin(0.5)], [0, np.sin(0.5), np.cos(0.5)]]) @ np.diag([1.0, -1, -1])
    cams = [np.diag([1.0, -1, -1]), tilt]
    pts = np.stack([project(world[i:i + 1], 20.0, (23, 23), camera=cams[i])[0] for i in range(2)])
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
    net.blobs["camera"].data[...] = np.diag([1.0, -1.0, -1.0]).reshape(-1)
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
    with pytest.raises(Exception):
        prob_net(tmp_path, path, 1, sigmaa=2)


def test_prob3d_confidence_weights_drop_a_missing_joint(tmp_path, model_file):
    """A joint whose map is empty (peak 0, argmax in the corner): with confidence "binary" it is dropped from the
    lift; with "none" (the paper's layer) its corner location pulls the 3D pose away."""
    m, path = model_file
    canon, _, theta, _ = sample_poses(m, 2, seed=9)
    world = rotate(canon, theta)
    pts = np.round(project(world, scale=20.0, offset=(23, 23)))
    maps = render_belief_maps(pts, 46, 46, sigma=1.5)
    maps[:, skeleton.J["LWrist"]] = 0.0
    truth = (world - world[:, :1]) * m.mm_per_unit
    err = {}
    for conf in ("none", "binary", "peak"):
        net = prob_net(tmp_path, path, 2, confidence=conf, min_confidence=0.2, noise_2d=0.01)
        net.blobs["maps"].data[:, :17] = maps
        net.blobs["camera"].data[...] = np.diag([1.0, -1.0, -1.0]).reshape(-1)
        net.forward()
        err[conf] = np.abs(net.blobs["pose3d"].data - truth).mean()
    assert err["binary"] < 0.5 * err["none"]
    assert err["peak"] == pytest.approx(err["binary"], rel=0.2)  # the other peaks are ~1: the same weights
    with pytest.raises(ValueError, match="confidence must be one of"):
        prob_net(tmp_path, path, 1, confidence="soft")
