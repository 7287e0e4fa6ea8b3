"""`lifting estimate clip.mp4` vs MediaPipe alone on the same frames, and its peak memory against the video's length.

The video is ../shared/data/people/video/street_5frames.mp4 (960 x 540, a real street scene) looped to --frames
frames (written once to a temporary MP4). In one process, alternating, best of --repeat:

* MediaPipe alone: decode every frame with OpenCV and run the pose detector (video mode), nothing else;
* the whole tool without the MP4 (detector + lift + npz + JSON): ``estimate_video(..., plot=False)``;
* the whole tool with the MP4 overlay: ``estimate_video(..., plot=True)``;
* once, "before": the whole tool with the MP4 as it was before issue 20 (a matplotlib figure per frame, the
  80-angle grid search whose per-pattern factorisation was rebuilt for every frame's continuous weights).

Then, each in a fresh process, the whole tool with the MP4 on the clip looped to 1x and 4x --frames: the peak RSS
of those processes (flat memory: the same peak whatever the length).

    python benchmarks/bench_video.py [--frames 100] [--repeat 2]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine, peak_rss_mb  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIP = os.path.join(ROOT, "..", "shared", "data", "people", "video", "street_5frames.mp4")


def looped(path, n, out):
    """``path``'s frames repeated to ``n`` frames, written to ``out`` (MP4)."""
    import cv2

    cap = cv2.VideoCapture(path)
    frames = []
    ok, f = cap.read()
    while ok:
        frames.append(f)
        ok, f = cap.read()
    cap.release()
    if not frames:
        sys.exit(f"{path}: no frames")
    h, w = frames[0].shape[:2]
    wr = cv2.VideoWriter(out, cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (w, h))
    for i in range(n):
        wr.write(frames[i % len(frames)])
    wr.release()
    return out


def mediapipe_alone(path):
    import cv2

    from tools.detect import PoseDetector

    with PoseDetector(video=True) as det:
        cap = cv2.VideoCapture(path)
        n = 0
        t = time.perf_counter()
        ok, bgr = cap.read()
        while ok:
            det.detect(bgr[:, :, ::-1])
            n += 1
            ok, bgr = cap.read()
        dt = time.perf_counter() - t
        cap.release()
    return n / dt


def whole_tool(path, lifter, plot):
    from tools.video import estimate_video

    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        rec = estimate_video(path, out, lifter, plot=plot, progress=False)
        dt = time.perf_counter() - t
    return rec["num_frames"] / dt


class MatplotlibOverlay:
    """The drawing this tool used before tools/overlay.py (one matplotlib figure per frame: lifting.plot), behind
    the same interface, for the "before" run."""

    def __init__(self, frame_size, camera, height, width):
        from lifting.plot import new_figure

        self.camera, self.fig = camera, new_figure(width, height)

    def draw(self, rgb, points2d, weights, pose3d_mm=None, reprojected=None, title=None, note=None):
        import gc

        from lifting.plot import draw_estimate, figure_to_rgb

        self.fig.clear()
        gc.collect()
        draw_estimate(self.fig, rgb, points2d, weights, pose3d_mm, self.camera, reprojected, title=title, note=note)
        self.fig.subplots_adjust(left=0.01, right=0.99, bottom=0.12, top=0.9)
        return figure_to_rgb(self.fig)[:, :, ::-1].copy()

    def draw_people(self, rgb, people, title=None):
        """The one-person figure of before issue 19: the first person."""
        import numpy as np

        p = people[0] if people else None
        nan = np.full((17, 2), np.nan)
        return self.draw(rgb, p["joints2d"] if p else nan, p["observed"].astype(float) if p else np.zeros(17),
                         p["pose3d_mm"] if p else None, p["reprojected"] if p else nan, title=title, note="no 3D")


def before(path):
    """The whole tool with the MP4 as it was: matplotlib drawing and the 80-angle grid search (whose continuous
    MediaPipe weights built a factorisation per frame)."""
    import tools.video
    from lifting.lift import Lifter
    from lifting.model import load_model

    saved = tools.video.Overlay
    tools.video.Overlay = MatplotlibOverlay
    try:
        return whole_tool(path, Lifter(load_model(), search="grid"), plot=True)
    finally:
        tools.video.Overlay = saved


def child(path, plot):
    """Run the tool once (fresh process) and print its frame rate and peak RSS as JSON."""
    from lifting.lift import Lifter
    from lifting.model import load_model

    fps = whole_tool(path, Lifter(load_model()), plot)
    print(json.dumps({"fps": fps, "peak_rss_mb": peak_rss_mb()}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--child", nargs=2, metavar=("VIDEO", "PLOT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child[0], args.child[1] == "1")
    from lifting.lift import Lifter
    from lifting.model import load_model

    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} (shared with other work)")
    with tempfile.TemporaryDirectory() as tmp:
        clip = looped(CLIP, args.frames, os.path.join(tmp, "clip.mp4"))
        print(f"video: {os.path.relpath(CLIP, ROOT)} (960 x 540) looped to {args.frames} frames; batch 1 frame")
        lifter = Lifter(load_model())
        best = {"mediapipe alone": 0.0, "tool, no MP4": 0.0, "tool with MP4": 0.0}
        for _ in range(args.repeat):  # alternating, so that the machine's load hits all three alike
            best["mediapipe alone"] = max(best["mediapipe alone"], mediapipe_alone(clip))
            best["tool, no MP4"] = max(best["tool, no MP4"], whole_tool(clip, lifter, plot=False))
            best["tool with MP4"] = max(best["tool with MP4"], whole_tool(clip, lifter, plot=True))
        best["before: matplotlib MP4 + grid"] = before(clip)
        ref = best["mediapipe alone"]
        for name, fps in best.items():
            print(f"  {name:<31} {fps:7.1f} frames/s   ratio to MediaPipe alone {fps / ref:.2f}")
        rss = {}
        for k in (1, 4):
            n = k * args.frames
            long_clip = looped(CLIP, n, os.path.join(tmp, f"clip{k}.mp4"))
            out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", long_clip, "1"],
                                 capture_output=True, text=True, check=True, cwd=ROOT)
            rss[n] = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"  fresh process, tool with MP4, {n:5d} frames: peak RSS {rss[n]['peak_rss_mb']:.0f} MB "
                  f"({rss[n]['fps']:.1f} frames/s)")
        a, b = (rss[k * args.frames]["peak_rss_mb"] for k in (1, 4))
        print(f"  peak RSS, 4x the frames / 1x: {b / a:.2f}")


if __name__ == "__main__":
    main()
