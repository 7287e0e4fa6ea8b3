"""Caffe is real: a Python layer with a learnable parameter runs forward, backward and an SGD step."""
import json

import numpy as np
import pytest

import caffe  # noqa: E402  (set-up builds it: a missing Caffe must fail, never skip)

from tests.gradcheck import check_gradients

NET = """
name: "toy"
force_backward: true
layer {{ name: "data" type: "Input" top: "data" input_param {{ shape {{ dim: 2 dim: 3 dim: 4 dim: 5 }} }} }}
layer {{ name: "target" type: "Input" top: "target" input_param {{ shape {{ dim: 2 dim: 3 dim: 4 dim: 5 }} }} }}
layer {{
  name: "scale" type: "Python" bottom: "data" top: "scaled"
  param {{ lr_mult: 1 decay_mult: 0 }}
  python_param {{ module: "tests.toy_layers" layer: "ScaleLayer" param_str: '{param}' }}
}}
layer {{ name: "loss" type: "EuclideanLoss" bottom: "scaled" bottom: "target" top: "loss" }}
"""


@pytest.fixture
def net_file(tmp_path):
    p = tmp_path / "toy.prototxt"
    p.write_text(NET.format(param=json.dumps({"init": 0.5})))
    return str(p)


def test_python_layer_is_registered():
    assert "Python" in caffe.layer_type_list()


def test_forward_backward(net_file, rng):
    caffe.set_mode_cpu()
    net = caffe.Net(net_file, caffe.TRAIN)
    x = rng.normal(size=(2, 3, 4, 5)).astype(np.float32)
    t = rng.normal(size=(2, 3, 4, 5)).astype(np.float32)
    net.blobs["data"].data[...] = x
    net.blobs["target"].data[...] = t
    out = net.forward()
    expected = np.sum((0.5 * x - t) ** 2) / 2 / 2  # EuclideanLoss: sum / (2 N)
    assert out["loss"] == pytest.approx(expected, rel=1e-5)
    net.backward()
    # d loss / d w = sum((w x - t) * x) / N
    assert net.params["scale"][0].diff[0] == pytest.approx(np.sum((0.5 * x - t) * x) / 2, rel=1e-4)
    np.testing.assert_allclose(net.blobs["data"].diff, 0.5 * (0.5 * x - t) / 2, rtol=1e-4, atol=1e-6)


def test_gradient_check_helper(net_file, rng):
    net = caffe.Net(net_file, caffe.TRAIN)
    net.blobs["data"].data[...] = rng.normal(size=(2, 3, 4, 5))
    net.blobs["target"].data[...] = rng.normal(size=(2, 3, 4, 5))
    checked = check_gradients(net, "scaled", inputs=["data"], params=[("scale", 0)], eps=1e-2)
    assert len(checked) == 41


def test_gradient_check_helper_catches_a_wrong_gradient(net_file, rng, monkeypatch):
    from tests import toy_layers

    def wrong_backward(self, top, propagate_down, bottom):
        bottom[0].diff[...] = 2 * top[0].diff  # wrong: should be w * top.diff

    monkeypatch.setattr(toy_layers.ScaleLayer, "backward", wrong_backward)
    net = caffe.Net(net_file, caffe.TRAIN)
    net.blobs["data"].data[...] = rng.normal(size=(2, 3, 4, 5))
    with pytest.raises(AssertionError, match="gradient mismatch for blob 'data'"):
        check_gradients(net, "scaled", inputs=["data"], eps=1e-2)


def test_sgd_solver_step_changes_parameter(net_file, tmp_path, rng):
    solver_file = tmp_path / "solver.prototxt"
    solver_file.write_text(
        f'net: "{net_file}"\nbase_lr: 0.002\nmomentum: 0.9\nlr_policy: "fixed"\nmax_iter: 10\n'
        f'display: 0\nsnapshot: 0\nsnapshot_prefix: "{tmp_path}/snap"\nsolver_mode: CPU\n'
    )
    solver = caffe.SGDSolver(str(solver_file))
    x = rng.normal(size=(2, 3, 4, 5)).astype(np.float32)
    solver.net.blobs["data"].data[...] = x
    solver.net.blobs["target"].data[...] = 2.0 * x  # the optimum is w = 2
    w0 = float(solver.net.params["scale"][0].data[0])
    solver.net.forward()
    solver.net.backward()
    grad = float(solver.net.params["scale"][0].diff[0])
    solver.step(1)
    w1 = float(solver.net.params["scale"][0].data[0])
    assert w1 != w0
    assert w1 == pytest.approx(w0 - 0.002 * grad, rel=1e-4)  # first SGD step: w -= lr * grad
    for _ in range(30):
        solver.step(1)
    assert abs(float(solver.net.params["scale"][0].data[0]) - 2.0) < abs(w1 - 2.0)
