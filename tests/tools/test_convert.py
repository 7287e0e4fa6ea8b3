"""CPM weight conversion, checked bit for bit on a caffemodel with random weights built from the original
CPM MPI deploy prototxt of ../shared/cpm."""
import os

import numpy as np
import pytest

import caffe  # noqa: E402  (set-up builds it: a missing Caffe must fail, never skip)

from prototxt import generate
from tests.helpers import shared_path
from tools.convert import STANDIN_LABEL, WeightFileError, convert, map_correspondence, write_standin_cpm

TARGET = os.path.join(generate.HERE, "lifting_h36m_full_deploy.prototxt")


@pytest.fixture(scope="module")
def cpm_weights(tmp_path_factory):
    proto = shared_path("cpm", "model__trained_MPI_pose_deploy_centerMap.prototxt")
    path = tmp_path_factory.mktemp("cpm") / "pose_RANDOM_STANDIN.caffemodel"
    write_standin_cpm(proto, str(path), seed=0, log=None)  # `lifting cpm-standin`
    net = caffe.Net(proto, str(path), caffe.TEST)
    src = {k: [b.data.copy() for b in v] for k, v in net.params.items()}
    assert all(np.abs(v[0]).max() > 0 for v in src.values())  # random, not zeros
    return proto, str(path), src


def test_conversion_copies_and_remaps_bit_for_bit(cpm_weights, tmp_path):
    proto, weights, src = cpm_weights
    out = tmp_path / "init.caffemodel"
    rows = convert(proto, weights, TARGET, out, new_layers="remap", log=None)
    net = caffe.Net(TARGET, str(out), caffe.TEST)
    actions = {(r[0], r[1]): r[2] for r in rows}
    pairs = map_correspondence("mpi")
    assert len(pairs) == 15  # 14 joints + background
    for name, blobs in net.params.items():
        for i, b in enumerate(blobs):
            act = actions[(name, i)]
            if act == "copied":  # same name, or a renamed layer's blob whose shape did not change (Mconv1 bias)
                np.testing.assert_array_equal(b.data, src[name.replace("_new", "")][i])
            elif act == "remapped" and name.startswith(("conv7_stage1", "Mconv5_stage")):
                s = src[name.replace("_new", "")][i]
                for t, k in pairs:
                    np.testing.assert_array_equal(b.data[t], s[k])
            elif act == "remapped":  # Mconv1: input channels
                s = src[name.replace("_new", "")][i]
                np.testing.assert_array_equal(b.data[:, :32], s[:, :32])
                for t, k in pairs:
                    np.testing.assert_array_equal(b.data[:, 32 + t], s[:, 32 + k])
                np.testing.assert_array_equal(b.data[:, -1], s[:, -1])
    counts = {a: sum(1 for v in actions.values() if v == a) for a in ("copied", "remapped", "initialised")}
    # remapped: weights and biases of conv7_stage1 and Mconv5 x5 (output maps), weights of Mconv1 x5 (inputs)
    assert counts["remapped"] == 2 * 6 + 5
    assert counts["copied"] == sum(len(v) for v in src.values()) - counts["remapped"]  # every other CPM blob
    assert {n for (n, _), a in actions.items() if a == "initialised"} == {f"merge_hm_stage{t}" for t in range(1, 6)}
    # the mapped head map of conv7_stage1_new is CPM's head map (index 0) and the background is CPM's map 14
    np.testing.assert_array_equal(net.params["conv7_stage1_new"][1].data[[10, 17]], src["conv7_stage1"][1][[0, 14]])


def test_new_layers_are_random_by_default_as_in_the_paper(cpm_weights, tmp_path):
    proto, weights, src = cpm_weights
    out = tmp_path / "init.caffemodel"
    rows = convert(proto, weights, TARGET, out, log=None)
    net = caffe.Net(TARGET, str(out), caffe.TEST)
    actions = {(r[0], r[1]): r[2] for r in rows}
    new = {n for n in net.params if n.endswith("_new")}
    assert len(new) == 11  # conv7_stage1_new, Mconv1_stageN_new and Mconv5_stageN_new for N = 2..6
    for name, blobs in net.params.items():
        for i, b in enumerate(blobs):
            if name in new:
                assert actions[(name, i)] == "initialised"
                if i == 0:  # the target's gaussian filler (std 0.01), nothing of CPM's (std 1 here)
                    assert 0.005 < b.data.std() < 0.02
            elif name in src:
                assert actions[(name, i)] == "copied"
                np.testing.assert_array_equal(b.data, src[name][i])
    assert {a for a in actions.values()} == {"copied", "initialised"}
    with pytest.raises(ValueError, match="new_layers must be one of"):
        convert(proto, weights, TARGET, out, new_layers="copy", log=None)


def test_truncated_caffemodel_is_refused(cpm_weights, tmp_path):
    proto, weights, _ = cpm_weights
    bad = tmp_path / "truncated.caffemodel"
    with open(weights, "rb") as f:
        bad.write_bytes(f.read()[: 5_000_000])
    with pytest.raises(WeightFileError, match="truncated"):
        convert(proto, bad, TARGET, tmp_path / "x.caffemodel", log=None)
    assert not (tmp_path / "x.caffemodel").exists()


def test_mismatched_caffemodel_is_refused(cpm_weights, tmp_path):
    proto, _, _ = cpm_weights
    flic = shared_path("cpm", "model__trained_FLIC_pose_deploy.prototxt")
    net = caffe.Net(flic, caffe.TEST)
    path = tmp_path / "flic.caffemodel"
    net.save(str(path))
    with pytest.raises(WeightFileError, match="are missing|weights of another net"):
        convert(proto, path, TARGET, tmp_path / "x.caffemodel", log=None)


def test_command_line_new_layers_option(cpm_weights, tmp_path, capsys):
    from lifting_cli.main import main

    proto, weights, _ = cpm_weights
    out = tmp_path / "remapped.caffemodel"
    assert main(["convert-cpm", "--cpm-prototxt", proto, "--cpm-weights", weights, "--target", TARGET,
                 "--new-layers", "remap", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "'remapped': 17" in text and out.exists()


def test_standin_says_it_is_random(cpm_weights):
    """The stand-in's label travels with the file: its net name says RANDOM WEIGHTS."""
    from caffe.proto import caffe_pb2

    m = caffe_pb2.NetParameter()
    with open(cpm_weights[1], "rb") as f:
        m.ParseFromString(f.read())
    assert m.name.startswith(STANDIN_LABEL) and "RANDOM WEIGHTS" in m.name
