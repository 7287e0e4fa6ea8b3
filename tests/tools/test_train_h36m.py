"""Training on a prepared dataset: the shipped solver as it is, snapshots and an exact resume, the multi-GPU path
(each rank joins Caffe's NCCL as BVLC's python/train.py does, checked against this pycaffe's API), the fusion weight's
effective learning rate, the baseline-CPM net, and GPU requests on a CPU-only Caffe refused at once."""
import os

import numpy as np
import pytest

import caffe  # noqa: E402  (set-up builds it: a missing Caffe must fail, never skip)

from caffe.proto import caffe_pb2  # noqa: E402
from google.protobuf import text_format  # noqa: E402

from prototxt import generate  # noqa: E402
from prototxt.netdef import FUSION_LR_MULT  # noqa: E402
from tools.devices import DeviceError, parse_gpus, probe_gpus  # noqa: E402
from tools.train_h36m import (NETS, SHIPPED_SOLVER, data_net, join_nccl, read_solver,  # noqa: E402
                              set_rank_device, train_dataset)

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


class Recorder:
    """Stands for the caffe module, a solver and its net: records every call, in order, with its arguments."""

    def __init__(self, calls, name="caffe", layer_wise_reduce=True):
        self._calls, self._name = calls, name
        self.param = type("SolverParameter", (), {"layer_wise_reduce": layer_wise_reduce})()
        self.net = None

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        name = f"{self._name}.{attr}"

        def call(*args):
            self._calls.append((name, args))
            return Recorder(self._calls, attr) if attr == "NCCL" else None
        return call


def test_each_rank_joins_caffes_nccl_as_bvlc_train_py_does():
    """The sequence of BVLC's python/train.py (solve()): device, mode, solver count/rank, multiprocess; the solver;
    then NCCL(solver, uid), bcast, add_callback(nccl) and, with layer_wise_reduce, net.after_backward(nccl)."""
    calls = []
    fake = Recorder(calls)
    set_rank_device(fake, 3, 1, 2)
    assert calls == [("caffe.set_device", (3,)), ("caffe.set_mode_gpu", ()), ("caffe.set_solver_count", (2,)),
                     ("caffe.set_solver_rank", (1,)), ("caffe.set_multiprocess", (True,))]
    for layer_wise, tail in ((True, [("net.after_backward", "nccl")]), (False, [])):
        del calls[:]
        solver = Recorder(calls, "solver", layer_wise_reduce=layer_wise)
        solver.net = Recorder(calls, "net")
        nccl = join_nccl(fake, solver, b"uid")
        assert calls[0] == ("caffe.NCCL", (solver, b"uid"))
        named = [(n, "nccl" if a == (nccl,) else a) for n, a in calls[1:]]
        assert named == [("NCCL.bcast", ()), ("solver.add_callback", "nccl")] + tail
    del calls[:]
    set_rank_device(fake, "cpu", 0, 1)  # the single CPU process: no rank business
    assert calls == [("caffe.set_mode_cpu", ())]
    # every call made above exists in this pycaffe (the official BVLC one), so the fake cannot drift from it
    for name in ("set_device", "set_mode_gpu", "set_mode_cpu", "set_solver_count", "set_solver_rank",
                 "set_multiprocess", "NCCL", "has_nccl"):
        assert callable(getattr(caffe, name)), name
    assert hasattr(caffe.NCCL, "bcast") == caffe.has_nccl()  # bcast/new_uid exist only in a USE_NCCL build
    assert callable(caffe.Net.after_backward) and callable(caffe.SGDSolver.add_callback)
    assert isinstance(caffe.SGDSolver.param, property)  # solver.param.layer_wise_reduce, read by join_nccl
    assert caffe_pb2.SolverParameter().layer_wise_reduce is True  # Caffe's default: reduce per layer


def test_several_cpu_processes_are_refused(prepared_h36m, tmp_path):
    out = tmp_path / "two"
    with pytest.raises(ValueError, match="Caffe's NCCL, which needs GPUs"):
        train_dataset(prepared_h36m, str(out), prototxt=tiny(tmp_path, 2), devices=["cpu", "cpu"], iterations=1,
                      workers=0, log=None)
    assert not out.exists()


def test_each_rank_net_tells_its_data_layer_its_rank(prepared_h36m):
    """The per-rank train nets of a multi-GPU run: the same data layer, told its rank and the number of ranks."""
    import json
    shares = []
    for rank in range(2):
        m = caffe_pb2.NetParameter()
        text_format.Merge(data_net(NETS["lifting"], prepared_h36m, workers=2, seed=5, rank=rank, world_size=2), m)
        p = json.loads(m.layer[0].python_param.param_str)
        shares.append((p["rank"], p["world_size"], p["seed"]))
    assert shares == [(0, 2, 5), (1, 2, 5)]


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
