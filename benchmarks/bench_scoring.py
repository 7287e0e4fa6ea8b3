"""The authors' 2D scoring (evaluate-images --scoring upsampled) per frame vs two references in the same process:
their own way (``restoreSize``: the maps resized with Lanczos, pasted into a frame-sized canvas of zeros, then
``findPredictions``' per-joint argmax) and the grid argmax (``--scoring grid``, no upsampling).

    python benchmarks/bench_scoring.py [--quick]

Maps: 17 joint maps of 46 x 46 (a 368 window) with a Gaussian each; window sizes in a 1000 x 1002 frame of 300, 500
and 700 frame pixels (the authors' crop of a Human3.6M person is about 400-700 px).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import best_time, machine  # noqa: E402

from lifting.belief_maps import argmax_2d  # noqa: E402
from lifting.cpm import map_to_window  # noqa: E402
from tools.evaluate_images import upsampled_argmax  # noqa: E402


def authors_way(maps, box, frame_hw):
    """Their restoreSize + findPredictions (caffe_utils.py 250-271), written plainly: a frame-sized canvas."""
    import cv2

    x0, y0, w, h = box
    big = cv2.resize(np.ascontiguousarray(maps.transpose(1, 2, 0)), (w, h), interpolation=cv2.INTER_LANCZOS4)
    canvas = np.zeros(frame_hw + (maps.shape[0],))
    canvas[y0:y0 + h, x0:x0 + w] = big
    out = np.empty((maps.shape[0], 2))
    for j in range(maps.shape[0]):
        idx = np.where(canvas[:, :, j] == canvas[:, :, j].max())
        out[j] = idx[1][0], idx[0][0]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="10 frames a size instead of 50")
    args = ap.parse_args()
    n = 10 if args.quick else 50
    rng = np.random.default_rng(0)
    g = np.arange(46)
    print(f"machine: {machine()}")
    print(f"scoring: 17 maps of 46 x 46 per frame, {n} frames per size, batch 1 frame; ms/frame = best of 3")
    print(f"{'window px':>9} {'upsampled':>10} {'authors way':>12} {'ratio':>6} {'grid':>8} {'upsampled/grid':>15}")
    for side in (300, 500, 700):
        c = rng.uniform(5, 40, (n, 17, 2))
        maps = np.exp(-((g[None, None, None, :] - c[..., 0, None, None]) ** 2
                        + (g[None, None, :, None] - c[..., 1, None, None]) ** 2) / 2).astype(np.float32)
        s = 368 / side
        A = np.array([[s, 0, -s * 150], [0, s, -s * 100]])  # the window's left edge at frame x 150, y 100
        box = (150, 100, side, side)
        ours = best_time(lambda: [upsampled_argmax(m, A, 368) for m in maps]) / n * 1e3
        theirs = best_time(lambda: [authors_way(m, box, (1002, 1000)) for m in maps]) / n * 1e3
        grid = best_time(lambda: map_to_window(argmax_2d(maps)[0])) / n * 1e3
        a = np.array([upsampled_argmax(m, A, 368) for m in maps])
        b = np.array([authors_way(m, box, (1002, 1000)) for m in maps])
        assert np.abs(a - b).max() <= 1.0, np.abs(a - b).max()  # the same points, to their integer pixel grid
        print(f"{side:>9} {ours:>9.2f}ms {theirs:>10.2f}ms {theirs / ours:>5.1f}x {grid:>6.3f}ms {ours / grid:>14.0f}x")


if __name__ == "__main__":
    main()
