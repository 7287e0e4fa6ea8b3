"""A miniature Human3.6M release in the exact official layout, made from the real fixture of ../shared/data/h36m_fixture
(``lifting h36m-miniature``; the tests' release): CDF files (cdflib) for D2_Positions, D3_Positions and
D3_Positions_mono, MP4 videos (OpenCV), and the cameras in the Martinez et al. ``cameras.h5`` layout.

Sequences (11 pose frames at 50 fps each, all four cameras):
  * S1 "Directions 1": the real S1 frame's 3D joints (camera 54138969) placed in the world by the real camera,
    walking 4 mm a frame along x, every joint but the pelvis swaying up to 30 mm (smooth, seeded by the sequence: the
    poses must differ for a model to be fitted on them); camera 54138969's video is the real frame shifted with the
    pelvis, the other
    cameras' videos are the projected skeleton drawn on grey; camera 60457274's video has only 7 frames (shorter
    than its poses, as some real sequences);
  * S5 "SittingDown": the real S5 frame (lying on the floor), the same way;
  * S9 "Directions": S1's motion in S9's room (with S11: the authors' test subjects);
  * S11 "Directions": S1's motion in S11's room; its camera 54138969 video is garbage bytes (the release's known
    defect, which prepare must skip by name).
Every 2D file is the camera's distorted projection of the 3D, as in the release.
"""
import os

import h5py
import numpy as np

from lifting import skeleton
from lifting.cameras import H36M_CAMERA_IDS, read_h36m_cameras_json

FRAMES = 11
#: the largest sway of a joint about the fixture pose, mm
SWAY_MM = 30.0
SHORT_VIDEO = ("S1", "Directions 1", "60457274", 7)


def sway(subject, name, frames=FRAMES):
    """``(frames, 17, 3)`` mm: a smooth, deterministic movement of every joint but the pelvis away from the first
    frame's place, at most :data:`SWAY_MM` (one sinusoid per joint and axis, phase and frequency drawn from a generator
    seeded by the sequence's name; 0 at frame 0)."""
    import zlib

    rng = np.random.default_rng(zlib.crc32(f"{subject}/{name}".encode()))
    phase = rng.uniform(0, 2 * np.pi, (1, skeleton.NUM_JOINTS, 3))
    cycles = rng.uniform(0.5, 1.5, (1, skeleton.NUM_JOINTS, 3))
    t = np.arange(frames)[:, None, None] / frames
    out = SWAY_MM / 2 * (np.sin(2 * np.pi * cycles * t + phase) - np.sin(phase))  # frame 0: the fixture's pose
    out[:, skeleton.JOINT_INDEX["Hip"]] = 0.0  # the root: the video frames move with it
    return out


def write_pose_cdf(path, values):
    """Variable 'Pose' as the official release stores it: one record ``(1, T, D)`` float32."""
    from cdflib.cdfwrite import CDF

    os.makedirs(os.path.dirname(path), exist_ok=True)
    values = np.asarray(values)
    T, D = values.shape
    if os.path.exists(path):
        os.unlink(path)
    cdf = CDF(str(path), delete=True)
    cdf.write_var({"Variable": "Pose", "Data_Type": CDF.CDF_FLOAT, "Num_Elements": 1, "Rec_Vary": True,
                   "Dim_Sizes": [T, D]}, var_data=values.reshape(1, T, D).astype(np.float32))
    cdf.close()


def write_martinez_h5(path, cameras):
    """``cameras`` ({(subject, id): Camera}) in the layout of the Martinez et al. ``cameras.h5``: groups
    ``subject{n}/camera{m}`` (m = 1..4 in the order of ``H36M_CAMERA_IDS``) holding ``R`` as stored there (the
    transpose of world -> camera), ``T (3, 1)`` mm, ``f``, ``c``, ``k``, ``p`` as column vectors and ``Name`` as
    character codes."""
    with h5py.File(path, "w") as f:
        for (subj, cid), cam in cameras.items():
            g = f.create_group(f"subject{subj[1:]}/camera{H36M_CAMERA_IDS.index(cid) + 1}")
            g["R"] = cam.R.T
            for key in ("T", "f", "c", "k", "p"):
                g[key] = getattr(cam, key).reshape(-1, 1)
            g["Name"] = np.frombuffer(cid.encode(), np.uint8)  # their loader: "".join(chr(item) for item in name)


def to_32(joints17):
    """(T, 17, D) -> (T, 32, D): the 17 kept joints in their places, the other 15 at the root."""
    out = np.repeat(joints17[:, :1], 32, axis=1)
    out[:, list(skeleton.H36M32_TO_17)] = joints17
    return out


def write_video(path, frames, fps=50):
    import cv2

    os.makedirs(os.path.dirname(path), exist_ok=True)
    h, w = frames[0].shape[:2]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    assert vw.isOpened(), f"OpenCV cannot write {path}"
    for f in frames:
        vw.write(f)
    vw.release()


def skeleton_frame(points2d, width, height):
    import cv2

    img = np.full((height, width, 3), 90, np.uint8)
    for c, p in skeleton.LIMBS:
        a, b = points2d[c], points2d[p]
        cv2.line(img, (int(round(a[0])), int(round(a[1]))), (int(round(b[0])), int(round(b[1]))), (40, 200, 230), 9)
    return img


#: (subject, sequence name, fixture frame, the fixture frame's subject) of the default miniature release
PLAN = (("S1", "Directions 1", 0, "S1"), ("S5", "SittingDown", 1, "S5"), ("S9", "Directions", 0, "S1"),
        ("S11", "Directions", 0, "S1"))


def make_official_tree(root, fixture, plan=PLAN):
    """Write the miniature release under ``root`` from the fixture folder ``fixture`` (labels.npz, cameras.json,
    images/): the sequences of ``plan`` (see :data:`PLAN`); returns the JSON cameras and the fixture labels used."""
    import cv2

    z = np.load(os.path.join(fixture, "labels.npz"))
    cams = read_h36m_cameras_json(os.path.join(fixture, "cameras.json"))
    for subject, name, fixture_index, source_subject in plan:
        source_cam = cams[(source_subject, str(z["camera"][fixture_index]))]
        world0 = z["joints3d_camera_m"][fixture_index] * 1000 @ source_cam.R + source_cam.T
        world = world0 + np.arange(FRAMES)[:, None, None] * np.array([4.0, 0.0, 0.0]) + sway(subject, name)
        base = os.path.join(root, subject, "MyPoseFeatures")
        write_pose_cdf(os.path.join(base, "D3_Positions", f"{name}.cdf"), to_32(world).reshape(FRAMES, 96))
        for cid in H36M_CAMERA_IDS:
            cam = cams[(subject, cid)]
            mono = cam.world_to_camera(world)
            d2 = cam.project(mono, distort=True)
            write_pose_cdf(os.path.join(base, "D3_Positions_mono", f"{name}.{cid}.cdf"),
                           to_32(mono).reshape(FRAMES, 96))
            write_pose_cdf(os.path.join(base, "D2_Positions", f"{name}.{cid}.cdf"), to_32(d2).reshape(FRAMES, 64))
            video = os.path.join(root, subject, "Videos", f"{name}.{cid}.mp4")
            if (subject, name) == ("S11", "Directions") and cid == "54138969":
                os.makedirs(os.path.dirname(video), exist_ok=True)
                with open(video, "wb") as f:
                    f.write(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4)  # corrupt, as in the release
                continue
            n = SHORT_VIDEO[3] if (subject, name, cid) == SHORT_VIDEO[:3] else FRAMES
            if subject == source_subject and cid == str(z["camera"][fixture_index]):
                img = cv2.imread(os.path.join(fixture, "images", str(z["image"][fixture_index])))
                frames = [cv2.warpAffine(img, np.float64([[1, 0, dx], [0, 1, dy]]), (img.shape[1], img.shape[0]),
                                         borderMode=cv2.BORDER_REPLICATE)
                          for dx, dy in d2[:n, 0] - d2[0, 0]]
            else:
                frames = [skeleton_frame(d2[t], cam.width, cam.height) for t in range(n)]
            write_video(video, frames)
    return cams, z


def write_release(fixture, out, log=print):
    """``lifting h36m-miniature``: the miniature release and its ``cameras.h5`` (Martinez layout) under ``out``, written
    into a temporary folder beside it and renamed at the end: ``out`` exists only complete. Returns ``out``."""
    import shutil
    import tempfile

    for name in ("labels.npz", "cameras.json", "images"):
        if not os.path.exists(os.path.join(fixture, name)):
            raise FileNotFoundError(f"{fixture}: not the h36m_fixture folder ({name} is missing)")
    if os.path.exists(out):
        raise FileExistsError(f"--out {out}: exists already (remove it or give another folder)")
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".miniature.", dir=parent)
    try:
        cams, _ = make_official_tree(tmp, fixture)
        write_martinez_h5(os.path.join(tmp, "cameras.h5"), cams)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if log:
        log(f"-> {out}: miniature Human3.6M release (official layout; S1 'Directions 1', S5 'SittingDown', S11 "
            f"'Directions', {FRAMES} frames at 50 fps, 4 cameras; made from {fixture}) and {out}/cameras.h5")
    return out
