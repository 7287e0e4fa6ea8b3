import numpy as np
import pytest

from lifting import skeleton
from lifting.bvh import (BVHError, bone_lengths, bvh_joints_mm, bvh_text, hierarchy, min_rotation, parse_bvh,
                         read_bvh, retarget, write_bvh)
from lifting.geometry import rotate_ground
from lifting.synthetic import make_model


@pytest.fixture(scope="module")
def rest():
    m = make_model(K=1, J=4, seed=3)
    return m.mean[0] * 1000.0


def test_round_trip_within_a_micrometre_scale_of_1mm(rest, tmp_path):
    rng = np.random.default_rng(0)
    poses = rest[None] + rng.normal(0, 40, (25, 17, 3)) + np.array([300.0, 900.0, 4000.0])
    lengths = bone_lengths(poses)
    target = retarget(poses, lengths)
    write_bvh(tmp_path / "a.bvh", target, lengths, rest, 1 / 30)
    back = bvh_joints_mm(read_bvh(tmp_path / "a.bvh"))
    assert back.shape == (25, 17, 3)
    assert np.abs(back - target).max() < 1.0  # the bound; in fact ~0.01 mm (6 printed decimals in m)
    assert np.abs(back - target).max() < 0.05
    # the skeleton is fixed: every frame has the same bone lengths, the given ones
    np.testing.assert_allclose(skeleton.limb_lengths(back), np.broadcast_to(
        [lengths[c] for c, _ in skeleton.LIMBS], (25, 16)), atol=0.05)


def test_a_pose_turned_about_the_vertical_is_one_root_rotation(rest):
    """The rest pose turned 90 degrees about y: root channels Z, X, Y = 0, 0, 90 and every other joint 0."""
    lengths = bone_lengths(rest[None])
    turned = rotate_ground(rest[None] - rest[0], np.array([np.pi / 2]))
    b = parse_bvh(bvh_text(turned, lengths, rest, 0.04))
    row = b["motion"][0]
    np.testing.assert_allclose(row[:3], 0, atol=1e-9)  # root at the origin
    np.testing.assert_allclose(row[3:6], [0, 0, 90], atol=1e-4)
    np.testing.assert_allclose(row[6:], 0, atol=1e-4)
    assert b["frame_time"] == pytest.approx(0.04)
    assert [n for n in b["names"] if "_" not in n or n == "Neck_Nose"] == [
        "Hip", "RHip", "RKnee", "RFoot", "LHip", "LKnee", "LFoot", "Spine", "Thorax", "Neck_Nose", "Head",
        "LShoulder", "LElbow", "LWrist", "RShoulder", "RElbow", "RWrist"]
    assert len(hierarchy()) == 17 + 6  # a branch joint per child of Hip and of Thorax


def test_min_rotation_turns_a_onto_b_also_when_opposite():
    a = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 2.0]])
    b = np.array([[0, 1.0, 0], [0, -3.0, 0], [0, 0, 1.0]])
    R = min_rotation(a, b)
    out = np.einsum("nij,nj->ni", R, a / np.linalg.norm(a, axis=1, keepdims=True))
    np.testing.assert_allclose(out, b / np.linalg.norm(b, axis=1, keepdims=True), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(R), 1.0)


def test_refuses_nan_and_reads_truncated_files_with_the_line(rest):
    lengths = bone_lengths(rest[None])
    bad = rest[None].copy()
    bad[0, 3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        bvh_text(bad, lengths, rest, 0.04)
    text = bvh_text(np.repeat(rest[None], 3, 0), lengths, rest, 0.04)
    with pytest.raises(BVHError, match="announces 3 frames, holds 2"):
        parse_bvh(text.rsplit("\n", 2)[0] + "\n", "x.bvh")
    with pytest.raises(BVHError, match="x.bvh: line .*values"):
        parse_bvh(text.replace("MOTION\nFrames: 3", "MOTION\nFrames: 3").rstrip("\n") + " 1.0\n", "x.bvh")
    with pytest.raises(BVHError, match="HIERARCHY"):
        parse_bvh("MOTION\n", "x.bvh")
