"""Estimates drawn with OpenCV straight onto the frame: photos (PNG) and videos (MP4 frames).

One canvas per image: on the left the frame (scaled to the canvas height) with the detected 2D skeleton (limbs by
side: right red, left blue; joints black) and the 3D pose reprojected (thin, white); on the right two square insets
render the 3D pose by projecting its joints onto the view planes: seen from the camera (the camera's horizontal
right and world up) and from the camera's right-hand side (depth and up), in millimetres on axes fixed for the whole
video (:data:`HALF_RANGE_MM` around the root, a 500 mm scale bar), so that the poses of consecutive frames compare.

Drawing costs a few milliseconds a frame, not a plotting library's figure, and the canvas size is fixed: a large
photo is scaled down to at most :data:`MAX_HEIGHT` pixels high before anything is drawn (memory and time are then
bounded whatever the photo's size); the frame is scaled as it is (RGB) and its colours swapped on the small copy
(:func:`fit`).
"""
from __future__ import annotations

import numpy as np

from lifting import skeleton
from lifting.plot import camera_view_axes

#: the tallest canvas drawn for a photo (pixels); smaller photos keep their size, down to MIN_HEIGHT
MAX_HEIGHT = 1080
MIN_HEIGHT = 360
#: the 3D insets show the root +- this many millimetres horizontally; vertically from -HALF_RANGE_MM - 200 (feet)
HALF_RANGE_MM = 1100.0
_LEFT, _RIGHT, _JOINT, _REPROJ = (255, 120, 40), (40, 40, 230), (0, 0, 0), (255, 255, 255)  # BGR
_RIGHT_JOINTS = set(skeleton.RIGHT_JOINTS)


def _colour(child):
    return _RIGHT if child in _RIGHT_JOINTS else _LEFT


class Overlay:
    """Draws the estimates of frames of size ``frame_size = (h, w)`` onto canvases of one size.

    Args:
        frame_size: the input frames' ``(height, width)``.
        camera: ``E (3, 3)`` world -> camera (the lifter's), for the 3D insets' view directions.
        height: canvas height in pixels; default the frame's own, clipped to ``[MIN_HEIGHT, MAX_HEIGHT]``.
        width: canvas width (even numbers suit video codecs); default the frame area plus two square insets.
    """

    def __init__(self, frame_size, camera, height=None, width=None):
        import cv2

        self._cv2 = cv2
        h, w = (int(v) for v in frame_size)
        if h < 1 or w < 1:
            raise ValueError(f"frame size must be positive, got {frame_size}")
        self.height = int(height) if height is not None else int(np.clip(h, MIN_HEIGHT, MAX_HEIGHT))
        H = self.height
        self.inset = H  # square insets
        self.scale = H / h
        self.frame_w = max(1, int(round(w * self.scale)))
        self.width = int(width) if width is not None else self.frame_w + 2 * self.inset
        if self.width < 2 * self.inset + 1:
            self.inset = (self.width - 1) // 2
        self.area_w = self.width - 2 * self.inset  # the frame's area (the frame centred in it)
        if self.frame_w > self.area_w:  # the frame is letterboxed into its area
            self.scale *= self.area_w / self.frame_w
            self.frame_w = self.area_w
        self.frame_h = max(1, int(round(h * self.scale)))
        self.x0 = (self.area_w - self.frame_w) // 2
        self.y0 = (H - self.frame_h) // 2
        self.right, self.away = camera_view_axes(camera)
        self.font = max(0.35, H / 900)
        self.line = max(1, int(round(H / 250)))

    # ---- the parts -----------------------------------------------------------------------------------------------
    def _canvas(self, rgb):
        """A white canvas (BGR) with the frame ``rgb`` drawn at its place (:func:`fit`)."""
        canvas = np.full((self.height, self.width, 3), 255, np.uint8)
        small = fit(np.asarray(rgb), self.frame_w, self.frame_h)
        # RGB -> BGR by OpenCV, then a plain copy: numpy's copy of the reversed view took 1.5 ms of a 960 x 540
        # video's 400-high frame holding the GIL (the drawing thread's; the estimating thread waited)
        canvas[self.y0:self.y0 + self.frame_h, self.x0:self.x0 + self.frame_w] = self._cv2.cvtColor(
            np.ascontiguousarray(small), self._cv2.COLOR_RGB2BGR)
        return canvas

    def _to_canvas(self, pts):
        return pts * self.scale + np.array([self.x0, self.y0])

    def _skeleton(self, canvas, pts, vis, thin=False):
        cv2 = self._cv2
        ok = vis & np.isfinite(pts).all(-1) & (np.abs(np.nan_to_num(pts)) < 1e6).all(-1)
        p = np.round(np.where(ok[:, None], pts, 0) * 16).astype(np.int64)  # 4 fractional bits (shift=4)
        lw = max(1, self.line // 2) if thin else self.line
        for c, par in skeleton.LIMBS:
            if ok[c] and ok[par]:
                cv2.line(canvas, tuple(int(v) for v in p[c]), tuple(int(v) for v in p[par]),
                         _REPROJ if thin else _colour(c), lw, cv2.LINE_AA, shift=4)
        if not thin:
            for j in np.flatnonzero(ok):
                cv2.circle(canvas, tuple(int(v) for v in p[j]), 2 * 16 * lw, _JOINT, -1, cv2.LINE_AA, shift=4)

    def _inset(self, canvas, x0, pose_mm, horizontal, name):
        cv2 = self._cv2
        S = self.inset
        cv2.rectangle(canvas, (x0, 0), (x0 + S - 1, self.height - 1), (245, 245, 245), -1)
        cv2.rectangle(canvas, (x0, 0), (x0 + S - 1, self.height - 1), (160, 160, 160), 1)
        px_per_mm = S / (2 * HALF_RANGE_MM)
        top = self.y_top_mm = HALF_RANGE_MM - 200.0  # world y at the inset's top edge (root at 0)
        ground = int(round((top + 950) * px_per_mm))  # a guide line near the feet of a standing adult
        cv2.line(canvas, (x0 + 4, ground), (x0 + S - 5, ground), (200, 200, 200), 1)
        bar = int(round(500 * px_per_mm))
        yb = self.height - int(1.2 * 22 * self.font) - 4
        cv2.line(canvas, (x0 + 8, yb), (x0 + 8 + bar, yb), (60, 60, 60), self.line)
        self._text(canvas, "500 mm", (x0 + 12 + bar, yb + 4), (60, 60, 60), 0.8)
        self._text(canvas, name, (x0 + 8, int(22 * self.font) + 4), (30, 30, 30), 0.9)
        if pose_mm is None:
            return
        u = pose_mm @ horizontal
        v = pose_mm[:, 1]
        pts = np.stack([x0 + S / 2 + u * px_per_mm, (top - v) * px_per_mm], 1)
        self._skeleton(canvas, pts, np.ones(len(pts), bool))

    def _text(self, canvas, text, org, colour, size=1.0):
        cv2 = self._cv2
        fs = self.font * size
        cv2.putText(canvas, text, org, cv2.FONT_HERSHEY_SIMPLEX, fs, (255, 255, 255), 3, cv2.LINE_AA)
        cv2.putText(canvas, text, org, cv2.FONT_HERSHEY_SIMPLEX, fs, colour, 1, cv2.LINE_AA)

    # ---- a whole canvas ------------------------------------------------------------------------------------------
    def draw(self, rgb, points2d, weights, pose3d_mm=None, reprojected=None, title=None, note=None):
        """The canvas ``(height, width, 3) uint8`` BGR (what OpenCV writes) for one frame ``rgb (h, w, 3)``: its
        2D joints ``points2d (17, 2)`` (pixels of ``rgb``) with ``weights (17,)`` (0 = not drawn), the 3D pose
        ``pose3d_mm (17, 3)`` (y-up world, root at the origin; None or NaN = none: ``note`` is written instead) and
        its reprojection ``reprojected (17, 2)``; ``title`` above the frame."""
        canvas = self._canvas(rgb)
        ok3d = pose3d_mm is not None and np.isfinite(pose3d_mm).all()
        if points2d is not None:
            vis = np.asarray(weights) > 0
            if ok3d and reprojected is not None and np.isfinite(reprojected).all():
                self._skeleton(canvas, self._to_canvas(np.asarray(reprojected, np.float64)), np.ones(len(vis), bool),
                               thin=True)
            self._skeleton(canvas, self._to_canvas(np.asarray(points2d, np.float64)), vis)
        if title:
            self._text(canvas, title, (self.x0 + 6, self.y0 + int(22 * self.font) + 2), (20, 20, 20))
        pose = np.asarray(pose3d_mm, np.float64) if ok3d else None
        for i, (axis, name) in enumerate(((self.right, "3D from the camera"), (self.away, "3D from the side"))):
            self._inset(canvas, self.area_w + i * self.inset, pose, axis, name)
        if not ok3d and note:
            self._text(canvas, note[:60], (self.area_w + 8, self.height // 2), (30, 30, 160), 0.8)
        return canvas

    def draw_people(self, rgb, people, title=None, legend=True):
        """Every person of a frame (:func:`draw_people`); :meth:`draw` stays the one-person drawing."""
        return draw_people(self, rgb, people, title, legend)


def fit(img, w, h):
    """``img`` resized to ``w x h``: a shrink by a whole factor k >= 2 first (the mean of k x k blocks: OpenCV's fast
    area path, the image's last rows and columns beyond a multiple of k dropped, under k pixels), then bilinear for
    the rest (less than 2x, or an enlargement). A bilinear shrink alone aliases beyond 2x; OpenCV's area
    interpolation at a fractional factor costs 3-15 ms a frame (960 x 540 to 4K drawn 400 high) against 0.4-5 ms."""
    import cv2

    k = int(min(img.shape[0] / h, img.shape[1] / w))
    if k >= 2:
        H, W = img.shape[0] // k, img.shape[1] // k
        img = cv2.resize(img[:H * k, :W * k], (W, H), interpolation=cv2.INTER_AREA)
    if img.shape[:2] == (h, w):
        return img
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)


def write_png(path, canvas_bgr):
    """Write a BGR canvas to ``path`` as PNG, atomically."""
    import cv2

    from lifting.files import atomic_write_bytes

    ok, data = cv2.imencode(".png", canvas_bgr)
    if not ok:
        raise RuntimeError(f"{path}: OpenCV could not encode the PNG")
    atomic_write_bytes(path, data.tobytes())


#: inferred joints (the prior's, not observed) are drawn as hollow grey circles with thin limbs
_INFERRED = (150, 150, 150)


def _draw_person_2d(ov, canvas, pts, observed, label=None):
    """One person's 2D skeleton on the frame: limbs between observed joints by side (right red, left blue), limbs
    touching an inferred joint thin and grey, observed joints filled black, inferred ones hollow grey."""
    cv2 = ov._cv2
    ok = np.isfinite(pts).all(-1) & (np.abs(np.nan_to_num(pts)) < 1e6).all(-1)
    p = np.round(np.where(ok[:, None], ov._to_canvas(np.nan_to_num(pts)), 0) * 16).astype(np.int64)
    lw = ov.line
    for c, par in skeleton.LIMBS:
        if ok[c] and ok[par]:
            seen = observed[c] and observed[par]
            cv2.line(canvas, tuple(int(v) for v in p[c]), tuple(int(v) for v in p[par]),
                     _colour(c) if seen else _INFERRED, lw if seen else max(1, lw // 2), cv2.LINE_AA, shift=4)
    for j in np.flatnonzero(ok):
        if observed[j]:
            cv2.circle(canvas, tuple(int(v) for v in p[j]), 2 * 16 * lw, _JOINT, -1, cv2.LINE_AA, shift=4)
        else:
            cv2.circle(canvas, tuple(int(v) for v in p[j]), 3 * 16 * lw, _INFERRED, max(1, lw // 2), cv2.LINE_AA,
                       shift=4)
    if label and ok.any():
        top = ov._to_canvas(np.nan_to_num(pts[ok]))
        ov._text(canvas, label, (int(top[:, 0].min()), max(12, int(top[:, 1].min()) - 6)), (20, 20, 20), 0.8)


def draw_people(ov, rgb, people, title=None, legend=True):
    """The canvas (BGR) of one frame with every person: ``people`` a list of dicts with ``joints2d (17, 2)``,
    ``observed (17,)`` bool, ``pose3d_mm (17, 3)`` or None, ``reprojected (17, 2)`` or None, ``label``. The 3D insets
    draw every person root-centred on the video's fixed axes; the legend says red = right, blue = left, hollow grey =
    inferred by the prior."""
    canvas = ov._canvas(rgb)
    poses = []
    for person in people:
        pose = person.get("pose3d_mm")
        ok3d = pose is not None and np.isfinite(pose).all()
        rep = person.get("reprojected")
        if ok3d and rep is not None and np.isfinite(rep).all():
            ov._skeleton(canvas, ov._to_canvas(np.asarray(rep, np.float64)), np.ones(len(rep), bool), thin=True)
        _draw_person_2d(ov, canvas, np.asarray(person["joints2d"], np.float64), np.asarray(person["observed"], bool),
                        person.get("label"))
        if ok3d:
            poses.append(np.asarray(pose, np.float64))
    if title:
        ov._text(canvas, title, (ov.x0 + 6, ov.y0 + int(22 * ov.font) + 2), (20, 20, 20))
    if legend:
        y = ov.y0 + ov.frame_h - 8
        ov._text(canvas, "red = right, blue = left, hollow grey = inferred", (ov.x0 + 6, y), (20, 20, 20), 0.7)
    for i, (axis, name) in enumerate(((ov.right, "3D from the camera"), (ov.away, "3D from the side"))):
        x0 = ov.area_w + i * ov.inset
        ov._inset(canvas, x0, poses[0] if poses else None, axis, name)
        for pose in poses[1:]:  # the insets' axes are fixed: every person root-centred on them
            S = ov.inset
            px_per_mm = S / (2 * HALF_RANGE_MM)
            top = HALF_RANGE_MM - 200.0
            pts = np.stack([x0 + S / 2 + (pose @ axis) * px_per_mm, (top - pose[:, 1]) * px_per_mm], 1)
            ov._skeleton(canvas, pts, np.ones(len(pts), bool))
    if not poses:
        ov._text(canvas, "no 3D pose", (ov.area_w + 8, ov.height // 2), (30, 30, 160), 0.8)
    return canvas
