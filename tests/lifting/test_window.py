"""The one crop-to-window step (training, evaluation, estimation), by hand-worked numbers."""
import numpy as np
import pytest

from lifting.cpm import Augmentation, apply_affine, authors_crop_affine
from lifting.window import crop_to_window, decode_jpeg


@pytest.mark.parametrize("interpolation", ["cubic", "linear"])
def test_a_whole_pixel_shift_copies_pixels_and_fills_grey_by_hand(interpolation):
    # 6 x 6 ramp v = 10 x + 40 y; person centre (2.5, 2.5), box 6.4 in an 8-pixel window: scale 0.8 * 8 / 6.4 = 1 and
    # the centre goes to (8 - 1) / 2 = 3.5, so window pixel u shows image pixel u - 1 (whole pixels: no blending)
    y, x = np.mgrid[0:6, 0:6]
    img = np.repeat((10 * x + 40 * y).astype(np.uint8)[:, :, None], 3, axis=2)
    M = Augmentation(crop=8).window((2.5, 2.5), 6.4)
    np.testing.assert_allclose(M, [[1, 0, 1], [0, 1, 1]])
    data = crop_to_window(img, M, 8, (2.5, 2.5), sigma_center=2.0, interpolation=interpolation)
    assert data.shape == (4, 8, 8) and data.dtype == np.float32
    # window (u, v) = (1, 1) shows image (0, 0) = 0; (6, 6) shows (5, 5) = 250; (3, 2) shows (2, 1) = 60
    assert data[0, 1, 1] == pytest.approx((0 - 128) / 256)
    assert data[2, 6, 6] == pytest.approx((250 - 128) / 256)
    assert data[1, 2, 3] == pytest.approx((60 - 128) / 256)
    # row 0, column 0, row 7 and column 7 lie outside the image: grey 128 -> 0
    assert not data[:3, 0].any() and not data[:3, :, 0].any() and not data[:3, 7].any() and not data[:3, :, 7].any()
    # the centre map peaks between pixels 3 and 4: exp(-(0.5^2 + 0.5^2) / (2 * 2^2)) = exp(-1/16)
    assert data[3, 3, 3] == data[3, 4, 4] == pytest.approx(np.exp(-1 / 16))
    assert data[3, 0, 0] == pytest.approx(np.exp(-(3.5**2 * 2) / 8))


def test_the_person_centre_goes_where_the_authors_crop_puts_it():
    # the authors' crop: 2 h + 1 pixels with the pelvis on the middle one, resized to 368 (cv::resize): the pelvis
    # pixel's centre lands on (h + 0.5) * 368 / (2 h + 1) - 0.5 = 10.5 * 368 / 21 - 0.5 = 183.5 for h = 10
    assert apply_affine(authors_crop_affine((90, 40, 21, 21)), (100, 50)) == pytest.approx([183.5, 183.5])
    # the data layer's window (training and evaluation), and estimation's (tools/cpm.py) put it there too
    assert apply_affine(Augmentation().window((100, 50), 300.0), (100, 50)) == pytest.approx([183.5, 183.5])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="interpolation must be one of"):
        crop_to_window(np.zeros((4, 4, 3), np.uint8), np.eye(2, 3), 8, (2, 2), interpolation="nearest")
    with pytest.raises(ValueError, match=r"H x W x 3"):
        crop_to_window(np.zeros((4, 4), np.uint8), np.eye(2, 3), 8, (2, 2))
    with pytest.raises(ValueError, match="sample 3's jpeg cannot be decoded"):
        decode_jpeg(b"not a jpeg", "sample 3's jpeg")
