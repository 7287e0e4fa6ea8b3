import numpy as np
import pytest

from lifting import skeleton


#: joint names of the 32-joint D3_Positions layout, from the Human3.6M release's metadata (an independent table)
H36M32_OFFICIAL = (
    "Hips", "RightUpLeg", "RightLeg", "RightFoot", "RightToeBase", "Site", "LeftUpLeg", "LeftLeg", "LeftFoot",
    "LeftToeBase", "Site", "Spine", "Spine1", "Neck", "Head", "Site", "LeftShoulder", "LeftArm", "LeftForeArm",
    "LeftHand", "LeftHandThumb", "Site", "L_Wrist_End", "Site", "RightShoulder", "RightArm", "RightForeArm",
    "RightHand", "RightHandThumb", "Site", "R_Wrist_End", "Site")


def test_table_is_consistent():
    assert len(skeleton.JOINT_NAMES) == len(skeleton.PARENTS) == 17
    assert len(skeleton.LIMBS) == 16
    for left, right in skeleton.LEFT_RIGHT_PAIRS:
        assert skeleton.JOINT_NAMES[left][0] == "L" and skeleton.JOINT_NAMES[right][0] == "R"
        assert skeleton.JOINT_NAMES[left][1:] == skeleton.JOINT_NAMES[right][1:]


def test_h36m32_selection_picks_the_anatomical_joints():
    """The community's 17 joints, by the release's own names (our Thorax is its Neck, our Neck/Nose its Head, our
    Head the end site above it); a wrong index picks a toe, a clavicle or a thumb."""
    picked = {skeleton.JOINT_NAMES[j]: H36M32_OFFICIAL[i] for j, i in enumerate(skeleton.H36M32_TO_17)}
    assert picked == {
        "Hip": "Hips", "RHip": "RightUpLeg", "RKnee": "RightLeg", "RFoot": "RightFoot", "LHip": "LeftUpLeg",
        "LKnee": "LeftLeg", "LFoot": "LeftFoot", "Spine": "Spine1", "Thorax": "Neck", "Neck/Nose": "Head",
        "Head": "Site", "LShoulder": "LeftArm", "LElbow": "LeftForeArm", "LWrist": "LeftHand",
        "RShoulder": "RightArm", "RElbow": "RightForeArm", "RWrist": "RightHand"}
    # the site of the head
    assert skeleton.H36M32_TO_17[skeleton.JOINT_INDEX["Head"]] == H36M32_OFFICIAL.index("Head") + 1


def test_action_spellings_map_whole_words_to_the_table_keys():
    keys = {k for k, _ in skeleton.H36M_ACTIONS}
    assert len(keys) == 15 and set(skeleton.ACTION_SPELLINGS.values()) == keys
    for name, key in (("walkingdog_1", "walkingdog"), ("WalkDog 1", "walkingdog"), ("TakingPhoto.cdf", "takingphoto"),
                      ("Photo", "takingphoto"), ("SittingDown 2", "sittingdown"), ("Sitting", "sitting"),
                      ("SitDown", "sittingdown"), ("WalkTogether", "walkingtogether"), ("Walking", "walking")):
        assert skeleton.action_key(name) == key
    assert skeleton.action_key("Dancing_1") == "dancing"  # not an H36M action: kept, not forced onto one


def test_cpm14_format_is_the_mpi_map_order():
    assert skeleton.KEYPOINT_FORMATS["cpm14"]["names"] == skeleton.CPM_ORDERS["mpi"]
    assert sorted(skeleton.CPM_ORDERS["lsp"]) == sorted(skeleton.CPM_ORDERS["mpi"])


def test_flip_lr_is_an_involution_and_swaps_sides(rng):
    p = rng.normal(size=(3, 17, 3))
    f = skeleton.flip_lr(p)
    np.testing.assert_allclose(skeleton.flip_lr(f), p)
    np.testing.assert_allclose(f[:, skeleton.JOINT_INDEX["LWrist"], 0], -p[:, skeleton.JOINT_INDEX["RWrist"], 0])
    np.testing.assert_allclose(skeleton.limb_scale(f), skeleton.limb_scale(p))


def test_coco_conversion_derives_midpoints_and_marks_missing():
    n = len(skeleton.KEYPOINT_FORMATS["coco"]["names"])
    pts = np.arange(n * 2, dtype=float).reshape(1, n, 2)
    conf = np.ones((1, n))
    conf[0, 16] = 0  # right ankle not detected
    out, w = skeleton.convert_keypoints(pts, "coco", conf)
    names = skeleton.KEYPOINT_FORMATS["coco"]["names"]
    c = {nm: pts[0, i] for i, nm in enumerate(names)}
    np.testing.assert_allclose(out[0, skeleton.JOINT_INDEX["Hip"]], (c["left_hip"] + c["right_hip"]) / 2)
    np.testing.assert_allclose(out[0, skeleton.JOINT_INDEX["Thorax"]], (c["left_shoulder"] + c["right_shoulder"]) / 2)
    ji = skeleton.JOINT_INDEX
    np.testing.assert_allclose(out[0, ji["Spine"]], (out[0, 0] + out[0, ji["Thorax"]]) / 2)
    np.testing.assert_allclose(out[0, skeleton.JOINT_INDEX["LWrist"]], c["left_wrist"])
    assert w[0, ji["Head"]] == 0 and np.isnan(out[0, ji["Head"]]).all()  # COCO has no head top
    assert w[0, skeleton.JOINT_INDEX["RFoot"]] == 0


def test_mpii_and_body25_conversions():
    for fmt, head in (("mpii", "head_top"), ("body25", None)):
        names = skeleton.KEYPOINT_FORMATS[fmt]["names"]
        pts = np.random.default_rng(0).normal(size=(2, len(names), 2))
        out, w = skeleton.convert_keypoints(pts, fmt)
        if head:
            np.testing.assert_allclose(out[:, skeleton.JOINT_INDEX["Head"]], pts[:, names.index(head)])
        else:
            assert np.all(w[:, skeleton.JOINT_INDEX["Head"]] == 0)
        assert np.all(w[:, skeleton.JOINT_INDEX["RKnee"]] == 1)


def test_converter_errors():
    with pytest.raises(ValueError, match="unknown keypoint format 'xyz'"):
        skeleton.convert_keypoints(np.zeros((1, 17, 2)), "xyz")
    with pytest.raises(ValueError, match=r"\(N, 17, 2 or 3\)"):
        skeleton.convert_keypoints(np.zeros((1, 16, 2)), "coco")


def test_mediapipe33_table_derives_thorax_head_and_spine_and_takes_the_weakest_source():
    names = skeleton.KEYPOINT_FORMATS["mediapipe33"]["names"]
    assert len(names) == 33 and names[11:17] == ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
                                                 "left_wrist", "right_wrist")
    assert names[23:29] == ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")
    rng = np.random.default_rng(3)
    pts = rng.normal(size=(2, 33, 3))
    conf = rng.uniform(0.6, 1.0, size=(2, 33))
    conf[1, names.index("left_ear")] = 0.2
    out, w = skeleton.convert_keypoints(pts, "mediapipe33", conf)
    c = {nm: pts[:, i] for i, nm in enumerate(names)}
    J = skeleton.JOINT_INDEX
    np.testing.assert_allclose(out[:, J["RHip"]], c["right_hip"])
    np.testing.assert_allclose(out[:, J["LWrist"]], c["left_wrist"])
    np.testing.assert_allclose(out[:, J["Hip"]], (c["left_hip"] + c["right_hip"]) / 2)
    np.testing.assert_allclose(out[:, J["Neck/Nose"]], c["nose"])
    ears = (c["left_ear"] + c["right_ear"]) / 2
    shoulders = (c["left_shoulder"] + c["right_shoulder"]) / 2
    np.testing.assert_allclose(out[:, J["Thorax"]], shoulders)
    np.testing.assert_allclose(out[:, J["Head"]], ears + 0.5 * (ears - shoulders))
    np.testing.assert_allclose(out[:, J["Spine"]], (out[:, J["Hip"]] + shoulders) / 2)
    head_sources = [names.index(n) for n in ("left_ear", "right_ear", "left_shoulder", "right_shoulder")]
    np.testing.assert_allclose(w[:, J["Head"]], conf[:, head_sources].min(1))
    assert w[1, J["Head"]] == pytest.approx(0.2)
    # affine: moving every landmark moves every joint alike (the coefficients of each derived joint sum to 1)
    shifted, _ = skeleton.convert_keypoints(pts + [5.0, -2.0, 1.0], "mediapipe33", conf)
    np.testing.assert_allclose(shifted - out, np.broadcast_to([5.0, -2.0, 1.0], out.shape), atol=1e-12)


def test_every_affine_entry_of_every_table_sums_to_one():
    for fmt, spec in skeleton.KEYPOINT_FORMATS.items():
        for joint, src in spec["map"].items():
            if isinstance(src, dict):
                assert sum(src.values()) == pytest.approx(1.0), (fmt, joint)
                assert set(src) <= set(spec["names"]), (fmt, joint)
