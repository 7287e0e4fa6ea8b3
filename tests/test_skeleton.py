import numpy as np
import pytest

from lifting import skeleton
from lifting.belief_maps import argmax_2d, background_map, render_belief_maps


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


def test_belief_map_is_a_unit_gaussian_at_the_rounded_joint():
    m = render_belief_maps(np.array([[[10.4, 20.6], [-3.0, 5.0]]]), 46, 40, sigma=1.0)
    assert m.shape == (1, 2, 46, 40) and m.dtype == np.float32
    assert m[0, 0, 21, 10] == 1.0
    assert m[0, 0, 21, 11] == pytest.approx(np.exp(-0.5))
    assert m[0, 0, 22, 11] == pytest.approx(np.exp(-1.0))
    assert m[0, 1].max() == 0  # off the grid -> empty map
    bg = background_map(m)
    assert bg[0, 21, 10] == 0 and bg[0, 0, 0] == pytest.approx(1.0)


def test_argmax_with_subpixel_refinement():
    m = render_belief_maps(np.array([[[12.3, 7.8]]]), 20, 20, sigma=1.5, subpixel=True)
    p, peak = argmax_2d(m)
    np.testing.assert_array_equal(p[0, 0], [12, 8])
    ps, _ = argmax_2d(m, subpixel=True)
    np.testing.assert_allclose(ps[0, 0], [12.3, 7.8], atol=0.05)
