"""H36MDataLayer (the CPMData equivalent) on the miniature release prepared by `h36m-prepare`: deterministic batches
(same with and without worker processes, resumable by seek), ranks that share the stream without overlap, labels
where the joints are, and a camera that turns with the image: lifting an augmented sample's joints with its E gives
the 3D pose of the unaugmented sample."""
import json

import numpy as np
import pytest

import caffe  # noqa: E402  (set-up builds it: a missing Caffe must fail, never skip)

from caffe_layers.batches import SampleOrder, batch_positions, make_batch, make_sample
from lifting.belief_maps import argmax_2d
from lifting.cpm import Augmentation
from lifting.dataset import PreparedDataset
from lifting.lift import Lifter
from lifting.model import load_model

NET = """
layer {{ name: "data" type: "Python" top: "data" top: "label" top: "camera"
  python_param {{ module: "caffe_layers" layer: "H36MDataLayer" param_str: '{param}' }} }}
"""


def data_net(tmp_path, phase=caffe.TRAIN, **param):
    path = tmp_path / f"data_{abs(hash(json.dumps(param, sort_keys=True)))}.prototxt"
    path.write_text(NET.format(param=json.dumps(param)))
    return caffe.Net(str(path), phase)


def batches(net, n):
    out = []
    for _ in range(n):
        net.forward()
        out.append({k: net.blobs[k].data.copy() for k in ("data", "label", "camera")})
    return out


def test_ranks_share_the_stream_without_overlap():
    single = batch_positions(3, 8, 0, 1)
    assert single.tolist() == list(range(24, 32))
    ranks = [batch_positions(b, 4, r, 2) for b in range(3) for r in range(2)]
    assert np.concatenate(ranks).tolist() == list(range(24))  # 2 ranks x batch 4 = one process with batch 8
    with pytest.raises(ValueError, match="rank must be in 0..1"):
        batch_positions(0, 4, 2, 2)
    order = SampleOrder(10, seed=3)
    first, second = order(np.arange(10)), order(np.arange(10, 20))
    assert sorted(first) == sorted(second) == list(range(10)) and first.tolist() != second.tolist()
    assert SampleOrder(10, seed=3)(np.arange(20)).tolist() == first.tolist() + second.tolist()
    assert SampleOrder(10, seed=4)(np.arange(10)).tolist() != first.tolist()
    assert SampleOrder(10, shuffle=False)(np.arange(12)).tolist() == list(range(10)) + [0, 1]


def test_layer_batches_are_deterministic_resumable_and_worker_independent(prepared_h36m, tmp_path):
    p = dict(source=prepared_h36m, batch_size=3, crop=96, seed=5, augment="prototxt")  # augmented in workers
    a = batches(data_net(tmp_path, workers=0, **p), 4)
    b = batches(data_net(tmp_path, workers=2, prefetch=2, **p), 4)
    for x, y in zip(a, b):
        for k in x:
            np.testing.assert_array_equal(x[k], y[k])
    resumed = data_net(tmp_path, workers=0, **p)
    resumed.layers[0].seek(2)
    c = batches(resumed, 2)
    for x, y in zip(a[2:], c):
        np.testing.assert_array_equal(x["data"], y["data"])
    other = batches(data_net(tmp_path, workers=0, **{**p, "seed": 6}), 1)[0]
    assert not np.array_equal(other["data"], a[0]["data"])
    assert a[0]["data"].shape == (3, 4, 96, 96) and a[0]["label"].shape == (3, 18, 12, 12)
    assert a[0]["data"][:, :3].min() >= -0.5 and a[0]["data"][:, :3].max() < 0.5


def test_labels_sit_on_the_joints_and_the_camera_turns_with_the_image(prepared_h36m):
    """Full-size windows with the prototxt's augmentation: the label peaks are the warped joints, and lifting the
    augmented joints with the augmented E gives the unaugmented 3D pose exactly (with the stored E it does not)."""
    d = PreparedDataset(prepared_h36m)
    aug = Augmentation()
    pos = np.arange(12)
    batch = make_batch(d, SampleOrder(len(d), seed=1), aug, pos, seed=1)
    model = load_model()
    turned = 0
    for k, i in enumerate(batch["index"]):
        joints, cam = batch["joints2d"][k], batch["camera"][k].astype(np.float64).reshape(3, 3)
        peaks, _ = argmax_2d(batch["label"][k:k + 1, :17])
        inside = np.all((joints >= 0) & (joints < 368), axis=-1)
        np.testing.assert_allclose(peaks[0][inside], ((joints - 3.5) / 8)[inside], atol=0.51)
        _, _, E0, plain = make_sample(d, int(i), aug, None)  # unaugmented window, stored E
        base = Lifter(model, camera=E0).lift(plain[None]).pose3d_mm[0]
        lifted = Lifter(model, camera=cam).lift(joints[None]).pose3d_mm[0]
        np.testing.assert_allclose(lifted, base, atol=1e-3)  # float32 camera blob
        R = cam @ E0.T  # the turn about the optical axis
        degrees = np.degrees(np.arctan2(R[0, 1], R[0, 0]))
        if abs(degrees) > 2:  # lifted with the stored E, the pose is off by about 10 mm a degree
            turned += 1
            wrong = Lifter(model, camera=E0).lift(joints[None]).pose3d_mm[0]
            assert np.abs(wrong - base).max() > 20.0
    assert turned >= 6


def test_test_phase_does_not_augment(prepared_h36m, tmp_path):
    net = data_net(tmp_path, caffe.TEST, source=prepared_h36m, batch_size=2, crop=96, workers=0, shuffle=False)
    net.forward()
    d = PreparedDataset(prepared_h36m)
    for k in range(2):
        data, label, E, joints = make_sample(d, k, Augmentation(crop=96), None)
        np.testing.assert_array_equal(net.blobs["data"].data[k], data)
        np.testing.assert_allclose(net.blobs["camera"].data[k], d.sample(k)["E"].reshape(9), atol=1e-6)
        np.testing.assert_allclose(joints[0], [47.5, 47.5])  # the pelvis at the window centre


def test_bad_parameters_are_named(prepared_h36m, tmp_path):
    with pytest.raises(Exception, match="unknown param_str keys \\['bacth_size'\\]"):
        data_net(tmp_path, source=prepared_h36m, bacth_size=2)
    with pytest.raises(Exception, match="needs 'source'"):
        data_net(tmp_path, batch_size=2)
    with pytest.raises(Exception, match="no dataset.json: not a prepared dataset"):
        data_net(tmp_path, source=str(tmp_path))
    with pytest.raises(Exception, match="crop must be a positive multiple of 8"):
        data_net(tmp_path, source=prepared_h36m, crop=100)
