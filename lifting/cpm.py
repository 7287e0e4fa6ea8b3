"""The conventions of Convolutional Pose Machines (Wei et al., CVPR 2016) as numbers: the network window and its
belief-map grid, the centre map, the training labels of CPM's data layer, and the geometry of the authors' ``CPMData``
augmentation (scale, in-plane rotation, crop), including what the rotation does to the camera ``E``.

Window: ``size x size`` network input (368 for the full net); belief-map pixel ``i`` is centred on window pixel
``STRIDE * i + (STRIDE - 1) / 2`` (CPM's ``start = stride / 2 - 0.5``). Network pixels are ``(v - 128) / 256`` of the
8-bit BGR values. Images are decoded and warped by the applications (OpenCV); this module only computes.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, fields

import numpy as np

from .belief_maps import background_map, render_belief_maps
from .cameras import rotate_about_optical_axis

#: side of the network input window of the full-size net (pixels)
BOX = 368
#: window pixels per belief-map pixel (three stride-2 poolings)
STRIDE = 8
#: the person box's longer side fills this fraction of the window (estimation; training at scale multiplier 1)
BOX_FILL = 0.8


def centre_map(size, sigma=21.0, centre=None):
    """CPM's centre map: a Gaussian (peak 1, ``sigma`` window pixels) at ``centre`` (x, y) (default the window
    centre), ``(size, size)`` float32, read-only (the last few are cached: training asks for the same one for every
    sample)."""
    cx, cy = ((size - 1) / 2, (size - 1) / 2) if centre is None else centre
    return _centre_map(int(size), float(sigma), float(cx), float(cy))


@functools.lru_cache(maxsize=8)
def _centre_map(size, sigma, cx, cy):
    g = np.arange(size, dtype=np.float64)
    m = np.exp(-((g[:, None] - cy) ** 2 + (g[None, :] - cx) ** 2) / (2 * sigma**2)).astype(np.float32)
    m.flags.writeable = False
    return m


def map_to_window(points_map):
    """Belief-map pixels ``(..., 2)`` -> window pixels."""
    return np.asarray(points_map) * STRIDE + (STRIDE - 1) / 2


def window_to_map(points_window):
    """Window pixels ``(..., 2)`` -> belief-map pixels (the inverse of :func:`map_to_window`)."""
    return (np.asarray(points_window) - (STRIDE - 1) / 2) / STRIDE


def pixels_to_input(image_bgr, out=None):
    """8-bit ``(H, W, 3)`` BGR -> ``(3, H, W)`` float32 network pixels ``(v - 128) / 256`` (into ``out``)."""
    img = np.asarray(image_bgr)
    out = np.empty((3,) + img.shape[:2], np.float32) if out is None else out
    np.subtract(img.transpose(2, 0, 1), np.float32(128), out=out, dtype=np.float32)
    out *= np.float32(1 / 256)
    return out


def label_maps(points, visible, size, sigma=7.0):
    """CPM's training labels for window points ``(N, J, 2)``: per joint, ``exp(-d^2 / 2 sigma^2)`` (``d`` and
    ``sigma`` in window pixels) at the centres of the ``size / STRIDE`` grid, values under 1% set to 0 (CPM skips
    exponents above ln 100), the tail of a joint outside the window kept; joints with ``visible`` 0 give an empty
    map. Channel ``J``: the background ``max(1 - max over joints, 0)``. Returns ``(N, J + 1, G, G)`` float32."""
    pts = np.asarray(points, np.float64)
    g = size // STRIDE
    maps = render_belief_maps(window_to_map(pts), g, g, sigma=sigma / STRIDE, weights=visible, subpixel=True,
                              cutoff=0.01, off_grid_tails=True)
    return np.concatenate([maps, background_map(maps)[:, None]], axis=1)


def apply_affine(M, points):
    """``(2, 3)`` affine ``M`` applied to points ``(..., 2)``."""
    return np.asarray(points, np.float64) @ np.asarray(M)[:, :2].T + np.asarray(M)[:, 2]


#: the augmentations of training: ``"authors"``, none, as the authors' ``CPMData`` transformer ran (their
#: ``src/caffe/data_transformer.cpp``, DenisTome/caffe branch ProbModel: rotation ``as.degree = 0.0`` at line 508
#: with its call commented out at 506, the scale call commented out at 511, flip ``as.flip = 0`` at 522 with its call
#: commented out at 520; only the crop of :func:`authors_crop_box` remains), from 2016-06 to the branch head; or
#: ``"prototxt"``, the values of their prototxt's ``transform_param`` (:class:`Augmentation`: what stock CPM does)
AUGMENT_CHOICES = ("authors", "prototxt")


@dataclass(frozen=True)
class Augmentation:
    """The geometry of the authors' ``CPMData`` layer, with the values of their prototxt's ``transform_param``
    (``../shared/lifting-caffe/pose_train_test.prototxt``), which their transformer never applied (it ran without
    augmentation: :data:`AUGMENT_CHOICES`; the data layer's ``"augment": "prototxt"`` applies them): with
    probability ``scale_prob`` the person is scaled by a
    multiplier drawn uniformly in ``[scale_min, scale_max]`` around ``target_dist``; rotated in the image plane by a
    uniform angle in ``[-max_rotate_degree, max_rotate_degree]``; a ``crop x crop`` window centred on the person (plus
    a uniform shift of up to ``center_perturb_max`` pixels per axis); labels on the stride-8 grid with ``sigma``
    window pixels; the centre map (``sigma_center``) is the 4th input channel.

    ``target_dist`` 1 means: at multiplier 1 the person box's longer side fills ``BOX_FILL`` of the window, as in
    estimation (:func:`tools.cpm.preprocess` with a box)."""

    crop: int = BOX
    scale_prob: float = 0.7
    scale_min: float = 0.7
    scale_max: float = 1.2
    target_dist: float = 1.0
    max_rotate_degree: float = 10.0
    center_perturb_max: float = 0.0
    sigma: float = 7.0
    sigma_center: float = 21.0
    #: image interpolation of the warp: "cubic" as CPM, or "linear" (about 4x faster warps)
    interpolation: str = "cubic"

    def __post_init__(self):
        if self.interpolation not in ("cubic", "linear"):
            raise ValueError(f"augmentation: interpolation must be 'cubic' or 'linear', got {self.interpolation!r}")
        if self.crop < STRIDE or self.crop % STRIDE:
            raise ValueError(f"augmentation: crop must be a positive multiple of {STRIDE}, got {self.crop}")
        if not 0 <= self.scale_prob <= 1:
            raise ValueError(f"augmentation: scale_prob must be in [0, 1], got {self.scale_prob}")
        if not 0 < self.scale_min <= self.scale_max:
            raise ValueError(f"augmentation: need 0 < scale_min <= scale_max, got {self.scale_min}, {self.scale_max}")
        for name in ("target_dist", "sigma", "sigma_center"):
            if not getattr(self, name) > 0:
                raise ValueError(f"augmentation: {name} must be > 0, got {getattr(self, name)}")
        for name in ("max_rotate_degree", "center_perturb_max"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"augmentation: {name} must be >= 0, got {getattr(self, name)}")

    @staticmethod
    def augments(name, train=True):
        """Whether a sample is augmented, for the named augmentation of :data:`AUGMENT_CHOICES`: ``"authors"``
        never (what the authors' code ran), ``"prototxt"`` in training (``train``) only."""
        if name not in AUGMENT_CHOICES:
            raise ValueError(f"augment must be one of {list(AUGMENT_CHOICES)}, got {name!r}")
        return name == "prototxt" and bool(train)

    @classmethod
    def from_dict(cls, params):
        """From a dict of field names (e.g. a layer's ``param_str``); unknown keys are refused by name."""
        known = {f.name for f in fields(cls)}
        unknown = set(params) - known
        if unknown:
            raise ValueError(f"augmentation: unknown keys {sorted(unknown)}; known: {sorted(known)}")
        return cls(**params)

    def draw(self, rng):
        """One random augmentation: ``(scale multiplier, degrees, shift (2,) window pixels)``."""
        mult = rng.uniform(self.scale_min, self.scale_max) if rng.random() <= self.scale_prob else 1.0
        degrees = rng.uniform(-self.max_rotate_degree, self.max_rotate_degree)
        shift = rng.uniform(-self.center_perturb_max, self.center_perturb_max, size=2)
        return float(mult), float(degrees), shift

    def window(self, objpos, box, scale_mult=1.0, degrees=0.0, shift=(0.0, 0.0)):
        """The ``(2, 3)`` affine from source-image pixels to window pixels: ``objpos`` (x, y) goes to the window
        centre (plus ``shift``), scaled by ``target_dist * BOX_FILL * crop / box * scale_mult`` and rotated by
        ``degrees`` (OpenCV's sense: counter-clockwise on the screen). ``box``: the person box side in source pixels.
        The camera that sees the window is :func:`camera` of the same ``degrees``."""
        if not box > 0:
            raise ValueError(f"augmentation: person box side must be > 0, got {box}")
        s = self.target_dist * BOX_FILL * self.crop / box * scale_mult
        A = s * rotate_about_optical_axis(np.eye(3), degrees)[:2, :2]
        centre = np.full(2, (self.crop - 1) / 2) + np.asarray(shift, np.float64)
        return np.concatenate([A, (centre - A @ np.asarray(objpos, np.float64))[:, None]], axis=1)

    @staticmethod
    def camera(E, degrees):
        """``E`` of the window: the in-plane rotation of the image turns the camera about its optical axis."""
        return rotate_about_optical_axis(E, degrees)


#: the authors' crop margin: half-side = the farthest joint's distance from the pelvis + this many frame pixels
#: (``kOffset`` of their ``src/caffe/data_transformer.cpp``, DenisTome/caffe branch ProbModel, line 24)
AUTHORS_CROP_OFFSET = 25


def authors_crop_box(joints2d, width, height, offset=AUTHORS_CROP_OFFSET):
    """The person crop of the authors' ``CPMData`` transformer (``findCroppingCoordinates``, lines 44-75 of their
    ``data_transformer.cpp``; the crop and resize in ``augmentation_croppad``, lines 600-639): around the pelvis
    ``joints2d[0] = (px, py)``, the half-sides ``int(max |x - px| + offset)`` and ``int(max |y - py| + offset)`` over
    the joints, both set to the larger (a square), then each clamped so that the box stays in the
    ``width x height`` frame (``W - px``, ``px``; a clamped axis keeps the pelvis at the centre and gets shorter);
    the crop holds ``2 h + 1`` pixels per axis starting at pixel ``int(p - h)``; it is resized to 368 x 368 (the two
    axes scale differently where one was clamped). C++ float -> int conversions truncate, as here.

    Returns ``(x0, y0, w, h)``: the crop's first pixel and its size in frame pixels."""
    j = np.asarray(joints2d, np.float64)
    px, py = float(j[0, 0]), float(j[0, 1])
    if not (np.isfinite(j).all() and 0 <= px < width and 0 <= py < height):
        raise ValueError(f"authors' crop: the pelvis ({px:.1f}, {py:.1f}) is not inside the {width} x {height} frame")
    hx, hy = int(np.abs(j[:, 0] - px).max() + offset), int(np.abs(j[:, 1] - py).max() + offset)
    hx = hy = max(hx, hy)
    if px + hx > width:
        hx = int(width - px)
    if px - hx < 0:
        hx = int(px)
    if py + hy > height:
        hy = int(height - py)
    if py - hy < 0:
        hy = int(py)
    return int(px - hx), int(py - hy), 2 * hx + 1, 2 * hy + 1


def authors_crop_affine(box, size=BOX):
    """``(2, 3)`` affine from frame pixels to the ``size x size`` image that ``cv2.resize`` makes of the crop
    ``box = (x0, y0, w, h)`` (pixel centres: ``(x - x0 + 0.5) * size / w - 0.5``)."""
    x0, y0, w, h = box
    sx, sy = size / w, size / h
    return np.array([[sx, 0.0, sx * (0.5 - x0) - 0.5], [0.0, sy, sy * (0.5 - y0) - 0.5]])
