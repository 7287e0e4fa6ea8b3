import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgb

from lifting import skeleton
from lifting.geometry import project, rotate_ground
from lifting.model import load_model
from lifting.synthetic import make_model, sample_poses
from lifting_cli.main import main


@pytest.fixture
def model_path(tmp_path):
    m = make_model(K=1, J=3, seed=2)
    p = tmp_path / "m.h5"
    m.save(p)
    return m, str(p)


def test_lift_json_coco_with_plot(tmp_path, model_path):
    m, path = model_path
    canon, _, theta, _ = sample_poses(m, 2, seed=1)
    y = project(rotate_ground(canon, theta), scale=200, offset=(300, 300))
    # write as COCO keypoints: take the H36M joints COCO has
    names = skeleton.KEYPOINT_FORMATS["coco"]["names"]
    cmap = skeleton.KEYPOINT_FORMATS["coco"]["map"]
    coco = np.zeros((2, len(names), 3))
    for h36, src in cmap.items():
        if isinstance(src, str):
            coco[:, names.index(src), :2] = y[:, skeleton.JOINT_INDEX[h36]]
            coco[:, names.index(src), 2] = 0.9
    (tmp_path / "k.json").write_text(json.dumps({"keypoints": coco.tolist()}))
    rc = main(["lift", str(tmp_path / "k.json"), "--format", "coco", "--model", path, "-o", str(tmp_path / "o.json"),
               "--plot", str(tmp_path / "o.png")])
    assert rc == 0
    out = json.loads((tmp_path / "o.json").read_text())
    assert len(out["frames"]) == 2 and out["frames"][0]["status"] == "ok"
    assert np.array(out["frames"][0]["pose3d_mm"]).shape == (17, 3)
    png = plt.imread(tmp_path / "o.png")[..., :3]
    half = png.shape[1] // 2
    for side in (png[:, :half], png[:, half:]):  # the 2D input on the left, the 3D skeleton on the right
        for colour in ("tab:blue", "tab:red"):  # left and right limbs drawn
            assert (np.abs(side - to_rgb(colour)).max(-1) < 0.1).sum() > 50


def test_lift_csv_to_npz(tmp_path, model_path):
    m, path = model_path
    canon, _, theta, _ = sample_poses(m, 3, seed=2)
    y = project(rotate_ground(canon, theta), scale=50)
    np.savetxt(tmp_path / "k.csv", y.reshape(3, -1), delimiter=",", header=",".join(f"c{i}" for i in range(34)))
    assert main(["lift", str(tmp_path / "k.csv"), "--model", path, "-o", str(tmp_path / "o.npz"), "--refine"]) == 0
    z = np.load(tmp_path / "o.npz")
    assert z["pose3d_mm"].shape == (3, 17, 3) and list(z["status"]) == [0, 0, 0]


def test_lift_bad_input_exits_2_with_a_message(tmp_path, model_path, capsys):
    _, path = model_path
    np.save(tmp_path / "bad.npy", np.zeros((2, 16, 2)))
    assert main(["lift", str(tmp_path / "bad.npy"), "--model", path, "-o", str(tmp_path / "o.json")]) == 2
    assert "bad.npy" in capsys.readouterr().err
    assert not (tmp_path / "o.json").exists()


def test_every_subcommand_has_help(capsys):
    for cmd in ("lift", "fit", "evaluate", "import-authors-model", "prototxt", "convert-cpm", "estimate", "train"):
        with pytest.raises(SystemExit) as e:
            main([cmd, "--help"])
        assert e.value.code == 0
        assert "usage: lifting " + cmd in capsys.readouterr().out


def test_lift_sample_is_the_readme_main_job(tmp_path, capsys):
    out, png = tmp_path / "sample.json", tmp_path / "sample.png"
    assert main(["lift", "--sample", "-o", str(out), "--plot", str(png)]) == 0
    frames = json.loads(out.read_text())["frames"]
    assert len(frames) == 29 and all(f["status"] == "ok" for f in frames)
    text = capsys.readouterr().out
    # the printed comparison with the sample's 3D truth: a walking person seen by the sample's tilted camera
    p1 = float(text.split("MPJPE mean ")[1].split()[0])
    p2 = float(text.split("P-MPJPE mean ")[1].split()[0])
    assert 40 < p2 < 130 and p2 < p1 < 200
    pose = np.array(frames[0]["pose3d_mm"])
    ji = skeleton.JOINT_INDEX
    assert pose[ji["Head"], 1] > pose[ji["Hip"], 1] > pose[ji["RFoot"], 1]  # upright, y up
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_lift_camera_file_errors(tmp_path):
    bad = tmp_path / "cam.json"
    bad.write_text(json.dumps({"R": [[1, 0], [0, 1]]}))
    kp = tmp_path / "k.npy"
    np.save(kp, np.zeros((1, 17, 2)))
    assert main(["lift", str(kp), "--camera", str(bad), "-o", str(tmp_path / "o.json")]) == 2
    assert main(["lift", str(kp), "--sample", "-o", str(tmp_path / "o.json")]) == 2
    assert main(["lift", "-o", str(tmp_path / "o.json")]) == 2


def test_fit_then_evaluate_one_component(tmp_path, model_path):
    m, _ = model_path
    canon, _, theta, _ = sample_poses(m, 300, seed=3)
    np.save(tmp_path / "poses.npy", rotate_ground(canon, theta) * 1000.0)
    out = tmp_path / "fitted.h5"
    assert main(["fit", "--poses", str(tmp_path / "poses.npy"), "-J", "3", "-K", "2", "--final-iterations", "3",
                 "--em-iterations", "3", "-o", str(out)]) == 0
    fitted = load_model(out)
    assert fitted.num_basis == 3 and fitted.provenance["inputs"]["poses"] == [str(tmp_path / "poses.npy")]
    assert (tmp_path / "fitted.report.json").exists() and (tmp_path / "fitted.png").exists()
    x, y, z = (canon * 1000.0)[..., 0], (canon * 1000.0)[..., 1], (canon * 1000.0)[..., 2]
    np.savez(tmp_path / "h36m.npz", positions_17=np.stack([-x, -z, y], -1), subject=np.full(300, "S9"),
             action=np.full(300, "walking_1"))
    assert main(["evaluate", "--model", f"k0={out}:0", "--h36m-npz", str(tmp_path / "h36m.npz"),
                 "-o", str(tmp_path / "eval")]) == 0
    res = json.loads((tmp_path / "eval.json").read_text())
    assert res["h36m"]["frames"] == 300 and list(res["h36m"]["p_mpjpe"]) == ["k0"]
    assert main(["evaluate", "--model", f"k9={out}:9", "--h36m-npz", str(tmp_path / "h36m.npz"),
                 "-o", str(tmp_path / "eval")]) == 2  # no component 9: an error message, exit 2


def test_lift_streams_in_chunks_and_matches_one_batch(tmp_path, model_path, monkeypatch, capsys):
    # chunks of 4 frames: the npz and the JSON written chunk by chunk hold what one lift of every frame gives, the
    # plotted frame and the summary come from the right chunk, and --strict names the bad frame by its index
    import lifting_cli.main as cli
    from lifting.lift import Lifter

    m, path = model_path
    canon, _, theta, _ = sample_poses(m, 10, seed=4)
    y = project(rotate_ground(canon, theta), scale=80, offset=(200, 200))
    y[6, :14] = np.nan  # frame 6 cannot be lifted
    np.save(tmp_path / "k.npy", y)
    monkeypatch.setattr(cli, "LIFT_CHUNK", 4)
    ref = Lifter(m).lift(y)
    assert main(["lift", str(tmp_path / "k.npy"), "--model", path, "-o", str(tmp_path / "o.npz"),
                 "--plot", str(tmp_path / "o.png"), "--plot-frame", "5"]) == 0
    assert "lifted 9 of 10 frames" in capsys.readouterr().out
    z = np.load(tmp_path / "o.npz")
    np.testing.assert_allclose(z["pose3d_mm"], ref.pose3d_mm, atol=1e-5)  # mm; the search stops within 1e-7 rad
    assert z["status"].tolist() == ref.status.tolist() and list(z["joint_names"]) == list(skeleton.JOINT_NAMES)
    assert main(["lift", str(tmp_path / "k.npy"), "--model", path, "-o", str(tmp_path / "o.json")]) == 0
    frames = json.loads((tmp_path / "o.json").read_text())["frames"]
    assert len(frames) == 10 and frames[6]["pose3d_mm"] is None and frames[6]["status"] != "ok"
    np.testing.assert_allclose(np.array(frames[9]["pose3d_mm"]), ref.pose3d_mm[9], atol=1e-3)
    assert main(["lift", str(tmp_path / "k.npy"), "--model", path, "-o", str(tmp_path / "s.json"), "--strict"]) == 2
    assert "frame 6: fewer visible joints" in capsys.readouterr().err
    assert not (tmp_path / "s.json").exists() and len(list(tmp_path.iterdir())) == 5  # nothing left behind
