"""``lifting h36m-prepare``: the official Human3.6M layout -> a prepared training/testing dataset
(:mod:`lifting.dataset`): every ``step``-th frame (5: the paper's 10 fps) of every sequence of the chosen subjects,
all four cameras, one person crop per frame with a margin for the augmentation, its labels and camera.

Per camera of a sequence: the 2D joints (D2_Positions), the camera-frame 3D joints (D3_Positions_mono; computed from
D3_Positions and the camera where it is absent, and checked against it where both are there), the camera rotation
``E`` from the cameras file. The 2D must be the camera's (distorted) projection of the 3D to within
:data:`MAX_PROJECTION_PX`, and the mono 3D the camera's view of the world 3D to within :data:`MAX_CAMERA_MM`:
otherwise the cameras file does not belong to the poses, and the run stops naming both files.

Crop (``crop``): ``"authors"`` (the default), the authors' rule (:func:`lifting.cpm.authors_crop_box`: a square
around the pelvis, half-side the farthest joint's distance + 25 px, clamped to the frame, resized to 368 x 368;
OpenCV's default linear resize as their training transformer, cubic with ``protocol="authors-test"`` as their test
script), stored as it is: the data layer's window at scale multiplier 1 is the crop itself. ``"extent"``: centred on
the pelvis, the person box (1.2 x the larger side of the joints' bounding box, the convention of
the ``scale`` of ``h36m_fixture/labels.npz``) scaled to ``BOX_FILL * BOX`` pixels (294.4, its size in the network
window at scale multiplier 1), a square of ``margin`` times that side (2.1 covers the smallest scale multiplier 0.7
rotated by 10 degrees), grey outside the frame.

``protocol="authors-test"``: the test set the authors ran (:mod:`model_fitting.authors_protocol`): S9 then S11, their
sequence order, every 5th frame from the first, their skipped camera and their cut of S11 SittingDown 2.

One shard per sequence, written atomically: an interrupted run, started again with the same settings, skips the
sequences already written and produces the same dataset. Known defects of the release are skipped by name; a video
shorter than its poses gives the frames it has, and the summary says so.
"""
from __future__ import annotations

import os
from collections import defaultdict

import numpy as np

from lifting.cameras import H36M_CAMERA_IDS, read_h36m_cameras
from lifting.cpm import BOX, BOX_FILL, apply_affine, authors_crop_affine, authors_crop_box
from lifting.dataset import FORMAT_VERSION, MANIFEST, DatasetError, shard_info, write_manifest, write_shard
from lifting.files import differences, read_json, sha256_file
from lifting.skeleton import NUM_JOINTS

from . import authors_protocol
from .h36m import KNOWN_DEFECTS, TRAIN_SUBJECTS, find_sequences, read_d2, read_d3, read_video_frames

#: ``crop``: the authors' rule (default) or the person box of the joints' extent
CROPS = ("authors", "extent")
PROTOCOLS = (authors_protocol.NAME,)
#: the largest crop margin (crop side over person box side); 2.1 is the default, larger only wastes memory
MAX_MARGIN = 4.0
#: the person box side over the larger side of the joints' bounding box
BOX_OVER_JOINTS = 1.2
#: largest median 2D distance (pixels) between D2_Positions and the camera's projection of the mono 3D
MAX_PROJECTION_PX = 20.0
#: largest distance (mm) between D3_Positions_mono and the camera's view of D3_Positions
MAX_CAMERA_MM = 20.0


class PrepareError(ValueError):
    """The inputs of a prepare run do not fit together; the message names the files."""


def person_box(joints2d):
    """``(17, 2)`` pixels -> ``(centre of the joints' bounding box (2,), box side)``."""
    lo, hi = joints2d.min(0), joints2d.max(0)
    return (lo + hi) / 2, BOX_OVER_JOINTS * float((hi - lo).max())


def crop_person(frame, joints2d, margin):
    """The crop of one frame: ``(crop (C, C, 3) uint8, M (2, 3) frame -> crop affine, box side in the crop)``."""
    import cv2

    _, side = person_box(joints2d)
    if not side > 0:
        raise ValueError("the 2D joints have no extent")
    box = BOX_FILL * BOX
    scale = box / side
    size = int(round(margin * box))
    centre = (size - 1) / 2
    M = np.array([[scale, 0.0, centre - scale * joints2d[0, 0]], [0.0, scale, centre - scale * joints2d[0, 1]]])
    crop = cv2.warpAffine(frame, M, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=(128, 128, 128))
    return crop, M, box


def crop_authors(frame, joints2d, interpolation="linear"):
    """The authors' crop of one frame (:func:`lifting.cpm.authors_crop_box`): ``(crop (368, 368, 3) uint8, M (2, 3)
    frame -> crop affine, box side in the crop)``. Where the box reaches the frame's last row or column their code
    reads one pixel past it; here that pixel is grey (128), the colour their crop starts with. The box side returned
    is ``BOX_FILL * 368``: the data layer's window at scale multiplier 1 is then the crop itself."""
    import cv2

    h, w = frame.shape[:2]
    x0, y0, cw, ch = authors_crop_box(joints2d, w, h)
    crop = np.full((ch, cw, 3), 128, np.uint8)
    xs0, ys0, xs1, ys1 = max(x0, 0), max(y0, 0), min(x0 + cw, w), min(y0 + ch, h)
    crop[ys0 - y0:ys1 - y0, xs0 - x0:xs1 - x0] = frame[ys0:ys1, xs0:xs1]
    flags = cv2.INTER_CUBIC if interpolation == "cubic" else cv2.INTER_LINEAR
    return cv2.resize(crop, (BOX, BOX), interpolation=flags), authors_crop_affine((x0, y0, cw, ch)), BOX_FILL * BOX


def _check_consistency(seq, root, cam, cid, d2, mono, world, cameras_path):
    """Stop where the cameras file does not belong to the poses (see the module's docstring)."""
    n = min(len(mono), len(world))
    d = np.abs(mono[:n] - cam.world_to_camera(world[:n])).max()
    if d > MAX_CAMERA_MM:
        raise PrepareError(f"{seq.pose_path(root, 'D3_Positions_mono', cid)} is not "
                           f"{seq.pose_path(root, 'D3_Positions')} "
                           f"seen by camera {seq.subject}/{cid} of {cameras_path} (off by up to {d:.0f} mm): "
                           "the cameras file does not belong to these poses")
    n = min(len(d2), len(mono))
    err = np.median(np.linalg.norm(cam.project(mono[:n], distort=True) - d2[:n], axis=-1), axis=-1).max()
    if err > MAX_PROJECTION_PX:
        raise PrepareError(f"{seq.pose_path(root, 'D2_Positions', cid)}: variable 'Pose' is not the projection of "
                           f"the 3D joints through camera {seq.subject}/{cid} of {cameras_path} (median error up to "
                           f"{err:.0f} px): the cameras file does not belong to these poses")


def prepare_sequence(root, seq, cameras, cameras_path, step, margin, jpeg_quality, crop="authors", protocol=None,
                     subaction=None):
    """One sequence, all cameras -> ``(jpegs, arrays, report)`` for :func:`lifting.dataset.write_shard`.
    ``protocol`` ``"authors-test"``: the frames of :func:`model_fitting.authors_protocol.frames_for` (``subaction``:
    the sequence's number there)."""
    import cv2

    report = {"cameras": {}, "skipped": [], "notes": []}
    jpegs, rows = [], defaultdict(list)
    world_path = seq.pose_path(root, "D3_Positions")
    world = read_d3(world_path)
    for cid in H36M_CAMERA_IDS:
        what = f"{seq.subject} {seq.name}.{cid}"
        if (seq.subject, seq.name, cid) in KNOWN_DEFECTS:
            report["skipped"].append([what, KNOWN_DEFECTS[(seq.subject, seq.name, cid)]])
            continue
        if (seq.subject, cid) not in cameras:
            raise PrepareError(f"{cameras_path}: no camera {seq.subject}/{cid} (needed by {what})")
        cam = cameras[(seq.subject, cid)]
        d2 = read_d2(seq.pose_path(root, "D2_Positions", cid))
        mono_path = seq.pose_path(root, "D3_Positions_mono", cid)
        mono = read_d3(mono_path) if os.path.exists(mono_path) else cam.world_to_camera(world)
        _check_consistency(seq, root, cam, cid, d2, mono, world, cameras_path)
        n = min(len(d2), len(mono), len(world))
        if len({len(d2), len(mono), len(world)}) > 1:
            report["notes"].append(f"{what}: pose files differ in length ({len(d2)} 2D, {len(mono)} mono, "
                                   f"{len(world)} world frames): used the first {n}")
        if protocol == authors_protocol.NAME:
            wanted = authors_protocol.frames_for(seq.subject, seq.action, subaction, cid, n)
            if len(wanted) < len(range(0, n, step)):
                report["notes"].append(f"{what}: cut to {len(wanted)} frames per camera ({authors_protocol.NAME} "
                                       "protocol, as the authors' test set)")
        else:
            wanted = list(range(0, n, step))
        got = 0
        for i, frame in read_video_frames(seq.video_path(root, cid), wanted):
            if crop == "authors":
                try:
                    image, M, box = crop_authors(frame, d2[i], "cubic" if protocol else "linear")
                except ValueError as e:
                    raise PrepareError(f"{seq.pose_path(root, 'D2_Positions', cid)}: frame {i}: {e}") from None
            else:
                image, M, box = crop_person(frame, d2[i], margin)
            ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
            if not ok:
                raise PrepareError(f"{seq.video_path(root, cid)}: frame {i}: JPEG encoding failed")
            jpegs.append(buf.tobytes())
            h, w = frame.shape[:2]
            rows["joints2d"].append(apply_affine(M, d2[i]))
            rows["visible"].append(((d2[i] >= 0) & (d2[i] < [w, h])).all(-1))
            # the person centre: the pelvis; in the authors' crop, the crop's centre (the pelvis to within a pixel of
            # their integer box edges), so that the window at scale 1 is the crop itself, as their network saw it
            rows["objpos"].append(apply_affine(M, d2[i][0]) if crop != "authors" else np.full(2, (BOX - 1) / 2))
            rows["box"].append(box)
            rows["E"].append(cam.E)
            rows["joints3d_camera_mm"].append(mono[i])
            rows["crop_transform"].append([M[0, 0], M[0, 2], M[1, 2]])
            if crop == "authors":  # its two axes may scale differently (a box clamped at the frame's edge)
                rows["crop_scale_y"].append(M[1, 1])
            rows["frame"].append(i)
            rows["camera"].append(cid.encode())
            got += 1
        if got < len(wanted):
            report["notes"].append(f"{what}: the video ends before pose frame {wanted[got]} of {n}: "
                                   f"{got} of {len(wanted)} samples (the shorter length is used)")
        report["cameras"][cid] = got
    nj = NUM_JOINTS
    empty = {"joints2d": (0, nj, 2), "visible": (0, nj), "objpos": (0, 2), "box": (0,), "E": (0, 3, 3),
             "joints3d_camera_mm": (0, nj, 3), "crop_transform": (0, 3), "frame": (0,), "camera": (0,)}
    if crop == "authors":
        empty["crop_scale_y"] = (0,)
    arrays = {k: (np.asarray(rows[k]) if rows[k] else np.zeros(shape)) for k, shape in empty.items()}
    report["subaction"] = subaction
    return jpegs, arrays, report


def sequence_sources(root, seq):
    """``{path relative to root: SHA-256}`` of every source file of a sequence that exists (its world 3D, and per
    camera its 2D, mono 3D and video), hashed by content: a shard records what it was made from."""
    paths = [seq.pose_path(root, "D3_Positions")]
    for cid in H36M_CAMERA_IDS:
        paths += [seq.pose_path(root, "D2_Positions", cid), seq.pose_path(root, "D3_Positions_mono", cid),
                  seq.video_path(root, cid)]
    return {os.path.relpath(p, root): sha256_file(p) for p in paths if os.path.isfile(p)}


def shard_name(seq):
    return os.path.join("shards", seq.subject, seq.name.replace(" ", "_") + ".h5")


def prepare(root, out, cameras_path, subjects=None, step=None, margin=2.1, jpeg_quality=90, crop="authors",
            protocol=None, log=print):
    """Prepare (or finish preparing) the dataset in ``out``; returns the manifest (with its ``summary``).
    ``subjects`` (None: the training subjects), ``step`` (None: 5); ``crop``: one of :data:`CROPS`; ``protocol``:
    None, or ``"authors-test"`` (its subjects and step; ``subjects`` and ``step`` must then be None or the
    protocol's)."""
    from tqdm import tqdm

    if crop not in CROPS:
        raise ValueError(f"crop must be one of {list(CROPS)}, got {crop!r}")
    if protocol is not None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {list(PROTOCOLS)}, got {protocol!r}")
        if subjects is not None and tuple(subjects) != authors_protocol.SUBJECTS:
            raise ValueError(f"the {protocol} protocol fixes the subjects ({','.join(authors_protocol.SUBJECTS)}); "
                             f"got {','.join(subjects)}")
        if step is not None and step != authors_protocol.STEP:
            raise ValueError(f"the {protocol} protocol fixes the step ({authors_protocol.STEP}); got {step}")
        subjects, step = authors_protocol.SUBJECTS, authors_protocol.STEP
    subjects = TRAIN_SUBJECTS if subjects is None else subjects
    step = 5 if step is None else step

    if step < 1:
        raise ValueError(f"step must be >= 1, got {step}")
    if not 1 <= margin <= MAX_MARGIN:
        raise ValueError(f"--margin must be in [1, {MAX_MARGIN:g}] (the crop holds the person box; a larger one only "
                         f"costs memory), got {margin}")
    if not 1 <= jpeg_quality <= 100:
        raise ValueError(f"jpeg quality must be in 1..100, got {jpeg_quality}")
    cameras = read_h36m_cameras(cameras_path)
    config = {"root": os.path.abspath(root), "cameras": os.path.abspath(cameras_path), "subjects": list(subjects),
              "step": int(step), "margin": float(margin), "jpeg_quality": int(jpeg_quality),
              "box_over_joints": BOX_OVER_JOINTS, "fps": 50 / step, "crop": crop, "protocol": protocol,
              "cameras_sha256": sha256_file(cameras_path)}
    os.makedirs(out, exist_ok=True)
    manifest_path = os.path.join(out, MANIFEST)
    if os.path.exists(manifest_path):
        record = read_json(manifest_path, DatasetError)
        if not isinstance(record, dict):
            raise DatasetError(f"{manifest_path}: not a dataset manifest (a JSON object)")
        old = record.get("config")
        started = record.get("complete") is not False or bool(record.get("shards")) or \
            os.path.isdir(os.path.join(out, "shards"))
        if old != config and started:
            raise PrepareError(f"{manifest_path}: this folder holds a dataset prepared with other settings "
                               f"({old}); use another --out or the same settings ({config})")
    if not os.path.exists(manifest_path) or old != config:  # the record first: a resumed run is known as this one's
        write_manifest(out, {"format_version": FORMAT_VERSION, "complete": False, "config": config, "shards": []})
    sequences, skipped = find_sequences(root, subjects)
    if protocol is not None:
        ordered = authors_protocol.order_sequences(sequences)
        sequences, subaction = [s for s, _ in ordered], dict(ordered)
    else:
        subaction = {}
    shards, reports = [], []
    for seq in tqdm(sequences, desc="h36m-prepare", unit="seq", disable=log is None):
        name = shard_name(seq)
        path = os.path.join(out, name)
        sources = sequence_sources(root, seq)
        if os.path.exists(path):  # written by an earlier, interrupted run (shards are written atomically)
            n, report = shard_info(path)
            made = {"config": report.get("config"), "sources": report.get("sources")}
            changed = differences(made, {"config": config, "sources": sources})
            if changed:
                raise PrepareError(f"{path}: this shard was made from other inputs or settings than this run's "
                                   f"({'; '.join(changed[:4])}{'; ...' if len(changed) > 4 else ''}); it would be "
                                   "mixed into this dataset: use another --out, or the same inputs and settings")
        else:
            jpegs, arrays, report = prepare_sequence(root, seq, cameras, cameras_path, step, margin, jpeg_quality, crop,
                                                     protocol, subaction.get(seq))
            report = {**report, "config": config, "sources": sources}
            write_shard(path, jpegs, arrays, seq.subject, seq.action, seq.name, report)
            n = len(jpegs)
        shards.append({"file": name, "samples": n, "subject": seq.subject, "action": seq.action,
                       "sequence": seq.name, **({"subaction": subaction[seq], "cameras": report.get("cameras")}
                                                if seq in subaction else {})})
        reports.append(report)
        write_manifest(out, {"format_version": FORMAT_VERSION, "complete": False, "config": config,
                             "shards": shards})
    manifest = {"format_version": FORMAT_VERSION, "complete": True, "config": config, "shards": shards,
                "summary": summarise(shards, reports, skipped)}
    write_manifest(out, manifest)
    if log:
        log(format_summary(manifest["summary"]))
    return manifest


def summarise(shards, reports, skipped):
    per = defaultdict(lambda: defaultdict(int))
    for s in shards:
        per[s["subject"]][s["action"]] += s["samples"]
    sequences = [[s["subject"], s["sequence"], s["subaction"], s["cameras"]] for s in shards if "subaction" in s]
    return {"samples": sum(s["samples"] for s in shards), "sequences": len(shards),
            **({"per_sequence": sequences} if sequences else {}),
            "samples_per_subject_action": {k: dict(sorted(v.items())) for k, v in sorted(per.items())},
            "skipped": [list(x) for x in skipped] + [x for r in reports for x in r["skipped"]],
            "notes": [x for r in reports for x in r["notes"]]}


def format_summary(summary):
    lines = [f"{summary['samples']} samples from {summary['sequences']} sequences"]
    for subj, actions in summary["samples_per_subject_action"].items():
        lines.append(f"  {subj} ({sum(actions.values())}): " + ", ".join(f"{a} {n}" for a, n in actions.items()))
    for subject, name, sub, cams in summary.get("per_sequence", []):  # to compare with the authors' sequences.csv
        counts = sorted(set((cams or {}).values()))
        lines.append(f"  {subject} {name} (sub-action {sub}): {'/'.join(map(str, counts)) or 0} frames per camera x "
                     f"{len(cams or {})} cameras")
    for what, why in summary["skipped"]:
        lines.append(f"  skipped {what}: {why}")
    for note in summary["notes"]:
        lines.append(f"  note: {note}")
    return "\n".join(lines)

