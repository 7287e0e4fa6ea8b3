import numpy as np
import pytest

from lifting.world import assumed_intrinsics, intrinsics, root_position_m


def test_root_position_hand_worked():
    """f 1000 px, 100 px per model unit of 500 mm: Z = 1000 * 0.5 / 100 = 5 m; 100 px right, 50 px up of the
    centre: X = 0.5 m, Y = -0.25 m."""
    out = root_position_m([[740.0, 310.0], [0.0, 0.0]], [100.0, np.nan], 500.0, 1000.0, [640.0, 360.0])
    np.testing.assert_allclose(out[0], [0.5, -0.25, 5.0])
    assert np.isnan(out[1]).all()


def test_intrinsics_given_and_assumed():
    f, c = assumed_intrinsics((480, 640))
    assert f[0] == pytest.approx(320 / np.tan(np.radians(30)))
    np.testing.assert_allclose(c, [320, 240])
    f, c, label = intrinsics((480, 640), focal_px=800.0)
    assert f.tolist() == [800, 800] and label.startswith("given")
    assert intrinsics((480, 640))[2].startswith("assumed")
    with pytest.raises(ValueError, match="focal"):
        intrinsics((480, 640), focal_px=-1)
