"""The paper's Figure 2: aligned training poses in 2D PCA coloured by component, with component means drawn."""
import numpy as np

from lifting.plot import _mpl, draw_skeleton_2d, save_figure

from .align import to_vectors


def alignment_figure(aligned, labels, model, path, max_points=20000, seed=0):
    plt = _mpl()
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(aligned), size=min(max_points, len(aligned)), replace=False)
    X = aligned[idx]
    mu = X.mean(0)
    _, _, Vt = np.linalg.svd(X - mu, full_matrices=False)
    Y = (X - mu) @ Vt[:2].T
    K = model.num_components
    fig = plt.figure(figsize=(11, 7))
    ax = fig.add_axes([0.05, 0.08, 0.55, 0.85])
    ax.scatter(Y[:, 0], Y[:, 1], c=labels[idx], cmap="tab10", vmin=0, vmax=9, s=2, alpha=0.4)
    means = (to_vectors(model.mean) - mu) @ Vt[:2].T
    for k in range(K):
        ax.plot(means[k, 0], means[k, 1], "k*", ms=14)
        ax.annotate(f"mean {k}", means[k], textcoords="offset points", xytext=(6, 6))
    ax.set_title("aligned training poses, 2D PCA, coloured by component")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    for k in range(K):  # each mean pose from the front (x, y) and from the side (z, y)
        for j, (axis, view) in enumerate(((0, "front"), (2, "side"))):
            a2 = fig.add_axes([0.64 + 0.17 * j, 0.04 + 0.92 * (K - 1 - k) / K, 0.16, 0.88 / K])
            pts = np.stack([model.mean[k][:, axis], -model.mean[k][:, 1]], 1)  # y up -> image rows down
            draw_skeleton_2d(a2, pts)
            a2.set_title(f"mean {k}, {view}" + (f" (w={model.weights[k]:.2f})" if j == 0 else ""), fontsize=8,
                         color=plt.get_cmap("tab10")(k))
            a2.set_xticks([])
            a2.set_yticks([])
    save_figure(fig, path)
