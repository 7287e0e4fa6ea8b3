"""scripts/reproduce_paper.sh refuses bad arguments and missing inputs at once, naming what is missing, before it runs
anything."""
import os
import subprocess

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts", "reproduce_paper.sh")


def run(*args, cwd):
    return subprocess.run(["bash", SCRIPT, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_usage_and_missing_inputs(tmp_path):
    r = run(cwd=tmp_path)
    assert r.returncode == 2 and "usage: " in r.stderr and "H36M_ROOT CPM_CAFFEMODEL [--gpu N]" in r.stderr
    assert run(str(tmp_path), "w.caffemodel", "--gpu", cwd=tmp_path).returncode == 2
    for s in ("S1", "S9", "S11"):
        (tmp_path / s).mkdir()
    r = run(str(tmp_path), str(tmp_path / "w.caffemodel"), cwd=tmp_path)
    assert r.returncode == 2 and f"{tmp_path}/cameras.h5: not found" in r.stderr and "what to download" in r.stderr
    assert not (tmp_path / "runs").exists()  # nothing ran
