"""Loading training/evaluation poses from the inputs the ``fit`` and ``evaluate`` subcommands accept."""
from __future__ import annotations

import glob
import os

import numpy as np

from lifting.geometry import rotate_ground, z_up_to_y_up
from lifting.skeleton import NUM_JOINTS

from .readers import MotionFileError, read_asf_amc, read_bvh, read_h36m_dataset, read_pose_array


def load_h36m_npz(path, subjects=None, step=1, mirror_x=True):
    """The shared ``h36m_poses_17j_5fps.npz`` layout: ``positions_17`` (N, 17, 3) mm z up, ``subject``, ``action``.

    ``mirror_x``: that file (forward kinematics of the exponential-map release) is the mirror image of a real body:
    with its joint labels the nose lies behind the face in 99.9% of its frames
    (:func:`lifting.skeleton.nose_forward_fraction` ~0.001), while the official CDF positions, CMU and the authors'
    model are real bodies. Negating x on load gives every source one handedness. Set False for an npz of the same
    layout that holds real bodies.

    Returns ``(poses y up (M, 17, 3), subject (M,), action (M,))`` for the given subjects."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise MotionFileError(f"{path}: " + ("is a folder" if os.path.isdir(path) else "no such file"))
    if int(step) < 1:
        raise ValueError(f"step must be >= 1, got {step}")
    try:
        with np.load(path, allow_pickle=False) as z:
            for key in ("positions_17", "subject", "action"):
                if key not in z.files:
                    raise MotionFileError(f"{path}: array {key!r} is missing (found {z.files})")
            pos, subj, act = z["positions_17"], z["subject"].astype(str), z["action"].astype(str)
    except MotionFileError:
        raise
    except Exception as e:  # numpy and zipfile raise many types on empty, truncated or foreign files
        raise MotionFileError(f"{path}: not a readable .npz file (empty, truncated or another format: "
                              f"{type(e).__name__}: {e})") from None
    if pos.ndim != 3 or pos.shape[1:] != (NUM_JOINTS, 3) or len(subj) != len(pos) or len(act) != len(pos):
        raise MotionFileError(f"{path}: expected positions_17 (N, 17, 3) with N subjects and actions, got "
                              f"{pos.shape}, {subj.shape}, {act.shape}")
    bad = ~np.isfinite(pos).all(axis=(1, 2))
    if bad.any():
        raise MotionFileError(f"{path}: positions_17 holds NaN or inf in {int(bad.sum())} poses (first: pose "
                              f"{int(np.flatnonzero(bad)[0])})")
    sel = np.ones(len(pos), bool) if not subjects else np.isin(subj, list(subjects))
    if subjects:
        unknown = sorted(set(subjects) - set(subj))
        if unknown:
            raise MotionFileError(f"{path}: subjects {unknown} not present (has {sorted(map(str, set(subj)))})")
    sel &= np.arange(len(pos)) % step == 0
    poses = z_up_to_y_up(pos[sel])
    if mirror_x:
        poses[..., 0] *= -1
    return poses, subj[sel], act[sel]


def load_cmu_folder(folder, step=1):
    """All ``*.amc`` of a CMU subject folder with its ``*.asf``: ``(poses (N, 17, 3), trial (N,))``."""
    asf = sorted(glob.glob(os.path.join(os.fspath(folder), "*.asf")))
    amcs = sorted(glob.glob(os.path.join(os.fspath(folder), "*.amc")))
    if len(asf) != 1 or not amcs:
        raise MotionFileError(f"{folder}: expected one .asf and at least one .amc (found {len(asf)} and {len(amcs)})")
    out, trial = [], []
    for amc in amcs:
        p = read_asf_amc(asf[0], amc, step=step)
        out.append(p)
        trial += [os.path.splitext(os.path.basename(amc))[0]] * len(p)
    return np.concatenate(out), np.array(trial)


def augment_rotations(poses, copies, seed=0):
    """``copies`` randomly ground-plane-rotated copies of every pose (y up): ``(N * copies, 17, 3)``."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0, 2 * np.pi, size=len(poses) * copies)
    rep = np.repeat(np.asarray(poses, np.float64), copies, axis=0)
    return rotate_ground(rep, theta)


def gather(h36m_npz=None, h36m_cdf=None, subjects=None, cmu=(), bvh=(), bvh_unit_mm=1.0, poses=(), up_axis="y",
           step=1, rotations=1, seed=0):
    """Poses from every kind of input the ``fit`` subcommand accepts, concatenated: ``(N, 17, 3)`` mm, y up.

    Args:
        h36m_npz: an npz in the shared layout (:func:`load_h36m_npz`); h36m_cdf: root of the official release
            (needs ``subjects``); subjects: e.g. ``["S1", "S5"]`` (None: all of the npz); cmu: CMU subject folders;
            bvh: BVH files with ``bvh_unit_mm`` millimetres per unit; poses: ``(N, 17, 3)`` array files whose up
            axis is ``up_axis``; step: keep every step-th frame; rotations: randomly ground-plane-rotated copies
            of every pose (seeded by ``seed``) when above 1.
    """
    if int(step) < 1 or int(rotations) < 1:
        raise ValueError(f"step and rotations must be >= 1, got {step} and {rotations}")
    if subjects is not None and not list(subjects):
        raise ValueError("subjects is an empty list (None means every subject)")
    from lifting.plausible import check_poses_mm

    parts = []
    if h36m_npz:
        parts.append(check_poses_mm(load_h36m_npz(h36m_npz, subjects, step)[0], h36m_npz))
    if h36m_cdf:
        if not subjects:
            raise ValueError("--h36m-cdf needs --subjects")
        parts.append(check_poses_mm(read_h36m_dataset(h36m_cdf, subjects, step)[0], h36m_cdf))
    for folder in cmu or []:
        parts.append(check_poses_mm(load_cmu_folder(folder, step)[0], folder))
    for f in bvh or []:
        parts.append(check_poses_mm(read_bvh(f, unit_mm=bvh_unit_mm, step=step),
                                    f"{f} (--bvh-unit-mm {bvh_unit_mm:g})"))
    for f in poses or []:
        parts.append(check_poses_mm(read_pose_array(f, up_axis=up_axis)[::step], f))
    if not parts:
        raise ValueError("no input: give --h36m-npz, --h36m-cdf, --cmu, --bvh or --poses")
    out = np.concatenate(parts)
    if rotations > 1:
        out = augment_rotations(out, rotations, seed)
    return out
