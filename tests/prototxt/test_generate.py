"""The committed prototxt files are exactly what the one definition generates."""
import os

import pytest

caffe = pytest.importorskip("caffe")

from prototxt import generate


def test_committed_prototxt_files_are_up_to_date():
    for name, text in generate.files().items():
        path = os.path.join(generate.HERE, name)
        assert os.path.exists(path), f"{name} is not committed; run `lifting prototxt`"
        with open(path) as f:
            assert f.read() == text, f"{name} differs from the definition; run `lifting prototxt`"


def test_the_solver_of_another_folder_names_that_folder_s_train_net(tmp_path):
    solvers = [p for p in generate.write_all(tmp_path / "out") if p.endswith("_solver.prototxt")]
    assert len(solvers) == 1
    net = open(solvers[0]).read().split('net: "')[1].split('"')[0]
    assert os.path.isabs(net) and os.path.samefile(net, tmp_path / "out" / "lifting_h36m_full_train.prototxt")
