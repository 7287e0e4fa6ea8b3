"""Every person drawn (tools/overlay.py draw_people): observed joints filled black, inferred ones hollow grey, ids,
the legend, every 3D pose on the fixed insets."""
import numpy as np

from lifting.geometry import UPRIGHT_CAMERA
from lifting.synthetic import make_model
from tools.overlay import Overlay


def test_observed_filled_inferred_hollow_and_every_3d_pose():
    h, w = 400, 300
    ov = Overlay((h, w), UPRIGHT_CAMERA)  # canvas = the frame's own size (400 px high)
    pts = np.column_stack([np.full(17, 150.0), np.linspace(60, 360, 17)])
    pts[:, 0] += np.arange(17) % 2 * 40  # a zig-zag so limbs do not cover the joints
    observed = np.ones(17, bool)
    observed[5] = False
    pose = make_model(K=1, J=4, seed=3).mean[0] * 1000.0
    rgb = np.full((h, w, 3), 255, np.uint8)
    canvas = ov.draw_people(rgb, [{"joints2d": pts, "observed": observed, "pose3d_mm": pose, "reprojected": None,
                                   "label": "0"}], title="t")
    assert canvas.shape == (ov.height, ov.width, 3)
    c = lambda j: canvas[int(round(ov.y0 + pts[j, 1] * ov.scale)), int(round(ov.x0 + pts[j, 0] * ov.scale))]  # noqa
    assert c(4).max() < 40  # an observed joint: a filled black dot
    assert c(5).min() > 40  # an inferred one: a hollow circle (its centre is not black)
    two = ov.draw_people(rgb, [{"joints2d": pts, "observed": observed, "pose3d_mm": pose, "reprojected": None},
                               {"joints2d": pts + [60, 0], "observed": observed, "pose3d_mm": pose + [400, 0, 0],
                                "reprojected": None}])
    one = ov.draw_people(rgb, [{"joints2d": pts, "observed": observed, "pose3d_mm": pose, "reprojected": None}])
    insets = slice(ov.area_w, ov.width)
    assert (two[:, insets] < 128).sum() > (one[:, insets] < 128).sum()  # the second person's 3D is on the insets
    none = ov.draw_people(rgb, [])
    assert none.shape == canvas.shape
