"""The committed prototxt files are exactly what the one definition generates."""
import os

from prototxt import generate


def test_committed_prototxt_files_are_up_to_date():
    for name, text in generate.files().items():
        path = os.path.join(generate.HERE, name)
        assert os.path.exists(path), f"{name} is not committed; run `lifting prototxt`"
        with open(path) as f:
            assert f.read() == text, f"{name} differs from the definition; run `lifting prototxt`"
