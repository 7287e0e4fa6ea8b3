"""BVH motion files of the project's 17-joint skeleton: writer, reader and forward kinematics.

The file is a standard ``HIERARCHY`` / ``MOTION`` BVH (the format of Blender's BVH importer): a fixed skeleton whose
bone lengths are the person's (:func:`bone_lengths`), the root (``Hip``) with 3 position and 3 rotation channels,
every other joint with 3 rotation channels, ``Zrotation Xrotation Yrotation`` (a joint's local rotation is
``Rz(z) Rx(x) Ry(y)``, degrees), y up, lengths in metres by default (``unit_mm``). A joint with several children in
our skeleton (``Hip``: both hips and the spine; ``Thorax``: the neck and both shoulders) gets, for each child, a
zero-length joint named ``<joint>_<child>`` whose rotation turns that one bone, so every bone points exactly where the
3D pose says; leaves end in an ``End Site``. ``Hip`` and ``Thorax`` themselves carry the orientation of the pelvis
and the chest (a least-squares rotation of their children's rest directions onto the posed ones), so the root
rotation is the body's.

Joint rotations are solved bone by bone from the 3D joints: the smallest rotation that turns the bone's rest
direction (as carried by its parent's rotation) onto the posed direction. Forward kinematics of the written file
gives back the 3D joints of :func:`retarget` (the pose with the skeleton's fixed bone lengths, each bone's direction
kept) to within the file's printed precision (1e-6 of a unit: 1 micrometre in metres); for a pose whose bone lengths
are the skeleton's, that is the pose itself.
"""
from __future__ import annotations

import numpy as np

from . import skeleton

CHANNELS_ROOT = ("Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation")
CHANNELS = ("Zrotation", "Xrotation", "Yrotation")
#: length of a leaf's End Site, as a fraction of the leaf's bone
END_SITE_FRACTION = 0.25


class BVHError(ValueError):
    """A BVH file that cannot be read; the message names the file and the line."""


def bvh_name(j):
    return skeleton.JOINT_NAMES[j].replace("/", "_")


def children(j):
    return [c for c, p in enumerate(skeleton.PARENTS) if p == j]


def bone_lengths(poses):
    """``(N, 17, 3)`` -> ``(17,)``: the median over the finite frames of every bone's length, indexed by the child
    joint (0 for the root)."""
    p = np.asarray(poses, np.float64).reshape(-1, skeleton.NUM_JOINTS, 3)
    p = p[np.isfinite(p).all((1, 2))]
    if not len(p):
        raise ValueError("bone_lengths: no frame with all joints finite")
    out = np.zeros(skeleton.NUM_JOINTS)
    out[[c for c, _ in skeleton.LIMBS]] = np.median(skeleton.limb_lengths(p), axis=0)
    return out


def _unit(v):
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 0, n, 1.0)


def retarget(poses, lengths):
    """Poses ``(N, 17, 3)`` with every bone's direction kept and its length set to ``lengths (17,)`` (by child
    joint); the root stays where it is."""
    p = np.asarray(poses, np.float64)
    out = p.copy()
    for c, par in skeleton.LIMBS:  # parents come before children in our order
        out[..., c, :] = out[..., par, :] + lengths[c] * _unit(p[..., c, :] - p[..., par, :])
    return out


def rest_offsets(lengths, rest_pose):
    """Rest offsets ``(17, 3)`` of every joint from its parent: the direction of ``rest_pose (17, 3)`` (e.g. the
    model's mean pose), the length of ``lengths``."""
    r = np.asarray(rest_pose, np.float64)
    off = np.zeros((skeleton.NUM_JOINTS, 3))
    for c, par in skeleton.LIMBS:
        off[c] = lengths[c] * _unit(r[c] - r[par])
    return off


def min_rotation(a, b):
    """``(..., 3, 3)``: the smallest rotation turning the directions ``a`` onto ``b`` (``(..., 3)``); for opposite
    directions a half turn about an axis perpendicular to ``a``."""
    a, b = _unit(np.asarray(a, np.float64)), _unit(np.asarray(b, np.float64))
    v = np.cross(a, b)
    c = np.sum(a * b, -1)
    s = np.linalg.norm(v, axis=-1)
    K = np.zeros(v.shape[:-1] + (3, 3))
    K[..., 0, 1], K[..., 0, 2], K[..., 1, 2] = -v[..., 2], v[..., 1], -v[..., 0]
    K[..., 1, 0], K[..., 2, 0], K[..., 2, 1] = v[..., 2], -v[..., 1], v[..., 0]
    eye = np.broadcast_to(np.eye(3), K.shape)
    factor = np.where(s > 1e-12, (1 - c) / np.where(s > 1e-12, s * s, 1.0), 0.0)[..., None, None]
    R = eye + K + K @ K * factor
    opposite = (s <= 1e-12) & (c < 0)
    if np.any(opposite):
        ao = a[opposite]
        perp = _unit(np.cross(ao, np.where(np.abs(ao[:, :1]) < 0.9, [[1.0, 0, 0]], [[0, 1.0, 0]])))
        R[opposite] = 2 * perp[:, :, None] * perp[:, None, :] - np.eye(3)
    return R


def fit_rotation(rest, posed):
    """``(N, 3, 3)`` least-squares rotations taking the rest vectors ``(M, 3)`` onto posed ``(N, M, 3)``
    (Kabsch, proper rotations only)."""
    H = np.einsum("mi,nmj->nij", np.asarray(rest, np.float64), np.asarray(posed, np.float64))
    U, _, Vt = np.linalg.svd(H)
    d = np.sign(np.linalg.det(np.einsum("nji,nkj->nik", Vt, U)))
    D = np.zeros_like(H)
    D[:, 0, 0] = D[:, 1, 1] = 1.0
    D[:, 2, 2] = np.where(d == 0, 1.0, d)
    return np.einsum("nji,njk,nlk->nil", Vt, D, U)


def hierarchy():
    """The BVH joints in file order: ``[(name, parent index or -1, our joint or None, child joint for a branch or
    None)]``; a branch joint sits at its parent's position and turns one bone."""
    out = []

    def add(j, parent):
        idx = len(out)
        out.append((bvh_name(j), parent, j, None))
        kids = children(j)
        if len(kids) == 1:
            add(kids[0], idx)
        elif len(kids) > 1:
            for c in kids:
                b = len(out)
                out.append((f"{bvh_name(j)}_{bvh_name(c)}", idx, None, c))
                add(c, b)

    add(0, -1)
    return out


def _euler_zxy(R):
    from scipy.spatial.transform import Rotation

    return Rotation.from_matrix(R).as_euler("ZXY", degrees=True)


def _matrix(channels, values):
    """Rotation from a joint's rotation channels in their order (``R = R1 R2 R3``) and values in degrees."""
    R = np.broadcast_to(np.eye(3), values.shape[:-1] + (3, 3)).copy()
    k = 0
    for ch, v in zip(channels, np.moveaxis(values, -1, 0)):
        axis = ch[0].upper()
        if not ch.endswith("rotation"):
            continue
        t = np.radians(v)
        c, s = np.cos(t), np.sin(t)
        M = np.zeros(t.shape + (3, 3))
        i = "XYZ".index(axis)
        j, k2 = (i + 1) % 3, (i + 2) % 3
        M[..., i, i] = 1
        M[..., j, j] = c
        M[..., k2, k2] = c
        M[..., k2, j] = s
        M[..., j, k2] = -s
        R = R @ M
        k += 1
    return R


def solve_rotations(poses, offsets):
    """Global rotations ``(N, B, 3, 3)`` of every BVH joint (:func:`hierarchy`) for poses ``(N, 17, 3)`` and rest
    offsets ``(17, 3)``."""
    p = np.asarray(poses, np.float64)
    n = len(p)
    hier = hierarchy()
    G = np.zeros((n, len(hier), 3, 3))
    eye = np.broadcast_to(np.eye(3), (n, 3, 3))
    for b, (name, parent, j, branch_child) in enumerate(hier):
        Gp = eye if parent < 0 else G[:, parent]
        if j is None:  # a branch: turn the one bone to its child
            c = branch_child
            par = skeleton.PARENTS[c]
            G[:, b] = min_rotation(np.einsum("nij,j->ni", Gp, offsets[c]), p[:, c] - p[:, par]) @ Gp
            continue
        kids = children(j)
        if len(kids) == 0:
            G[:, b] = Gp
        elif len(kids) == 1:
            c = kids[0]
            G[:, b] = min_rotation(np.einsum("nij,j->ni", Gp, offsets[c]), p[:, c] - p[:, j]) @ Gp
        else:
            rest = np.stack([offsets[c] for c in kids])
            posed = np.stack([p[:, c] - p[:, j] for c in kids], axis=1)
            G[:, b] = fit_rotation(_unit(rest), _unit(posed))
    return G


def bvh_text(poses_mm, lengths_mm, rest_pose, frame_time, unit_mm=1000.0):
    """The BVH file (text) of poses ``(N, 17, 3)`` mm (y up; every frame finite) on the skeleton of ``lengths_mm``
    with rest directions from ``rest_pose``. The poses are first :func:`retarget` ed to the lengths."""
    poses = np.asarray(poses_mm, np.float64)
    if poses.ndim != 3 or poses.shape[1:] != (skeleton.NUM_JOINTS, 3) or len(poses) == 0:
        raise ValueError(f"poses must have shape (N >= 1, 17, 3), got {poses.shape}")
    if not np.all(np.isfinite(poses)):
        raise ValueError("BVH poses must be finite (fill or drop frames without a 3D pose first)")
    if not frame_time > 0:
        raise ValueError(f"frame_time must be > 0, got {frame_time}")
    lengths = np.asarray(lengths_mm, np.float64)
    target = retarget(poses, lengths)
    offsets = rest_offsets(lengths, rest_pose)
    hier = hierarchy()
    G = solve_rotations(target, offsets)
    lines = ["HIERARCHY"]
    depth_of = {}

    def fmt(v):
        return " ".join(f"{x / unit_mm:.6f}" for x in v)

    kids_of = {b: [k for k, h in enumerate(hier) if h[1] == b] for b in range(len(hier))}

    def emit(b, depth):
        name, parent, j, branch_child = hier[b]
        ind = "  " * depth
        off = np.zeros(3) if (j is None or parent < 0) else offsets[j]
        lines.append(f"{ind}{'ROOT' if parent < 0 else 'JOINT'} {name}")
        lines.append(f"{ind}{{")
        lines.append(f"{ind}  OFFSET {fmt(off)}")
        ch = CHANNELS_ROOT if parent < 0 else CHANNELS
        lines.append(f"{ind}  CHANNELS {len(ch)} {' '.join(ch)}")
        if kids_of[b]:
            for k in kids_of[b]:
                emit(k, depth + 1)
        else:
            end = END_SITE_FRACTION * offsets[j]
            lines.extend([f"{ind}  End Site", f"{ind}  {{", f"{ind}    OFFSET {fmt(end)}", f"{ind}  }}"])
        lines.append(f"{ind}}}")
        depth_of[b] = depth

    emit(0, 0)
    n = len(poses)
    local = np.empty_like(G)
    for b, (_, parent, _, _) in enumerate(hier):
        local[:, b] = G[:, b] if parent < 0 else np.einsum("nji,njk->nik", G[:, parent], G[:, b])
    euler = _euler_zxy(local.reshape(-1, 3, 3)).reshape(n, len(hier), 3)
    lines += ["MOTION", f"Frames: {n}", f"Frame Time: {frame_time:.6f}"]
    for f in range(n):
        vals = [f"{x / unit_mm:.6f}" for x in target[f, 0]] + [f"{a:.6f}" for a in euler[f].reshape(-1)]
        lines.append(" ".join(vals))
    return "\n".join(lines) + "\n"


def write_bvh(path, poses_mm, lengths_mm, rest_pose, frame_time, unit_mm=1000.0):
    """Write :func:`bvh_text` atomically to ``path``."""
    from .files import atomic_write_text

    atomic_write_text(path, bvh_text(poses_mm, lengths_mm, rest_pose, frame_time, unit_mm))


def read_bvh(path):
    """Parse a BVH file -> dict with ``names``, ``parents``, ``offsets (B, 3)``, ``channels`` (list of tuples),
    ``end_sites`` ({joint: offset}), ``frame_time``, ``motion (F, C)``. Raises :class:`BVHError` naming the file
    and line."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return parse_bvh(text, str(path))


def parse_bvh(text, where="BVH"):
    lines = text.splitlines()
    names, parents, offsets, channels, end_sites = [], [], [], [], {}
    stack = []
    i = 0

    def err(msg):
        return BVHError(f"{where}: line {i + 1}: {msg}")

    if not lines or lines[0].strip() != "HIERARCHY":
        raise BVHError(f"{where}: line 1: expected HIERARCHY")
    i = 1
    in_end = False
    while i < len(lines):
        tok = lines[i].split()
        if not tok:
            i += 1
            continue
        key = tok[0]
        if key in ("ROOT", "JOINT"):
            if len(tok) != 2:
                raise err(f"{key} needs one name")
            if key == "ROOT" and names:
                raise err("a second ROOT")
            names.append(tok[1])
            parents.append(stack[-1] if stack else -1)
            offsets.append(None)
            channels.append(())
        elif key == "End":
            in_end = True
        elif key == "{":
            if in_end:
                stack.append(("end", stack[-1]))
            else:
                stack.append(len(names) - 1)
        elif key == "}":
            if not stack:
                raise err("unbalanced }")
            top = stack.pop()
            if isinstance(top, tuple):
                in_end = False
            if not stack:
                i += 1
                break
        elif key == "OFFSET":
            try:
                v = np.array([float(x) for x in tok[1:4]])
            except ValueError:
                raise err("OFFSET needs three numbers") from None
            if len(tok) != 4:
                raise err("OFFSET needs three numbers")
            if in_end:
                end_sites[stack[-1][1]] = v
            else:
                offsets[stack[-1]] = v
        elif key == "CHANNELS":
            try:
                k = int(tok[1])
            except (IndexError, ValueError):
                raise err("CHANNELS needs a count") from None
            if len(tok) != 2 + k:
                raise err(f"CHANNELS announces {k} channels, lists {len(tok) - 2}")
            channels[stack[-1]] = tuple(tok[2:])
        else:
            raise err(f"unexpected {key!r} in HIERARCHY")
        i += 1
    if stack or not names:
        raise BVHError(f"{where}: HIERARCHY ends before its joints close")
    if any(o is None for o in offsets):
        raise BVHError(f"{where}: joint {names[[o is None for o in offsets].index(True)]} has no OFFSET")
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines) or lines[i].strip() != "MOTION":
        raise err("expected MOTION")
    try:
        frames = int(lines[i + 1].split(":")[1])
        frame_time = float(lines[i + 2].split(":")[1])
    except (IndexError, ValueError):
        raise err("expected 'Frames: N' and 'Frame Time: T'") from None
    nch = sum(len(c) for c in channels)
    rows = []
    for k in range(frames):
        j = i + 3 + k
        if j >= len(lines):
            raise BVHError(f"{where}: MOTION announces {frames} frames, holds {k}")
        try:
            row = [float(x) for x in lines[j].split()]
        except ValueError:
            raise BVHError(f"{where}: line {j + 1}: not a row of numbers") from None
        if len(row) != nch:
            raise BVHError(f"{where}: line {j + 1}: {len(row)} values, the channels need {nch}")
        rows.append(row)
    motion = np.array(rows, np.float64).reshape(frames, nch)
    if not np.all(np.isfinite(motion)):
        raise BVHError(f"{where}: MOTION holds non-finite values")
    return {"names": names, "parents": parents, "offsets": np.array(offsets), "channels": channels,
            "end_sites": end_sites, "frame_time": frame_time, "motion": motion}


def forward_kinematics(bvh):
    """Positions ``(F, B, 3)`` (file units) of every joint of a parsed BVH (:func:`read_bvh`); position channels
    add to the offset, rotation channels compose in their listed order."""
    motion = bvh["motion"]
    F = len(motion)
    B = len(bvh["names"])
    pos = np.zeros((F, B, 3))
    G = np.zeros((F, B, 3, 3))
    col = 0
    for b in range(B):
        ch = bvh["channels"][b]
        vals = motion[:, col:col + len(ch)]
        col += len(ch)
        t = np.zeros((F, 3))
        for k, c in enumerate(ch):
            if c.endswith("position"):
                t[:, "XYZ".index(c[0].upper())] = vals[:, k]
        rot_ch = [c for c in ch if c.endswith("rotation")]
        rot_vals = np.stack([vals[:, k] for k, c in enumerate(ch) if c.endswith("rotation")], -1) if rot_ch \
            else np.zeros((F, 0))
        L = _matrix(rot_ch, rot_vals) if rot_ch else np.broadcast_to(np.eye(3), (F, 3, 3))
        p = bvh["parents"][b]
        local = bvh["offsets"][b] + t
        if p < 0:
            pos[:, b] = local
            G[:, b] = L
        else:
            pos[:, b] = pos[:, p] + np.einsum("nij,nj->ni", G[:, p], local)
            G[:, b] = G[:, p] @ L
    return pos


def bvh_joints_mm(bvh, unit_mm=1000.0):
    """Our 17 joints ``(F, 17, 3)`` mm from a parsed BVH written by :func:`bvh_text` (joints found by name)."""
    pos = forward_kinematics(bvh)
    idx = []
    for j in range(skeleton.NUM_JOINTS):
        try:
            idx.append(bvh["names"].index(bvh_name(j)))
        except ValueError:
            raise BVHError(f"BVH has no joint {bvh_name(j)!r}") from None
    return pos[:, idx] * unit_mm
