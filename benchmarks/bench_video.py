"""`lifting estimate clip.mp4` vs MediaPipe alone on the same frames, where its time goes, and its peak memory against
the video's length.

The video is ../shared/data/people/video/street_5frames.mp4 (960 x 540, a real street scene) looped to --frames
frames (written once to a temporary MP4). In one process, alternating, best of --repeat (every run decodes the frames
with OpenCV and makes them RGB with cvtColor, as the tool does):

* (a) MediaPipe alone, the issue's reference: its legacy single-person graph in video mode
  (``tools.detect.PoseDetector(video=True)``, made before the clock starts), nothing else;
* (b) MediaPipe alone doing exactly the detection the tool does for all people: the same schedule
  (``tools.people.TrackedSearch``: the full search every 10 frames, its tiles where they are likely to find someone
  and at least every third time, each person followed between), its detector made inside the clock as the tool's
  is, no lift, no output; and (b') the same for ``--people largest``; the work of the last run of each is printed
  (full searches, of which with the tiles, follower passes);
* (c) the whole tool, all people, without the MP4 (detector + lift + npz + JSON) and with it;
* (d) the whole tool with ``people="largest"``, without and with the MP4;
* once, "before": the whole tool with the MP4 as it was before issue 20 (a matplotlib figure per frame, the
  80-angle grid search whose per-pattern factorisation was rebuilt for every frame's continuous weights).

Then one run of the tool with the MP4 for each of all / largest with its stages timed (decoding, making the detector,
the detector, lift, records; and in the MP4's drawing thread, alongside them, the overlay and the MP4 write), and,
each in a fresh process, the whole tool with the MP4 on the clip looped to 1x and 4x --frames: the peak RSS of those
processes (flat memory: the same peak whatever the length).

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
    """(a): frames/s of the legacy single-person graph in video mode (made before the clock starts)."""
    from tools.detect import PoseDetector
    from tools.media import video_frames

    with PoseDetector(video=True) as det:
        n = 0
        t = time.perf_counter()
        for rgb in video_frames(path):
            det.detect(rgb)
            n += 1
        dt = time.perf_counter() - t
    return n / dt


def detection_alone(path, people):
    """(b): frames/s of the tool's detection schedule alone (its detector made inside the clock, as the tool's)."""
    from tools.media import video_frames
    from tools.people import MultiPoseDetector, TrackedSearch

    t = time.perf_counter()
    with MultiPoseDetector() as det:
        search = TrackedSearch(det, people)
        try:
            n = 0
            for i, rgb in enumerate(video_frames(path)):
                search(rgb, i)
                n += 1
        finally:
            search.close()
    fps = n / (time.perf_counter() - t)
    WORK[people] = dict(search.stats)
    return fps


#: the last detection_alone run's TrackedSearch.stats, by people
WORK = {}


def whole_tool(path, lifter, plot, people="all"):
    from tools.video import estimate_video

    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        rec = estimate_video(path, out, lifter, plot=plot, progress=False, people=people)
        dt = time.perf_counter() - t
    return rec["num_frames"] / dt


def profile(path, lifter, people):
    """One run of the tool with the MP4, its stages timed: ``(frames, {stage: seconds})``."""
    import cv2

    import tools.people
    import tools.video
    from lifting.files import JsonListWriter, NpzAppender
    from lifting.lift import Lifter

    spent = {}

    def timed(owner, name, stage):
        fn = getattr(owner, name)

        def run(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[stage] = spent.get(stage, 0.0) + time.perf_counter() - t
        return fn, run

    class Writer:  # cv2.VideoWriter with its write timed
        def __init__(self, *a):
            self.w = make_writer(*a)

        def isOpened(self):
            return self.w.isOpened()

        def write(self, canvas):
            t = time.perf_counter()
            self.w.write(canvas)
            spent["MP4 write"] = spent.get("MP4 write", 0.0) + time.perf_counter() - t

        def release(self):
            self.w.release()

    class Capture:  # cv2.VideoCapture with its reads timed
        def __init__(self, *a):
            self.c = make_capture(*a)

        def read(self):
            t = time.perf_counter()
            try:
                return self.c.read()
            finally:
                spent["decoding"] = spent.get("decoding", 0.0) + time.perf_counter() - t

        def __getattr__(self, name):
            return getattr(self.c, name)

    patches = [(tools.people.TrackedSearch, "__call__", "detector"), (Lifter, "lift", "lift"),
               (tools.video.Overlay, "draw_people", "overlay"), (tools.people.PersonEstimate, "record", "records"),
               (JsonListWriter, "append", "records"), (NpzAppender, "append", "records"),
               (tools.people.MultiPoseDetector, "__init__", "making the detector"),
               (tools.people.MultiPoseDetector, "follower", "making followers")]
    saved = []
    make_writer, make_capture = cv2.VideoWriter, cv2.VideoCapture
    try:
        for owner, name, stage in patches:
            fn, run = timed(owner, name, stage)
            saved.append((owner, name, fn))
            setattr(owner, name, run)
        cv2.VideoWriter, cv2.VideoCapture = Writer, Capture
        t = time.perf_counter()
        with tempfile.TemporaryDirectory() as out:
            n = tools.video.estimate_video(path, out, lifter, plot=True, progress=False, people=people)["num_frames"]
        spent["whole run"] = time.perf_counter() - t
    finally:
        cv2.VideoWriter, cv2.VideoCapture = make_writer, make_capture
        for owner, name, fn in reversed(saved):
            setattr(owner, name, fn)
    return n, spent


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
        print(f"video: {os.path.relpath(CLIP, ROOT)} (960 x 540) looped to {args.frames} frames; batch 1 frame; "
              f"best of {args.repeat}, alternating")
        lifter = Lifter(load_model())
        runs = {
            "(a) MediaPipe alone (legacy, 1 person)": lambda: mediapipe_alone(clip),
            "(b) detection alone, all people": lambda: detection_alone(clip, "all"),
            "(b') detection alone, largest": lambda: detection_alone(clip, "largest"),
            "(c) tool, all people, no MP4": lambda: whole_tool(clip, lifter, False),
            "(c) tool, all people, with MP4": lambda: whole_tool(clip, lifter, True),
            "(d) tool, largest, no MP4": lambda: whole_tool(clip, lifter, False, "largest"),
            "(d) tool, largest, with MP4": lambda: whole_tool(clip, lifter, True, "largest"),
        }
        best = dict.fromkeys(runs, 0.0)
        for _ in range(args.repeat):  # alternating, so that the machine's load hits all alike
            for name, run in runs.items():
                best[name] = max(best[name], run())
        best["before: matplotlib MP4 + grid"] = before(clip)
        ref = best["(a) MediaPipe alone (legacy, 1 person)"]
        detection = {"(c)": ("(b)", best["(b) detection alone, all people"]),
                     "(d)": ("(b')", best["(b') detection alone, largest"])}
        for name, fps in best.items():
            extra = ""
            if name[:3] in detection:
                label, fps_b = detection[name[:3]]
                extra = f", to {label} {fps / fps_b:.2f}"
            print(f"  {name:<40} {fps:6.1f} frames/s {1000 / fps:6.1f} ms a frame   ratio to (a) {fps / ref:.2f}"
                  + extra)
        for people, work in WORK.items():
            print(f"  detection alone, people={people}: {work['full']} full searches ({work['tiles']} with the tiles), "
                  f"{work['pass']} follower passes ({work['retry']} second tries), {work['whole']} whole-image passes "
                  "on frames with nobody followed")
        for people in ("all", "largest"):
            n, spent = profile(clip, lifter, people)
            whole = spent.pop("whole run")
            making = spent.pop("making followers", 0.0)  # inside "detector"
            drawing = {k: spent.pop(k, 0.0) for k in ("overlay", "MP4 write")}  # the drawing thread's
            parts = ", ".join(f"{k} {1000 * v / n:.1f}" for k, v in spent.items())
            print(f"  where the time goes, tool with MP4, people={people}, ms a frame: whole run {1000 * whole / n:.1f}"
                  f" = {parts} (making followers {1000 * making / n:.1f} of the detector's), the rest "
                  f"{1000 * (whole - sum(spent.values())) / n:.1f}; in the drawing thread, alongside: "
                  + ", ".join(f"{k} {1000 * v / n:.1f}" for k, v in drawing.items()))
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
