"""Readers of 3D motion data. Every reader returns poses ``(N, 17, 3)`` in millimetres, **y up**, in the H36M
17-joint order of :mod:`lifting.skeleton` (root not necessarily at the origin).

* Human3.6M ``D3_Positions`` CDF files (variable ``Pose``, 32 joints x 3, mm, z up);
* CMU ASF/AMC (forward kinematics; lengths in ``:units length`` units = inches x that factor, y up);
* BVH (forward kinematics; CMU-converted and Mixamo joint names);
* plain arrays ``(N, 17, 3)`` in npz / npy / CSV (51 numbers a row), with an explicit ``up_axis``.
Errors name the file and the field, and no reader writes anything.
"""
from __future__ import annotations

import os
import re

import numpy as np

from lifting import skeleton
from lifting.geometry import z_up_to_y_up


class MotionFileError(ValueError):
    """A motion file cannot be read; the message names the file and the field or line."""


# ---- Human3.6M --------------------------------------------------------------------------------------------------
def parse_h36m_action(filename):
    """``'SittingDown 1.cdf'`` -> ``('sittingdown', 1)``; ``'Directions.cdf'`` -> ``('directions', 0)``.

    The action is matched as a whole word, never by prefix (so 'SittingDown' is not 'Sitting', and 'WalkDog' is
    not 'Walking').
    """
    stem = os.path.splitext(os.path.basename(filename))[0]
    m = re.fullmatch(r"\s*([A-Za-z]+)\s*(\d*)\s*", stem)
    if not m or m.group(1).lower() not in skeleton.ACTION_SPELLINGS:
        raise MotionFileError(f"{filename}: file name is not a Human3.6M action ('<Action>[ <n>].cdf')")
    return skeleton.ACTION_SPELLINGS[m.group(1).lower()], int(m.group(2) or 0)


def read_pose_cdf(path, values_per_frame):
    """The variable ``Pose`` of a Human3.6M ``MyPoseFeatures`` CDF file -> ``(N, values_per_frame)`` float64 as stored
    (D2_Positions: 64 = 32 joints x 2 pixels; D3_Positions and D3_Positions_mono: 96 = 32 joints x 3 mm)."""
    import cdflib

    path = os.fspath(path)
    if not os.path.exists(path):
        raise MotionFileError(f"{path}: no such file")
    if os.path.getsize(path) == 0:
        raise MotionFileError(f"{path}: file is empty")
    try:
        cdf = cdflib.CDF(path)
        names = cdf.cdf_info().zVariables + cdf.cdf_info().rVariables
        if "Pose" not in names:
            raise MotionFileError(f"{path}: variable 'Pose' is missing (found {names})")
        pose = np.asarray(cdf.varget("Pose"), np.float64)
    except MotionFileError:
        raise
    except Exception as e:  # cdflib raises many types on corrupted files
        raise MotionFileError(f"{path}: not a readable CDF file ({type(e).__name__}: {e})") from None
    pose = pose.reshape(-1, pose.shape[-1]) if pose.ndim == 3 else pose
    if pose.ndim != 2 or pose.shape[1] != values_per_frame:
        raise MotionFileError(f"{path}: variable 'Pose' must hold {values_per_frame} values (32 joints x "
                              f"{values_per_frame // 32}) a frame, got shape {pose.shape}")
    if len(pose) == 0:
        raise MotionFileError(f"{path}: variable 'Pose' holds no frame")
    if not np.all(np.isfinite(pose)):
        raise MotionFileError(f"{path}: variable 'Pose' holds NaN or inf")
    return pose


def read_h36m_cdf(path):
    """One ``D3_Positions`` file -> ``(N, 17, 3)`` mm, y up."""
    pose = read_pose_cdf(path, 96)
    return z_up_to_y_up(pose.reshape(-1, 32, 3)[:, list(skeleton.H36M32_TO_17)])


def read_h36m_dataset(root, subjects, step=1):
    """All ``<root>/<S>/MyPoseFeatures/D3_Positions/*.cdf`` of the given subjects.

    Returns ``(poses (N, 17, 3) mm y up, subject (N,), action (N,))``; every ``step``-th frame.
    """
    out, subj, act = [], [], []
    for s in subjects:
        folder = os.path.join(os.fspath(root), s, "MyPoseFeatures", "D3_Positions")
        if not os.path.isdir(folder):
            raise MotionFileError(f"{folder}: folder of subject {s} not found")
        files = sorted(f for f in os.listdir(folder) if f.lower().endswith(".cdf"))
        if not files:
            raise MotionFileError(f"{folder}: holds no .cdf file")
        for f in files:
            action, _ = parse_h36m_action(f)
            p = read_h36m_cdf(os.path.join(folder, f))[::step]
            out.append(p)
            subj += [s] * len(p)
            act += [action] * len(p)
    return np.concatenate(out), np.array(subj), np.array(act)


# ---- rotations ----------------------------------------------------------------------------------------------------
def _axis_rot(axis, deg):
    a = np.radians(np.asarray(deg, np.float64))
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    if axis == "x":
        m = [[o, z, z], [z, c, -s], [z, s, c]]
    elif axis == "y":
        m = [[c, z, s], [z, o, z], [-s, z, c]]
    else:
        m = [[c, -s, z], [s, c, z], [z, z, o]]
    return np.moveaxis(np.array(m), (0, 1), (-2, -1))


def euler_matrix(angles_deg, order):
    """Rotation applying axes in ``order`` about the moving frame: ``R = R_order[0] @ R_order[1] @ R_order[2]``.

    ``angles_deg (..., len(order))`` in the same order.
    """
    R = None
    for i, ax in enumerate(order.lower()):
        Ri = _axis_rot(ax, angles_deg[..., i])
        R = Ri if R is None else R @ Ri
    return R


# ---- CMU ASF/AMC ----------------------------------------------------------------------------------------------------
#: H36M joint -> ASF bone whose END is the joint ('root': the root position; a pair: midpoint of two bone ends).
#: CMU has no nose joint and a three-bone spine: Spine is the midpoint of the lowerback and upperback ends (about
#: halfway up the torso, as in Human3.6M), Thorax the thorax end (where the clavicles start), Neck/Nose the
#: upperneck end (base of the head) and Head the head end (top of the head).
ASF_TO_H36M = {
    "Hip": "root", "RHip": "rhipjoint", "RKnee": "rfemur", "RFoot": "rtibia", "LHip": "lhipjoint",
    "LKnee": "lfemur", "LFoot": "ltibia", "Spine": ("lowerback", "upperback"), "Thorax": "thorax",
    "Neck/Nose": "upperneck",
    "Head": "head", "LShoulder": "lclavicle", "LElbow": "lhumerus", "LWrist": "lradius",
    "RShoulder": "rclavicle", "RElbow": "rhumerus", "RWrist": "rradius",
}


def parse_asf(path):
    """Parse an ASF skeleton: returns dict with ``length_unit``, ``angle`` ('deg'/'rad'), ``root_order``,
    ``root_axis``, ``bones`` {name: {direction, length, axis, axis_order, dof}}, ``children`` {name: [..]}."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise MotionFileError(f"{path}: no such file")
    with open(path, errors="replace") as f:
        lines = [ln.split("#")[0].rstrip() for ln in f]
    if not any(ln.strip() for ln in lines):
        raise MotionFileError(f"{path}: file is empty")
    sk = {"length_unit": 1.0, "angle": "deg", "root_order": ["tx", "ty", "tz", "rx", "ry", "rz"],
          "root_axis": "xyz", "bones": {}, "children": {}}
    section, bone = None, None
    for n, raw in enumerate(lines, 1):
        ln = raw.strip()
        if not ln:
            continue
        if ln.startswith(":"):
            section = ln.split()[0][1:].lower()
            continue
        tok = ln.split()
        try:
            if section == "units":
                if tok[0] == "length":
                    sk["length_unit"] = float(tok[1])
                elif tok[0] == "angle":
                    sk["angle"] = tok[1].lower()
            elif section == "root":
                if tok[0] == "order":
                    sk["root_order"] = [t.lower() for t in tok[1:]]
                elif tok[0] == "axis":
                    sk["root_axis"] = tok[1].lower()
            elif section == "bonedata":
                if tok[0] == "begin":
                    bone = {"dof": [], "axis": np.zeros(3), "axis_order": "xyz"}
                elif tok[0] == "end":
                    for key in ("name", "direction", "length"):
                        if key not in bone:
                            raise MotionFileError(f"{path}:{n}: bone ends without field {key!r}")
                    sk["bones"][bone["name"]] = bone
                    bone = None
                elif tok[0] == "name":
                    bone["name"] = tok[1]
                elif tok[0] == "direction":
                    bone["direction"] = np.array([float(v) for v in tok[1:4]])
                elif tok[0] == "length":
                    bone["length"] = float(tok[1])
                elif tok[0] == "axis":
                    bone["axis"] = np.array([float(v) for v in tok[1:4]])
                    bone["axis_order"] = tok[4].lower() if len(tok) > 4 else "xyz"
                elif tok[0] == "dof":
                    bone["dof"] = [t.lower() for t in tok[1:]]
            elif section == "hierarchy":
                if tok[0] in ("begin", "end"):
                    continue
                sk["children"].setdefault(tok[0], []).extend(tok[1:])
        except (IndexError, ValueError) as e:
            raise MotionFileError(f"{path}:{n}: cannot parse {ln!r} in section :{section} ({e})") from None
    if not sk["bones"]:
        raise MotionFileError(f"{path}: section ':bonedata' holds no bone")
    if "root" not in sk["children"]:
        raise MotionFileError(f"{path}: section ':hierarchy' does not start at 'root'")
    needed = {b for v in ASF_TO_H36M.values() for b in ((v,) if isinstance(v, str) else v)}
    missing = sorted(b for b in needed if b != "root" and b not in sk["bones"])
    if missing:
        raise MotionFileError(f"{path}: bones {missing} needed for the 17-joint mapping are missing")
    return sk


def parse_amc(path, skel):
    """Parse an AMC motion: returns {bone: (N, ndof)} in the bone's dof order (root: its ``order``)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise MotionFileError(f"{path}: no such file")
    frames, cur = [], None
    with open(path, errors="replace") as f:
        for n, raw in enumerate(f, 1):
            ln = raw.strip()
            if not ln or ln.startswith("#") or ln.startswith(":"):
                continue
            tok = ln.split()
            if len(tok) == 1 and tok[0].isdigit():
                cur = {}
                frames.append(cur)
                continue
            if cur is None:
                raise MotionFileError(f"{path}:{n}: data before the first frame number")
            try:
                cur[tok[0]] = np.array([float(v) for v in tok[1:]])
            except ValueError:
                raise MotionFileError(f"{path}:{n}: non-numeric value in {ln!r}") from None
            if not np.isfinite(cur[tok[0]]).all():
                raise MotionFileError(f"{path}:{n}: NaN or inf in {ln!r}")
    if not frames:
        raise MotionFileError(f"{path}: holds no frame")
    out = {}
    for name in ["root"] + list(skel["bones"]):
        ndof = len(skel["root_order"]) if name == "root" else len(skel["bones"][name]["dof"])
        if ndof == 0:
            continue
        arr = np.zeros((len(frames), ndof))
        for i, fr in enumerate(frames):
            if name in fr:
                if len(fr[name]) != ndof:
                    raise MotionFileError(f"{path}: frame {i + 1}: bone {name!r} has {len(fr[name])} values, "
                                          f"its ASF declares {ndof} dof")
                arr[i] = fr[name]
            else:  # a frame without a line for a bone that moves: truncated or corrupted, never zero-filled
                raise MotionFileError(f"{path}: frame {i + 1} of {len(frames)} has no line for bone {name!r} "
                                      "(truncated or corrupted file)")
        out[name] = arr
    return out


def read_asf_amc(asf_path, amc_path, step=1):
    """CMU ASF/AMC -> ``(N, 17, 3)`` mm, y up (CMU's own axes). ``step``: keep every step-th frame."""
    skel = parse_asf(asf_path)
    motion = parse_amc(amc_path, skel)
    motion = {k: v[::step] for k, v in motion.items()}
    mm = 25.4 / skel["length_unit"]  # ASF lengths are inches x length_unit
    deg = skel["angle"].startswith("deg")
    conv = (lambda a: a) if deg else np.degrees
    N = len(motion["root"])
    root = motion["root"]
    order = skel["root_order"]
    tr = np.stack([root[:, order.index(a)] if a in order else np.zeros(N) for a in ("tx", "ty", "tz")], 1)
    rot_axes = [a for a in order if a.startswith("r")]
    rot = np.stack([conv(root[:, order.index(a)]) for a in rot_axes], 1)
    Rroot = euler_matrix(rot[:, ::-1], "".join(a[1] for a in rot_axes[::-1]))
    glob = {"root": Rroot}
    pos = {"root": tr * mm}
    stack = list(skel["children"]["root"])
    parent = {c: "root" for c in stack}
    while stack:
        b = stack.pop(0)
        bone = skel["bones"][b]
        C = euler_matrix(bone["axis"][None, ::-1], bone["axis_order"][::-1])[0]
        vals = motion.get(b)
        angles = np.zeros((N, 3))
        for i, d in enumerate(bone["dof"]):
            if d.startswith("r"):
                angles[:, "xyz".index(d[1])] = conv(vals[:, i])
        M = euler_matrix(angles[:, ::-1], "zyx")  # Rz Ry Rx
        G = glob[parent[b]] @ C @ M @ C.T
        glob[b] = G
        pos[b] = pos[parent[b]] + bone["length"] * mm * (G @ bone["direction"])
        for c in skel["children"].get(b, []):
            parent[c] = b
            stack.append(c)
    def joint(src):
        return pos[src] if isinstance(src, str) else np.mean([pos[b] for b in src], axis=0)

    return np.stack([joint(ASF_TO_H36M[j]) for j in skeleton.JOINT_NAMES], axis=1)


# ---- BVH -------------------------------------------------------------------------------------------------------------
#: known BVH skeletons: H36M joint -> BVH joint whose origin is the joint ('<name>/end' = that joint's End Site)
BVH_SKELETONS = {
    "cmu": {"Hip": "Hips", "RHip": "RightUpLeg", "RKnee": "RightLeg", "RFoot": "RightFoot", "LHip": "LeftUpLeg",
            "LKnee": "LeftLeg", "LFoot": "LeftFoot", "Spine": "Spine", "Thorax": "Neck", "Neck/Nose": "Head",
            "Head": "Head/end", "LShoulder": "LeftArm", "LElbow": "LeftForeArm", "LWrist": "LeftHand",
            "RShoulder": "RightArm", "RElbow": "RightForeArm", "RWrist": "RightHand"},
    "mixamo": {"Hip": "Hips", "RHip": "RightUpLeg", "RKnee": "RightLeg", "RFoot": "RightFoot", "LHip": "LeftUpLeg",
               "LKnee": "LeftLeg", "LFoot": "LeftFoot", "Spine": "Spine1", "Thorax": "Neck", "Neck/Nose": "Head",
               "Head": "HeadTop_End", "LShoulder": "LeftArm", "LElbow": "LeftForeArm", "LWrist": "LeftHand",
               "RShoulder": "RightArm", "RElbow": "RightForeArm", "RWrist": "RightHand"},
}


def parse_bvh(path):
    """Returns (joints [{name, parent, offset, channels}], frames (N, C) array, frame_time)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise MotionFileError(f"{path}: no such file")
    with open(path, errors="replace") as f:
        text = f.read()
    if not text.strip():
        raise MotionFileError(f"{path}: file is empty")
    if "MOTION" not in text or not text.lstrip().startswith("HIERARCHY"):
        raise MotionFileError(f"{path}: not a BVH file (needs HIERARCHY ... MOTION)")
    head, motion = text.split("MOTION", 1)
    toks = head.split()
    joints, stack, i = [], [], 1
    pending = None
    try:
        while i < len(toks):
            t = toks[i]
            if t in ("ROOT", "JOINT"):
                name = toks[i + 1].split(":")[-1]  # drop namespaces like 'mixamorig:'
                pending = {"name": name, "parent": stack[-1] if stack else -1, "offset": None, "channels": []}
                i += 2
            elif t == "End":
                parent_name = joints[stack[-1]]["name"]
                pending = {"name": parent_name + "/end", "parent": stack[-1], "offset": None, "channels": []}
                i += 2
            elif t == "{":
                joints.append(pending)
                stack.append(len(joints) - 1)
                i += 1
            elif t == "}":
                stack.pop()
                i += 1
            elif t == "OFFSET":
                joints[stack[-1]]["offset"] = np.array([float(v) for v in toks[i + 1:i + 4]])
                i += 4
            elif t == "CHANNELS":
                n = int(toks[i + 1])
                joints[stack[-1]]["channels"] = [c.lower() for c in toks[i + 2:i + 2 + n]]
                i += 2 + n
            else:
                raise MotionFileError(f"{path}: unexpected token {t!r} in HIERARCHY")
    except MotionFileError:
        raise
    except (IndexError, ValueError, TypeError) as e:  # a number that is not one, a brace or keyword out of place
        raise MotionFileError(f"{path}: cannot parse the HIERARCHY section near token {i} ({type(e).__name__}: "
                              f"{e})") from None
    lines = [ln.strip() for ln in motion.strip().splitlines() if ln.strip()]
    try:
        nframes = int(lines[0].split(":")[1])
        ftime = float(lines[1].split(":")[1])
        frames = np.array([[float(v) for v in ln.split()] for ln in lines[2:]], np.float64)
    except (IndexError, ValueError) as e:
        raise MotionFileError(f"{path}: cannot parse the MOTION section ({e})") from None
    nch = sum(len(j["channels"]) for j in joints)
    if frames.ndim != 2 or len(frames) == 0 or frames.shape[1] != nch:
        raise MotionFileError(f"{path}: MOTION rows must hold {nch} channels; got shape {frames.shape}")
    if len(frames) != nframes:
        raise MotionFileError(f"{path}: 'Frames: {nframes}' but {len(frames)} rows")
    if not np.isfinite(frames).all():
        raise MotionFileError(f"{path}: MOTION row {int(np.flatnonzero(~np.isfinite(frames).all(1))[0]) + 1} "
                              "holds NaN or inf")
    return joints, frames, ftime


def read_bvh(path, unit_mm=1.0, step=1):
    """BVH -> ``(N, 17, 3)`` mm (``unit_mm`` millimetres per BVH unit), y up (BVH convention)."""
    joints, frames, _ = parse_bvh(path)
    frames = frames[::step]
    names = {j["name"] for j in joints}
    fmt = next((k for k, m in BVH_SKELETONS.items() if set(m.values()) <= names), None)
    if fmt is None:
        need = {k: sorted(set(m.values()) - names) for k, m in BVH_SKELETONS.items()}
        raise MotionFileError(f"{os.fspath(path)}: unknown BVH skeleton; missing joints per known skeleton: {need}")
    N = len(frames)
    col = 0
    glob, pos = [], []
    for j in joints:
        ch = j["channels"]
        vals = frames[:, col:col + len(ch)]
        col += len(ch)
        t = np.zeros((N, 3))
        for i, c in enumerate(ch):
            if c.endswith("position"):
                t[:, "xyz".index(c[0])] = vals[:, i]
        rch = [(i, c[0]) for i, c in enumerate(ch) if c.endswith("rotation")]
        R = euler_matrix(vals[:, [i for i, _ in rch]], "".join(a for _, a in rch)) if rch \
            else np.broadcast_to(np.eye(3), (N, 3, 3))
        off = j["offset"] if j["offset"] is not None else np.zeros(3)
        if j["parent"] < 0:
            p = off + t
            G = R
        else:
            Gp = glob[j["parent"]]
            p = pos[j["parent"]] + Gp @ off + np.einsum("nij,nj->ni", Gp, t)
            G = Gp @ R
        glob.append(G)
        pos.append(p)
    index = {j["name"]: i for i, j in enumerate(joints)}
    m = BVH_SKELETONS[fmt]
    return np.stack([pos[index[m[name]]] for name in skeleton.JOINT_NAMES], 1) * unit_mm


# ---- arrays ----------------------------------------------------------------------------------------------------------
def read_pose_array(path, key=None, up_axis="y"):
    """``(N, 17, 3)`` mm from .npy, .npz (``key`` or the only/first 3D array) or .csv (51 numbers a row).

    ``up_axis``: 'y' (kept) or 'z' (converted to y up)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise MotionFileError(f"{path}: no such file")
    if os.path.getsize(path) == 0:
        raise MotionFileError(f"{path}: file is empty")
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext == ".npy":
            arr = np.load(path)
        elif ext == ".npz":
            with np.load(path) as z:
                if key is None:
                    cands = [k for k in z.files if z[k].ndim == 3 and z[k].shape[1:] == (skeleton.NUM_JOINTS, 3)]
                    if not cands:
                        raise MotionFileError(f"{path}: no (N, 17, 3) array among {z.files}")
                    key = cands[0]
                if key not in z.files:
                    raise MotionFileError(f"{path}: array {key!r} is missing (found {z.files})")
                arr = z[key]
        elif ext == ".csv":
            arr = np.loadtxt(path, delimiter=",", ndmin=2, encoding="utf-8-sig")
            if arr.shape[1] != 51:
                raise MotionFileError(f"{path}: each row must hold 51 numbers (17 joints x 3), got {arr.shape[1]}")
            arr = arr.reshape(-1, skeleton.NUM_JOINTS, 3)
        else:
            raise MotionFileError(f"{path}: unsupported extension {ext!r}")
    except MotionFileError:
        raise
    except Exception as e:
        raise MotionFileError(f"{path}: cannot read ({type(e).__name__}: {e})") from None
    if np.iscomplexobj(arr) or not np.issubdtype(np.asarray(arr).dtype, np.number):
        raise MotionFileError(f"{path}: poses must be real numbers (mm), got {np.asarray(arr).dtype}")
    arr = np.asarray(arr, np.float64)
    if arr.ndim != 3 or arr.shape[1:] != (skeleton.NUM_JOINTS, 3):
        raise MotionFileError(f"{path}: poses must have shape (N, 17, 3), got {arr.shape}")
    if len(arr) == 0:
        raise MotionFileError(f"{path}: holds no pose")
    bad = ~np.isfinite(arr).all(axis=(1, 2))
    if bad.any():
        raise MotionFileError(f"{path}: {int(bad.sum())} poses hold NaN or inf "
                              f"(first: pose {int(np.flatnonzero(bad)[0])})")
    if up_axis not in ("y", "z"):
        raise ValueError(f"up_axis must be 'y' or 'z', got {up_axis!r}")
    return z_up_to_y_up(arr) if up_axis == "z" else arr
