"""Finite-difference gradient checks through a real ``caffe.Net`` (used by the layer tests).

The scalar checked is ``f = sum(r * top)`` for a fixed random ``r``: its analytic gradient is what
``net.backward()`` returns after ``top.diff = r``; its numeric gradient is a central difference of ``f``.
"""
from __future__ import annotations

import numpy as np


def _objective(net, top, r):
    net.forward()
    return float(np.sum(net.blobs[top].data.astype(np.float64) * r))


def check_gradients(net, top, inputs=(), params=(), eps=1e-3, rtol=1e-2, atol=1e-4, max_checks=40, seed=0):
    """Compare analytic and numeric gradients of ``sum(r * net.blobs[top])``.

    Args:
        net: a ``caffe.Net`` in TRAIN or TEST phase whose prototxt sets ``force_backward: true`` when input
            gradients are checked.
        top: name of the output blob.
        inputs: names of input blobs (their ``diff`` is checked).
        params: ``(layer_name, index)`` pairs of learnable blobs (``net.params[layer][index].diff`` is checked).
        eps: finite-difference step; rtol, atol: tolerance; max_checks: elements sampled per blob.

    Returns a list of ``(what, index, analytic, numeric)`` for every checked element; raises AssertionError on
    the first mismatch, naming the blob and element.
    """
    rng = np.random.default_rng(seed)
    net.forward()
    r = rng.normal(size=net.blobs[top].data.shape)
    for p in net.params.values():
        for b in p:
            b.diff[...] = 0
    producer = [name for name, tops in net.top_names.items() if top in tops]
    if not producer:
        raise ValueError(f"no layer of the net produces blob {top!r}")
    net.blobs[top].diff[...] = r
    net.backward(start=producer[-1])  # start at the producer so later (loss) layers do not overwrite r
    targets = [(f"blob {name!r}", net.blobs[name]) for name in inputs]
    targets += [(f"param {layer!r}[{i}]", net.params[layer][i]) for layer, i in params]
    analytic = {what: blob.diff.copy() for what, blob in targets}
    checked = []
    for what, blob in targets:
        flat = blob.data.reshape(-1)
        picks = rng.choice(flat.size, size=min(max_checks, flat.size), replace=False)
        for i in picks:
            old = flat[i].copy()
            flat[i] = old + eps
            fp = _objective(net, top, r)
            flat[i] = old - eps
            fm = _objective(net, top, r)
            flat[i] = old
            num = (fp - fm) / (2 * eps)
            ana = float(analytic[what].reshape(-1)[i])
            checked.append((what, int(i), ana, num))
            if not abs(ana - num) <= atol + rtol * max(abs(ana), abs(num)):
                raise AssertionError(f"gradient mismatch for {what} element {i}: analytic {ana:.6g}, numeric {num:.6g}")
    net.forward()
    return checked
