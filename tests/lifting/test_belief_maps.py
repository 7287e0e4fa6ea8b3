import numpy as np
import pytest

from lifting.belief_maps import argmax_2d, background_map, render_belief_maps


def test_belief_map_is_a_unit_gaussian_at_the_rounded_joint():
    m = render_belief_maps(np.array([[[10.4, 20.6], [-3.0, 5.0]]]), 46, 40, sigma=1.0)
    assert m.shape == (1, 2, 46, 40) and m.dtype == np.float32
    assert m[0, 0, 21, 10] == 1.0
    assert m[0, 0, 21, 11] == pytest.approx(np.exp(-0.5))
    assert m[0, 0, 22, 11] == pytest.approx(np.exp(-1.0))
    assert m[0, 1].max() == 0  # off the grid -> empty map
    bg = background_map(m)
    assert bg[0, 21, 10] == 0 and bg[0, 0, 0] == pytest.approx(1.0)


def test_argmax_with_subpixel_refinement():
    m = render_belief_maps(np.array([[[12.3, 7.8]]]), 20, 20, sigma=1.5, subpixel=True)
    p, peak = argmax_2d(m)
    np.testing.assert_array_equal(p[0, 0], [12, 8])
    ps, _ = argmax_2d(m, subpixel=True)
    np.testing.assert_allclose(ps[0, 0], [12.3, 7.8], atol=0.05)
