"""Training on a prepared dataset: the shipped solver as it is, snapshots and an exact resume, the data-parallel path
(two CPU solver processes give the parameters of one process with the double batch), the fusion weight's effective
learning rate, the baseline-CPM net, and GPU requests on a CPU-only Caffe refused at once."""
import os

import numpy as np
import pytest

import caffe  # noqa: E402  (set-up builds it: a missing Caffe must fail, never skip)

from caffe.proto import caffe_pb2  # noqa: E402
from google.protobuf import text_format  # noqa: E402

from prototxt import generate  # noqa: E402
from prototxt.netdef import FUSION_LR_MULT  # noqa: E402
from tools.train_h36m import (NETS, SHIPPED_SOLVER, DeviceError, data_net, parse_gpus, probe_gpus,  # noqa: E402
                              read_solver, train_dataset)

SMALL = os.path.join(generate.HERE, "lifting_h36m_small_train.prototxt")
#: a net without dropout or any other randomness, for exact comparisons: one strided convolution to the 18 maps
TINY = """name: "tiny"
layer {{ name: "data" type: "Input" top: "data" input_param {{ shape {{ dim: {n} dim: 4 dim: 96 dim: 96 }} }} }}
layer {{ name: "label" type: "Input" top: "label" input_param {{ shape {{ dim: {n} dim: 18 dim: 12 dim: 12 }} }} }}
layer {{ name: "conv" type: "Convolution" bottom: "data" top: "maps"
  convolution_param {{ num_output: 18 kernel_size: 8 stride: 8 weight_filler {{ type: "gaussian" std: 0.01 }} }} }}
layer {{ name: "loss" type: "EuclideanLoss" bottom: "maps" bottom: "label" top: "loss" }}
"""


def tiny(tmp_path, n):
    p = tmp_path / f"tiny{n}.prototxt"
    p.write_text(TINY.format(n=n))
    return str(p)


def params(run, it):
    m = caffe_pb2.NetParameter()
    with open(os.path.join(run, f"snap_iter_{it}.caffemodel"), "rb") as f:
        m.ParseFromString(f.read())
    return {ly.name: [np.array(b.data) for b in ly.blobs] for ly in m.layer if ly.blobs}


def test_shipped_solver_is_used_as_it_is(prepared_h36m, tmp_path):
    h = train_dataset(prepared_h36m, str(tmp_path / "run"), prototxt=tiny(tmp_path, 4), iterations=3, workers=0,
                      snapshot_every=2, log=None)
    assert h["iteration"] == [0, 1, 2] and np.all(np.isfinite(h["loss"]))
    shipped, run = read_solver(SHIPPED_SOLVER), read_solver(str(tmp_path / "run" / "solver.prototxt"))
    for field in ("base_lr", "momentum", "weight_decay", "lr_policy", "stepsize", "gamma", "max_iter"):
        assert getattr(run, field) == getattr(shipped, field), field
    assert (shipped.base_lr, shipped.stepsize, shipped.gamma, shipped.max_iter) == (
        pytest.approx(5e-4), 50000, pytest.approx(0.333), 172980)
    assert run.solver_mode == run.CPU and run.snapshot == 0  # the loop snapshots, at 2 and at the end
    assert sorted(os.listdir(tmp_path / "run")) == ["loss.json", "loss.png", "net.prototxt", "snap_iter_2.caffemodel",
                                                    "snap_iter_2.solverstate", "snap_iter_3.caffemodel",
                                                    "snap_iter_3.solverstate", "solver.prototxt"]


def test_resume_continues_exactly(prepared_h36m, tmp_path):
    net = tiny(tmp_path, 4)
    whole = str(tmp_path / "whole")
    train_dataset(prepared_h36m, whole, prototxt=net, iterations=5, workers=0, snapshot_every=2, log=None)
    part = str(tmp_path / "part")
    train_dataset(prepared_h36m, part, prototxt=net, iterations=2, workers=0, snapshot_every=2, log=None)
    h = train_dataset(prepared_h36m, part, prototxt=net, iterations=3, workers=0, snapshot_every=2, log=None,
                      resume=os.path.join(part, "snap_iter_2.solverstate"))
    assert h["iteration"] == [0, 1, 2, 3, 4]
    for name, blobs in params(whole, 5).items():
        for a, b in zip(blobs, params(part, 5)[name]):
            np.testing.assert_array_equal(a, b)  # same batches (the data layer seeks), same momentum


def test_two_solver_processes_equal_one_with_the_double_batch(prepared_h36m, tmp_path):
    one = str(tmp_path / "one")
    h1 = train_dataset(prepared_h36m, one, prototxt=tiny(tmp_path, 4), iterations=3, workers=0, seed=3, log=None)
    two = str(tmp_path / "two")
    h2 = train_dataset(prepared_h36m, two, prototxt=tiny(tmp_path, 2), devices=["cpu", "cpu"], iterations=3,
                       workers=0, seed=3, log=None)
    np.testing.assert_allclose(h2["loss"], h1["loss"], rtol=1e-5)  # the mean of the ranks' losses
    p1, p2 = params(one, 3), params(two, 3)
    for name in p1:
        for a, b in zip(p1[name], p2[name]):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-7)
    solo = str(tmp_path / "solo")  # one process with the single batch differs: the ranks did share their gradients
    train_dataset(prepared_h36m, solo, prototxt=tiny(tmp_path, 2), iterations=3, workers=0, seed=3, log=None)
    assert np.abs(params(solo, 3)["conv"][0] - p2["conv"][0]).max() > 100 * np.abs(p1["conv"][0] - p2["conv"][0]).max()
    assert os.path.exists(os.path.join(two, "net_rank1.prototxt")) and not any(
        f.endswith(".tmp") for f in os.listdir(two))


def test_small_extended_net_trains_on_the_dataset_and_fusion_moves_at_the_solvers_rate(prepared_h36m, tmp_path):
    """One step of the shipped solver moves each fusion weight by base_lr x lr_mult x its gradient: 5e-4 x 0.05. The
    authors' layer set its blob's diff to 0.05 x mean(top diff) and the same solver applied base_lr (lr_mult 1) on
    top (tests/test_caffe_foundation.py: a Python layer's blob is updated by the solver): the same 2.5e-5."""
    run = str(tmp_path / "small")
    h = train_dataset(prepared_h36m, run, prototxt=SMALL, iterations=1, workers=0, log=None)
    assert np.isfinite(h["loss"][0])
    solver = caffe.get_solver(os.path.join(run, "solver.prototxt"))
    w0 = float(solver.net.params["merge_hm_stage1"][0].data[0])
    grads = []  # the gradient as backward left it, before the solver turns the diff into the update
    solver.add_callback(lambda: None, lambda: grads.append(float(solver.net.params["merge_hm_stage1"][0].diff[0])))
    solver.step(1)
    grad = grads[0]
    w1 = float(solver.net.params["merge_hm_stage1"][0].data[0])
    assert grad != 0
    assert w1 - w0 == pytest.approx(-5e-4 * FUSION_LR_MULT * grad, rel=1e-3)
    solver.net.layers[0].loader.close()


def test_cpm_net_reads_the_same_data_without_a_camera(prepared_h36m):
    text = data_net(NETS["cpm"], prepared_h36m, workers=2, seed=0)
    net = caffe_pb2.NetParameter()
    text_format.Merge(text, net)
    data = net.layer[0]
    assert data.type == "Python" and list(data.top) == ["data", "label"]
    assert '"batch_size": 8' in data.python_param.param_str and '"crop": 368' in data.python_param.param_str
    assert not any(ly.type in ("Input",) for ly in net.layer)
    assert not any(ly.type == "Python" and "Prob3D" in ly.python_param.layer for ly in net.layer)
    ext = caffe_pb2.NetParameter()
    text_format.Merge(data_net(NETS["lifting"], prepared_h36m, workers=2, seed=0), ext)
    assert list(ext.layer[0].top) == ["data", "label", "camera"]


def test_gpu_on_a_cpu_only_caffe_fails_at_once(prepared_h36m, tmp_path):
    assert parse_gpus("0") == [0] and parse_gpus("0,1,3") == [0, 1, 3]
    for bad in ("", "a", "0,0", "-1"):
        with pytest.raises(ValueError, match="--gpu"):
            parse_gpus(bad)
    with pytest.raises(DeviceError, match=r"built CPU-only; build Caffe with CUDA .*scripts/setup.sh --cuda"):
        probe_gpus([0])
    out = tmp_path / "gpu_run"
    with pytest.raises(DeviceError, match="built CPU-only"):
        train_dataset(prepared_h36m, str(out), devices=[0, 1], iterations=1, log=None)
    assert not out.exists()
