"""The one crop-to-window step of the CPM network input, shared by training (the data layer's samples), evaluation
(``evaluate-images``) and estimation (``tools/cpm.py``): an image warped by a ``(2, 3)`` affine into the
``size x size`` window, grey where the image does not reach, its pixels made network pixels and the centre map put
at the person's centre.

The convention (one for all three): window pixel ``i`` is the pixel *centred* on coordinate ``i``, so the window's
middle is ``(size - 1) / 2`` (183.5 of 368) and the person's centre goes there
(:meth:`lifting.cpm.Augmentation.window`).
That is where the authors' data layer puts it: their ``augmentation_croppad`` (``src/caffe/data_transformer.cpp`` of
DenisTome/caffe branch ProbModel, lines 604-618) crops ``2 h + 1`` pixels with the person's centre on the middle pixel
``h`` and resizes them to 368 with ``cv::resize`` (line 629), which maps that pixel's centre to
``(h + 0.5) * 368 / (2 h + 1) - 0.5 = 183.5`` (:func:`lifting.cpm.authors_crop_affine`). Their test script's centre
map at ``input_size / 2`` (``models/cpm_architecture/runCaffeTest.py``, line 40) is half a pixel off their own crop;
a Gaussian of sigma 21 pixels hardly notices.

OpenCV is imported here, lazily (inside the function): the rest of the core stays numpy/scipy.
"""
from __future__ import annotations

import numpy as np

from .cpm import apply_affine, centre_map, pixels_to_input

#: the image interpolations of the warp: "cubic" (CPM's and the authors' ``cv::resize`` in their test script) or
#: "linear" (about 4x faster warps; training may choose it, and evaluation then warps the same way)
INTERPOLATIONS = ("cubic", "linear")
#: the grey that fills window pixels the image does not reach (BGR)
BORDER_GREY = (128, 128, 128)


def crop_to_window(image_bgr, M, size, person_centre, sigma_center=21.0, interpolation="cubic", out=None):
    """8-bit ``(H, W, 3)`` BGR image -> ``(4, size, size)`` float32 network input (into ``out`` where given): the image
    warped by ``M`` (``(2, 3)``, image pixels -> window pixels, pixel centres on integer coordinates) with
    ``interpolation`` (:data:`INTERPOLATIONS`), grey border, pixels ``(v - 128) / 256``; channel 3 the centre map
    (``sigma_center`` window pixels) at ``M`` applied to ``person_centre`` (x, y image pixels)."""
    import cv2

    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {list(INTERPOLATIONS)}, got {interpolation!r}")
    img = np.asarray(image_bgr)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"image must be H x W x 3 (BGR), got shape {img.shape}")
    flags = cv2.INTER_CUBIC if interpolation == "cubic" else cv2.INTER_LINEAR
    win = cv2.warpAffine(img, np.asarray(M, np.float64), (size, size), flags=flags, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=BORDER_GREY)
    out = np.empty((4, size, size), np.float32) if out is None else out
    pixels_to_input(win, out=out[:3])
    out[3] = centre_map(size, sigma_center, apply_affine(M, person_centre))
    return out


def decode_jpeg(data, what="field 'jpeg'"):
    """JPEG bytes -> 8-bit BGR image; bytes OpenCV cannot decode raise ``ValueError`` naming ``what``."""
    import cv2

    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"{what} cannot be decoded")
    return img
