"""The network definition: the generated nets load in Caffe, run forward and backward, keep the CPM names."""
import os

import numpy as np
import pytest

import caffe  # noqa: E402  (set-up builds it: a missing Caffe must fail, never skip)

from lifting.geometry import UPRIGHT_CAMERA
from prototxt import generate
from prototxt.netdef import NUM_MAPS, build


@pytest.mark.parametrize("extended", [False, True])
def test_small_train_net_runs_forward_and_backward(extended, rng):
    path = os.path.join(generate.HERE, f"{'lifting' if extended else 'cpm'}_h36m_small_train.prototxt")
    net = caffe.Net(path, caffe.TRAIN)
    net.blobs["data"].data[...] = rng.random(net.blobs["data"].data.shape)
    net.blobs["label"].data[...] = rng.random(net.blobs["label"].data.shape)
    if extended:
        net.blobs["camera"].data[...] = UPRIGHT_CAMERA.reshape(-1)
    out = net.forward()
    assert set(k for k in out if k.startswith("loss")) == {"loss_stage1", "loss_stage2"}
    net.backward()
    assert np.abs(net.params["conv1_stage1"][0].diff).sum() > 0


def test_full_deploy_structure():
    path = os.path.join(generate.HERE, "lifting_h36m_full_deploy.prototxt")
    net = caffe.Net(path, caffe.TEST)
    assert net.blobs["Mconv5_stage6_new"].data.shape == (1, NUM_MAPS, 46, 46)
    assert net.blobs["concat_stage2"].data.shape == (1, 32 + NUM_MAPS + 1, 46, 46)
    assert net.blobs["pose3d"].data.shape == (1, 17, 3)
    fusion = [n for n in net.params if n.startswith("merge_hm_stage")]
    assert fusion == [f"merge_hm_stage{t}" for t in range(1, 6)]
    # CPM layer names kept where a layer corresponds
    for name in ("conv1_stage1", "conv5_stage1", "conv6_stage1", "conv4_stage2", "conv1_stage6", "Mconv2_stage6"):
        assert name in net.params


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="unknown variant"):
        build("huge")
