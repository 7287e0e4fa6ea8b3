import json

import numpy as np
import pytest

from lifting import skeleton
from lifting.geometry import project, rotate_ground
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
            coco[:, names.index(src), :2] = y[:, skeleton.J[h36]]
            coco[:, names.index(src), 2] = 0.9
    (tmp_path / "k.json").write_text(json.dumps({"keypoints": coco.tolist()}))
    rc = main(["lift", str(tmp_path / "k.json"), "--format", "coco", "--model", path, "-o", str(tmp_path / "o.json"),
               "--plot", str(tmp_path / "o.png")])
    assert rc == 0
    out = json.loads((tmp_path / "o.json").read_text())
    assert len(out["frames"]) == 2 and out["frames"][0]["status"] == "ok"
    assert np.array(out["frames"][0]["pose3d_mm"]).shape == (17, 3)
    assert (tmp_path / "o.png").stat().st_size > 5000


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
