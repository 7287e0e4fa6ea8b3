"""CPM image conventions: preprocessing window, map <-> window <-> image coordinates, centre map."""
import numpy as np
import pytest

from tools.cpm import STRIDE, centre_map, map_to_image, map_to_window, preprocess, window_to_map


def test_preprocess_and_back_to_image_coordinates():
    img = np.zeros((200, 300, 3), np.uint8)
    data, tf = preprocess(img, box=(100, 50, 60, 120))
    assert data.shape == (4, 368, 368)
    scale, ox, oy = tf
    p = np.array([[130.0, 110.0]])  # box centre -> window centre
    assert np.allclose(p * scale + [ox, oy], 183.5)  # the one window convention (lifting/window.py)
    win_map = (p * scale + [ox, oy] - 3.5) / 8
    assert np.allclose(map_to_image(win_map, tf), p)
    with pytest.raises(ValueError, match="positive width"):
        preprocess(img, box=(0, 0, 0, 10))


def test_map_grid_centres_and_centre_map():
    np.testing.assert_allclose(map_to_window([[0.0, 45.0]]), [[3.5, 363.5]])  # cell centres of the 46 x 46 grid
    p = np.random.default_rng(0).uniform(0, 46, size=(3, 17, 2))
    np.testing.assert_allclose(window_to_map(map_to_window(p)), p)
    assert STRIDE == 8
    c = centre_map(368)
    assert c.shape == (368, 368) and c.dtype == np.float32
    assert c[183, 183] == c[184, 184] == c.max() and c[0, 0] < 1e-30
