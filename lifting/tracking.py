"""People keep an id from frame to frame: greedy matching of this frame's detections to the live tracks by box IoU
and keypoint distance (the simple trackers of mmpose's and MediaPipe's demos).

A detection and a track match when their boxes overlap (IoU >= ``min_iou``) or their keypoints are close (mean
distance of the joints both see below ``max_keypoint_distance`` times the track's box size); pairs are taken best
first (highest IoU plus keypoint similarity), each track and detection once. A detection left over starts a new
track with the next id; a track unseen for more than ``max_age`` frames ends (its id is never reused).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def box_iou(a, b):
    """IoU of boxes ``(x, y, w, h)``."""
    ax1, ay1, ax2, ay2 = a[0], a[1], a[0] + a[2], a[1] + a[3]
    bx1, by1, bx2, by2 = b[0], b[1], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax2, bx2) - max(ax1, bx1))
    ih = max(0.0, min(ay2, by2) - max(ay1, by1))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return float(inter / union) if union > 0 else 0.0


@dataclass
class Track:
    id: int
    box: tuple
    joints: np.ndarray  # (17, 2), NaN where unseen
    last_frame: int


class Tracker:
    """Assigns ids: :meth:`update` with one frame's boxes and joints returns one id per detection."""

    def __init__(self, min_iou=0.2, max_keypoint_distance=0.5, max_age=10):
        self.min_iou = float(min_iou)
        self.max_kp = float(max_keypoint_distance)
        self.max_age = int(max_age)
        self.tracks: list[Track] = []
        self.next_id = 0

    def _similarity(self, track, box, joints):
        iou = box_iou(track.box, box)
        both = np.isfinite(track.joints).all(1) & np.isfinite(joints).all(1)
        kp = 0.0
        if both.sum() >= 3:
            size = np.sqrt(max(track.box[2] * track.box[3], 1.0))
            dist = np.mean(np.linalg.norm(track.joints[both] - joints[both], axis=1)) / size
            kp = max(0.0, 1.0 - dist / self.max_kp)
        ok = iou >= self.min_iou or kp > 0
        return (iou + kp) if ok else -1.0

    def update(self, frame, boxes, joints):
        """``boxes``: list of ``(x, y, w, h)``; ``joints``: list of ``(17, 2)`` (NaN = unseen). Returns ids."""
        self.tracks = [t for t in self.tracks if frame - t.last_frame <= self.max_age]
        pairs = []
        for ti, t in enumerate(self.tracks):
            for di, (b, j) in enumerate(zip(boxes, joints)):
                s = self._similarity(t, b, np.asarray(j, np.float64))
                if s > 0:
                    pairs.append((s, ti, di))
        ids = [None] * len(boxes)
        used_t = set()
        for s, ti, di in sorted(pairs, reverse=True):
            if ti in used_t or ids[di] is not None:
                continue
            used_t.add(ti)
            ids[di] = self.tracks[ti].id
        for di, (b, j) in enumerate(zip(boxes, joints)):
            j = np.asarray(j, np.float64)
            if ids[di] is None:
                ids[di] = self.next_id
                self.next_id += 1
                self.tracks.append(Track(ids[di], tuple(b), j.copy(), frame))
            t = next(t for t in self.tracks if t.id == ids[di])
            t.box, t.last_frame = tuple(b), frame
            t.joints = np.where(np.isfinite(j), j, t.joints)
        return ids
