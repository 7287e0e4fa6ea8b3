"""`lifting train --data`: a short run of the small extended net on the prepared miniature release; the GPU and
argument errors a user meets first."""
import os

import pytest

from lifting_cli.main import main  # noqa: E402
from prototxt import generate  # noqa: E402


def test_train_on_a_prepared_dataset(prepared_h36m, tmp_path, capsys):
    out = tmp_path / "run"
    small = os.path.join(generate.HERE, "lifting_h36m_small_train.prototxt")
    assert main(["train", "--data", prepared_h36m, "--prototxt", small, "--iterations", "2", "--workers", "0",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "iterations 0..2 of 172980 on CPU: 1 solver process, batch 4 each" in text
    assert "base_lr 0.0005" in text and "iterations 0..1: loss first 1 mean" in text
    assert (out / "snap_iter_2.solverstate").exists() and (out / "loss.png").exists()


@pytest.mark.parametrize("argv,message", [
    (["--gpu", "0"], "built CPU-only; build Caffe with CUDA"),
    (["--gpu", "0,0"], "--gpu: expected distinct GPU ids"),
    (["--base-lr", "0.1"], "the solver's base_lr is used as shipped"),
    (["--h36m-npz", "x.npz"], "give either --data"),
])
def test_train_argument_errors(prepared_h36m, tmp_path, capsys, argv, message):
    out = tmp_path / "never"
    assert main(["train", "--data", prepared_h36m, "--out", str(out)] + argv) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
