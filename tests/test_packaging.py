"""A regular (non-editable) install carries every data file the code loads at run time."""
import ast
import fnmatch
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def package_data():
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "package_data":
            return ast.literal_eval(node.value)
    raise AssertionError("setup.py has no package_data")


def test_every_data_file_of_a_package_is_declared():
    declared = package_data()
    for package in ("lifting", "prototxt"):
        patterns = declared.get(package, [])
        for path in (ROOT / package).rglob("*"):
            rel = path.relative_to(ROOT / package).as_posix()
            if path.is_file() and not path.suffix == ".py" and "__pycache__" not in rel:
                assert any(fnmatch.fnmatch(rel, p) for p in patterns), f"{package}/{rel} is not in package_data"
    # the files the command line opens by path are among them
    for rel in ("data/default_model.h5", "data/sample_keypoints.json"):
        assert os.path.exists(ROOT / "lifting" / rel)
        assert any(fnmatch.fnmatch(rel, p) for p in declared["lifting"])
