"""The authors' protocol: their crop rule on hand-worked numbers, their test frames (counts equal to the
``sequences.csv`` of ../shared/data/authors_table1 for every sequence, the skipped camera, the SittingDown cut), and
``h36m-prepare --protocol authors-test --crop authors`` on a miniature official release of S9 and S11."""
import csv

import cv2
import numpy as np
import pytest

from lifting.cpm import BOX, authors_crop_affine, authors_crop_box
from lifting.cameras import H36M_CAMERA_IDS
from lifting.dataset import PreparedDataset
from lifting.image_eval import crop_to_frame
from lifting_cli.main import main
from model_fitting import authors_protocol
from model_fitting.h36m import Sequence, read_d2
from model_fitting.prepare import crop_authors, prepare
from tests.helpers import shared_path

CSV_ACTION = {"Photo": "takingphoto", "WalkDog": "walkingdog", "WalkTogether": "walkingtogether"}


def joints(pelvis, others):
    j = np.tile(np.asarray(pelvis, float), (17, 1))
    if others:
        j[1:1 + len(others)] = others
    return j


def test_authors_crop_box_on_hand_worked_numbers():
    # pelvis (500.4, 400.7); farthest |dx| 100, |dy| 150.5: half-sides int(125), int(175.5) -> the square 175;
    # first pixel int(500.4 - 175) = 325, int(400.7 - 175) = 225; 2 * 175 + 1 = 351 pixels
    j = joints((500.4, 400.7), [(600.4, 400.7), (500.4, 250.2)])
    assert authors_crop_box(j, 1000, 1002) == (325, 225, 351, 351)
    # clamped on the left: half-side int(120 + 25) = 145 > px = 100.6 -> int(100.6) = 100; y keeps 145
    j = joints((100.6, 500.0), [(220.6, 500.0), (100.6, 530.0)])
    assert authors_crop_box(j, 1000, 1002) == (0, 355, 201, 291)
    # clamped on the right: 80 + 25 = 105 > 1000 - 950.5 -> int(49.5) = 49: pixels 901..999
    j = joints((950.5, 500.0), [(870.5, 500.0)])
    assert authors_crop_box(j, 1000, 1002) == (901, 395, 99, 211)
    # the offset is 25 px: a joint 10 px away gives int(35) = 35
    assert authors_crop_box(joints((500.0, 500.0), [(510.0, 500.0)]), 1000, 1002) == (465, 465, 71, 71)
    with pytest.raises(ValueError, match="pelvis .* not inside the 1000 x 1002 frame"):
        authors_crop_box(joints((-3.0, 500.0), []), 1000, 1002)


def test_authors_crop_image_and_affine():
    # the crop is the frame's box resized to 368 x 368; the pelvis lands at the centre pixel 183.5
    M = authors_crop_affine((325, 225, 351, 351))
    assert M[0, 0] == pytest.approx(368 / 351)
    np.testing.assert_allclose(M[:, :2] @ [500.0, 400.0] + M[:, 2], [183.5, 183.5])
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (1002, 1000, 3), dtype=np.uint8)
    j = joints((500.4, 400.7), [(600.4, 400.7), (500.4, 250.2)])
    img, M2, box = crop_authors(frame, j)
    assert img.shape == (BOX, BOX, 3) and box == pytest.approx(0.8 * 368)
    np.testing.assert_array_equal(img, cv2.resize(frame[225:576, 325:676], (368, 368)))
    np.testing.assert_allclose(M2, M)
    # clamped at the right edge, the pixel past the frame is grey, and the axes scale differently
    j = joints((950.5, 500.0), [(870.5, 500.0)])
    img, M3, _ = crop_authors(frame, j)
    assert M3[0, 0] == pytest.approx(368 / 99) and M3[1, 1] == pytest.approx(368 / 211)
    # the crop transform (scale_x, ox, oy, scale_y) takes crop pixels back to the frame
    ct = np.array([[M3[0, 0], M3[0, 2], M3[1, 2], M3[1, 1]]])
    np.testing.assert_allclose(crop_to_frame((M3[:, :2] @ j.T).T[None] + M3[:, 2], ct)[0], j, atol=1e-9)


def read_sequences_csv():
    with open(shared_path("data", "authors_table1", "sequences.csv"), newline="") as f:
        return [(r["subject"], CSV_ACTION.get(r["action"], r["action"].lower()), int(r["subaction"]),
                 int(r["first_row"]), int(r["frames_per_camera"]), int(r["camera_blocks"])) for r in csv.DictReader(f)]


def test_authors_test_frames_match_their_sequences_csv():
    """Every sequence of S9 and S11 with a length that gives the authors' count (``ceil(n / 5)``; S11 SittingDown 2 is
    3926 frames long, cut to 401), named as the release names them (the numbered file first, S11 "Directions" the
    one with the corrupt camera): the frame list reproduces ``sequences.csv`` row for row, and its 109,867 frames."""
    rows = read_sequences_csv()
    assert len(rows) == 60
    seqs, lengths = [], {}
    for subject, action, sub, _, per_camera, _ in reversed(rows):  # the order of the input does not matter
        name = action.capitalize() + (" 1" if sub == 1 else "")
        seq = Sequence(subject, name, action, 1 if sub == 1 else 0)
        seqs.append(seq)
        n = 3926 if (subject, action, sub) == ("S11", "sittingdown", 2) else 5 * per_camera - 2
        lengths[seq] = n
    got = authors_protocol.frame_counts(seqs, lengths, H36M_CAMERA_IDS)
    assert got == [(s, a, sub, k, b) for s, a, sub, _, k, b in rows]
    total = 0
    for (s, a, sub, first, k, b) in rows:  # the rows follow each other in the authors' file
        assert first == total
        total += k * b
    assert total == 109867
    # the two findings, spelled out
    assert authors_protocol.expected_per_camera(3926) == 786 and \
        authors_protocol.frames_for("S11", "sittingdown", 2, "54138969", 3926)[-1] == 2000
    assert authors_protocol.frames_for("S11", "directions", 2, "54138969", 1825, "Directions") == []
    assert len(authors_protocol.frames_for("S11", "directions", 2, "55011271", 1825, "Directions")) == 365
    with pytest.raises(ValueError, match="covers S9, S11"):
        authors_protocol.order_sequences([Sequence("S1", "Directions 1", "directions", 1)])


@pytest.fixture(scope="module")
def test_release(tmp_path_factory):
    """A miniature release of S9 and S11 in the official layout (11 frames a sequence, model_fitting/miniature.py)."""
    from model_fitting.miniature import make_official_tree
    from tests.helpers import shared_path

    root = tmp_path_factory.mktemp("h36m_test_release")
    plan = [("S9", "Directions", 0, "S1"), ("S9", "Directions 1", 0, "S1"), ("S11", "SittingDown", 1, "S5"),
            ("S11", "Directions", 0, "S1"), ("S11", "Directions 1", 0, "S1")]
    make_official_tree(str(root), shared_path("data", "h36m_fixture"), plan)
    return str(root)


def test_prepare_authors_test_protocol(test_release, tmp_path, capsys):
    cams = shared_path("data", "h36m_fixture", "cameras.json")
    out = tmp_path / "test"
    assert main(["h36m-prepare", test_release, "--cameras", cams, "--out", str(out), "--protocol", "authors-test"]) == 0
    printed = capsys.readouterr().out  # per-sequence counts, to compare with sequences.csv
    assert "S11 Directions (sub-action 2): 3 frames per camera x 3 cameras" in printed
    assert "S9 Directions 1 (sub-action 1): 3 frames per camera x 4 cameras" in printed
    d = PreparedDataset(out)
    order = [(s["subject"], s["sequence"], s["subaction"], s["samples"]) for s in d.manifest["shards"]]
    # S9 then S11, action id order, sub-action 1 (the numbered file) then 2; ceil(11 / 5) = 3 frames per camera
    assert order == [("S9", "Directions 1", 1, 12), ("S9", "Directions", 2, 12), ("S11", "Directions 1", 1, 12),
                     ("S11", "Directions", 2, 9), ("S11", "SittingDown", 1, 12)]
    assert d.manifest["config"]["protocol"] == "authors-test" and d.manifest["config"]["crop"] == "authors"
    assert d.manifest["summary"]["skipped"] == [["S11 Directions.54138969",
                                                 "known defect of the official release: the video is corrupt"]]
    metas = [d.meta(i) for i in range(len(d))]
    # one block per camera, every 5th frame from the first
    assert [(m["camera"], m["frame"]) for m in metas[:12]] == [(c, f) for c in H36M_CAMERA_IDS for f in (0, 5, 10)]
    assert [m["camera"] for m in metas[36:45]] == [c for c in H36M_CAMERA_IDS[1:] for _ in range(3)]
    # the authors' crop: 368 x 368, the pelvis at the centre, the labels the D2 file's joints through the crop
    for i in (0, 13, 40):
        s, m = d.sample(i), metas[i]
        img = cv2.imdecode(np.frombuffer(s["jpeg"], np.uint8), cv2.IMREAD_COLOR)
        assert img.shape == (368, 368, 3) and s["box"] == pytest.approx(0.8 * 368)
        assert s["objpos"].tolist() == [183.5, 183.5]  # the crop's centre: the window is the crop itself
        pelvis = s["joints2d"][0]
        assert np.abs(pelvis - 183.5).max() < 1.1  # the pelvis, to within the integer box edges
        seq = Sequence(m["subject"], m["sequence"], m["action"], 0)
        d2 = read_d2(seq.pose_path(test_release, "D2_Positions", m["camera"]))[m["frame"]]
        np.testing.assert_allclose(crop_to_frame(s["joints2d"][None], m["crop_transform"][None])[0], d2, atol=2e-3)
        assert len(m["crop_transform"]) == 4
    # the protocol fixes its subjects and step
    assert main(["h36m-prepare", test_release, "--cameras", cams, "--out", str(tmp_path / "x"), "--protocol",
                 "authors-test", "--subjects", "S9"]) == 2
    assert "fixes the subjects (S9,S11)" in capsys.readouterr().err
    with pytest.raises(ValueError, match="fixes the step"):
        prepare(test_release, str(tmp_path / "y"), cams, step=2, protocol="authors-test", log=None)
