"""The CPM image conventions shared by estimation and synthetic training data: the network input (``size x size``
window, 4 channels: BGR in [-0.5, 0.5) and the centre map) and the belief-map grid (one map pixel per ``STRIDE``
window pixels, map pixel ``i`` centred on window pixel ``STRIDE * i + (STRIDE - 1) / 2``; :mod:`lifting.cpm`).
"""
from __future__ import annotations

import numpy as np

# the numbers live in the core (the data layer uses them too); image operations stay here
from lifting.cpm import BOX, BOX_FILL, STRIDE, centre_map, map_to_window, window_to_map  # noqa: F401


def preprocess(image, box=None, size=BOX, interpolation="cubic"):
    """CPM preprocessing: the person box (or the whole image) scaled so its longer side is ``0.8 size`` (box) or
    ``size`` (whole image), centred in a ``size x size`` window padded with grey; pixels -> [-0.5, 0.5).

    Returns ``(data (4, size, size) float32, transform (scale, offset_x, offset_y))`` with
    ``window = image * scale + offset``.
    """
    from lifting.cpm import Augmentation
    from lifting.window import crop_to_window

    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"image must be H x W x 3 (BGR), got shape {img.shape}")
    h, w = img.shape[:2]
    if box is None:
        x0, y0, bw, bh = 0.0, 0.0, float(w), float(h)
        fill = 1.0  # the whole image's longer side fills the window
    else:
        x0, y0, bw, bh = (float(v) for v in box)
        if not (np.isfinite([x0, y0, bw, bh]).all() and bw > 0 and bh > 0):
            raise ValueError(f"person box must be finite with positive width and height, got {box}")
        if x0 >= w or y0 >= h or x0 + bw <= 0 or y0 + bh <= 0:
            raise ValueError(f"person box x, y, w, h = {box} lies outside the {w} x {h} image")
        fill = BOX_FILL
    centre = (x0 + bw / 2, y0 + bh / 2)
    # the window of the data layer at scale multiplier 1 (its box side fills BOX_FILL of the window)
    M = Augmentation(crop=size).window(centre, max(bw, bh), scale_mult=fill / BOX_FILL)
    data = crop_to_window(img, M, size, centre, interpolation=interpolation)
    scale, ox, oy = float(M[0, 0]), float(M[0, 2]), float(M[1, 2])
    return data, (scale, ox, oy)


def map_to_image(points_map, transform):
    """Map pixels -> original image pixels, for the ``transform`` of :func:`preprocess`."""
    scale, ox, oy = transform
    return (map_to_window(points_map) - np.array([ox, oy])) / scale
