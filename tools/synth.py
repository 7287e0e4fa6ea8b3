"""Synthetic training images rendered from real 3D poses (for CPU training demos and tests).

Every sample: a real pose, a random ground-plane rotation and scale, projected (weak perspective, upright camera)
into an ``S x S`` image; limbs drawn as thick coloured segments over a noise background. Labels are exact: Gaussian
belief maps on the stride-8 grid at the projected joints, and the background map.
"""
from __future__ import annotations

import numpy as np

from lifting import skeleton
from lifting.belief_maps import background_map, render_belief_maps
from lifting.geometry import UPRIGHT_CAMERA, project, rotate_ground

from .cpm import STRIDE, centre_map, window_to_map


def make_batch(poses_mm, n, size, rng, label_sigma=1.0, thickness=None):
    """Returns dict(data (n, 4, S, S), label (n, 18, S/8, S/8), camera (n, 9), joints2d (n, 17, 2) image pixels)."""
    import cv2

    idx = rng.integers(len(poses_mm), size=n)
    p = poses_mm[idx] - poses_mm[idx, :1]
    theta = rng.uniform(0, 2 * np.pi, n)
    xy = project(rotate_ground(p, theta))
    lo, hi = xy.min(1), xy.max(1)
    extent = (hi - lo).max(1)
    scale = rng.uniform(0.6, 0.85, n) * size / extent
    pts = (xy - (lo + hi)[:, None] / 2) * scale[:, None, None] + (size - 1) / 2
    data = np.empty((n, 4, size, size), np.float32)
    thick = thickness or max(2, size // 24)
    colours = rng.uniform(0.3, 1.0, size=(len(skeleton.LIMBS), 3))
    for i in range(n):
        img = rng.uniform(0, 0.35, size=(size, size, 3)).astype(np.float32)
        for li, (c, q) in enumerate(skeleton.LIMBS):
            a, b = pts[i, c], pts[i, q]
            cv2.line(img, (int(round(a[0])), int(round(a[1]))), (int(round(b[0])), int(round(b[1]))),
                     tuple(float(v) for v in colours[li]), thick, lineType=cv2.LINE_AA)
        data[i, :3] = img.transpose(2, 0, 1) - 0.5
    data[:, 3] = centre_map(size)
    grid = window_to_map(pts)
    hm = size // STRIDE
    jm = render_belief_maps(grid, hm, hm, sigma=label_sigma, subpixel=True)
    label = np.concatenate([jm, background_map(jm)[:, None]], axis=1)
    camera = np.tile(UPRIGHT_CAMERA.reshape(1, 9), (n, 1)).astype(np.float32)
    return {"data": data, "label": label, "camera": camera, "joints2d": pts}
