"""Training stopped by a real Ctrl-C (SIGINT to the whole process group, as a terminal sends it) or by a diverging
solver: `lifting train --data` for both nets, one process or two, and the synthetic `lifting train` at random moments.
Ctrl-C must leave the snapshot of the last completed iteration and print the command that resumes it, with no
traceback from any process; a non-finite loss must stop before the bad step is saved, name the last good snapshot (or
say there is none), write loss.json, and never end in a Caffe abort."""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import caffe  # noqa: F401  (set-up builds it: a missing Caffe must fail, never skip)

from prototxt import generate
from tools.caffe_files import read_caffemodel
from tools.train_h36m import SHIPPED_SOLVER

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL = {net: os.path.join(generate.HERE, f"{net}_h36m_small_train.prototxt") for net in ("lifting", "cpm")}
ENV = {**os.environ, "GLOG_minloglevel": "2", "PYTHONPATH": ROOT}


def lifting(*args):
    return [sys.executable, "-m", "lifting_cli.main", *args]


class Progress:
    """A child process in its own session, its stderr read as it comes (tqdm writes its progress there)."""

    def __init__(self, argv):
        self.p = subprocess.Popen(argv, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  start_new_session=True)
        self.err, self.out = [], []
        self._threads = [threading.Thread(target=self._read, args=(s, buf), daemon=True)
                         for s, buf in ((self.p.stderr, self.err), (self.p.stdout, self.out))]
        for t in self._threads:
            t.start()

    def _read(self, stream, buf):
        for chunk in iter(lambda: stream.read1(4096), b""):
            buf.append(chunk.decode(errors="replace"))

    def iterations(self):
        done = re.findall(r"train:\s+\d+%\|[^|]*\|\s*(\d+)/", "".join(self.err))
        return int(done[-1]) if done else 0

    def wait_for(self, n, timeout=240):
        t0 = time.monotonic()
        while self.iterations() < n:
            assert self.p.poll() is None, f"ended early ({self.p.returncode}): {''.join(self.err)[-2000:]}"
            assert time.monotonic() - t0 < timeout, "no progress"
            time.sleep(0.05)

    def ctrl_c(self):
        os.killpg(self.p.pid, signal.SIGINT)  # the terminal's Ctrl-C: every process of the group

    def finish(self, timeout=240):
        self.p.wait(timeout=timeout)
        for t in self._threads:
            t.join(timeout=10)
        return self.p.returncode, "".join(self.out), "".join(self.err)


def loss_log(run):
    with open(os.path.join(run, "loss.json")) as f:
        return json.load(f)


def snapshots(run):
    return sorted(int(m.group(1)) for f in os.listdir(run) for m in [re.match(r"snap_iter_(\d+)\.caffemodel$", f)] if m)


@pytest.mark.parametrize("net", ["lifting", "cpm"])
def test_ctrl_c_snapshots_the_last_iteration_and_prints_the_resume_command(prepared_h36m, tmp_path, net):
    run = str(tmp_path / "run")
    p = Progress(lifting("train", "--data", prepared_h36m, "--net", net, "--prototxt", SMALL[net], "--iterations",
                         "500", "--snapshot", "0", "--workers", "1", "--out", run))
    p.wait_for(3)
    time.sleep(np.random.default_rng().uniform(0, 0.3))
    p.ctrl_c()
    code, out, err = p.finish()
    assert code == 1, err[-3000:]
    assert "Traceback" not in err + out and "KeyboardInterrupt" not in err + out  # none from the data workers either
    m = re.search(r"training interrupted after iteration (\d+); the snapshot (\S+) holds it: resume with (.+)$", err,
                  re.M)
    assert m, err[-2000:]
    n, snap, command = int(m.group(1)), m.group(2), m.group(3)
    assert n >= 3 and snap == os.path.join(run, f"snap_iter_{n}.solverstate") and os.path.exists(snap)
    assert snapshots(run) == [n] and loss_log(run)["iteration"] == list(range(n))
    # the printed command resumes the run: the next iterations follow on
    argv = command.split()
    assert argv[:2] == ["lifting", "train"] and argv[-2:] == ["--resume", snap]
    r = subprocess.run(lifting(*argv[1:], "--iterations", "2", "--workers", "0"), cwd=ROOT, env=ENV,
                       capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-2000:]
    assert loss_log(run)["iteration"] == list(range(n + 2)) and snapshots(run) == [n, n + 2]


def test_ctrl_c_with_two_solver_processes(prepared_h36m, tmp_path):
    """Two CPU solver processes (the multi-GPU path): they stop after the same iteration, rank 0 snapshots it."""
    run = str(tmp_path / "run")
    code = ("import sys\nfrom tools.train_h36m import train_dataset\nfrom lifting.errors import Interrupted\n"
            "try:\n    train_dataset(sys.argv[1], sys.argv[2], prototxt=sys.argv[3], devices=['cpu', 'cpu'], "
            "iterations=500, workers=1, snapshot_every=0)\n"
            "except Interrupted as e:\n    print('STOPPED', e, file=sys.stderr)\n    sys.exit(1)\n")
    p = Progress([sys.executable, "-c", code, prepared_h36m, run, SMALL["cpm"]])
    p.wait_for(3)
    p.ctrl_c()
    code, out, err = p.finish()
    assert code == 1 and "Traceback" not in err + out, err[-3000:]
    m = re.search(r"STOPPED training interrupted after iteration (\d+); the snapshot (\S+) holds it", err)
    assert m, err[-2000:]
    n = int(m.group(1))
    assert snapshots(run) == [n] and loss_log(run)["iteration"] == list(range(n))
    assert not [f for f in os.listdir("/dev/shm") if f.startswith(f"lifting_grad_{p.p.pid}_")]  # block unlinked


def diverging_solver(tmp_path, base_lr):
    text = re.sub(r"base_lr: *\S+", f"base_lr: {base_lr}", open(SHIPPED_SOLVER).read())
    path = tmp_path / "diverging_solver.prototxt"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("net", ["lifting", "cpm"])
def test_a_diverging_solver_stops_before_the_bad_step_is_saved(prepared_h36m, tmp_path, net):
    run = str(tmp_path / "run")
    r = subprocess.run(lifting("train", "--data", prepared_h36m, "--net", net, "--prototxt", SMALL[net], "--solver",
                               diverging_solver(tmp_path, 1e8), "--iterations", "60", "--snapshot", "1",
                               "--workers", "0", "--out", run),
                       cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=400)
    assert r.returncode == 2, (r.returncode, r.stderr[-3000:])  # never 134 (a Caffe abort)
    assert "Traceback" not in r.stderr
    m = re.search(r"training diverged at iteration (\d+) \((.*)\); nothing of that step was saved; (.*)", r.stderr)
    assert m, r.stderr[-2000:]
    k = int(m.group(1))
    log = loss_log(run)
    assert log["iteration"] == list(range(k + 1)) and log["loss"][-1] is None  # the bad loss, logged as null
    assert all(v is not None and np.isfinite(v) for v in log["loss"][:-1])
    assert snapshots(run) == list(range(1, k + 1))  # every completed good iteration, not the bad one
    if k:
        assert f"the last good snapshot is {run}/snap_iter_{k}.solverstate: resume from it with a lower base_lr, " \
            f"lifting train --data {prepared_h36m} --net {net}" in m.group(3) and m.group(3).count("--solver") == 1
        weights = read_caffemodel(os.path.join(run, f"snap_iter_{k}.caffemodel"))
        assert all(np.isfinite(b).all() for blobs in weights.values() for b in blobs)
    else:
        assert "no snapshot was written before it" in m.group(3)


def test_divergence_at_the_first_step_names_no_snapshot(prepared_h36m, tmp_path):
    run = str(tmp_path / "run")
    r = subprocess.run(lifting("train", "--data", prepared_h36m, "--net", "cpm", "--prototxt", SMALL["cpm"],
                               "--solver", diverging_solver(tmp_path, 1e30), "--iterations", "5", "--snapshot", "1",
                               "--workers", "0", "--out", run),
                       cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=400)
    assert r.returncode == 2, r.stderr[-3000:]
    assert re.search(r"training diverged at iteration [01] .*(no snapshot was written before it|the last good "
                     r"snapshot is \S+snap_iter_1\.solverstate)", r.stderr), r.stderr[-2000:]
    assert os.path.exists(os.path.join(run, "loss.json"))


def test_synthetic_train_survives_sigint_at_random_moments(s1_poses, tmp_path):
    """20 real SIGINTs at random moments of the synthetic `train` (set-up, steps, snapshots): each ends in
    Interrupted whose snapshot holds exactly the iterations it names (or in a KeyboardInterrupt before the loop with
    nothing written), and the run always resumes."""
    from lifting.errors import Interrupted
    from tools.train import train

    prototxt = os.path.join(generate.HERE, "lifting_h36m_small_train.prototxt")
    rng = np.random.default_rng(23)
    outcomes = []
    for k in range(20):
        out = tmp_path / f"run{k}"
        timer = threading.Timer(rng.uniform(0.0, 2.5), os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        try:
            train(prototxt, str(out), s1_poses, 10**6, snapshot_every=int(rng.integers(1, 4)), log=None)
            pytest.fail("not interrupted")
        except Interrupted as e:
            m = re.search(r"after (\d+) iterations; (the snapshot (\S+) holds|nothing was saved)", str(e))
            assert m, str(e)
            n = int(m.group(1))
            if m.group(3):
                assert m.group(3) == str(out / f"snap_iter_{n}.solverstate") and os.path.exists(m.group(3))
                assert loss_log(str(out))["iteration"] == list(range(n))
                h = train(prototxt, str(out), s1_poses, 1, resume=m.group(3), log=None)
                assert h["iteration"] == list(range(n + 1))
                outcomes.append(n)
            else:
                assert n == 0 and not out.exists() or not snapshots(str(out))
                outcomes.append(0)
        except KeyboardInterrupt:  # before the loop's handler was installed: nothing written but the solver file
            assert not out.exists() or not snapshots(str(out))
            outcomes.append(-1)
        finally:
            timer.cancel()
            timer.join()
    assert sum(n > 0 for n in outcomes) >= 5, outcomes  # most signals landed in the loop


@pytest.mark.parametrize("net", ["lifting", "cpm"])
def test_two_solver_processes_stop_together_on_divergence(prepared_h36m, tmp_path, net):
    """Two CPU solver processes: a non-finite mean loss or gradient (cpm), or non-finite maps in one rank's lifting
    layer (lifting: that rank wakes the other), stops both at the same iteration; rank 0 names the last good
    snapshot."""
    from tools.train import TrainingDiverged
    from tools.train_h36m import train_dataset

    run = str(tmp_path / "run")
    with pytest.raises(TrainingDiverged, match=r"training diverged at iteration (\d+) .*nothing of that step was "
                                               r"saved; (the last good snapshot is|no snapshot was written)") as e:
        train_dataset(prepared_h36m, run, prototxt=SMALL[net], solver=diverging_solver(tmp_path, 1e8),
                      devices=["cpu", "cpu"], iterations=60, workers=0, snapshot_every=1, log=None)
    k = int(re.search(r"iteration (\d+)", str(e.value)).group(1))
    assert snapshots(run) == list(range(1, k + 1)) and loss_log(run)["iteration"] == list(range(k + 1))
