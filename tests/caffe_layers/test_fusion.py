"""FusionLayer (eq. 8) through real caffe.Net objects built from temporary prototxt files."""
import json

import numpy as np
import pytest

import caffe  # noqa: E402  (set-up builds it: a missing Caffe must fail, never skip)

from tests.gradcheck import check_gradients


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
    with pytest.raises(ValueError, match=r"FusionLayer: init must be in \[0, 1\], got 2.0"):
        caffe.Net(str(p), caffe.TRAIN)


def authors_net(tmp_path, init=None):
    p = tmp_path / "fusion_authors.prototxt"
    param = {"fusion": "authors", **({} if init is None else {"init": init})}
    p.write_text(FUSION_NET.format(param=json.dumps(param)))
    return caffe.Net(str(p), caffe.TRAIN)


def test_authors_fusion_forward_on_hand_worked_maps(tmp_path, rng):
    """``fusion: authors`` (their processheatmaps.py): weights start at (0, 1), so the output is the CNN map; with
    weights (1, 3) a channel with b = [1, 2; 0, 0], b_hat = [0, 0; 4, 0] fuses to (b_hat + 3 b) / 4 =
    [0.75, 1.5; 1, 0], rescaled by max(b) / 1.5 = 4/3 to [1, 2; 4/3, 0]."""
    net = authors_net(tmp_path)
    np.testing.assert_array_equal(net.params["fuse"][0].data, [0.0, 1.0])
    for name in ("b", "bh", "t"):
        net.blobs[name].data[...] = rng.normal(size=net.blobs[name].data.shape)
    net.forward()
    np.testing.assert_allclose(net.blobs["f"].data, net.blobs["b"].data, rtol=1e-6)  # plain CPM at the start
    b = np.zeros((2, 3, 5, 4), np.float32)
    bh = np.zeros_like(b)
    b[0, 0, 0, :2] = [1, 2]
    bh[0, 0, 1, 0] = 4
    b[1, 2] = 1.0  # a flat channel: g = 0.75 b + 0.25 b_hat, rescaled to max 1
    net.blobs["b"].data[...] = b
    net.blobs["bh"].data[...] = bh
    net.params["fuse"][0].data[...] = [1.0, 3.0]
    net.forward()
    f = net.blobs["f"].data
    np.testing.assert_allclose(f[0, 0, :2, :2], [[1, 2], [4 / 3, 0]], rtol=1e-6)
    np.testing.assert_allclose(f[1, 2], 1.0, rtol=1e-6)
    assert not f[0, 1].any()  # an all-zero channel stays zero (their code divides by zero there)
    np.testing.assert_array_equal(net.params["fuse"][0].data, [1.0, 3.0])  # not clipped to [0, 1]


def test_authors_fusion_backward_is_theirs(tmp_path, rng):
    """Their backward pass: weight diffs (sum(b * top_diff), sum(b_hat * top_diff)), b's diff w_hat * top_diff,
    nothing to b_hat; the paper's fusion keeps the exact derivative (test_fusion_gradients_numeric)."""
    net = authors_net(tmp_path, init=0.75)
    np.testing.assert_allclose(net.params["fuse"][0].data, [0.25, 0.75])
    for name in ("b", "bh", "t"):
        net.blobs[name].data[...] = rng.normal(size=net.blobs[name].data.shape)
    net.forward()
    net.backward()
    b, bh = net.blobs["b"].data.astype(np.float64), net.blobs["bh"].data.astype(np.float64)
    td = net.blobs["f"].diff.astype(np.float64)  # the Euclidean loss's gradient: (f - t) / N
    np.testing.assert_allclose(td, (net.blobs["f"].data - net.blobs["t"].data) / 2, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(net.params["fuse"][0].diff, [np.sum(b * td), np.sum(bh * td)], rtol=1e-5)
    np.testing.assert_allclose(net.blobs["b"].diff, 0.25 * td, rtol=1e-5)
    assert not net.blobs["bh"].diff.any()
    # not the derivative of their forward: the finite differences disagree (the paper's fusion passes this check)
    with pytest.raises(AssertionError):
        check_gradients(net, "f", inputs=["b"], params=[("fuse", 0)], eps=1e-2, rtol=2e-2)
    with pytest.raises(Exception, match="fusion must be 'paper' or 'authors'"):
        p = tmp_path / "bad.prototxt"
        p.write_text(FUSION_NET.format(param=json.dumps({"fusion": "mean"})))
        caffe.Net(str(p), caffe.TRAIN)
