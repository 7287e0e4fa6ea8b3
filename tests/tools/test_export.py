"""CSV, HTML and BVH exports of estimate's records (tools/export.py), on hand-made records."""
import csv
import io

import numpy as np

from lifting import skeleton
from lifting.bvh import bone_lengths, bvh_joints_mm, read_bvh, retarget
from lifting.geometry import UPRIGHT_CAMERA, rotate_ground
from lifting.synthetic import make_model
from tools.export import CSV_COLUMNS, csv_text, html_text, world_tracks, write_bvh_files


def _rec(pid, pose, root, observed=True):
    return {"id": pid, "status": "ok", "box": [0, 0, 1, 1], "score": 0.9,
            "joints": [{"name": n, "x": 10.0 + j, "y": 20.0, "confidence": 0.9 if observed else 0.2,
                        "observed": observed} for j, n in enumerate(skeleton.JOINT_NAMES)],
            "pose3d_mm": None if pose is None else np.asarray(pose).tolist(),
            "root_camera_m": None if root is None else list(root)}


def _frames():
    m = make_model(K=1, J=4, seed=3)
    rest = m.mean[0] * 1000.0
    rest = rest - rest[0]
    frames = []
    for k in range(4):
        a = rotate_ground(rest[None], np.array([0.2 * k]))[0]
        people = [_rec(0, a, (0.1 * k, 0.2, 4.0))]
        if k != 2:  # person 1 has no 3D pose in frame 2
            people.append(_rec(1, a, (1.0, 0.2, 6.0), observed=k % 2 == 0))
        else:
            people.append(_rec(1, None, None))
        frames.append({"frame": k, "time_s": k / 10, "people": people})
    return frames, rest


def test_csv_one_row_per_frame_person_joint():
    frames, _ = _frames()
    rows = list(csv.reader(io.StringIO(csv_text(frames))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 1 + 4 * 2 * 17
    r = dict(zip(rows[0], rows[1]))
    assert (r["frame"], r["person"], r["joint"], r["x_px"], r["observed"], r["root_z_m"]) == \
        ("0", "0", "Hip", "10.00", "1", "4.0000")
    no3d = [dict(zip(rows[0], x)) for x in rows[1:] if x[0] == "2" and x[2] == "1"]
    assert len(no3d) == 17 and all(x["x_mm"] == "" and x["root_x_m"] == "" for x in no3d)


def test_world_tracks_place_people_at_their_roots():
    frames, rest = _frames()
    tr = world_tracks(frames, UPRIGHT_CAMERA)
    assert sorted(tr) == [0, 1] and tr[1][0].tolist() == [0, 1, 3]
    # camera (x right, y down, z forward) -> y-up world of the upright camera: (x, -y, -z)
    np.testing.assert_allclose(tr[0][1][0, 0], [0.0, -200.0, -4000.0])


def test_bvh_per_person_round_trips_and_fills_gaps(tmp_path):
    frames, rest = _frames()
    out = write_bvh_files(str(tmp_path / "clip"), frames, UPRIGHT_CAMERA, rest, 0.1)
    assert out[0][1:] == (4, 0) and out[1][1:] == (4, 1)  # person 1: frame 2 repeats frame 1
    for pid, (path, n, _) in out.items():
        idx, poses = world_tracks(frames, UPRIGHT_CAMERA)[pid]
        back = bvh_joints_mm(read_bvh(path))
        assert back.shape == (n, 17, 3)
        target = retarget(poses, bone_lengths(poses))
        np.testing.assert_allclose(back[idx], target, atol=1.0)  # within 1 mm (in fact ~0.002 mm)
        assert np.abs(back[idx] - target).max() < 0.01


def test_html_is_self_contained_with_a_slider():
    frames, _ = _frames()
    html = html_text(frames, UPRIGHT_CAMERA, "clip")
    assert "<script src=" not in html.replace(" ", "")  # plotly.js embedded, no CDN
    assert "Plotly.newPlot" in html or "Plotly.react" in html
    figure = html.split("<script")[-1]  # the last script draws the figure (the ones before are plotly.js)
    assert '"sliders"' in figure and "addFrames" in figure and "red = right, blue = left" in figure
    single = html_text(frames[:1], UPRIGHT_CAMERA, "photo").split("<script")[-1]
    assert '"sliders"' not in single and "person 0" in single
