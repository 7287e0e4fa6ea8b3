import time
import tracemalloc

import numpy as np
import pytest

from lifting.geometry import UPRIGHT_CAMERA
from tools.overlay import HALF_RANGE_MM, MAX_HEIGHT, Overlay, fit

RED, BLUE = np.array([40, 40, 230]), np.array([255, 120, 40])  # BGR: right limbs, left limbs


def _near(canvas, xy, colour, r=2):
    x, y = (int(round(v)) for v in xy)
    patch = canvas[y - r:y + r + 1, x - r:x + r + 1].reshape(-1, 3).astype(int)
    return (np.abs(patch - colour).max(1) < 40).any()


def test_2d_limbs_land_where_the_joints_are_scaled_to():
    # a 200 x 400 frame drawn 400 high: every pixel coordinate doubles; the right shin (RKnee 2 -> RFoot 3) is red
    frame = np.full((200, 400, 3), 128, np.uint8)
    pts = np.full((17, 2), 100.0)
    pts[2], pts[3] = (50, 50), (50, 150)  # RKnee, RFoot
    pts[5], pts[6] = (300, 50), (300, 150)  # LKnee, LFoot
    w = np.zeros(17)
    w[[2, 3, 5, 6]] = 1
    ov = Overlay((200, 400), UPRIGHT_CAMERA, height=400)
    canvas = ov.draw(frame, pts, w)
    assert canvas.shape == (400, 800 + 2 * 400, 3) and ov.scale == 2.0
    assert _near(canvas, (100, 200), RED) and _near(canvas, (600, 200), BLUE)  # mid-shins at twice the coordinates
    assert not _near(canvas, (100, 200), BLUE) and not _near(canvas, (400, 200), RED)  # no limb between them


def test_3d_insets_project_the_pose_on_fixed_axes():
    # a pose with its right foot 1000 mm to the camera's right of the root and 500 mm down: in the inset "from the
    # camera" it lies at +1000 mm of the centre; in the inset "from the side" at the centre (no depth)
    pose = np.zeros((17, 3))
    pose[1], pose[2], pose[3] = (0, 0, 0), (500, -250, 0), (1000, -500, 0)  # RHip, RKnee, RFoot
    ov = Overlay((300, 300), UPRIGHT_CAMERA, height=440)
    canvas = ov.draw(np.zeros((300, 300, 3), np.uint8), None, np.zeros(17), pose3d_mm=pose)
    S, px = ov.inset, ov.inset / (2 * HALF_RANGE_MM)
    top = HALF_RANGE_MM - 200
    shin = np.array([S / 2 + 750 * px, (top + 375) * px])  # the middle of the shin (joints are drawn black)
    assert _near(canvas, shin + [ov.area_w, 0], RED)  # from the camera: 750 mm right of the root, 375 mm down
    assert _near(canvas, [ov.area_w + S + S / 2, (top + 375) * px], RED)  # from the side: straight below the root
    assert not _near(canvas, shin + [ov.area_w + S, 0], RED)


def test_no_3d_pose_writes_the_note_and_nan_joints_are_skipped():
    pts = np.full((17, 2), np.nan)
    ov = Overlay((100, 100), UPRIGHT_CAMERA)
    canvas = ov.draw(np.zeros((100, 100, 3), np.uint8), pts, np.ones(17), pose3d_mm=np.full((17, 3), np.nan),
                     note="no 3D pose: test")
    inset = canvas[:, ov.area_w:]
    assert (np.abs(inset.astype(int) - [30, 30, 160]).max(-1) < 30).sum() > 5  # the note's red text


def test_a_huge_photo_is_drawn_at_a_bounded_size_quickly():
    frame = np.zeros((6000, 9000, 3), np.uint8)
    ov = Overlay(frame.shape[:2], UPRIGHT_CAMERA)
    pts = np.tile([[4500.0, 3000.0]], (17, 1)) + np.arange(17)[:, None] * 100
    t = time.perf_counter()
    canvas = ov.draw(frame, pts, np.ones(17))
    assert canvas.shape[0] == MAX_HEIGHT and canvas.shape[1] == ov.frame_w + 2 * MAX_HEIGHT
    assert time.perf_counter() - t < 2.0  # the resize of 54 megapixels dominates; matplotlib took tens of seconds


def test_drawing_many_frames_keeps_memory_flat():
    ov = Overlay((240, 320), UPRIGHT_CAMERA, height=400, width=1200)
    frame = np.zeros((240, 320, 3), np.uint8)
    rng = np.random.default_rng(0)
    pose = rng.normal(scale=300, size=(17, 3))
    for _ in range(5):
        ov.draw(frame, rng.uniform(0, 240, (17, 2)), np.ones(17), pose, rng.uniform(0, 240, (17, 2)), title="t")
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(200):
        c = ov.draw(frame, rng.uniform(0, 240, (17, 2)), np.ones(17), pose, rng.uniform(0, 240, (17, 2)), title="t")
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert c.shape == (400, 1200, 3) and grown < 4 * c.nbytes  # no per-frame leftovers


def test_fit_shrinks_by_block_means_then_bilinear():
    # 9 x 13 to 6 x 4: a whole factor of 2 (the last row and column dropped), the mean of each 2 x 2 block
    img = np.arange(9 * 13, dtype=np.uint8).reshape(9, 13, 1).repeat(3, 2)
    out = fit(img, 6, 4)
    blocks = img[:8, :12, 0].reshape(4, 2, 6, 2).mean((1, 3))  # e.g. (0 + 1 + 13 + 14) / 4 = 7
    assert out.shape == (4, 6, 3) and out[0, 0, 0] == 7
    np.testing.assert_allclose(out[..., 0], blocks, atol=0.5)
    # 3x: block means of 3 x 3 first (3 x 4), then bilinear up to 3 x 5
    assert fit(img, 5, 3).shape == (3, 5, 3)
    # no shrink: bilinear alone (a uniform image stays uniform); the same size: the image itself
    flat = np.full((10, 20, 3), 77, np.uint8)
    assert (fit(flat, 30, 15) == 77).all() and fit(flat, 20, 10) is flat


def test_bad_frame_size_is_refused():
    with pytest.raises(ValueError, match="frame size must be positive"):
        Overlay((0, 10), UPRIGHT_CAMERA)
