"""`lifting lift` reads `lifting estimate`'s own JSON (photo, video) and npz (lifting.files.read_keypoints)."""
import json

import numpy as np
import pytest

from lifting import skeleton
from lifting.files import is_estimate_file, read_keypoints


def _person(pid, x0, observed_from=0):
    return {"id": pid, "status": "ok",
            "joints": [{"name": n, "x": x0 + j, "y": 2.0 * j, "confidence": 0.9 if j >= observed_from else 0.3,
                        "observed": j >= observed_from} for j, n in enumerate(skeleton.JOINT_NAMES)]}


def test_photo_json_one_person_and_the_choice_among_several(tmp_path):
    p = tmp_path / "a.json"
    p.write_text(json.dumps({"input": "a.jpg", "people": [_person(0, 100.0, observed_from=3)]}))
    assert is_estimate_file(str(p))
    pts, w = read_keypoints(str(p))
    assert pts.shape == (1, 17, 2)
    assert w[0, :3].tolist() == [0, 0, 0] and np.all(w[0, 3:] == 0.9)  # inferred joints are not lifted as seen
    assert np.isnan(pts[0, :3]).all() and pts[0, 5].tolist() == [105.0, 10.0]
    p.write_text(json.dumps({"people": [_person(0, 100.0), _person(1, 300.0)]}))
    with pytest.raises(ValueError, match="holds people 0, 1: choose one with --person"):
        read_keypoints(str(p))
    assert read_keypoints(str(p), person=1)[0][0, 0, 0] == 300.0
    with pytest.raises(ValueError, match="no person 7"):
        read_keypoints(str(p), person=7)
    with pytest.raises(ValueError, match="format h36m"):
        read_keypoints(str(p), "coco", person=1)


def test_video_json_and_npz_rows_per_frame_with_gaps(tmp_path):
    frames = [{"frame": 0, "people": [_person(4, 10.0)]}, {"frame": 1, "people": []},
              {"frame": 2, "people": [_person(4, 30.0), _person(5, 50.0)]}]
    p = tmp_path / "v.json"
    p.write_text(json.dumps({"input": "v.mp4", "frames": frames}))
    pts, w = read_keypoints(str(p), person=4)
    assert pts.shape == (3, 17, 2) and np.isnan(pts[1]).all() and w[1].sum() == 0
    assert pts[2, 0, 0] == 30.0
    z = tmp_path / "v.npz"
    j = np.stack([pts[0], pts[2], pts[2] + 20.0])  # person 4 in frames 0 and 2, person 5 in frame 2
    np.savez(z, frame=np.array([0, 2, 2]), person=np.array([4, 4, 5]), joints2d_px=j,
             confidence=np.full((3, 17), 0.8), observed=np.ones((3, 17), bool), num_frames=np.int64(3))
    assert is_estimate_file(str(z))
    pts2, w2 = read_keypoints(str(z), person=4)
    np.testing.assert_array_equal(pts2, pts)
    np.testing.assert_array_equal(w2 > 0, w > 0)
    plain = tmp_path / "k.npz"
    np.savez(plain, keypoints=np.zeros((2, 17, 2)))
    assert not is_estimate_file(str(plain))
    with pytest.raises(ValueError, match="person id"):
        read_keypoints(str(plain), person=0)
