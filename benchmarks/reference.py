"""The straightforward lifting implementation the benchmarks compare against."""
import numpy as np

from lifting.geometry import ground_rotation


def reference_lift(model, y, w, angles, camera):
    """The straightforward implementation: for every frame, component and angle, one lstsq."""
    out = []
    for f in range(len(y)):
        sw = np.sqrt(np.repeat(w[f], 2))
        best = (np.inf, None)
        for k in range(model.num_components):
            for th in angles:
                M = camera[:2] @ ground_rotation(th)
                cols = [(model.mean[k] @ M.T).reshape(-1)] + [(e @ M.T).reshape(-1) for e in model.basis[k]]
                D = np.stack(cols, 1)
                D = np.concatenate([D, np.tile(np.eye(2), (17, 1))], 1)  # translation
                prior = np.concatenate([[0], 1 / np.sqrt(model.variances[k]), [0, 0]])
                prior = prior * np.sqrt(model.noise_variance[k])
                A = np.concatenate([D * sw[:, None], np.diag(prior)[prior > 0]], 0)
                b = np.concatenate([y[f].reshape(-1) * sw, np.zeros(int((prior > 0).sum()))])
                x, res, *_ = np.linalg.lstsq(A, b, rcond=None)
                c = float(np.sum((A @ x - b) ** 2))
                if x[0] > 0 and c < best[0]:
                    best = (c, x)
        out.append(best[1])
    return out
