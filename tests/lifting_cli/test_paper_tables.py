"""``lifting paper-tables --per-frame-errors``: the authors' own per-frame errors
(../shared/data/authors_table1/per_frame_errors.npz) give their Table 1 mixture row; a hand-worked small file gives
per-action frame means and the frame-weighted average; bad files are refused in one line."""
import json

import numpy as np
import pytest

from lifting import paper
from lifting.image_eval import ACTION_COLUMNS
from lifting_cli.main import main
from tests.helpers import shared_path


def test_authors_per_frame_errors_give_their_table1_row(tmp_path, capsys):
    src = shared_path("data", "authors_table1", "per_frame_errors.npz")
    stem = tmp_path / "out" / "authors"
    assert main(["paper-tables", "--per-frame-errors", src, "-o", str(stem)]) == 0
    js = json.loads((tmp_path / "out" / "authors.json").read_text())
    row = paper.TABLE1["Ours - Mixture PPCA Model (paper, Table 1)"]
    keys = ["directions", "discussion", "eating", "greeting", "phoning", "takingphoto", "posing", "purchases",
            "sitting", "sittingdown", "smoking", "waiting", "walkingdog", "walking", "walkingtogether"]
    for column, key in zip(ACTION_COLUMNS, keys):
        assert js[column] == pytest.approx(row[key], abs=0.01), column
    assert js["average_frames"] == pytest.approx(88.39, abs=0.005)
    assert js["average_actions"] == pytest.approx(88.53, abs=0.005)  # the mean of the columns is not the Average
    assert js["frames"] == 109867
    assert js["per_subject"]["S9"]["frames"] == 63596 and js["per_subject"]["S11"]["frames"] == 46271
    md = (tmp_path / "out" / "authors.md").read_text()
    assert "| 64.98 | 73.47 |" in md and "| 88.53 | 88.39 |" in md
    csv = (tmp_path / "out" / "authors.csv").read_text().splitlines()
    assert csv[0].startswith("Method,Directions") and csv[1].endswith(",88.53,88.39")


def test_hand_worked_frame_means(tmp_path):
    # Directions: 10, 20, 30 -> 20; Walking: 100 -> 100. Frame-weighted: 160 / 4 = 40; action mean: 60.
    f = tmp_path / "e.npz"
    np.savez(f, error_mm=np.array([10.0, 20.0, 30.0, 100.0]), subject=np.array(["S9", "S9", "S11", "S11"]),
             action=np.array(["Directions", "Directions", "Directions", "Walking"]))
    assert main(["paper-tables", "--per-frame-errors", str(f), "-o", str(tmp_path / "t"), "--label", "hand"]) == 0
    js = json.loads((tmp_path / "t.json").read_text())
    assert js["Directions"] == 20.0 and js["Walking"] == 100.0 and "Eating" not in js
    assert js["average_frames"] == 40.0 and js["average_actions"] == 60.0
    assert js["frames_per_action"] == {"Directions": 3, "Walking": 1}
    assert js["per_subject"]["S11"] == {"frames": 2, "mean_mm": 65.0, "median_mm": 65.0}


@pytest.mark.parametrize("fields, message", [
    ({"error_mm": [1.0, np.nan], "subject": ["S9", "S9"], "action": ["Eating", "Eating"]}, "1 non-finite values"),
    ({"error_mm": [1.0, 2.0], "subject": ["S9", "S9"]}, "fields ['action'] are missing"),
    ({"error_mm": [1.0, 2.0], "subject": ["S9"], "action": ["Eating", "Eating"]}, "field 'subject' has shape"),
    ({"error_mm": [1.0], "subject": ["S9"], "action": ["Dancing"]}, "no Human3.6M action: ['Dancing']"),
])
def test_bad_per_frame_error_files_are_refused(tmp_path, capsys, fields, message):
    f = tmp_path / "bad.npz"
    np.savez(f, **{k: np.array(v) for k, v in fields.items()})
    assert main(["paper-tables", "--per-frame-errors", str(f), "-o", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err
    assert message in err and "bad.npz" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "t.json").exists()


def test_run_and_per_frame_errors_exclude_each_other(tmp_path, capsys):
    assert main(["paper-tables", "-o", str(tmp_path / "t")]) == 2
    assert "either --run" in capsys.readouterr().err
