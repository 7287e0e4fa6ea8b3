"""The CPM image conventions shared by estimation and synthetic training data: the network input (``size x size``
window, 4 channels: BGR in [-0.5, 0.5) and the centre map) and the belief-map grid (one map pixel per ``STRIDE``
window pixels, map pixel ``i`` centred on window pixel ``STRIDE * i + (STRIDE - 1) / 2``; :mod:`lifting.cpm`).
"""
from __future__ import annotations

import numpy as np

# the numbers live in the core (the data layer uses them too); image operations stay here
from lifting.cpm import BOX, STRIDE, centre_map, map_to_window, window_to_map  # noqa: F401


def preprocess(image, box=None, size=BOX):
    """CPM preprocessing: the person box (or the whole image) scaled so its longer side is ``0.8 size`` (box) or
    ``size`` (whole image), centred in a ``size x size`` window padded with grey; pixels -> [-0.5, 0.5).

    Returns ``(data (4, size, size) float32, transform (scale, offset_x, offset_y))`` with
    ``window = image * scale + offset``.
    """
    import cv2

    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"image must be H x W x 3 (BGR), got shape {img.shape}")
    h, w = img.shape[:2]
    if box is None:
        x0, y0, bw, bh = 0.0, 0.0, float(w), float(h)
        scale = size / max(bw, bh)
    else:
        x0, y0, bw, bh = (float(v) for v in box)
        if not (np.isfinite([x0, y0, bw, bh]).all() and bw > 0 and bh > 0):
            raise ValueError(f"person box must be finite with positive width and height, got {box}")
        if x0 >= w or y0 >= h or x0 + bw <= 0 or y0 + bh <= 0:
            raise ValueError(f"person box x, y, w, h = {box} lies outside the {w} x {h} image")
        scale = 0.8 * size / max(bw, bh)
    cx, cy = x0 + bw / 2, y0 + bh / 2
    ox, oy = size / 2 - cx * scale, size / 2 - cy * scale
    M = np.array([[scale, 0, ox], [0, scale, oy]], np.float64)
    win = cv2.warpAffine(img, M, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=(128, 128, 128))
    data = np.empty((4, size, size), np.float32)
    data[:3] = win.transpose(2, 0, 1).astype(np.float32) / 256.0 - 0.5
    data[3] = centre_map(size)
    return data, (scale, ox, oy)


def map_to_image(points_map, transform):
    """Map pixels -> original image pixels, for the ``transform`` of :func:`preprocess`."""
    scale, ox, oy = transform
    return (map_to_window(points_map) - np.array([ox, oy])) / scale
