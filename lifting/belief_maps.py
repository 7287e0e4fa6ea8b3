"""Belief maps (paper eqs. 4 and 7): argmax of CNN maps, and Gaussian maps rendered at projected joints."""
from __future__ import annotations

import numpy as np


def render_belief_maps(points, height, width, sigma=1.0, weights=None, subpixel=False, dtype=np.float32):
    """Eq. (7) followed by a Gaussian filter, batched.

    A one-hot map at the (rounded) joint location convolved with a Gaussian of standard deviation ``sigma`` (map
    pixels, peak 1) is the Gaussian centred on that pixel, so it is evaluated in closed form (separably).

    Args:
        points: ``(N, J, 2)`` joint locations (x, y) in map pixels (pixel centres at integers).
        height, width: the map grid.
        sigma: Gaussian standard deviation in map pixels (> 0).
        weights: optional ``(N, J)``; joints with weight 0 (or non-finite points) give an empty map.
        subpixel: centre the Gaussian on the exact location instead of the rounded pixel.

    Returns:
        ``(N, J, height, width)`` maps of ``dtype``. Joints whose rounded location is off the grid give an empty map.
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
    valid &= (c[..., 0] >= -0.5) & (c[..., 0] <= width - 0.5) & (c[..., 1] >= -0.5) & (c[..., 1] <= height - 0.5)
    if not subpixel:
        valid &= (c[..., 0] >= 0) & (c[..., 0] <= width - 1) & (c[..., 1] >= 0) & (c[..., 1] <= height - 1)
    inv = 1.0 / (2.0 * sigma * sigma)
    gx = np.exp(-((np.arange(width) - c[..., 0:1]) ** 2) * inv).astype(dtype)  # (N, J, W)
    gy = np.exp(-((np.arange(height) - c[..., 1:2]) ** 2) * inv).astype(dtype)  # (N, J, H)
    gy *= valid[..., None]
    return gy[..., :, None] * gx[..., None, :]


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
