"""The set-up scripts themselves (no compile): paths from any directory, clear failures naming what is missing."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "scripts", "build_caffe.sh")
SHA256 = "c6410cc60bdd6db685d441b66be7df05410f8850ac88d6b75d48ef9b2315c08a"


def run(args, cwd, env=None, timeout=300):
    e = dict(os.environ)
    e.pop("LIFTING_CAFFE_CACHE", None)
    e.update(env or {})
    return subprocess.run(["bash", BUILD, *args], cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout)


def relative_python(cwd):
    """This test's interpreter (the venv's, which has numpy) as a path relative to ``cwd``."""
    return os.path.relpath(os.path.join(os.path.dirname(sys.executable), os.path.basename(sys.executable)), cwd)


def test_download_only_with_relative_python_and_prefix_from_another_directory(tmp_path):
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    py = relative_python(cwd)
    assert not os.path.isabs(py) and "/" in py
    r = run(["--download-only", "--prefix", "cache"], cwd, {"PYTHON": py})
    assert r.returncode == 0, r.stderr
    tarball = r.stdout.strip().splitlines()[-1]
    assert tarball == str(cwd / "cache" / "downloads" / "brocolli-caffe-9.0.2.tar.gz")
    out = subprocess.run(["sha256sum", tarball], capture_output=True, text=True).stdout.split()[0]
    assert out == SHA256
    # a second call finds it in the cache: no download
    r2 = run(["--download-only", "--prefix", str(cwd / "cache")], tmp_path, {"PYTHON": sys.executable})
    assert r2.returncode == 0 and "downloading" not in r2.stderr


def test_missing_system_package_is_named(tmp_path):
    r = run(["--prefix", str(tmp_path / "c")], tmp_path, {"PYTHON": sys.executable,
                                                           "BUILD_CAFFE_SYSROOT": str(tmp_path / "empty-root")})
    assert r.returncode == 1
    assert "missing Boost headers (/usr/include/boost/version.hpp)" in r.stderr
    assert "apt-get install libboost-dev" in r.stderr
    assert not (tmp_path / "c" / "downloads").exists()  # fails before downloading anything


def test_unreachable_index_names_the_sdist(tmp_path):
    env = {"PYTHON": sys.executable, "PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_CONFIG_FILE": os.devnull,
           "PIP_NO_CACHE_DIR": "1", "PIP_RETRIES": "0", "PIP_TIMEOUT": "2", "PIP_FIND_LINKS": ""}
    r = run(["--download-only", "--prefix", str(tmp_path / "c")], tmp_path, env)
    assert r.returncode == 1
    assert "could not download the sdist brocolli-caffe==9.0.2" in r.stderr and "--sdist" in r.stderr
    assert not list((tmp_path / "c" / "downloads").glob("*.tar.gz"))


def test_wrong_local_sdist_is_refused(tmp_path):
    fake = tmp_path / "brocolli-caffe-9.0.2.tar.gz"
    fake.write_bytes(b"not the sdist")
    r = run(["--download-only", "--sdist", fake.name, "--prefix", "c"], tmp_path, {"PYTHON": sys.executable})
    assert r.returncode == 1
    assert f"expected {SHA256}" in r.stderr
    assert not (tmp_path / "c" / "downloads" / fake.name).exists()


def test_missing_python_is_named(tmp_path):
    r = run(["--download-only", "--prefix", str(tmp_path)], tmp_path, {"PYTHON": "bin/no-such-python"})
    assert r.returncode == 1 and f"'{tmp_path}/bin/no-such-python' not found" in r.stderr


def test_nccl_is_refused_with_the_reason(tmp_path):
    r = run(["--cuda", "--nccl", "--prefix", str(tmp_path / "c")], tmp_path, {"PYTHON": sys.executable})
    assert r.returncode == 1
    assert "--nccl: the pinned Caffe" in r.stderr and "lifting train --data DIR --gpu 0,1" in r.stderr
    assert not (tmp_path / "c").exists()
