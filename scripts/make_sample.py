"""Re-makes ``lifting/data/sample_keypoints.json``, the sample behind ``lifting lift --sample``.

Source: CMU Graphics Lab Motion Capture Database, subject 02, trial 01 (walk), ASF/AMC as in
``../shared/data/cmu/02`` (free to use, including in products; not to be resold as data). Every 12th frame
(10 frames/s) goes through our ASF/AMC reader (17 joints, mm, y up) and a pinhole camera of Human3.6M-like
intrinsics (f = 1145 px, c = (512, 515), 1000 x 1002 image) standing 4.5 m away at 1.7 m height, 30 degrees to the
side of the walking line and looking 10 degrees down at the subject: real perspective, a tilted camera and no
noise. The file stores the 2D joints in the 17-joint Human3.6M order and, for checking, the camera-frame 3D truth
(mm, root-relative) and the camera rotation.

    .venv/bin/python scripts/make_sample.py [--cmu ../shared/data/cmu/02]
"""
import argparse
import json
import os
import sys

import numpy as np

from lifting import skeleton
from lifting.cameras import look_at
from lifting.files import atomic_write_text
from model_fitting.readers import read_asf_amc

F, C = 1145.0, (512.0, 515.0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cmu", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "cmu", "02"))
    ap.add_argument("-o", "--output", default=os.path.join(os.path.dirname(__file__), "..", "lifting", "data",
                                                           "sample_keypoints.json"))
    args = ap.parse_args(argv)
    poses = read_asf_amc(os.path.join(args.cmu, "02.asf"), os.path.join(args.cmu, "02_01.amc"), step=12)
    target = poses[:, 0].mean(0)
    side = np.radians(30.0)
    centre = target + np.array([4500.0 * np.sin(side), 0.0, 4500.0 * np.cos(side)])
    centre[1] = 1700.0
    # aim so that the optical axis dips 10 degrees below the horizon
    aim = target.copy()
    aim[1] = centre[1] - np.tan(np.radians(10.0)) * np.hypot(*(target - centre)[[0, 2]])
    R = look_at(centre, aim, up=(0.0, 1.0, 0.0))
    cam = np.einsum("ij,nlj->nli", R, poses - centre)  # (N, 17, 3) mm, camera frame
    if np.any(cam[..., 2] < 1000):
        raise SystemExit("a joint is closer than 1 m to the camera: check the set-up")
    px = F * cam[..., :2] / cam[..., 2:] + np.array(C)
    sample = {
        "description": "CMU mocap subject 02 trial 01 (walk), 10 frames/s, projected by a tilted pinhole camera; "
                       "made by scripts/make_sample.py",
        "source": "CMU Graphics Lab Motion Capture Database, mocap.cs.cmu.edu (free to use, not to be resold)",
        "format": "h36m",
        "joint_names": list(skeleton.JOINT_NAMES),
        "image_size": [1000, 1002],
        "camera": {"f": F, "c": list(C), "R_world_to_camera": R.round(9).tolist(),
                   "world": "y up, mm"},
        "keypoints": px.round(2).tolist(),
        "truth_camera_mm": (cam - cam[:, :1]).round(2).tolist(),
    }
    atomic_write_text(args.output, json.dumps(sample, indent=None, separators=(",", ":")) + "\n")
    print(f"{len(px)} frames -> {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
