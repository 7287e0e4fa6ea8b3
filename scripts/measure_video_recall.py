"""Who the video schedule (tools/people.py, TrackedSearch: the full search every 10th frame, the people followed
between) finds, against labelled people and against the full search on every frame: the tool's schedule as it is
(its defaults) and, where TrackedSearch has ``tile_every``, with the tiles at every full search (``tile_every`` 1)
and every second one at least (2).

Videos made from real pixels of ../shared/data/people:

* ``still``: each of the 6 labelled photographs repeated for --frames frames;
* ``pan``: a window of 70% of each photograph's width, full height, sliding from its left edge to its right over
  --frames frames (a camera pan: people leave by the left edge and come in by the right one); the labelled joints
  are moved with it and those outside the window are not scored;
* ``street``: the street clip (5 frames, no labels) looped to --frames frames from each of its 5 frames; scored
  against the full search on every frame (the share of its people, by :func:`tools.people.same_person`, that the
  schedule also reports on that frame).

Scores on the labelled videos: PCK@0.2 of the torso on the 12 limb joints, every frame's detections matched one to
one to its labelled people (lifting/pck.py, as scripts/measure_people.py), summed over frames; "people-frames" the
labelled people (with a torso in view) given a detection. On the street clip also the IMAGE-mode passes (whole image,
tiles) and the seconds of each schedule.

    .venv/bin/python scripts/measure_video_recall.py [--frames 40] [--out results/video_people]
"""
import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
MEDIAPIPE12 = (11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)


def pan(rgb, gts, labs, frames, share=0.7):
    """``frames`` crops of ``share`` of the width sliding left to right, with the labels moved and cut."""
    h, w = rgb.shape[:2]
    cw = int(round(share * w))
    for i in range(frames):
        x0 = int(round(i * (w - cw) / max(frames - 1, 1)))
        crop = np.ascontiguousarray(rgb[:, x0:x0 + cw])
        g = [k - np.array([x0, 0.0]) for k in gts]
        lab = [la & (k[:, 0] >= 0) & (k[:, 0] < cw) for k, la in zip(g, labs)]
        yield crop, g, lab


def schedules():
    """{label: TrackedSearch's keyword arguments, or None for the full search on every frame}."""
    import inspect

    from tools.people import TrackedSearch

    out = {"full search every frame": None, "the tool's schedule": {}}
    if "tile_every" in inspect.signature(TrackedSearch).parameters:
        out |= {"tile_every 1": {"tile_every": 1}, "tile_every 2": {"tile_every": 2}}
    return out


def run_schedule(det, frames, kwargs):
    """The people of each frame: ``kwargs`` None the full search on every frame, else TrackedSearch(**kwargs)."""
    from tools.people import TrackedSearch

    if kwargs is None:
        return [det.detect(f) for f in frames]
    search = TrackedSearch(det, "all", **kwargs)
    try:
        return [search(f, i) for i, f in enumerate(frames)]
    finally:
        search.close()


class Counted:
    """The detector with its IMAGE-mode passes (whole image, tiles, window followers) counted."""

    def __init__(self, det):
        self.det, self.passes = det, 0
        inner = det._landmarker.detect

        def count(*a, **k):
            self.passes += 1
            return inner(*a, **k)
        det._landmarker.detect = count


def main(argv=None):
    from lifting.pck import match_people
    from measure_people import labelled_people
    from tools.people import MultiPoseDetector, same_person
    from tools.photo import read_image

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", default=os.path.join(ROOT, "..", "shared", "data", "people"))
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--out", default=os.path.join(ROOT, "results", "video_people"))
    args = ap.parse_args(argv)
    data = labelled_people(args.people)
    names = schedules()
    rows = {k: {"correct": 0, "labelled": 0, "people": 0, "scored_people": 0, "seconds": 0.0} for k in names}
    per_video = []
    with MultiPoseDetector() as det:
        counter = Counted(det)
        for path, gts, labs in data:
            rgb = read_image(path)
            videos = {"still": [(rgb, gts, labs)] * args.frames, "pan": list(pan(rgb, gts, labs, args.frames))}
            for kind, frames in videos.items():
                cells = {}
                for key, kwargs in names.items():
                    t = time.perf_counter()
                    if kwargs is None and kind == "still":
                        out = run_schedule(det, [frames[0][0]], None) * args.frames
                    else:
                        out = run_schedule(det, [f for f, _, _ in frames], kwargs)
                    dt = time.perf_counter() - t
                    c = lab_n = ppl = scored = 0
                    for people, (_, g, lab) in zip(out, frames):
                        r = match_people([p.detection.landmarks_px[list(MEDIAPIPE12)] for p in people], g, lab)
                        c, lab_n = c + r["correct"], lab_n + r["labelled"]
                        ppl += len(r["pairs"])
                        scored += len(g) - r["unscored"]
                    row = rows[key]
                    row["correct"] += c
                    row["labelled"] += lab_n
                    row["people"] += ppl
                    row["scored_people"] += scored
                    row["seconds"] += dt
                    cells[key] = {"pck": c / max(lab_n, 1), "people": ppl, "scored_people": scored}
                per_video.append({"video": f"{kind} {os.path.relpath(path, args.people)}", **cells})
                print(per_video[-1], flush=True)
        # the street clip against the full search on each of its frames
        from tools.media import video_frames

        clip = list(video_frames(os.path.join(args.people, "video", "street_5frames.mp4")))
        reference = [det.detect(f) for f in clip]
        street = {}
        for key, kwargs in names.items():
            if kwargs is None:
                continue
            want = got = 0
            passes0, t = counter.passes, time.perf_counter()
            for start in range(len(clip)):
                frames = [clip[(start + i) % len(clip)] for i in range(args.frames)]
                out = run_schedule(det, frames, kwargs)
                for i, people in enumerate(out):
                    ref = reference[(start + i) % len(clip)]
                    want += len(ref)
                    got += sum(any(same_person(r.detection, q.detection, r.box, q.box) for q in people) for r in ref)
            street[key] = {"found": got, "of": want, "seconds": time.perf_counter() - t,
                           "image_passes": counter.passes - passes0}
            print(key, street[key], flush=True)
    lines = [f"labelled photos as videos of {args.frames} frames (still and panned), 12 limb joints, PCK@0.2 torso:",
             "", "| schedule | PCK@0.2 | labelled people-frames found | seconds |", "|---|---|---|---|"]
    for key in names:
        r = rows[key]
        lines.append(f"| {key} | {100 * r['correct'] / r['labelled']:.1f}% ({r['correct']} of {r['labelled']}) | "
                     f"{r['people']} of {r['scored_people']} | {r['seconds']:.1f} |")
    lines += ["", "| video | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for v in per_video:
        lines.append(f"| {v['video']} | " + " | ".join(
            f"{100 * v[n]['pck']:.0f}%, {v[n]['people']} of {v[n]['scored_people']}" for n in names) + " |")
    lines += ["", f"street clip looped to {args.frames} frames from each of its 5 frames: the people the full search "
              "finds on a frame that the schedule reports on it", "",
              "| schedule | found | IMAGE-mode passes (whole image, tiles) | seconds |", "|---|---|---|---|"]
    for label, s in street.items():
        lines.append(f"| {label} | {s['found']} of {s['of']} ({100 * s['found'] / s['of']:.1f}%) | "
                     f"{s['image_passes']} | {s['seconds']:.1f} |")
    text = "\n".join(lines) + "\n"
    from lifting.files import atomic_write_json, atomic_write_text

    atomic_write_text(args.out + ".md", text)
    atomic_write_json(args.out + ".json", {"frames": args.frames, "labelled": rows,
                                           "per_video": per_video, "street": street})
    print(text)
    print(f"-> {args.out}.md, {args.out}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
