"""CPM's numbers: training labels as CPM's data layer renders them, the CPMData augmentation geometry, and the
camera of an augmented window: lifting the augmented joints with the augmented E gives the unaugmented 3D pose."""
import numpy as np
import pytest

from lifting.cameras import read_h36m_cameras_json
from lifting.cpm import Augmentation, apply_affine, centre_map, label_maps, pixels_to_input
from lifting.lift import Lifter
from lifting.model import load_model
from tests.helpers import shared_path


def cpm_put_gaussian_maps(center, stride, grid, sigma):
    """CPM's putGaussianMaps, pixel by pixel as the C++ does it (one joint, one map)."""
    out = np.zeros((grid, grid))
    start = stride / 2.0 - 0.5
    for gy in range(grid):
        for gx in range(grid):
            x, y = start + gx * stride, start + gy * stride
            e = ((x - center[0]) ** 2 + (y - center[1]) ** 2) / 2.0 / sigma / sigma
            if e > 4.6052:
                continue
            out[gy, gx] = min(out[gy, gx] + np.exp(-e), 1.0)
    return out


def test_label_maps_are_cpms_put_gaussian_maps():
    pts = np.array([[[100.3, 50.7], [367.0, 10.0], [-9.0, 200.0], [180.0, 180.0], [-40.0, -40.0]]])
    visible = np.array([[1, 1, 1, 0, 1]])
    maps = label_maps(pts, visible, 368, sigma=7.0)
    assert maps.shape == (1, 6, 46, 46) and maps.dtype == np.float32
    for j in range(5):
        ref = cpm_put_gaussian_maps(pts[0, j], 8, 46, 7.0) if visible[0, j] else np.zeros((46, 46))
        np.testing.assert_allclose(maps[0, j], ref, atol=1e-6)
    assert maps[0, 2].max() > 0.05  # a joint 9 px left of the window still leaves its tail inside (CPM does)
    assert maps[0, 4].max() == 0  # 40 px outside: below the 1% cut-off
    np.testing.assert_allclose(maps[0, 5], np.maximum(1 - maps[0, :5].max(0), 0), atol=1e-7)


def test_pixels_and_centre_map():
    img = np.array([[[0, 128, 255]]], np.uint8)
    np.testing.assert_allclose(pixels_to_input(img)[:, 0, 0], [-0.5, 0.0, 127 / 256])
    c = centre_map(96, sigma=21.0, centre=(10.0, 70.0))
    assert np.unravel_index(np.argmax(c), c.shape) == (70, 10) and c.max() == 1.0


def test_window_geometry_matches_opencv():
    import cv2

    aug = Augmentation()
    objpos, box = np.array([300.0, 320.0]), 250.0
    M = aug.window(objpos, box, scale_mult=0.8, degrees=7.0)
    s = 0.8 * 368 / 250.0 * 0.8
    ref = cv2.getRotationMatrix2D((float(objpos[0]), float(objpos[1])), 7.0, s)
    ref[:, 2] += 183.5 - objpos  # objpos -> the window centre
    np.testing.assert_allclose(M, ref, atol=1e-9)
    np.testing.assert_allclose(apply_affine(M, objpos), [183.5, 183.5])
    # at multiplier 1 the box side fills 0.8 of the window
    M1 = aug.window(objpos, box)
    assert np.linalg.norm(apply_affine(M1, objpos + [box, 0]) - apply_affine(M1, objpos)) == pytest.approx(0.8 * 368)


def test_draw_follows_the_authors_transform_param():
    aug = Augmentation()
    rng = np.random.default_rng(0)
    draws = [aug.draw(rng) for _ in range(4000)]
    mult = np.array([d[0] for d in draws])
    deg = np.array([d[1] for d in draws])
    assert np.mean(mult == 1.0) == pytest.approx(0.3, abs=0.03)  # scaled with probability 0.7
    assert mult.min() >= 0.7 and mult.max() <= 1.2
    assert np.abs(deg).max() <= 10 and np.abs(deg).max() > 9.9
    assert all(np.all(d[2] == 0) for d in draws)  # no centre perturbation
    again = [Augmentation().draw(np.random.default_rng(0)) for _ in range(1)]
    assert again[0][:2] == draws[0][:2]


def test_bad_augmentation_values_are_named():
    with pytest.raises(ValueError, match="unknown keys \\['scale'\\]"):
        Augmentation.from_dict({"scale": 2})
    with pytest.raises(ValueError, match="crop must be a positive multiple of 8"):
        Augmentation(crop=100)
    with pytest.raises(ValueError, match="scale_prob must be in"):
        Augmentation(scale_prob=1.5)
    with pytest.raises(ValueError, match="person box side must be > 0"):
        Augmentation().window((0, 0), 0.0)


def test_lifting_the_augmented_window_with_the_rotated_camera_gives_the_same_pose():
    """The real S1 fixture frame, its camera: scale, rotate and crop its 2D joints as the data layer does; lifted with
    the augmented E the 3D pose is the unaugmented one; with the unrotated E it is not."""
    z = np.load(shared_path("data", "h36m_fixture", "labels.npz"))
    cams = read_h36m_cameras_json(shared_path("data", "h36m_fixture", "cameras.json"))
    E = cams[("S1", "54138969")].E
    y = z["joints2d_px"][0]
    lifter = Lifter(load_model(), camera=E)
    base = lifter.lift(y[None]).pose3d_mm[0]
    aug = Augmentation()
    for mult, deg in ((0.75, 10.0), (1.15, -8.0)):
        yw = apply_affine(aug.window(y[0], 300.0, mult, deg), y)
        res = Lifter(load_model(), camera=aug.camera(E, deg)).lift(yw[None])
        assert res.status[0] == 0
        assert np.abs(res.pose3d_mm[0] - base).max() < 1e-6  # mm: the same problem, exactly
        wrong = Lifter(load_model(), camera=E).lift(yw[None]).pose3d_mm[0]
        assert not np.abs(wrong - base).max() < 30.0
