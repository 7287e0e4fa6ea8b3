"""Belief maps (paper secs. 5.2-5.5): argmax of CNN maps (eq. 4), Gaussian maps rendered at projected joints
(eq. 7), their composition with the lifter (:class:`MapLifter`, eqs. 4 -> 5/6 -> 7) and the fusion of two sets of
maps (eq. 8). Maps are ``(N, C, H, W)`` arrays; points ``(x, y)`` in map pixels, pixel centres at integers.

The Caffe layers in ``caffe_layers/`` are thin adapters over :class:`MapLifter` and :func:`fuse`.
"""
from __future__ import annotations

import numpy as np

from . import skeleton
from .cameras import camera_roll, rotate_about_optical_axis
from .lift import DEFAULT_NOISE_2D, Lifter
from .per_camera import lift_per_camera


def render_belief_maps(points, height, width, sigma=1.0, weights=None, subpixel=False, dtype=np.float32, cutoff=0.0,
                       off_grid_tails=False):
    """Eq. (7) followed by a Gaussian filter, batched.

    A one-hot map at the (rounded) joint location convolved with a Gaussian of standard deviation ``sigma`` (map
    pixels, peak 1) is the Gaussian centred on that pixel, so it is evaluated in closed form (separably).

    Args:
        points: ``(N, J, 2)`` joint locations (x, y) in map pixels (pixel centres at integers).
        height, width: the map grid.
        sigma: Gaussian standard deviation in map pixels (> 0).
        weights: optional ``(N, J)``; joints with weight 0 (or non-finite points) give an empty map.
        subpixel: centre the Gaussian on the exact location instead of the rounded pixel.
        cutoff: values below it are set to 0 (CPM's labels: 0.01).
        off_grid_tails: a joint off the grid still gives the tail of its Gaussian that falls on the grid (CPM's
            labels) instead of an empty map.

    Returns:
        ``(N, J, height, width)`` maps of ``dtype``. Joints whose rounded location is off the grid give an empty map
        (unless ``off_grid_tails``).
    """
    pts = np.asarray(points, np.float64)
    if pts.ndim != 3 or pts.shape[-1] != 2:
        raise ValueError(f"points must have shape (N, J, 2), got {pts.shape}")
    if not (sigma > 0):
        raise ValueError(f"sigma must be > 0, got {sigma}")
    if height < 1 or width < 1:
        raise ValueError(f"map size must be positive, got {height} x {width}")
    valid = np.isfinite(pts).all(-1)
    if weights is not None:
        valid &= np.asarray(weights) > 0
    p = np.where(valid[..., None], pts, 0.0)
    c = p if subpixel else np.round(p)
    if not off_grid_tails:
        valid &= (c[..., 0] >= -0.5) & (c[..., 0] <= width - 0.5) & (c[..., 1] >= -0.5) & (c[..., 1] <= height - 0.5)
        if not subpixel:
            valid &= (c[..., 0] >= 0) & (c[..., 0] <= width - 1) & (c[..., 1] >= 0) & (c[..., 1] <= height - 1)
    inv = 1.0 / (2.0 * sigma * sigma)
    gx = np.exp(-((np.arange(width) - c[..., 0:1]) ** 2) * inv).astype(dtype)  # (N, J, W)
    gy = np.exp(-((np.arange(height) - c[..., 1:2]) ** 2) * inv).astype(dtype)  # (N, J, H)
    gy *= valid[..., None]
    maps = gy[..., :, None] * gx[..., None, :]
    if cutoff > 0:
        maps[maps < cutoff] = 0
    return maps


def background_map(joint_maps):
    """The background channel: ``max(1 - max over joints, 0)``. ``(N, J, H, W)`` -> ``(N, H, W)``."""
    return np.maximum(1.0 - joint_maps.max(axis=1), 0.0).astype(joint_maps.dtype)


def argmax_2d(maps, subpixel=False):
    """Eq. (4): location of the maximum of every map.

    Args:
        maps: ``(N, J, H, W)``.
        subpixel: refine with a quadratic fit over the 3 x 3 neighbourhood (per axis) of the maximum.

    Returns:
        ``(points (N, J, 2) as (x, y) in map pixels, peak values (N, J))``.
    """
    maps = np.asarray(maps)
    if maps.ndim != 4:
        raise ValueError(f"maps must have shape (N, J, H, W), got {maps.shape}")
    n, j, h, w = maps.shape
    flat = maps.reshape(n, j, h * w)
    idx = np.argmax(flat, axis=-1)
    peak = np.take_along_axis(flat, idx[..., None], -1)[..., 0]
    y, x = np.divmod(idx, w)
    pts = np.stack([x, y], -1).astype(np.float64)
    if subpixel:
        for axis, size, coord in ((1, w, x), (0, h, y)):
            lo = np.clip(coord - 1, 0, size - 1)
            hi = np.clip(coord + 1, 0, size - 1)
            if axis == 1:
                fl = np.take_along_axis(flat, (y * w + lo)[..., None], -1)[..., 0]
                fh = np.take_along_axis(flat, (y * w + hi)[..., None], -1)[..., 0]
            else:
                fl = np.take_along_axis(flat, (lo * w + x)[..., None], -1)[..., 0]
                fh = np.take_along_axis(flat, (hi * w + x)[..., None], -1)[..., 0]
            den = fl - 2 * peak + fh
            inner = (coord > 0) & (coord < size - 1) & (den < 0)
            off = np.where(inner, 0.5 * (fl - fh) / np.where(den < 0, den, -1), 0.0)
            pts[..., 1 - axis] += np.clip(off, -0.5, 0.5)
    return pts, peak


class MapLifter:
    """Eqs. 4 -> 5/6 -> 7 on a batch of belief maps: the argmax of every joint map, one vectorised lift per camera,
    Gaussian maps at the reprojected joints and the background channel. A sample that cannot be lifted (e.g. all
    maps flat) gets Gaussians at its argmax locations and a NaN 3D pose.

    Args:
        model: the :class:`~lifting.model.PoseModel`.
        num_angles, refine, search: of the :class:`~lifting.lift.Lifter` (``search="grid"``: the paper's quantised
            angles; the default, None: the Lifter's, the exact optimum over the angle).
        camera: default camera rotation E ``(3, 3)`` (None: the upright camera) for calls without per-sample cameras.
        sigma: Gaussian standard deviation of the rendered maps (map pixels).
        subpixel: sub-pixel argmax (:func:`argmax_2d`).
        joint_channels: the 17 channels holding the joints in skeleton order (default 0..16).
        background_channel: channel of the background map (default 17), or None for none.
        noise_2d: the lifter's 2D noise level (:class:`~lifting.lift.Lifter`; None = the model's own).
        confidence: how a joint's map peak weights it in the lift: ``"none"`` (every joint counts fully, the paper),
            ``"binary"`` (joints whose peak is below ``min_confidence`` are dropped, as the authors' demo did) or
            ``"peak"`` (the peak itself, clipped to [0, 1], below ``min_confidence`` dropped).
        min_confidence: the threshold of ``confidence``.
    """

    CONFIDENCE = ("none", "binary", "peak")
    #: level cameras whose Lifter is kept (a training set has a few dozen)
    MAX_LIFTERS = 64

    def __init__(self, model, num_angles=80, refine=False, camera=None, sigma=1.0, subpixel=False,
                 joint_channels=None, background_channel=skeleton.NUM_JOINTS, noise_2d=DEFAULT_NOISE_2D,
                 confidence="none", min_confidence=0.1, search=None):
        self.joints = list(range(skeleton.NUM_JOINTS) if joint_channels is None else joint_channels)
        if len(self.joints) != skeleton.NUM_JOINTS:
            raise ValueError(f"joint_channels must list {skeleton.NUM_JOINTS} channels")
        self.background = background_channel
        self.sigma = float(sigma)
        self.subpixel = bool(subpixel)
        self.model = model
        self.num_angles = int(num_angles)
        self.refine = bool(refine)
        self.search = search
        self.noise_2d = noise_2d
        if confidence not in self.CONFIDENCE:
            raise ValueError(f"confidence must be one of {self.CONFIDENCE}, got {confidence!r}")
        self.confidence = confidence
        self.min_confidence = float(min_confidence)
        self.default_lifter = self._make_lifter(None if camera is None else np.asarray(camera, np.float64))
        self._lifters = []

    def check_channels(self, channels):
        """Raise ValueError unless maps with ``channels`` channels hold every channel this lifter reads and writes."""
        used = self.joints + ([self.background] if self.background is not None else [])
        if max(used) >= channels or min(used) < 0:
            raise ValueError(f"channels {used} do not fit a bottom with {channels} channels")

    def _make_lifter(self, cam):
        return Lifter(self.model, camera=cam, num_angles=self.num_angles, refine=self.refine, noise_2d=self.noise_2d,
                      search=self.search)

    def _lifter(self, cam):
        """The Lifter of camera ``cam (9,)``: a kept one whose camera agrees to 1e-5 (float32 camera blobs), else a
        new one (the oldest is dropped beyond ``MAX_LIFTERS``)."""
        for key, lifter in self._lifters:
            if np.abs(key - cam).max() < 1e-5:
                return lifter
        if len(self._lifters) >= self.MAX_LIFTERS:
            self._lifters.pop(0)
        self._lifters.append((cam.copy(), self._make_lifter(cam.reshape(3, 3))))
        return self._lifters[-1][1]

    def weights(self, peaks):
        """Per-joint lifting weights ``(N, 17)`` from the map peaks ``(N, 17)`` (see ``confidence``)."""
        if self.confidence == "none":
            return np.ones(peaks.shape)
        keep = peaks >= self.min_confidence
        if self.confidence == "binary":
            return keep.astype(np.float64)
        return np.where(keep, np.clip(peaks, 0.0, 1.0), 0.0).astype(np.float64)

    def __call__(self, maps, cameras=None):
        """Maps ``(N, C, H, W)`` and optional row-major cameras ``(N, 9)`` -> (projected maps ``(N, C, H, W)``
        float32, 3D poses ``(N, 17, 3)`` mm, reprojected joints ``(N, 17, 2)`` map pixels)."""
        n, _, h, w = maps.shape
        pts, peaks = argmax_2d(maps[:, self.joints], subpixel=self.subpixel)
        wts = self.weights(peaks)
        pose = np.full((n, skeleton.NUM_JOINTS, 3), np.nan)
        reproj = pts.copy()
        if cameras is None:
            turn, level, level_cams = np.tile(np.eye(2), (n, 1, 1)), pts, np.zeros((n, 9))

            def lifter_for(cam):
                return self.default_lifter
        else:  # each camera = a level camera turned about its optical axis: lift the turned-back points with the
            # level camera (the same problem, exactly), so in-plane rotations share one precomputed Lifter
            cams = np.asarray(cameras, np.float64).reshape(n, 3, 3)
            roll = camera_roll(cams)
            turn = rotate_about_optical_axis(np.eye(3), roll)[:, :2, :2]  # points of E = turn @ points of level E
            level = np.einsum("nji,nlj->nli", turn, pts)
            level_cams, lifter_for = rotate_about_optical_axis(cams, -roll).reshape(n, 9), self._lifter
        got = lift_per_camera(None, level, level_cams, wts, fields=("pose3d_mm", "reprojected", "status"),
                              lifter_for=lifter_for)
        ok = got["status"] == 0
        pose[ok] = got["pose3d_mm"][ok]
        reproj[ok] = np.einsum("nij,nlj->nli", turn[ok], got["reprojected"][ok])
        out = np.zeros(maps.shape, np.float32)
        jm = render_belief_maps(reproj, h, w, sigma=self.sigma)
        out[:, self.joints] = jm
        if self.background is not None:
            out[:, self.background] = background_map(jm)
        return out, pose, reproj


def fuse(b, b_hat, w):
    """Eq. (8): ``f = w b + (1 - w) b_hat`` for maps ``b`` (CNN) and ``b_hat`` (projected pose) of one shape."""
    return w * b + (1.0 - w) * b_hat


def fuse_gradients(top_diff, b, b_hat, w):
    """Gradients of a scalar loss through eq. (8), given ``top_diff = dloss/df``:
    ``(dloss/db, dloss/db_hat, dloss/dw)``, the last summed over every element (float)."""
    return w * top_diff, (1.0 - w) * top_diff, float(np.sum(top_diff * (b - b_hat), dtype=np.float64))


def fuse_authors(b, b_hat, weights):
    """The fusion the authors' code computes instead of eq. (8) (``MergeHeatMaps`` in ``python/processheatmaps.py`` of
    DenisTome/caffe, branch ProbModel, lines 52-77): with two weights ``(w_hat, w_cnn)`` (theirs start at (0, 1)),
    per sample and channel ``g = (w_hat b_hat + w_cnn b) / (w_hat + w_cnn)``, rescaled so that its maximum is the CNN
    map's: ``f = g * max(b) / max(g)``. Maps ``(N, C, H, W)``. Where ``max(g)`` is 0 (their code divides by zero
    there) ``f = g``; weights that sum to 0 raise FloatingPointError."""
    w_hat, w_cnn = float(weights[0]), float(weights[1])
    total = w_hat + w_cnn
    if total == 0 or not np.isfinite(total):
        raise FloatingPointError(f"authors' fusion: the weights {w_hat}, {w_cnn} sum to {total}")
    g = (w_hat * np.asarray(b_hat, np.float64) + w_cnn * np.asarray(b, np.float64)) / total
    top = g.max(axis=(-2, -1), keepdims=True)
    scale = np.divide(np.asarray(b, np.float64).max(axis=(-2, -1), keepdims=True), top, out=np.ones_like(top),
                      where=top != 0)
    return g * scale


def fuse_authors_gradients(top_diff, b, b_hat, weights):
    """The authors' backward pass of :func:`fuse_authors` (``processheatmaps.py`` lines 80-98), which is not its
    derivative: ``(dloss/db, dloss/db_hat, dloss/dweights)`` = ``(w_hat * top_diff, 0, [sum(b * top_diff),
    sum(b_hat * top_diff)])`` (the first weight, the 3D maps' one, gets the CNN maps' sum, as in their code; their
    ``learning_rate`` factor is left to the solver's ``lr_mult``)."""
    td = np.asarray(top_diff, np.float64)
    d_w = np.array([np.sum(np.asarray(b, np.float64) * td), np.sum(np.asarray(b_hat, np.float64) * td)])
    return float(weights[0]) * td, np.zeros_like(td), d_w
