"""The authors' 2D scoring (tools.evaluate_images.upsampled_argmax): belief maps resized to the frame pixels the
window covers with Lanczos, then the argmax, on hand-made maps whose peak lies between grid cells."""
import numpy as np
import pytest

from lifting.belief_maps import argmax_2d
from lifting.cpm import map_to_window
from tools.evaluate_images import upsampled_argmax


def gaussian_map(cx, cy, g=46, sigma=1.0):
    y, x = np.mgrid[0:g, 0:g]
    return np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma**2)).astype(np.float32)


def test_upsampled_argmax_finds_the_peak_between_cells():
    # a Gaussian at map (10.25, 20.3): window (8 * 10.25 + 3.5, 8 * 20.3 + 3.5) = (85.5, 165.9); the grid argmax is
    # cell (10, 20) = window (83.5, 163.5), 2 px and 2.4 px off
    maps = np.stack([gaussian_map(10.25, 20.3), gaussian_map(30.0, 5.0)])
    identity = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    got = upsampled_argmax(maps, identity, 368)
    np.testing.assert_allclose(got[0], [85.5, 165.9], atol=0.75)
    np.testing.assert_allclose(got[1], [243.5, 43.5], atol=0.5)  # on a cell centre: exact
    grid = map_to_window(argmax_2d(maps[None])[0][0])
    assert np.abs(grid[0] - [85.5, 165.9]).max() >= 2.0
    # a window that is the frame scaled by 0.5 and shifted by (10, 20): frame = (window - shift) / 0.5, the resized
    # maps are 736 x 736 frame pixels
    half = np.array([[0.5, 0, 10.0], [0, 0.5, 20.0]])
    got = upsampled_argmax(maps, half, 368)
    np.testing.assert_allclose(got[0], [(85.5 - 10) / 0.5, (165.9 - 20) / 0.5], atol=1.5)
    np.testing.assert_allclose(got[1], [(243.5 - 10) / 0.5, (43.5 - 20) / 0.5], atol=0.6)
    # the two axes may scale differently (the authors' crop clamped at a frame edge)
    aniso = np.array([[2.0, 0, 0], [0, 0.5, 0]])
    np.testing.assert_allclose(upsampled_argmax(maps, aniso, 368)[1], [243.5 / 2, 43.5 / 0.5], atol=0.6)
    with pytest.raises(ValueError, match="axis-aligned"):
        upsampled_argmax(maps, np.array([[1.0, 0.1, 0], [0, 1.0, 0]]), 368)
