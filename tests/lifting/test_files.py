import json
import os
import stat

import numpy as np
import pytest

from lifting import skeleton
from lifting.files import atomic_path, atomic_write_text, read_keypoints


def test_atomic_path_renames_on_success_and_leaves_the_old_file_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "first")
    assert target.read_text() == "first"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask  # not mkstemp's private 0600
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_path(target) as tmp:
            with open(tmp, "w") as f:
                f.write("half")
            raise RuntimeError("disk full")
    assert target.read_text() == "first"
    assert sorted(os.listdir(tmp_path)) == ["out.txt"]  # no temporary file left behind


def test_atomic_path_suffix_for_writers_that_choose_the_format_by_extension(tmp_path):
    with atomic_path(tmp_path / "clip.mp4", suffix=".tmp.mp4") as tmp:
        assert tmp.endswith(".tmp.mp4") and os.path.dirname(tmp) == str(tmp_path)
        with open(tmp, "wb") as f:
            f.write(b"x")
    assert sorted(os.listdir(tmp_path)) == ["clip.mp4"]


def _body25(rng, n):
    pts = rng.uniform(0, 500, size=(n, 25, 2))
    conf = rng.uniform(0.5, 1.0, size=(n, 25))
    return pts, conf


def test_openpose_json_first_person_in_body25(tmp_path, rng):
    pts, conf = _body25(rng, 2)  # two people; the first is read
    conf[0, skeleton.KEYPOINT_FORMATS["body25"]["names"].index("r_knee")] = 0.0  # not detected
    people = [{"pose_keypoints_2d": np.concatenate([pts[i], conf[i, :, None]], 1).reshape(-1).tolist()}
              for i in range(2)]
    (tmp_path / "op.json").write_text(json.dumps({"version": 1.3, "people": people}))
    out, w = read_keypoints(tmp_path / "op.json", "body25")
    expected, ew = skeleton.convert_keypoints(pts[:1], "body25", conf[:1])
    assert out.shape == (1, 17, 2)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(w, ew)
    assert w[0, skeleton.JOINT_INDEX["RKnee"]] == 0 and np.isnan(out[0, skeleton.JOINT_INDEX["RKnee"]]).all()
    (tmp_path / "none.json").write_text(json.dumps({"people": []}))
    with pytest.raises(ValueError, match="none.json: field 'people' is empty"):
        read_keypoints(tmp_path / "none.json", "body25")


def test_npz_with_and_without_confidence(tmp_path, rng):
    pts = rng.uniform(0, 100, size=(3, 17, 2))
    conf = rng.uniform(0.2, 1.0, size=(3, 17))
    np.savez(tmp_path / "k.npz", keypoints=pts, confidence=conf)
    out, w = read_keypoints(tmp_path / "k.npz")
    np.testing.assert_array_equal(out, pts)
    np.testing.assert_array_equal(w, conf)
    np.savez(tmp_path / "plain.npz", keypoints=pts)
    np.testing.assert_array_equal(read_keypoints(tmp_path / "plain.npz")[1], np.ones((3, 17)))
    np.savez(tmp_path / "bad.npz", points=pts)
    with pytest.raises(ValueError, match=r"bad.npz: array 'keypoints' is missing \(found \['points'\]\)"):
        read_keypoints(tmp_path / "bad.npz")


def test_npy_third_column_is_the_confidence_and_one_frame_is_a_batch_of_one(tmp_path, rng):
    arr = np.concatenate([rng.uniform(0, 100, size=(17, 2)), np.full((17, 1), 0.7)], 1)
    np.save(tmp_path / "one.npy", arr)
    out, w = read_keypoints(tmp_path / "one.npy")
    assert out.shape == (1, 17, 2)
    np.testing.assert_array_equal(out[0], arr[:, :2])
    np.testing.assert_allclose(w, 0.7)


def test_csv_with_header_and_empty_cells(tmp_path, rng):
    pts = rng.uniform(0, 100, size=(2, 17, 2))
    rows = [",".join(f"{v:.6f}" for v in frame.reshape(-1)) for frame in pts]
    rows[1] = ",".join([""] * 2 + rows[1].split(",")[2:])  # Hip of frame 1 missing
    (tmp_path / "k.csv").write_text("x0,y0,...\n" + "\n".join(rows) + "\n")
    out, w = read_keypoints(tmp_path / "k.csv")
    np.testing.assert_allclose(out[0], pts[0], atol=1e-6)
    assert w[1, 0] == 0 and np.isnan(out[1, 0]).all() and w[1, 1] == 1
    (tmp_path / "short.csv").write_text("1,2,3\n")
    with pytest.raises(ValueError, match="each row must hold 34 or 51 numbers"):
        read_keypoints(tmp_path / "short.csv")


def test_unknown_format_extension_and_missing_file(tmp_path):
    (tmp_path / "k.txt").write_text("1 2")
    with pytest.raises(ValueError, match="unknown keypoint format 'openpose'"):
        read_keypoints(tmp_path / "k.txt", "openpose")
    with pytest.raises(ValueError, match="unsupported extension '.txt'"):
        read_keypoints(tmp_path / "k.txt")
    with pytest.raises(FileNotFoundError, match="no such keypoint file"):
        read_keypoints(tmp_path / "missing.json")


def test_json_list_writer_streams_items_then_the_fields_known_at_the_end():
    import io

    from lifting.files import JsonListWriter

    f = io.StringIO()
    w = JsonListWriter(f, {"input": "v.mp4", "size": [2, 3]}, "frames")
    w.append({"frame": 0, "x": float("nan")})
    w.append({"frame": 1, "x": np.float32(0.5)})
    w.finish({"num_frames": 2, "ids": [4], "warning": None, "rate": float("inf")})
    assert json.loads(f.getvalue()) == {"input": "v.mp4", "size": [2, 3],
                                        "frames": [{"frame": 0, "x": None}, {"frame": 1, "x": 0.5}],
                                        "num_frames": 2, "ids": [4], "warning": None, "rate": None}
    f = io.StringIO()
    JsonListWriter(f, {"a": 1}, "frames").finish()  # no item, no tail
    assert json.loads(f.getvalue()) == {"a": 1, "frames": []}
