"""Photos and folders -> every person's 2D (MediaPipe) -> 3D (our model), `lifting estimate` without weights, bad
inputs; the issue-19 done-when on the COCO photographs."""
import json
import os
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

import mediapipe  # noqa: F401,E402  (set-up installs it: a broken MediaPipe must fail, never skip)

from lifting import skeleton
from lifting.lift import Lifter
from lifting.model import load_model
from lifting_cli.main import main
from tests.helpers import shared_path
from tools.photo import InputError, collect_inputs, read_image, run

J = skeleton.JOINT_INDEX


def strict_json(path):
    """JSON that is valid for any reader: NaN/Infinity refused."""
    def refuse(c):
        raise ValueError(f"{path}: {c} in JSON")

    with open(path, encoding="utf-8") as f:
        return json.load(f, parse_constant=refuse)


def assert_upright_and_plausible(pose_mm):
    """A standing-ish adult in our y-up world: head above thorax above hip above knees above feet, limbs of human
    length (the shipped model's limb scale is about 1.15 m)."""
    p = np.asarray(pose_mm, np.float64)
    y = p[:, 1]
    assert y[J["Head"]] > y[J["Thorax"]] > y[J["Hip"]] > max(y[J["RKnee"]], y[J["LKnee"]])
    assert max(y[J["RFoot"]], y[J["LFoot"]]) < y[J["Hip"]] - 300
    assert 700 < skeleton.limb_scale(p) < 1700
    assert 300 < np.linalg.norm(p[J["Thorax"]] - p[J["Hip"]]) < 700


def test_read_image_errors_name_the_file(tmp_path):
    with pytest.raises(InputError, match=r"nope\.jpg: no such image file"):
        read_image(tmp_path / "nope.jpg")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.jpg: empty file \(0 bytes\)"):
        read_image(tmp_path / "empty.jpg")
    (tmp_path / "junk.png").write_bytes(os.urandom(2000))
    with pytest.raises(InputError, match=r"junk\.png: not a readable image \(unknown or corrupt format\)"):
        read_image(tmp_path / "junk.png")
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8)).save(tmp_path / "a.jpg")
    data = (tmp_path / "a.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cut\.jpg: not a readable image \(OSError: image file is truncated"):
        read_image(tmp_path / "cut.jpg")
    assert read_image(tmp_path / "a.jpg").shape == (200, 300, 3)


def test_read_image_follows_exif_orientation_and_makes_rgb(tmp_path):
    img = Image.new("L", (60, 20), 128)  # 60 wide, 20 high, grey
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    img.save(tmp_path / "phone.jpg", exif=exif)
    rgb = read_image(tmp_path / "phone.jpg")
    assert rgb.shape == (60, 20, 3) and rgb.dtype == np.uint8


def test_collect_inputs(tmp_path):
    d = tmp_path / "shots"
    (d / "sub").mkdir(parents=True)
    for n in ("b.png", "a.JPG", "clip.mp4", "notes.txt", "sub/c.jpg"):
        (d / n).write_bytes(b"x")
    assert collect_inputs([d]) == [(str(d / "a.JPG"), "a"), (str(d / "b.png"), "b"), (str(d / "clip.mp4"), "clip")]
    (tmp_path / "none").mkdir()
    with pytest.raises(InputError, match=r"none: the folder holds no image or video"):
        collect_inputs([tmp_path / "none"])
    with pytest.raises(InputError, match=r"missing\.jpg: no such file or folder"):
        collect_inputs([tmp_path / "missing.jpg"])
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "b.jpg").write_bytes(b"x")
    (tmp_path / "other" / "b.png").write_bytes(b"x")
    # the same name with another extension: told apart by it
    assert [s for _, s in collect_inputs([d / "b.png", tmp_path / "other" / "b.jpg"])] == ["b.png", "b.jpg"]
    with pytest.raises(InputError, match=r"shots/b\.png and .*other/b\.png would both write b\.png\.json"):
        collect_inputs([d / "b.png", tmp_path / "other" / "b.png"])


def test_folder_of_photos_person_no_person_and_a_corrupt_file(tmp_path):
    src = shared_path("data", "h36m_fixture", "images", "S8_WalkDog_1.55011271_000026.jpg")
    folder = tmp_path / "in"
    folder.mkdir()
    os.symlink(src, folder / "walk.jpg")
    Image.new("RGB", (320, 240), (90, 90, 90)).save(folder / "wall.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    out = tmp_path / "out"
    records, failed, found = run([folder], str(out), Lifter(load_model()), log=None)
    assert failed == 1 and len(records) == 3 and found == 1
    walk, wall, broken = (strict_json(out / f"{n}.json") for n in ("walk", "wall", "broken"))
    assert walk["status"] == "ok" and walk["num_people"] == 1 and walk["camera"] == "upright"
    person = walk["people"][0]
    assert len(person["joints"]) == 17 and person["observed_joints"] == 17 and person["status"] == "ok"
    assert_upright_and_plausible(person["pose3d_mm"])
    # camera axes (y down) = the upright camera applied to the world pose
    np.testing.assert_allclose(np.array(person["pose3d_camera_mm"]), np.array(person["pose3d_mm"]) * [1, -1, -1],
                               atol=0.02)
    assert 2.0 < person["root_camera_m"][2] < 12.0 and walk["intrinsics"].startswith("assumed")
    assert wall["status"] == "no person detected" and wall["num_people"] == 0 and wall["people"] == []
    assert broken["status"] == "unreadable" and "broken.jpg: not a readable image" in broken["error"]
    assert sorted(p.name for p in out.glob("*.png")) == ["walk.png", "wall.png"]
    png = plt.imread(out / "walk.png")
    assert png.shape[1] > 2 * png.shape[0] and png[..., :3].std() > 0.1  # photo + two 3D panels


def test_cli_sample_writes_an_upright_plausible_3d_pose(tmp_path, capsys):
    out = tmp_path / "est"
    assert main(["estimate", "--sample", "--out", str(out)]) == 0
    assert "sample: skimage.data.camera()" in capsys.readouterr().out
    rec = strict_json(out / "sample.json")
    assert rec["input"] == "sample" and rec["status"] == "ok" and rec["image_size"] == [512, 512]
    # the legs below the knees are outside the photo: MediaPipe still places them, with low visibility, and they
    # are marked as inferred
    person = max(rec["people"], key=lambda p: p["box"][2] * p["box"][3])
    conf = np.array([j["confidence"] for j in person["joints"]])
    observed = [j["observed"] for j in person["joints"]]
    assert conf[J["Head"]] > 0.5 and conf[J["LShoulder"]] > 0.5 and sum(observed) >= 9
    assert observed == [bool(c >= 0.5) for c in conf]
    assert_upright_and_plausible(person["pose3d_mm"])
    png = plt.imread(out / "sample.png")
    assert png.shape[0] > 300 and png.shape[1] > 2 * png.shape[0]


def test_cli_every_person_of_the_baseball_photo_and_no_mixed_skeleton_of_the_skiers(tmp_path):
    """Issue 19's done-when: at least 3 people with 17 joints and `observed` on 000000196141 (batter, catcher,
    umpire, a far player); on 000000197388 (skiers one behind the other) every person's observed limb joints lie on
    one labelled skier (none takes 2 or more joints from another)."""
    import json

    from lifting.pck import match_people

    folder = shared_path("data", "people", "coco")
    out = tmp_path / "D"
    assert main(["estimate", f"{folder}/000000196141.jpg", f"{folder}/000000197388.jpg", "--out", str(out)]) == 0
    rec = strict_json(out / "000000196141.json")
    assert rec["num_people"] >= 3 and len(rec["people"]) == rec["num_people"]
    for p in rec["people"]:
        assert len(p["joints"]) == 17 and all(isinstance(j["observed"], bool) for j in p["joints"])
        assert p["box"][2] > 0 and 0 <= p["score"] <= 1
    assert len({p["id"] for p in rec["people"]}) == rec["num_people"]
    skiers = strict_json(out / "000000197388.json")
    with open(f"{folder}/test_coco.json", encoding="utf-8") as f:
        ann = json.load(f)
    image = next(i["id"] for i in ann["images"] if i["file_name"] == "000000197388.jpg")
    limbs = [J[n] for n in ("LShoulder", "RShoulder", "LElbow", "RElbow", "LWrist", "RWrist", "LHip", "RHip",
                            "LKnee", "RKnee", "LFoot", "RFoot")]
    gts, labs = [], []
    for a in ann["annotations"]:
        if a["image_id"] == image:
            k = np.asarray(a["keypoints"], np.float64).reshape(17, 3)[5:]
            gts.append(k[:, :2])
            labs.append(k[:, 2] > 0)
    preds = [np.array([[p["joints"][j]["x"], p["joints"][j]["y"]] if p["joints"][j]["observed"] else [np.nan] * 2
                       for j in limbs]) for p in skiers["people"]]
    r = match_people(preds, gts, labs)
    assert skiers["num_people"] >= 4 and len(r["pairs"]) >= 4 and max(r["foreign"]) <= 1


def test_cli_people_choice_and_nobody_anywhere_exits_2(tmp_path, capsys):
    folder = shared_path("data", "people", "coco")
    out = tmp_path / "one"
    assert main(["estimate", f"{folder}/000000196141.jpg", "--out", str(out), "--people", "largest",
                 "--no-plot"]) == 0
    rec = strict_json(out / "000000196141.json")
    assert rec["num_people"] == 1 and rec["people_mode"] == "largest"
    assert rec["people"][0]["box"][3] > 250  # the batter, the tallest in the photo
    assert main(["estimate", f"{folder}/000000196141.jpg", "--out", str(tmp_path / "two"), "--people", "2",
                 "--no-plot", "--focal-px", "800"]) == 0
    two = strict_json(tmp_path / "two" / "000000196141.json")
    assert two["num_people"] == 2 and two["intrinsics"].startswith("given: f = (800.0")
    with pytest.raises(SystemExit):
        main(["estimate", f"{folder}/000000196141.jpg", "--people", "nobody"])
    assert "--people" in capsys.readouterr().err
    Image.new("RGB", (320, 240), (90, 90, 90)).save(tmp_path / "wall.png")
    assert main(["estimate", str(tmp_path / "wall.png"), "--out", str(tmp_path / "w"), "--no-plot"]) == 2
    assert "no person was found in any input" in capsys.readouterr().err


def test_cli_errors_are_clear_and_mediapipe_is_needed_only_by_estimate(tmp_path, monkeypatch, capsys):
    assert main(["estimate", "--out", str(tmp_path / "e")]) == 2
    assert "lifting estimate: error: no input given" in capsys.readouterr().err
    for name in ("mediapipe", "mediapipe.python", "mediapipe.python.solutions", "mediapipe.python.solutions.pose"):
        monkeypatch.setitem(sys.modules, name, None)  # as if MediaPipe were not installed
    assert main(["estimate", "--sample", "--out", str(tmp_path / "e")]) == 2
    err = capsys.readouterr().err
    assert "lifting estimate: error: MediaPipe, the 2D detector of `lifting estimate`, is not available" in err
    assert "Traceback" not in err
    assert main(["lift", "--sample", "-o", str(tmp_path / "lift.json")]) == 0  # the rest still works
    assert strict_json(tmp_path / "lift.json")["frames"][0]["status"] == "ok"
