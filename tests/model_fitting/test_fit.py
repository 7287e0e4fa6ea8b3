import numpy as np
import pytest

from lifting import skeleton
from lifting.geometry import rotate_ground
from lifting.synthetic import make_model, sample_poses
from model_fitting import align
from model_fitting import fit as fit_module
from model_fitting.fit import FitConfig, fit, preprocess
from tests.helpers import interrupted_after, wrap


def test_alignment_undoes_unknown_rotations_and_objective_never_increases(posed):
    model, canon, theta, world = posed
    mm = world * 1000.0
    m, report, extras = fit(mm, FitConfig(num_basis=3, max_components=1, mirror=False, em_iterations=3), progress=False)
    obj = np.array(report["alignment_objective"])
    assert report["alignment_monotone"]
    assert np.all(np.diff(obj) <= 1e-9 * np.abs(obj[1:]))
    # aligned poses differ from the canonical ones by one global ground-plane rotation (the gauge)
    Q = align.to_poses(extras["aligned"])
    c0 = canon - canon[:, :1]
    c0 = c0 / skeleton.limb_scale(c0)[:, None, None]
    q, c = align.to_vectors(Q), align.to_vectors(c0)
    qx, qz, cx, cz = q[:, 0::3], q[:, 2::3], c[:, 0::3], c[:, 2::3]
    phi = np.arctan2(np.sum(qx * cz - qz * cx, 1), np.sum(qx * cx + qz * cz, 1))  # per-pose angle c -> q
    assert np.std(wrap(phi - np.median(phi))) < 0.1  # deformations can trade with small rotations
    # and the alignment found rotations at least as good (for eq. 1) as the generating ones
    P = align.to_vectors(preprocess(mm, mirror=False)[0])
    e_true = align.objective(P, theta, *align.ppca_step(P, theta, 3))
    assert obj[-1] <= e_true + 1e-9 * abs(e_true)


def test_preprocess_normalises_and_mirrors(rng):
    p = rng.normal(size=(3, 17, 3)) * 300 + 50
    n, mm = preprocess(p)
    assert n.shape == (6, 17, 3)
    np.testing.assert_allclose(n[:, 0], 0, atol=1e-12)
    np.testing.assert_allclose(skeleton.limb_scale(n), 1)
    np.testing.assert_allclose(n[3:], skeleton.flip_lr(n[:3]))
    with pytest.raises(ValueError, match="NaN"):
        p[1, 2, 0] = np.nan
        preprocess(p)
    with pytest.raises(ValueError, match=r"\(N, 17, 3\)"):
        preprocess(np.zeros((4, 16, 3)))
    with pytest.raises(ValueError, match="no poses"):
        preprocess(np.zeros((0, 17, 3)))


def test_interrupted_fit_resumes_to_the_same_model(tmp_path, monkeypatch):
    model = make_model(K=2, J=3, seed=4, noise=1e-4)
    canon, _, theta, _ = sample_poses(model, 300, seed=9)
    mm = rotate_ground(canon, theta) * 1000
    cfg = FitConfig(num_basis=3, max_components=2, em_iterations=6, em_tol=0)
    ref, ref_report, _ = fit(mm, cfg, progress=False)
    ck = tmp_path / "fit.ckpt.npz"
    alternations = len(ref_report["alignment_objective"]) // 2
    # killed right after a checkpoint, twice: at alternation 4, then at the second EM iteration
    for iterations, where in (4, "align"), (alternations - 4 + 2, "mixture"):
        with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
            patch.setattr(fit_module, "atomic_savez", interrupted_after(iterations))
            fit(mm, cfg, checkpoint=str(ck), progress=False)
        with np.load(ck) as z:
            assert str(z["stage"]) == where and (where == "align" or int(z["em_step"]) == 2)
    resumed, report, _ = fit(mm, cfg, checkpoint=str(ck), progress=False)
    for name in ("mean", "basis", "variances", "noise_variance", "weights"):
        np.testing.assert_array_equal(getattr(resumed, name), getattr(ref, name))
    assert report["alignment_objective"] == ref_report["alignment_objective"]
    # a checkpoint of other data is refused, not silently reused
    with pytest.raises(ValueError, match="other data or another config"):
        fit(mm[:-1], cfg, checkpoint=str(ck), progress=False)




def test_j_plus_one_poses_rule():
    from model_fitting.fit import enough_poses, underdetermined_components

    assert enough_poses(4, 3) and not enough_poses(3, 3)  # a mean and 3 directions take 4 poses
    assert underdetermined_components([10, 3, 4, 0], 3) == {1: 3, 3: 0}
