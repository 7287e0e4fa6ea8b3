"""Files people open: from ``lifting estimate``'s per-frame records (the ``people`` lists of a photo or of every
video frame) to a BVH per person (:mod:`lifting.bvh`), one CSV (a row per frame, person and joint) and one
self-contained interactive HTML 3D view (plotly, with plotly.js embedded: it opens offline) with a frame slider for
videos.

A frame record is ``{"frame": i, "time_s": t or None, "people": [person record, ...]}`` with the person records of
:meth:`tools.people.PersonEstimate.record`. 3D in the BVH and the HTML: the y-up world of the lift (``pose3d_mm``,
root-relative), placed at the person's root (``root_camera_m`` turned into the world by the camera rotation E:
``E^T root``), so several people stand where they are relative to each other.
"""
from __future__ import annotations

import csv
import io
import os

import numpy as np

from lifting import skeleton

CSV_COLUMNS = ("frame", "time_s", "person", "status", "joint", "x_px", "y_px", "confidence", "observed", "x_mm",
               "y_mm", "z_mm", "root_x_m", "root_y_m", "root_z_m")
CSV_NOTE = ("x_px, y_px: image pixels (x right, y down); x_mm, y_mm, z_mm: the 3D joint in the lift's y-up world, "
            "root (Hip) at the origin; root_*_m: the root in camera axes (x right, y down, z forward), metres")


def _cell(v, digits):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float) and not np.isfinite(v):
        return ""
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def csv_text(frames):
    """The CSV (text): a header row (:data:`CSV_COLUMNS`) then one row per frame, person and joint; empty cells where
    there is no value (no 3D pose, no time)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for fr in frames:
        for p in fr["people"]:
            pose = p.get("pose3d_mm")
            root = p.get("root_camera_m") or [None] * 3
            for j, jt in enumerate(p["joints"]):
                xyz = pose[j] if pose is not None else [None] * 3
                w.writerow([fr["frame"], _cell(fr.get("time_s"), 4), p["id"], p["status"], jt["name"],
                            _cell(jt["x"], 2), _cell(jt["y"], 2), _cell(jt["confidence"], 3),
                            _cell(bool(jt["observed"]), 0), *(_cell(v, 2) for v in xyz),
                            *(_cell(v, 4) for v in root)])
    return buf.getvalue()


def write_csv(path, frames):
    from lifting.files import atomic_write_text

    atomic_write_text(path, csv_text(frames))


def world_tracks(frames, camera_E):
    """``{person id: (frame indices (T,), poses (T, 17, 3) mm)}``: every person's 3D joints in the y-up world, placed
    at its root (``E^T root_camera``), for the frames where it has a 3D pose."""
    E = np.asarray(camera_E, np.float64)
    out = {}
    for k, fr in enumerate(frames):
        for p in fr["people"]:
            if p.get("pose3d_mm") is None:
                continue
            pose = np.asarray(p["pose3d_mm"], np.float64)
            root = p.get("root_camera_m")
            offset = E.T @ (np.asarray(root, np.float64) * 1000.0) if root is not None else np.zeros(3)
            idx, poses = out.setdefault(p["id"], ([], []))
            idx.append(k)
            poses.append(pose + offset)
    return {pid: (np.array(i), np.array(p)) for pid, (i, p) in out.items()}


def write_bvh_files(stem, frames, camera_E, rest_pose_mm, frame_time, log=None):
    """One BVH per person: ``<stem>.person<id>.bvh``; returns ``{id: (path, frames written, frames filled)}``. A
    person's frames run from its first to its last frame with a 3D pose; a frame between without one repeats the
    previous pose (counted as filled). Bone lengths: the median of the person's lifted bones."""
    from lifting.bvh import bone_lengths, write_bvh

    written = {}
    for pid, (idx, poses) in sorted(world_tracks(frames, camera_E).items()):
        span = np.arange(idx[0], idx[-1] + 1)
        pos = np.searchsorted(idx, span, side="right") - 1  # the latest frame with a pose, at or before
        filled = int(np.count_nonzero(idx[pos] != span))
        full = poses[pos]
        path = f"{stem}.person{pid}.bvh"
        write_bvh(path, full, bone_lengths(poses), rest_pose_mm, frame_time)
        written[pid] = (path, len(span), filled)
    return written


def html_text(frames, camera_E, title):
    """A self-contained HTML page (plotly.js embedded) with every person's 3D skeleton, y up, axes fixed over the
    whole video (no re-zoom), a frame slider when there is more than one frame; right limbs red, left blue."""
    import plotly.graph_objects as go

    tracks = world_tracks(frames, camera_E)
    ids = sorted(tracks)
    right = set(skeleton.RIGHT_JOINTS)
    segs = {"right": [b for b in skeleton.LIMBS if b[0] in right],
            "left/centre": [b for b in skeleton.LIMBS if b[0] not in right]}
    colours = {"right": "#d62728", "left/centre": "#1f77b4"}
    allpts = np.concatenate([p.reshape(-1, 3) for _, p in tracks.values()]) if tracks else np.zeros((1, 3))

    def traces(k):
        out = []
        for pid in ids:
            idx, poses = tracks[pid]
            hit = np.flatnonzero(idx == k)
            for side, limbs in segs.items():
                xs, ys, zs = [], [], []
                if hit.size:
                    P = poses[hit[0]] / 1000.0
                    for c, p in limbs:
                        # plotly's z is up: our world (x, y up, z) is drawn as (x, -z, y)
                        xs += [P[p, 0], P[c, 0], None]
                        ys += [-P[p, 2], -P[c, 2], None]
                        zs += [P[p, 1], P[c, 1], None]
                out.append(go.Scatter3d(x=xs, y=ys, z=zs, mode="lines+markers", name=f"person {pid} {side}",
                                        line=dict(color=colours[side], width=6), marker=dict(size=3)))
        return out

    n = len(frames)
    lo, hi = allpts.min(0) / 1000.0 - 0.3, allpts.max(0) / 1000.0 + 0.3
    scene = dict(xaxis=dict(title="x (m)", range=[lo[0], hi[0]]), yaxis=dict(title="-z (m)", range=[-hi[2], -lo[2]]),
                 zaxis=dict(title="y, up (m)", range=[lo[1], hi[1]]), aspectmode="data")
    fig = go.Figure(data=traces(0))
    fig.update_layout(title=f"{title}: red = right, blue = left", scene=scene, uirevision="fixed")
    if n > 1:
        fig.frames = [go.Frame(data=traces(k), name=str(fr["frame"])) for k, fr in enumerate(frames)]
        steps = [dict(method="animate", label=str(fr["frame"]),
                      args=[[str(fr["frame"])], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                                     transition=dict(duration=0))]) for fr in frames]
        play = dict(label="play", method="animate", args=[None, dict(frame=dict(duration=100, redraw=True))])
        fig.update_layout(sliders=[dict(steps=steps, currentvalue=dict(prefix="frame "))],
                          updatemenus=[dict(type="buttons", buttons=[play])])
    return fig.to_html(include_plotlyjs=True, full_html=True)


def write_html(path, frames, camera_E, title):
    from lifting.files import atomic_write_text

    atomic_write_text(path, html_text(frames, camera_E, title))


def write_exports(work_stem, base, frames, exports, lifter, title, frame_time, summary):
    """Write the ``exports`` of ``frames`` (export records) under ``work_stem`` (a temporary folder); returns the
    ``(temporary, final)`` pairs for :func:`lifting.files.commit_together`; ``summary['bvh']`` says what each BVH
    holds."""
    pairs = []
    if "csv" in exports:
        write_csv(work_stem + ".csv", frames)
        pairs.append((work_stem + ".csv", base + ".csv"))
    if "html" in exports:
        write_html(work_stem + ".html", frames, lifter.camera, title)
        pairs.append((work_stem + ".html", base + ".html"))
    if "bvh" in exports:
        m = lifter.model
        written = write_bvh_files(work_stem, frames, lifter.camera, m.mean[0] * m.mm_per_unit, frame_time)
        summary["bvh"] = {}
        for pid, (tmp, n, filled) in written.items():
            final = f"{base}.person{pid}.bvh"
            pairs.append((tmp, final))
            summary["bvh"][str(pid)] = {"file": final, "frames": n, "frames_filled": filled}
    return pairs


def remove_stale_bvh(base, pairs, exports):
    """After a run with ``--bvh`` (replacing with --force): an earlier run's ``<base>.person<id>.bvh`` of a person not
    in this run no longer belongs to these outputs and is removed."""
    import glob

    if "bvh" not in exports:
        return
    keep = {os.path.abspath(p) for _, p in pairs}
    for f in glob.glob(glob.escape(base) + ".person*.bvh"):
        if os.path.abspath(f) not in keep:
            os.unlink(f)
