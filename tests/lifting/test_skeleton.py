import numpy as np
import pytest

from lifting import skeleton


def test_table_is_consistent():
    assert len(skeleton.JOINT_NAMES) == len(skeleton.PARENTS) == 17
    assert len(skeleton.LIMBS) == 16
    assert skeleton.H36M32_TO_17 == (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)
    for l, r in skeleton.LEFT_RIGHT_PAIRS:
        assert skeleton.JOINT_NAMES[l][0] == "L" and skeleton.JOINT_NAMES[r][0] == "R"
        assert skeleton.JOINT_NAMES[l][1:] == skeleton.JOINT_NAMES[r][1:]


def test_flip_lr_is_an_involution_and_swaps_sides(rng):
    p = rng.normal(size=(3, 17, 3))
    f = skeleton.flip_lr(p)
    np.testing.assert_allclose(skeleton.flip_lr(f), p)
    np.testing.assert_allclose(f[:, skeleton.J["LWrist"], 0], -p[:, skeleton.J["RWrist"], 0])
    np.testing.assert_allclose(skeleton.limb_scale(f), skeleton.limb_scale(p))


def test_coco_conversion_derives_midpoints_and_marks_missing():
    n = len(skeleton.KEYPOINT_FORMATS["coco"]["names"])
    pts = np.arange(n * 2, dtype=float).reshape(1, n, 2)
    conf = np.ones((1, n))
    conf[0, 16] = 0  # right ankle not detected
    out, w = skeleton.convert_keypoints(pts, "coco", conf)
    names = skeleton.KEYPOINT_FORMATS["coco"]["names"]
    c = {nm: pts[0, i] for i, nm in enumerate(names)}
    np.testing.assert_allclose(out[0, skeleton.J["Hip"]], (c["left_hip"] + c["right_hip"]) / 2)
    np.testing.assert_allclose(out[0, skeleton.J["Thorax"]], (c["left_shoulder"] + c["right_shoulder"]) / 2)
    np.testing.assert_allclose(out[0, skeleton.J["Spine"]], (out[0, 0] + out[0, skeleton.J["Thorax"]]) / 2)
    np.testing.assert_allclose(out[0, skeleton.J["LWrist"]], c["left_wrist"])
    assert w[0, skeleton.J["Head"]] == 0 and np.isnan(out[0, skeleton.J["Head"]]).all()  # COCO has no head top
    assert w[0, skeleton.J["RFoot"]] == 0


def test_mpii_and_body25_conversions():
    for fmt, head in (("mpii", "head_top"), ("body25", None)):
        names = skeleton.KEYPOINT_FORMATS[fmt]["names"]
        pts = np.random.default_rng(0).normal(size=(2, len(names), 2))
        out, w = skeleton.convert_keypoints(pts, fmt)
        if head:
            np.testing.assert_allclose(out[:, skeleton.J["Head"]], pts[:, names.index(head)])
        else:
            assert np.all(w[:, skeleton.J["Head"]] == 0)
        assert np.all(w[:, skeleton.J["RKnee"]] == 1)


def test_converter_errors():
    with pytest.raises(ValueError, match="unknown keypoint format 'xyz'"):
        skeleton.convert_keypoints(np.zeros((1, 17, 2)), "xyz")
    with pytest.raises(ValueError, match=r"\(N, 17, 2 or 3\)"):
        skeleton.convert_keypoints(np.zeros((1, 16, 2)), "coco")
