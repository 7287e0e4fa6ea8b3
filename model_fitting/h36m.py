"""Readers for the official Human3.6M release layout.

    <root>/<S>/MyPoseFeatures/D2_Positions/<Action>[ <n>].<camera>.cdf       2D joints, pixels (32 x 2 a frame)
    <root>/<S>/MyPoseFeatures/D3_Positions/<Action>[ <n>].cdf                3D joints, world, mm, z up (32 x 3)
    <root>/<S>/MyPoseFeatures/D3_Positions_mono/<Action>[ <n>].<camera>.cdf  3D joints, camera frame, mm (32 x 3)
    <root>/<S>/Videos/<Action>[ <n>].<camera>.mp4                            video, 50 fps

Cameras 54138969, 55011271, 58860488, 60457274 (:data:`lifting.cameras.H36M_CAMERA_IDS`). A *sequence* is one
``<Action>[ <n>]`` of one subject, seen by the
four cameras. Joints are reduced from 32 to the 17 of :mod:`lifting.skeleton`. Errors name the file and the field.
Known defects of the release are listed by name in :data:`KNOWN_DEFECTS` and skipped, never read.
"""
from __future__ import annotations

import os
from dataclasses import dataclass


from lifting import skeleton

from .readers import MotionFileError, parse_h36m_action, read_pose_cdf

#: frames per second of the poses and videos
FPS = 50
#: the paper's subjects
TRAIN_SUBJECTS = ("S1", "S5", "S6", "S7", "S8")
TEST_SUBJECTS = ("S9", "S11")
#: (subject, sequence name, camera id) -> why it is skipped
KNOWN_DEFECTS = {
    ("S11", "Directions", "54138969"): "known defect of the official release: the video is corrupt",
}


@dataclass(frozen=True)
class Sequence:
    """One recorded sequence: ``subject`` ("S1"), ``name`` as in the file names ("Directions 1"), our action key and
    the sub-action number (0 when the name has none)."""

    subject: str
    name: str
    action: str
    subaction: int

    def pose_path(self, root, kind, camera=None):
        """``kind``: ``D2_Positions``, ``D3_Positions`` or ``D3_Positions_mono`` (the 2D and mono files are per
        camera)."""
        stem = self.name if camera is None else f"{self.name}.{camera}"
        return os.path.join(os.fspath(root), self.subject, "MyPoseFeatures", kind, stem + ".cdf")

    def video_path(self, root, camera):
        return os.path.join(os.fspath(root), self.subject, "Videos", f"{self.name}.{camera}.mp4")


def find_sequences(root, subjects):
    """The sequences of ``subjects`` (from their ``D3_Positions`` folders), and ``[(what, why)]`` for files there whose
    name is not a Human3.6M action (e.g. the release's ``_ALL`` files)."""
    found, skipped = [], []
    for s in subjects:
        folder = os.path.join(os.fspath(root), s, "MyPoseFeatures", "D3_Positions")
        if not os.path.isdir(folder):
            raise MotionFileError(f"{folder}: folder of subject {s} not found (expected the official layout "
                                  "<root>/<S>/MyPoseFeatures/D3_Positions)")
        names = sorted(f for f in os.listdir(folder) if f.lower().endswith(".cdf"))
        if not names:
            raise MotionFileError(f"{folder}: holds no .cdf file")
        for f in names:
            try:
                action, sub = parse_h36m_action(f)
            except MotionFileError:
                skipped.append((f"{s}/{f}", "not a Human3.6M action name"))
                continue
            found.append(Sequence(s, os.path.splitext(f)[0], action, sub))
    return found, skipped


def _joints(pose, dims):
    return pose.reshape(len(pose), 32, dims)[:, list(skeleton.H36M32_TO_17)]


def read_d2(path):
    """A ``D2_Positions`` file -> ``(N, 17, 2)`` pixels."""
    return _joints(read_pose_cdf(path, 64), 2)


def read_d3(path):
    """A ``D3_Positions`` (world, z up) or ``D3_Positions_mono`` (camera frame) file -> ``(N, 17, 3)`` mm as stored
    (no change of axes)."""
    return _joints(read_pose_cdf(path, 96), 3)


def read_video_frames(path, indices):
    """Yield ``(index, frame (H, W, 3) uint8 BGR)`` for the sorted frame ``indices`` of a video, reading it once from
    the start (exact, whatever the container's seek index says). Stops early where the video ends: the caller sees
    which indices came. A file that cannot be opened or holds no frame raises MotionFileError naming it."""
    import cv2

    path = os.fspath(path)
    if not os.path.exists(path):
        raise MotionFileError(f"{path}: no such video")
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise MotionFileError(f"{path}: cannot open the video (corrupt or not a video)")
    wanted = sorted(set(int(i) for i in indices))
    try:
        i, k = 0, 0
        while k < len(wanted):
            if not cap.grab():
                if i == 0:
                    raise MotionFileError(f"{path}: the video holds no decodable frame (corrupt?)")
                return
            if i == wanted[k]:
                ok, frame = cap.retrieve()
                if not ok:
                    raise MotionFileError(f"{path}: frame {i} cannot be decoded")
                yield i, frame
                k += 1
            i += 1
    finally:
        cap.release()

