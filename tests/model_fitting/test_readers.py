import os

import numpy as np
import pytest

from lifting import skeleton
from model_fitting.readers import (MotionFileError, parse_h36m_action, read_asf_amc, read_bvh, read_h36m_cdf,
                                   read_h36m_dataset, read_pose_array)
from tests.helpers import shared_path


# ---- Human3.6M CDF ---------------------------------------------------------------------------------------------
def write_d3_positions(path, pose32):
    """Write a D3_Positions file as the official release stores it: variable 'Pose', one record (1, T, 96)."""
    from cdflib.cdfwrite import CDF

    os.makedirs(os.path.dirname(path), exist_ok=True)
    T = len(pose32)
    cdf = CDF(str(path), delete=True)
    cdf.write_var({"Variable": "Pose", "Data_Type": CDF.CDF_FLOAT, "Num_Elements": 1, "Rec_Vary": True,
                   "Dim_Sizes": [T, 96]}, var_data=pose32.reshape(1, T, 96).astype(np.float32))
    cdf.close()


@pytest.mark.parametrize("name,expected", [
    ("SittingDown 1.cdf", ("sittingdown", 1)), ("Sitting 2.cdf", ("sitting", 2)), ("WalkDog.cdf", ("walkingdog", 0)),
    ("WalkingDog 1.cdf", ("walkingdog", 1)), ("TakingPhoto 1.cdf", ("takingphoto", 1)),
    ("Photo.cdf", ("takingphoto", 0)),
    ("WalkTogether 1.cdf", ("walkingtogether", 1)), ("Walking.cdf", ("walking", 0))])
def test_h36m_action_names(name, expected):
    assert parse_h36m_action(name) == expected


def test_h36m_action_name_unknown():
    with pytest.raises(MotionFileError, match="not a Human3.6M action"):
        parse_h36m_action("Dancing 1.cdf")


def test_read_h36m_cdf_selects_17_joints_and_turns_z_up_into_y_up(tmp_path, rng):
    pose32 = rng.normal(size=(4, 32, 3)) * 100
    write_d3_positions(tmp_path / "S1" / "MyPoseFeatures" / "D3_Positions" / "SittingDown 1.cdf", pose32)
    write_d3_positions(tmp_path / "S1" / "MyPoseFeatures" / "D3_Positions" / "Sitting 1.cdf", pose32[:2])
    p = read_h36m_cdf(tmp_path / "S1" / "MyPoseFeatures" / "D3_Positions" / "SittingDown 1.cdf")
    kept = pose32.astype(np.float32).astype(np.float64)[:, list(skeleton.H36M32_TO_17)]
    np.testing.assert_allclose(p[..., 0], kept[..., 0])
    np.testing.assert_allclose(p[..., 1], kept[..., 2])  # z up -> y up
    np.testing.assert_allclose(p[..., 2], -kept[..., 1])
    poses, subj, act = read_h36m_dataset(tmp_path, ["S1"])
    assert poses.shape == (6, 17, 3)
    assert sorted(set(act)) == ["sitting", "sittingdown"] and list(act).count("sittingdown") == 4


def test_corrupted_and_wrong_cdf_are_refused(tmp_path, rng):
    good = tmp_path / "Walking 1.cdf"
    write_d3_positions(good, rng.normal(size=(3, 32, 3)))
    bad = tmp_path / "Eating 1.cdf"
    bad.write_bytes(good.read_bytes()[:200])
    with pytest.raises(MotionFileError, match="Eating 1.cdf"):
        read_h36m_cdf(bad)
    empty = tmp_path / "Posing 1.cdf"
    empty.write_bytes(b"")
    with pytest.raises(MotionFileError, match="empty"):
        read_h36m_cdf(empty)
    from cdflib.cdfwrite import CDF

    wrong = tmp_path / "Greeting 1.cdf"
    c = CDF(str(wrong), delete=True)
    c.write_var({"Variable": "Pose", "Data_Type": CDF.CDF_FLOAT, "Num_Elements": 1, "Rec_Vary": True,
                 "Dim_Sizes": [2, 90]}, var_data=np.zeros((1, 2, 90), np.float32))
    c.close()
    with pytest.raises(MotionFileError, match="96 values"):
        read_h36m_cdf(wrong)


# ---- ASF/AMC -------------------------------------------------------------------------------------------------------
BONES = [  # name, parent, direction, length
    ("lhipjoint", "root", (1, 0, 0), 1.0), ("lfemur", "lhipjoint", (0, -1, 0), 4.0),
    ("ltibia", "lfemur", (0, -1, 0), 4.0),
    ("rhipjoint", "root", (-1, 0, 0), 1.0), ("rfemur", "rhipjoint", (0, -1, 0), 4.0),
    ("rtibia", "rfemur", (0, -1, 0), 4.0),
    ("lowerback", "root", (0, 1, 0), 1.0), ("upperback", "lowerback", (0, 1, 0), 1.0),
    ("thorax", "upperback", (0, 1, 0), 2.0),
    ("lowerneck", "thorax", (0, 1, 0), 0.5), ("upperneck", "lowerneck", (0, 1, 0), 0.5),
    ("head", "upperneck", (0, 1, 0), 1.0),
    ("lclavicle", "thorax", (1, 0, 0), 1.5), ("lhumerus", "lclavicle", (1, 0, 0), 3.0),
    ("lradius", "lhumerus", (1, 0, 0), 2.5),
    ("rclavicle", "thorax", (-1, 0, 0), 1.5), ("rhumerus", "rclavicle", (-1, 0, 0), 3.0),
    ("rradius", "rhumerus", (-1, 0, 0), 2.5),
]


def write_asf(path, unit=0.45):
    lines = [":version 1.10", ":name TEST", ":units", "  mass 1.0", f"  length {unit}", "  angle deg", ":root",
             "   order TX TY TZ RX RY RZ", "   axis XYZ", "   position 0 0 0", "   orientation 0 0 0", ":bonedata"]
    for i, (name, _, d, length) in enumerate(BONES, 1):
        lines += ["  begin", f"     id {i}", f"     name {name}", f"     direction {d[0]} {d[1]} {d[2]}",
                  f"     length {length}", "     axis 0 0 0 XYZ", "    dof rx ry rz", "  end"]
    lines += [":hierarchy", "  begin"]
    children = {}
    for name, parent, _, _ in BONES:
        children.setdefault(parent, []).append(name)
    lines += [f"    {p} {' '.join(c)}" for p, c in children.items()]
    lines += ["  end"]
    path.write_text("\n".join(lines) + "\n")


def write_amc(path, frames):
    """frames: list of dicts bone -> values (root: 6 values); bones not given are zero."""
    lines = [":FULLY-SPECIFIED", ":DEGREES"]
    for i, fr in enumerate(frames, 1):
        lines.append(str(i))
        lines.append("root " + " ".join(str(v) for v in fr.get("root", [0] * 6)))
        for name, *_ in BONES:
            lines.append(name + " " + " ".join(str(v) for v in fr.get(name, [0, 0, 0])))
    path.write_text("\n".join(lines) + "\n")


def test_asf_amc_forward_kinematics_hand_worked(tmp_path):
    write_asf(tmp_path / "t.asf")
    write_amc(tmp_path / "t.amc", [{"root": [1, 2, 3, 0, 0, 0]}, {"root": [0, 0, 0, 0, 90, 0]},
                                   {"lfemur": [90, 0, 0]}])
    P = read_asf_amc(tmp_path / "t.asf", tmp_path / "t.amc")
    mm = 25.4 / 0.45
    # frame 0: rest pose translated
    assert np.allclose(P[0, 0], np.array([1, 2, 3]) * mm)
    assert np.allclose(P[0, skeleton.JOINT_INDEX["LKnee"]] - P[0, 0], np.array([1, -4, 0]) * mm)
    assert np.allclose(P[0, skeleton.JOINT_INDEX["LWrist"]] - P[0, 0], np.array([7, 4, 0]) * mm)
    # midpoint of two ends
    assert np.allclose(P[0, skeleton.JOINT_INDEX["Spine"]] - P[0, 0], np.array([0, 1.5, 0]) * mm)
    # frame 1: root rotated 90 degrees about y: x -> -z
    assert np.allclose(P[1, skeleton.JOINT_INDEX["LHip"]], np.array([0, 0, -1]) * mm)
    # frame 2: left femur rotated +90 degrees about x (right-hand rule): the thigh (pointing -y) now points to -z
    assert np.allclose(P[2, skeleton.JOINT_INDEX["LKnee"]], np.array([1, 0, -4]) * mm)
    assert np.allclose(P[2, skeleton.JOINT_INDEX["LFoot"]], np.array([1, 0, -8]) * mm)


def test_asf_errors_name_the_file(tmp_path):
    write_asf(tmp_path / "t.asf")
    txt = (tmp_path / "t.asf").read_text().replace("name lradius", "name lforearm")
    (tmp_path / "b.asf").write_text(txt)
    with pytest.raises(MotionFileError, match="b.asf.*lradius"):
        read_asf_amc(tmp_path / "b.asf", tmp_path / "x.amc")
    (tmp_path / "e.asf").write_text("")
    with pytest.raises(MotionFileError, match="empty"):
        read_asf_amc(tmp_path / "e.asf", tmp_path / "x.amc")
    write_amc(tmp_path / "t.amc", [{"lfemur": [1, 2]}])
    with pytest.raises(MotionFileError, match="lfemur.*2 values"):
        read_asf_amc(tmp_path / "t.asf", tmp_path / "t.amc")


def test_real_cmu_recording_is_a_plausible_symmetric_human():
    asf = shared_path("data", "cmu", "02", "02.asf")
    P = read_asf_amc(asf, shared_path("data", "cmu", "02", "02_01.amc"))
    assert P.shape[1:] == (17, 3) and len(P) > 100
    L = skeleton.limb_lengths(P[0])
    names = {c: skeleton.JOINT_NAMES[c] for c, _ in skeleton.LIMBS}
    thigh = L[[i for i, (c, _) in enumerate(skeleton.LIMBS) if names[c] == "LKnee"][0]]
    assert 350 < thigh < 500  # a femur in mm
    for left, right in skeleton.LEFT_RIGHT_PAIRS:
        il = [i for i, (c, _) in enumerate(skeleton.LIMBS) if c == left][0]
        ir = [i for i, (c, _) in enumerate(skeleton.LIMBS) if c == right][0]
        assert abs(L[il] - L[ir]) < 0.1 * L[il]
    assert np.all(P[:, skeleton.JOINT_INDEX["Head"], 1] > P[:, skeleton.JOINT_INDEX["LFoot"], 1] + 1000)  # y is up


# ---- BVH ----------------------------------------------------------------------------------------------------------
def write_bvh(path, names, frames):
    # a chain skeleton with CMU names; each joint offset 1 unit from its parent along y (legs along -y)
    sk = {"Hips": (None, (0, 0, 0)), "LeftUpLeg": ("Hips", (1, 0, 0)), "LeftLeg": ("LeftUpLeg", (0, -4, 0)),
          "LeftFoot": ("LeftLeg", (0, -4, 0)), "RightUpLeg": ("Hips", (-1, 0, 0)),
          "RightLeg": ("RightUpLeg", (0, -4, 0)),
          "RightFoot": ("RightLeg", (0, -4, 0)), "Spine": ("Hips", (0, 2, 0)), "Neck": ("Spine", (0, 2, 0)),
          "Head": ("Neck", (0, 1, 0)), "LeftArm": ("Neck", (1.5, 0, 0)), "LeftForeArm": ("LeftArm", (3, 0, 0)),
          "LeftHand": ("LeftForeArm", (2.5, 0, 0)), "RightArm": ("Neck", (-1.5, 0, 0)),
          "RightForeArm": ("RightArm", (-3, 0, 0)), "RightHand": ("RightForeArm", (-2.5, 0, 0))}
    sk = {names.get(k, k): (names.get(p, p) if p else None, o) for k, (p, o) in sk.items()}
    children = {}
    for k, (p, _) in sk.items():
        children.setdefault(p, []).append(k)
    out = ["HIERARCHY"]

    def emit(name, depth):
        ind = "  " * depth
        p, o = sk[name]
        out.append(f"{ind}{'ROOT' if p is None else 'JOINT'} {name}")
        out.append(ind + "{")
        out.append(f"{ind}  OFFSET {o[0]} {o[1]} {o[2]}")
        ch = ("6 Xposition Yposition Zposition Zrotation Xrotation Yrotation" if p is None
              else "3 Zrotation Xrotation Yrotation")
        out.append(f"{ind}  CHANNELS {ch}")
        for c in children.get(name, []):
            emit(c, depth + 1)
        if name not in children:
            out.extend([f"{ind}  End Site", ind + "  {", f"{ind}    OFFSET 0 1 0", ind + "  }"])
        out.append(ind + "}")

    emit(names.get("Hips", "Hips"), 0)
    out += ["MOTION", f"Frames: {len(frames)}", "Frame Time: 0.0083333"]
    out += [" ".join(str(v) for v in f) for f in frames]
    path.write_text("\n".join(out) + "\n")


def test_bvh_forward_kinematics_hand_worked(tmp_path):
    nch = 6 + 3 * 15
    f0 = [10, 20, 30] + [0] * (nch - 3)
    f1 = [0] * nch
    f1[4] = 90  # root Xrotation 90: y -> z
    write_bvh(tmp_path / "t.bvh", {}, [f0, f1])
    P = read_bvh(tmp_path / "t.bvh", unit_mm=10.0)
    assert np.allclose(P[0, 0], [100, 200, 300])
    assert np.allclose(P[0, skeleton.JOINT_INDEX["LWrist"]] - P[0, 0], [70, 40, 0])
    assert np.allclose(P[0, skeleton.JOINT_INDEX["Head"]] - P[0, 0], [0, 60, 0])  # Head's End Site
    assert np.allclose(P[1, skeleton.JOINT_INDEX["Thorax"]], [0, 0, 40])


def test_bvh_unknown_skeleton_is_refused(tmp_path):
    nch = 6 + 3 * 15
    write_bvh(tmp_path / "t.bvh", {"LeftForeArm": "l_elbow"}, [[0] * nch])
    with pytest.raises(MotionFileError, match="unknown BVH skeleton.*LeftForeArm"):
        read_bvh(tmp_path / "t.bvh")


# ---- arrays ---------------------------------------------------------------------------------------------------------
def test_arrays_and_their_errors(tmp_path, rng):
    a = rng.normal(size=(5, 17, 3))
    np.save(tmp_path / "p.npy", a)
    np.testing.assert_allclose(read_pose_array(tmp_path / "p.npy"), a)
    np.savez(tmp_path / "p.npz", positions=a)
    np.testing.assert_allclose(read_pose_array(tmp_path / "p.npz", up_axis="z")[..., 1], a[..., 2])
    np.savetxt(tmp_path / "p.csv", a.reshape(5, -1), delimiter=",")
    np.testing.assert_allclose(read_pose_array(tmp_path / "p.csv"), a)
    np.save(tmp_path / "w.npy", rng.normal(size=(5, 16, 3)))
    with pytest.raises(MotionFileError, match=r"w.npy.*\(N, 17, 3\)"):
        read_pose_array(tmp_path / "w.npy")
    b = a.copy()
    b[3, 4, 1] = np.nan
    np.save(tmp_path / "n.npy", b)
    with pytest.raises(MotionFileError, match="n.npy.*NaN.*pose 3"):
        read_pose_array(tmp_path / "n.npy")
    (tmp_path / "e.npy").write_bytes(b"")
    with pytest.raises(MotionFileError, match="empty"):
        read_pose_array(tmp_path / "e.npy")
