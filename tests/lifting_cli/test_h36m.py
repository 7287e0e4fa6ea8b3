"""`lifting h36m-prepare` on the miniature release: the summary, and bad input named with exit status 2."""
import pytest

from lifting.dataset import PreparedDataset
from lifting_cli.main import main
from tests.helpers import shared_path


def test_prepare_command(official_tree, tmp_path, capsys):
    cams = shared_path("data", "h36m_fixture", "cameras.json")
    out = tmp_path / "d"
    assert main(["h36m-prepare", official_tree[0], "--cameras", cams, "--out", str(out), "--subjects", "S5,S11",
                 "--step", "2"]) == 0
    text = capsys.readouterr().out
    assert "42 samples from 2 sequences" in text  # 6 frames (0, 2, .., 10): S5 4 cameras, S11 3 (the defect)
    assert "skipped S11 Directions.54138969: known defect" in text
    assert len(PreparedDataset(out)) == 42
    assert main(["h36m-prepare", official_tree[0], "--cameras", cams, "--out", str(out), "--subjects", "S5"]) == 2
    assert "dataset.json: this folder holds a dataset prepared with other settings" in capsys.readouterr().err
    assert main(["h36m-prepare", official_tree[0], "--cameras", cams, "--out", str(tmp_path / "e"), "--subjects",
                 "S7"]) == 2
    assert "folder of subject S7 not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["h36m-prepare", official_tree[0], "--cameras", cams, "--out", str(out), "--subjects", "subject1"])
