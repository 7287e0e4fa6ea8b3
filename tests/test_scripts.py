"""The set-up scripts themselves (no compile): the pinned official source checked by SHA-256 or build-tree hash, the
build tree = pristine source + exactly scripts/caffe-patches/, the installed Caffe built from that tree, paths from any
directory, clear failures naming what is missing."""
import glob
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile

import pytest

from tests.helpers import shared_path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(ROOT, "scripts")
BUILD = os.path.join(SCRIPTS, "build_caffe.sh")
PATCHES = sorted(glob.glob(os.path.join(SCRIPTS, "caffe-patches", "*.patch")))
NAME = "caffe_1.0.0+git20180821.99bd997.orig.tar.gz"
SHA256 = "e0eb3f06794f7402c77b7dec8e8480273ee1a1bb192e9122b621a69d4147ad0c"
TREE = "2cd5452d7ea295a0b67613683838387293f5d1d461850079df686634e8dddf9a"
sys.path.insert(0, SCRIPTS)
import caffe_tree  # noqa: E402


def run(args, cwd, env=None, timeout=300, script=BUILD):
    e = dict(os.environ)
    e.pop("LIFTING_CAFFE_CACHE", None)
    e.update(env or {})
    return subprocess.run(["bash", script, *args], cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout)


def relative_python(cwd):
    """This test's interpreter (the venv's, which has numpy) as a path relative to ``cwd``."""
    return os.path.relpath(os.path.join(os.path.dirname(sys.executable), os.path.basename(sys.executable)), cwd)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture(scope="module")
def source():
    return shared_path("caffe-src", NAME)


@pytest.fixture(scope="module")
def prepared(source, tmp_path_factory):
    d = tmp_path_factory.mktemp("prep")
    r = run(["--source", source, "--prefix", str(d / "cache"), "--prepare-only", str(d / "tree")], d,
            {"PYTHON": sys.executable})
    assert r.returncode == 0, r.stderr
    return str(d / "tree")


def test_the_pinned_hashes_are_those_of_the_pristine_source(source):
    assert sha(source) == SHA256 and os.path.getsize(source) == 8518844
    assert caffe_tree.tree_hash(source) == TREE
    text = open(BUILD).read()
    assert f'SRC_SHA256="{SHA256}"' in text and f'SRC_TREE_SHA256="{TREE}"' in text


def test_build_tree_is_the_pristine_source_plus_exactly_the_patches(source, prepared, tmp_path):
    named = set()
    for p in PATCHES:
        lines = open(p).read().splitlines()
        assert lines[0].startswith("Why: ") and len(lines[0]) > 30, f"{p}: first line must say why"
        named |= {ln[6:].split("\t")[0] for ln in lines if ln.startswith("+++ b/")}
    assert named == {"src/caffe/util/io.cpp", "src/caffe/common.cpp", "python/caffe/_caffe.cpp"}  # README lists them
    with tarfile.open(source) as tar:
        members = {m.name: m for m in tar if m.isfile()}  # Debian's tarball: no top folder, no "./"
        for name, m in members.items():
            with open(os.path.join(prepared, name), "rb") as f:
                same = f.read() == tar.extractfile(m).read()
            assert same == (name not in named), name  # every other file untouched, every patched file changed
    listed = {os.path.relpath(os.path.join(d, f), prepared) for d, _, fs in os.walk(prepared) for f in fs}
    assert listed == set(members)  # nothing added, nothing removed
    undone = tmp_path / "undone"
    shutil.copytree(prepared, undone, symlinks=True)
    for p in reversed(PATCHES):  # reversing the patches gives back the pristine tree, byte for byte
        subprocess.run(["patch", "-R", "-p1", "--batch", "--quiet", "-i", p], cwd=undone, check=True)
    assert caffe_tree.tree_hash(str(undone)) == TREE


def test_installed_caffe_is_built_from_that_tree(prepared):
    import caffe
    stamp = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(caffe.__file__))), "BUILD_OK")
    assert os.path.isfile(stamp), f"{caffe.__file__} is not a build of scripts/build_caffe.sh"
    fields = dict(kv.split("=", 1) for kv in open(stamp).read().split())
    assert fields["sha256"] == SHA256 and fields["build_tree"] == TREE
    assert fields["patched_tree"] == caffe_tree.tree_hash(prepared)
    assert fields["patches"].split(",") == [f"{os.path.basename(p)}:{sha(p)[:16]}" for p in PATCHES]
    assert hasattr(caffe, "NCCL") and hasattr(caffe, "has_nccl")  # BVLC's pycaffe (the fork had removed NCCL)


def test_download_only_with_a_local_source_relative_python_and_prefix_from_another_directory(source, tmp_path):
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    py = relative_python(cwd)
    assert not os.path.isabs(py) and "/" in py
    local = tmp_path / "copy.tar.gz"
    shutil.copy(source, local)
    r = run(["--download-only", "--source", "../copy.tar.gz", "--prefix", "cache"], cwd, {"PYTHON": py})
    assert r.returncode == 0, r.stderr
    tarball = r.stdout.strip().splitlines()[-1]
    assert tarball == str(cwd / "cache" / "downloads" / "copy.tar.gz") and sha(tarball) == SHA256


def test_cached_source_is_used_without_a_download(source, tmp_path):
    os.makedirs(tmp_path / "c" / "downloads")
    shutil.copy(source, tmp_path / "c" / "downloads" / NAME)
    env = {"PYTHON": sys.executable, "BUILD_CAFFE_DEBIAN_MIRROR": "http://127.0.0.1:9/debian"}
    r = run(["--download-only", "--prefix", str(tmp_path / "c")], tmp_path, env)
    assert r.returncode == 0, r.stderr
    assert "downloading" not in r.stderr and r.stdout.strip() == str(tmp_path / "c" / "downloads" / NAME)


def test_bvlc_archive_is_accepted_by_its_build_tree_hash_and_a_changed_one_refused(source, tmp_path):
    """BVLC's GitHub archive of 9b89154 has one top folder and other docs; its build tree is the same."""
    def repack(path, change):
        with tarfile.open(source) as tin, tarfile.open(path, "w:gz") as tout:
            for m in tin:
                data = tin.extractfile(m).read() if m.isfile() else None
                if m.name == change:
                    data += b"\n// changed\n"
                    m.size = len(data)
                m.name = "caffe-9b89154/" + m.name
                tout.addfile(m, io.BytesIO(data) if data is not None else None)
    good, bad = tmp_path / "docs-changed.tar.gz", tmp_path / "src-changed.tar.gz"
    repack(good, "README.md")
    repack(bad, "src/caffe/net.cpp")
    r = run(["--source", str(good), "--prefix", str(tmp_path / "c"), "--prepare-only", str(tmp_path / "t")],
            tmp_path, {"PYTHON": sys.executable})
    assert r.returncode == 0, r.stderr
    assert "bvlc-archive" in r.stderr and os.path.isfile(tmp_path / "t" / "src" / "caffe" / "net.cpp")
    r = run(["--download-only", "--source", str(bad), "--prefix", str(tmp_path / "c2")], tmp_path,
            {"PYTHON": sys.executable})
    assert r.returncode == 1 and f"expected {SHA256}" in r.stderr and f"expected {TREE}" in r.stderr
    assert "is not the pinned Caffe source" in r.stderr and not (tmp_path / "c2" / "downloads" / bad.name).exists()


def test_wrong_local_source_is_refused(tmp_path):
    fake = tmp_path / NAME
    fake.write_bytes(b"not the source")
    r = run(["--download-only", "--source", fake.name, "--prefix", "c"], tmp_path, {"PYTHON": sys.executable})
    assert r.returncode == 1
    assert f"expected {SHA256}" in r.stderr and "--source" in r.stderr
    assert not (tmp_path / "c" / "downloads" / fake.name).exists()


def test_unreachable_mirror_without_an_offline_copy_says_what_to_do(tmp_path):
    env = {"PYTHON": sys.executable, "BUILD_CAFFE_DEBIAN_MIRROR": "http://127.0.0.1:9/debian",
           "BUILD_CAFFE_OFFLINE_COPY": str(tmp_path / "none.tar.gz")}
    r = run(["--download-only", "--prefix", str(tmp_path / "c")], tmp_path, env, timeout=120)
    assert r.returncode == 1
    assert "could not download Debian's source package caffe=1.0.0+git20180821.99bd997-8" in r.stderr
    assert "--source FILE" in r.stderr and not list((tmp_path / "c" / "downloads").glob("*.tar.gz"))


def test_missing_system_package_is_named(tmp_path):
    r = run(["--prefix", str(tmp_path / "c")], tmp_path, {"PYTHON": sys.executable,
                                                           "BUILD_CAFFE_SYSROOT": str(tmp_path / "empty-root")})
    assert r.returncode == 1
    assert "missing Boost headers (/usr/include/boost/version.hpp)" in r.stderr
    assert "apt-get install libboost-dev" in r.stderr
    assert not (tmp_path / "c" / "downloads").exists()  # fails before downloading anything


def test_cuda_without_a_compiler_or_with_bad_architectures_is_named_before_any_download(tmp_path):
    env = {"PYTHON": sys.executable, "PATH": "/usr/bin:/bin", "CUDA_HOME": ""}
    r = run(["--cuda", "--prefix", str(tmp_path / "c")], tmp_path, env)
    assert r.returncode == 1 and "--cuda given but nvcc is not on PATH and CUDA_HOME is not set" in r.stderr
    assert "check_cuda_build.sh" in r.stderr
    kit = tmp_path / "kit"  # a stand-in toolkit: only the checks before the download are reached
    (kit / "bin").mkdir(parents=True)
    (kit / "bin" / "nvcc").write_text("#!/bin/sh\nexit 0\n")
    (kit / "bin" / "nvcc").chmod(0o755)
    r = run(["--cuda", "--prefix", str(tmp_path / "c")], tmp_path, {**env, "CUDA_HOME": str(kit),
                                                                    "NCCL_DIR": str(kit)})
    assert r.returncode == 1 and f"NCCL_DIR={kit} has no include/nccl.h" in r.stderr
    (kit / "include").mkdir()
    (kit / "include" / "nccl.h").write_text("")
    r = run(["--cuda", "--prefix", str(tmp_path / "c")], tmp_path, {**env, "CUDA_HOME": str(kit),
                                                                    "NCCL_DIR": str(kit), "CAFFE_CUDA_ARCH": "sm_90"})
    assert r.returncode == 1 and "CAFFE_CUDA_ARCH='sm_90': expected compute capabilities like '75 80 90'" in r.stderr
    assert not (tmp_path / "c" / "downloads").exists()


def test_missing_python_and_bad_options_are_named(tmp_path):
    r = run(["--download-only", "--prefix", str(tmp_path)], tmp_path, {"PYTHON": "bin/no-such-python"})
    assert r.returncode == 1 and f"'{tmp_path}/bin/no-such-python' not found" in r.stderr
    r = run(["--jobs", "two"], tmp_path, {"PYTHON": sys.executable})
    assert r.returncode == 2 and "--jobs 'two' is not a positive whole number" in r.stderr
    r = run(["--source"], tmp_path, {"PYTHON": sys.executable})
    assert r.returncode == 2 and "--source needs a value" in r.stderr
    r = run(["--nccl"], tmp_path, {"PYTHON": sys.executable})
    assert r.returncode == 2 and "unknown argument '--nccl'" in r.stderr  # NCCL comes with --cuda


def test_cuda_check_scripts_refuse_bad_use_before_installing_anything(tmp_path):
    r = run([], tmp_path, script=os.path.join(SCRIPTS, "cuda_toolkit.sh"))
    assert r.returncode == 2 and "usage: scripts/cuda_toolkit.sh DIR" in r.stderr
    r = run(["--out", str(tmp_path / "no" / "such.txt"), "--dir", str(tmp_path / "d")], tmp_path,
            {"PYTHON": sys.executable}, script=os.path.join(SCRIPTS, "check_cuda_build.sh"))
    assert r.returncode == 1 and "does not exist" in r.stderr and not (tmp_path / "d").exists()
    pins = [ln for ln in open(os.path.join(SCRIPTS, "cuda-wheels.txt")) if ln.strip() and not ln.startswith("#")]
    assert len(pins) == 8 and all("==" in ln for ln in pins)
    assert any(ln.startswith("nvidia-nccl-") for ln in pins) and any(ln.startswith("nvidia-cuda-nvcc==") for ln in pins)


def test_no_trace_of_the_fork():
    out = subprocess.run(["git", "grep", "-il", "broc" + "olli"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 1 and out.stdout == "", out.stdout


def test_gpu_check_measurements_run_on_the_cpu_and_gpu_mode_is_refused_here(tmp_path):
    """scripts/gpu_check.py's every part on the CPU (the small nets, 2 iterations): the CPU-vs-CPU forward is exact,
    the training losses finite; on this CPU-only Caffe --mode gpu ends in one line, exit 2, with no report."""
    script = os.path.join(SCRIPTS, "gpu_check.py")
    out = tmp_path / "gpu_check.txt"
    r = subprocess.run([sys.executable, script, "--mode", "cpu", "--nets", "small", "--iterations", "2",
                        "--out", str(out)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert "1. forward, CPU vs CPU, same weights and input: max abs difference 0 over all outputs" in text
    assert "entries finite in one and not the other: 0" in text
    for blob in ("pose3d", "joints2d", "probmodel_stage2"):
        assert f"   {blob}: max abs difference 0 " in text
    assert "extended net: " in text and "baseline CPM: " in text and "all losses finite: True" in text
    r = subprocess.run([sys.executable, script, "--mode", "gpu", "--out", str(tmp_path / "g.txt")],
                       capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 2 and "built CPU-only" in r.stderr and not (tmp_path / "g.txt").exists()
    r = run([], tmp_path, {"PATH": "/usr/bin:/bin", "PYTHON": sys.executable},
            script=os.path.join(SCRIPTS, "gpu_check.sh"))
    assert r.returncode == 1 and "no GPU here" in r.stderr


def test_a_cached_build_made_with_other_patches_is_not_used(tmp_path):
    """A stamp whose patch list differs from scripts/caffe-patches/ (a patch added, say) sends the build back to
    compiling (here it stops at the first system check, before downloading anything)."""
    py = f"{sys.version_info[0]}{sys.version_info[1]}"
    import numpy
    dest = tmp_path / "c" / f"caffe-bvlc-99bd997-cpu-py{py}-np{numpy.__version__.split('.')[0]}-v4"
    (dest / "python" / "caffe").mkdir(parents=True)
    (dest / "BUILD_OK").write_text(f"source={NAME} sha256={SHA256}\npatches=0001-old.patch:0123456789abcdef "
                                   "patched_tree=x\n")
    r = run(["--prefix", str(tmp_path / "c")], tmp_path, {"PYTHON": sys.executable,
                                                           "BUILD_CAFFE_SYSROOT": str(tmp_path / "empty-root")})
    assert r.returncode == 1 and "was made with other patches than scripts/caffe-patches/ holds now" in r.stderr
    assert "missing Boost headers" in r.stderr and not (dest / "BUILD_OK").exists()
