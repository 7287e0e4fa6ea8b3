"""The data layer's ``augment``: ``"authors"`` (the default: no augmentation, as the authors' data_transformer.cpp
ran) gives the prepared authors' crop itself, pixel for pixel, with its labels and stored camera; ``"prototxt"``
scales and turns it in training only; ``lifting train --augment`` writes the choice into the generated train net."""
import json

import cv2
import numpy as np
import pytest

import caffe  # noqa: E402  (set-up builds it: a missing Caffe must fail, never skip)

from lifting.belief_maps import argmax_2d
from lifting.cpm import Augmentation, pixels_to_input
from lifting.dataset import PreparedDataset
from lifting_cli.main import main
from model_fitting.prepare import prepare
from tests.caffe_layers.test_data import data_net
from tests.helpers import shared_path
from tools.train_h36m import data_net as train_data_net


@pytest.fixture(scope="module")
def authors_crops(official_tree, tmp_path_factory):
    out = tmp_path_factory.mktemp("authors_crops")
    prepare(official_tree[0], str(out), shared_path("data", "h36m_fixture", "cameras.json"), subjects=["S1"],
            log=None)  # the default crop: the authors'
    return str(out)


def test_authors_augmentation_is_the_identity(authors_crops, tmp_path):
    d = PreparedDataset(authors_crops)
    assert d.manifest["config"]["crop"] == "authors" and len(d) == 11
    net = data_net(tmp_path, source=authors_crops, batch_size=11, crop=368, workers=0, shuffle=False)
    net.forward()
    for k in range(len(d)):
        s = d.sample(k)
        img = cv2.imdecode(np.frombuffer(s["jpeg"], np.uint8), cv2.IMREAD_COLOR)
        np.testing.assert_array_equal(net.blobs["data"].data[k, :3], pixels_to_input(img))  # the crop, unchanged
        np.testing.assert_allclose(net.blobs["camera"].data[k], s["E"].reshape(9), atol=1e-6)
        peaks = argmax_2d(net.blobs["label"].data[k:k + 1, :17])[0][0]
        np.testing.assert_allclose(peaks, (s["joints2d"] - 3.5) / 8, atol=0.51)  # labels on the stored joints
    aug = batches_of(data_net(tmp_path, source=authors_crops, batch_size=11, crop=368, workers=0, shuffle=False,
                              augment="prototxt", seed=3))
    assert not np.array_equal(aug, net.blobs["data"].data)  # the prototxt's scale and rotation change the window
    test_phase = data_net(tmp_path, caffe.TEST, source=authors_crops, batch_size=11, crop=368, workers=0,
                          shuffle=False, augment="prototxt")
    test_phase.forward()
    np.testing.assert_array_equal(test_phase.blobs["data"].data, net.blobs["data"].data)  # never at test time
    with pytest.raises(Exception, match=r"augment must be one of \['authors', 'prototxt'\], got True"):
        data_net(tmp_path, source=authors_crops, augment=True)


def batches_of(net):
    net.forward()
    return net.blobs["data"].data.copy()


def test_augment_names():
    assert not Augmentation.augments("authors") and not Augmentation.augments("authors", train=False)
    assert Augmentation.augments("prototxt") and not Augmentation.augments("prototxt", train=False)


def test_train_augment_goes_into_the_generated_net(authors_crops, tmp_path, capsys):
    from tools.train_h36m import NETS

    from caffe.proto import caffe_pb2
    from google.protobuf import text_format

    for name in ("authors", "prototxt"):
        net = text_format.Parse(train_data_net(NETS["lifting"], authors_crops, 0, 0, augment=name),
                                caffe_pb2.NetParameter())
        layer = next(ly for ly in net.layer if ly.python_param.layer == "H36MDataLayer")
        assert json.loads(layer.python_param.param_str)["augment"] == name
    assert main(["train", "--h36m-npz", shared_path("data", "h36m_poses_17j_5fps.npz"), "--augment", "prototxt",
                 "--out", str(tmp_path / "r")]) == 2
    assert "--augment sets the data layer of --data training" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["train", "--data", authors_crops, "--augment", "flip", "--out", str(tmp_path / "r")])
    assert e.value.code == 2 and "invalid choice: 'flip'" in capsys.readouterr().err
