import numpy as np

from model_fitting import mixture


def test_greedy_seeds_pick_one_per_mode_and_skip_too_close(rng):
    a = rng.normal(size=(100, 4)) * 0.1
    b = rng.normal(size=(100, 4)) * 0.1 + 5
    c = rng.normal(size=(5, 4)) * 0.1 + np.array([0, 0.5, 0, 0])  # near mode a
    X = np.concatenate([a, b, c])
    seeds, sep = mixture.greedy_seeds(X, max_components=4, min_separation=1.0)
    assert len(seeds) == 2
    assert {int(s >= 100 and s < 200) for s in seeds} == {0, 1}


def test_em_log_likelihood_is_monotone(rng):
    X = np.concatenate([rng.normal(size=(300, 5)), rng.normal(size=(300, 5)) + 4])
    resp = np.zeros((600, 2))
    label = (X[:, 0] > 2).astype(int)
    label[rng.random(600) < 0.3] ^= 1  # a bad start: 30% of the points in the wrong cluster
    resp[np.arange(600), label] = 1
    comps, log_pi = mixture.m_step(X, resp, 2)
    lls = []
    for _ in range(15):
        comps, log_pi, ll, _ = mixture.em_step(X, comps, log_pi, 2)
        lls.append(ll)
    assert np.all(np.diff(lls) >= -1e-8 * np.abs(lls[1:]))
    assert lls[-1] > lls[0] + 100
