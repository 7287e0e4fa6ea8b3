"""The project's tables: the one skeleton (Human3.6M 17 joints), the keypoint formats and their converters, the
CPM map orders, the Human3.6M actions and their spellings.

Every array of joints in this project is in the skeleton's order, shape ``(..., 17, D)``.
"""
from __future__ import annotations

import numpy as np

#: Human3.6M 17-joint set in the order used by the community (VideoPose3D, Martinez et al.).
JOINT_NAMES = (
    "Hip", "RHip", "RKnee", "RFoot", "LHip", "LKnee", "LFoot", "Spine", "Thorax",
    "Neck/Nose", "Head", "LShoulder", "LElbow", "LWrist", "RShoulder", "RElbow", "RWrist",
)
NUM_JOINTS = len(JOINT_NAMES)
#: parent of every joint (-1 for the root).
PARENTS = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)
#: (child, parent) pairs: the 16 limbs.
LIMBS = tuple((j, p) for j, p in enumerate(PARENTS) if p >= 0)
#: left/right joint pairs (left index, right index).
LEFT_RIGHT_PAIRS = ((4, 1), (5, 2), (6, 3), (11, 14), (12, 15), (13, 16))
#: index permutation that swaps left and right joints.
FLIP_PERMUTATION = tuple(
    {**{left: right for left, right in LEFT_RIGHT_PAIRS}, **{right: left for left, right in LEFT_RIGHT_PAIRS}}.get(j, j)
    for j in range(NUM_JOINTS)
)
#: joints of the raw 32-joint Human3.6M layout (D3_Positions) kept, in our order.
H36M32_TO_17 = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)
#: right-side joints (drawn in a different colour).
RIGHT_JOINTS = (1, 2, 3, 14, 15, 16)

#: joint name -> its index in the 17-joint order
JOINT_INDEX = {name: i for i, name in enumerate(JOINT_NAMES)}

# --- CPM map orders ------------------------------------------------------------------------------------------
#: the 14 joints of the original CPM models in map order (their map 14 is the background): MPI and LSP/LEEDS.
CPM_ORDERS = {
    "mpi": ("head", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist", "r_hip",
            "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle"),
    "lsp": ("r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "r_wrist", "r_elbow", "r_shoulder",
            "l_shoulder", "l_elbow", "l_wrist", "neck", "head"),
}

# --- keypoint formats -------------------------------------------------------------------------------------
# For each format: its joint names in file order, and for every H36M joint either a source joint name, a tuple of
# names whose midpoint defines it, a dict {name: coefficient} whose coefficients sum to 1 (an affine combination,
# e.g. a point extrapolated along a line), or None (not defined by the format -> not visible).
_SPINE = ("@Hip", "@Thorax")  # '@' refers to an already converted H36M joint

KEYPOINT_FORMATS = {
    "h36m": {
        "names": JOINT_NAMES,
        "map": {n: n for n in JOINT_NAMES},
    },
    "coco": {
        "names": ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
                  "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
                  "left_knee", "right_knee", "left_ankle", "right_ankle"),
        "map": {"Hip": ("left_hip", "right_hip"), "RHip": "right_hip", "RKnee": "right_knee",
                "RFoot": "right_ankle", "LHip": "left_hip", "LKnee": "left_knee", "LFoot": "left_ankle",
                "Spine": _SPINE, "Thorax": ("left_shoulder", "right_shoulder"), "Neck/Nose": "nose",
                "Head": None, "LShoulder": "left_shoulder", "LElbow": "left_elbow", "LWrist": "left_wrist",
                "RShoulder": "right_shoulder", "RElbow": "right_elbow", "RWrist": "right_wrist"},
    },
    "mpii": {
        "names": ("r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "pelvis", "thorax", "upper_neck",
                  "head_top", "r_wrist", "r_elbow", "r_shoulder", "l_shoulder", "l_elbow", "l_wrist"),
        "map": {"Hip": "pelvis", "RHip": "r_hip", "RKnee": "r_knee", "RFoot": "r_ankle", "LHip": "l_hip",
                "LKnee": "l_knee", "LFoot": "l_ankle", "Spine": _SPINE, "Thorax": "thorax",
                "Neck/Nose": "upper_neck", "Head": "head_top", "LShoulder": "l_shoulder", "LElbow": "l_elbow",
                "LWrist": "l_wrist", "RShoulder": "r_shoulder", "RElbow": "r_elbow", "RWrist": "r_wrist"},
    },
    # The 14 joints of the original CPM MPI models; its single-name entries are also how `convert-cpm` maps maps.
    "cpm14": {
        "names": CPM_ORDERS["mpi"],
        "map": {"Hip": ("l_hip", "r_hip"), "RHip": "r_hip", "RKnee": "r_knee", "RFoot": "r_ankle",
                "LHip": "l_hip", "LKnee": "l_knee", "LFoot": "l_ankle", "Spine": _SPINE,
                "Thorax": ("l_shoulder", "r_shoulder"), "Neck/Nose": "neck", "Head": "head",
                "LShoulder": "l_shoulder", "LElbow": "l_elbow", "LWrist": "l_wrist", "RShoulder": "r_shoulder",
                "RElbow": "r_elbow", "RWrist": "r_wrist"},
    },
    "body25": {
        "names": ("nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist",
                  "mid_hip", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye", "l_eye",
                  "r_ear", "l_ear", "l_big_toe", "l_small_toe", "l_heel", "r_big_toe", "r_small_toe", "r_heel"),
        "map": {"Hip": "mid_hip", "RHip": "r_hip", "RKnee": "r_knee", "RFoot": "r_ankle", "LHip": "l_hip",
                "LKnee": "l_knee", "LFoot": "l_ankle", "Spine": _SPINE, "Thorax": "neck", "Neck/Nose": "nose",
                "Head": None, "LShoulder": "l_shoulder", "LElbow": "l_elbow", "LWrist": "l_wrist",
                "RShoulder": "r_shoulder", "RElbow": "r_elbow", "RWrist": "r_wrist"},
    },
    # MediaPipe's pose landmarker (BlazePose, 33 landmarks; `lifting estimate`'s detector, tools/detect.py). Hips,
    # knees, ankles, shoulders, elbows and wrists are the same joints. Derived, as in the other formats: Hip = the
    # hips' midpoint, Thorax = the shoulders' midpoint (Human3.6M's thorax sits about 6 cm higher, at the base of the
    # neck), Spine = midpoint of Hip and Thorax, Neck/Nose = the nose landmark (Human3.6M's joint lies in front of
    # the face, about 9 cm above the thorax). Head: Human3.6M's head joint lies about 8 cm above its nose joint, at
    # the front of the crown; MediaPipe has no crown landmark, so Head = the ears' midpoint moved up by half the
    # distance from the shoulders' midpoint to the ears' midpoint (ears about 16 cm above the shoulders, crown front
    # about 23 cm): 0.75 (left_ear + right_ear) - 0.25 (left_shoulder + right_shoulder). Its weight is the smallest
    # of its four sources'. Landmarks 17-22 and 29-32 (hands, heels, toes) and the face's others are not used.
    "mediapipe33": {
        "names": ("nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
                  "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
                  "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
                  "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
                  "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
                  "left_foot_index", "right_foot_index"),
        "map": {"Hip": ("left_hip", "right_hip"), "RHip": "right_hip", "RKnee": "right_knee",
                "RFoot": "right_ankle", "LHip": "left_hip", "LKnee": "left_knee", "LFoot": "left_ankle",
                "Spine": _SPINE, "Thorax": ("left_shoulder", "right_shoulder"), "Neck/Nose": "nose",
                "Head": {"left_ear": 0.75, "right_ear": 0.75, "left_shoulder": -0.25, "right_shoulder": -0.25},
                "LShoulder": "left_shoulder", "LElbow": "left_elbow", "LWrist": "left_wrist",
                "RShoulder": "right_shoulder", "RElbow": "right_elbow", "RWrist": "right_wrist"},
    },
}


def convert_keypoints(points, fmt, confidence=None):
    """Convert keypoints of a named format to the H36M 17-joint order.

    Args:
        points: ``(N, F, D)`` coordinates in the format's joint order (D = 2 or 3).
        fmt: one of ``KEYPOINT_FORMATS`` (``h36m``, ``coco``, ``mpii``, ``cpm14``, ``body25``, ``mediapipe33``).
        confidence: optional ``(N, F)`` scores; 0 (or NaN coordinates) means not detected.

    Returns:
        ``(points17 (N, 17, D), weights (N, 17))``. A joint the format lacks, or whose sources are not all
        detected, gets weight 0 and NaN coordinates. A derived (midpoint or affine) joint gets the smallest weight
        of its sources.
    """
    if fmt not in KEYPOINT_FORMATS:
        raise ValueError(f"unknown keypoint format {fmt!r}; known: {sorted(KEYPOINT_FORMATS)}")
    spec = KEYPOINT_FORMATS[fmt]
    points = np.asarray(points, dtype=np.float64)
    nf = len(spec["names"])
    if points.ndim != 3 or points.shape[1] != nf or points.shape[2] not in (2, 3):
        raise ValueError(f"keypoints of format {fmt!r} must have shape (N, {nf}, 2 or 3), got {points.shape}")
    if confidence is None:
        confidence = np.ones(points.shape[:2])
    confidence = np.asarray(confidence, dtype=np.float64)
    if confidence.shape != points.shape[:2]:
        raise ValueError(f"confidence must have shape {points.shape[:2]}, got {confidence.shape}")
    confidence = np.where(np.isfinite(points).all(-1) & np.isfinite(confidence), confidence, 0.0)
    idx = {n: i for i, n in enumerate(spec["names"])}
    n = points.shape[0]
    out = np.full((n, NUM_JOINTS, points.shape[2]), np.nan)
    w = np.zeros((n, NUM_JOINTS))
    # Spine (which may refer to Hip and Thorax) last.
    order = [j for j in JOINT_NAMES if j != "Spine"] + ["Spine"]
    for name in order:
        src = spec["map"][name]
        j = JOINT_INDEX[name]
        if src is None:
            continue
        if isinstance(src, str):
            out[:, j] = points[:, idx[src]]
            w[:, j] = confidence[:, idx[src]]
        else:
            coef = src if isinstance(src, dict) else {s: 1.0 / len(src) for s in src}
            pts, ws = [], []
            for s in coef:
                if s.startswith("@"):
                    pts.append(out[:, JOINT_INDEX[s[1:]]])
                    ws.append(w[:, JOINT_INDEX[s[1:]]])
                else:
                    pts.append(points[:, idx[s]])
                    ws.append(confidence[:, idx[s]])
            out[:, j] = np.einsum("s,snd->nd", np.array(list(coef.values())), np.array(pts))
            w[:, j] = np.min(ws, axis=0)
    w = np.clip(w, 0.0, None)
    out[w <= 0] = np.nan
    return out, w


# --- Human3.6M actions -----------------------------------------------------------------------------------------
#: the 15 actions: our key and the title in the paper's Table 1, in the table's column order.
H36M_ACTIONS = (
    ("directions", "Directions"), ("discussion", "Discussion"), ("eating", "Eating"), ("greeting", "Greeting"),
    ("phoning", "Phoning"), ("takingphoto", "Photo"), ("posing", "Posing"), ("purchases", "Purchases"),
    ("sitting", "Sitting"), ("sittingdown", "Sitting Down"), ("smoking", "Smoking"), ("waiting", "Waiting"),
    ("walkingdog", "Walk Dog"), ("walking", "Walking"), ("walkingtogether", "Walk Together"),
)
#: every spelling of an action, lower case (the official release's file names for any subject, the paper's table
#: titles) -> our key. Whole words only: 'sittingdown' is not 'sitting', 'walkdog' is not 'walking'.
ACTION_SPELLINGS = {
    **{key: key for key, _ in H36M_ACTIONS},
    "photo": "takingphoto", "walkdog": "walkingdog", "walktogether": "walkingtogether", "sitdown": "sittingdown",
}


def action_key(name):
    """``'walkingdog_1'`` / ``'WalkDog 1'`` / ``'TakingPhoto.cdf'`` -> our action key (``'walkingdog'``); a name
    that is no Human3.6M action keeps its lower-case base name."""
    base = str(name).split("_")[0].split(" ")[0].split(".")[0].lower()
    return ACTION_SPELLINGS.get(base, base)


def flip_lr(poses):
    """Mirror poses ``(..., 17, 3)`` in x and swap left and right joints."""
    poses = np.asarray(poses)
    out = poses[..., FLIP_PERMUTATION, :].copy()
    out[..., 0] *= -1
    return out


def limb_lengths(poses):
    """``(..., 17, D)`` -> ``(..., 16)`` limb lengths."""
    poses = np.asarray(poses)
    child = [c for c, _ in LIMBS]
    parent = [p for _, p in LIMBS]
    return np.linalg.norm(poses[..., child, :] - poses[..., parent, :], axis=-1)


def limb_scale(poses):
    """``(..., 17, 3)`` -> ``(...)``: square root of the sum of squared limb lengths."""
    return np.sqrt(np.sum(limb_lengths(poses) ** 2, axis=-1))


def nose_forward_fraction(poses):
    """Handedness check of y-up poses ``(N, 17, 3)`` with a real nose joint (Human3.6M): the fraction of frames in
    which the nose lies in front of the Thorax-Head midline, "front" being ``left x up`` (left = LHip - RHip,
    up = Thorax - Hip). A real (right-handed) body gives ~1, its mirror image ~0."""
    p = np.asarray(poses, np.float64)
    left = p[:, JOINT_INDEX["LHip"]] - p[:, JOINT_INDEX["RHip"]]
    up = p[:, JOINT_INDEX["Thorax"]] - p[:, JOINT_INDEX["Hip"]]
    front = np.cross(left, up)
    nose = p[:, JOINT_INDEX["Neck/Nose"]] - 0.5 * (p[:, JOINT_INDEX["Thorax"]] + p[:, JOINT_INDEX["Head"]])
    return float(np.mean(np.einsum("nc,nc->n", nose, front) > 0))
