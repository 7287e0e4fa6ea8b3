"""Every file that reaches Caffe is checked here, in Python, first.

Caffe reports a missing, truncated or mismatched file by aborting the whole process (``Check failed``, exit 134)
or, for weights that do not cover the net, not at all (the uncovered layers keep their random fillers). So nothing
goes to ``caffe.Net``, ``Net.copy_from`` or ``Solver.restore`` unchecked:

* a prototxt must exist, parse as a text ``NetParameter`` (``caffe.proto.caffe_pb2``), use only layer types this
  Caffe build has, take every bottom from an input or an earlier top, and name only Python layers of the allow-list
  :data:`PYTHON_LAYERS` (this project's layers). The list is checked on the parsed message before anything is
  imported: a prototxt is untrusted input, and Caffe imports the module a ``Python`` layer names and calls
  ``module.layer(...)``, so any other name (``antigravity``, ``code``, ``os``, ...) would run code of the file's
  choosing. Caffe never sees a prototxt that names anything else;
* a solver prototxt given by the user names no net of its own (``net_param``, ``train_net``, ``test_net``, ...:
  :func:`check_solver_nets`), since those nets would reach Caffe unchecked;
* a caffemodel must parse as a binary ``NetParameter``, hold finite values of the sizes its shapes say, and cover
  every parameter layer of the net it initialises with the right blob shapes (:func:`load_net`,
  :func:`copy_weights`; the missing layers are named);
* a solverstate must parse as a binary ``SolverState`` whose history blobs match the net and whose weights file
  (``learned_net``, stored inside it) passes the caffemodel checks (:func:`check_solverstate`).
Every problem raises :class:`CaffeFileError` (a ``ValueError``) naming the file and the layer or field.
"""
from __future__ import annotations

import importlib
import os

import numpy as np

#: the only Python layers a prototxt may name: ``{module: (class, ...)}``, this project's layers (:mod:`caffe_layers`)
PYTHON_LAYERS = {"caffe_layers": ("Prob3DPoseLayer", "FusionLayer", "H36MDataLayer")}


class CaffeFileError(ValueError):
    """A prototxt, caffemodel or solverstate cannot be used; the message names the file and the layer/field."""


class WeightFileError(CaffeFileError):
    """A caffemodel cannot be used; the message names the file and the layer/blob."""


def _read_bytes(path, what, error=CaffeFileError):
    path = os.fspath(path)
    name = f"{what} {path}" if what else path
    if not os.path.exists(path):
        raise error(f"{name}: no such file")
    if os.path.isdir(path):
        raise error(f"{name}: is a folder, not a file")
    with open(path, "rb") as f:
        raw = f.read()
    if not raw:
        raise error(f"{name}: file is empty")
    return raw


def _phase_name(phase):
    return {"test": "TEST", "train": "TRAIN"}[str(phase).lower()]


def _included(layer, phase):
    """Caffe's phase filter (``include``/``exclude`` rules by phase; stages and levels are not used here)."""
    from caffe.proto import caffe_pb2

    p = caffe_pb2.Phase.Value(_phase_name(phase))
    if any(r.HasField("phase") and r.phase == p for r in layer.exclude):
        return False
    return not layer.include or any(not r.HasField("phase") or r.phase == p for r in layer.include)


def _allowed(extra):
    allowed = {m: set(c) for m, c in PYTHON_LAYERS.items()}
    for m, c in (extra or {}).items():
        allowed.setdefault(m, set()).update(c)
    return allowed


def check_python_layers(net, name, allow=None):
    """Refuse a parsed ``NetParameter`` that names a Python layer outside :data:`PYTHON_LAYERS` (plus ``allow``,
    ``{module: classes}``, for callers with layers of their own such as tests' toy layers) -- in every layer, whatever
    its phase, also beside V1 ``layers`` (which cannot name Python code). Nothing is imported here."""
    allowed = _allowed(allow)
    for layer in net.layer:
        if not layer.HasField("python_param") and layer.type != "Python":
            continue
        module, cls = layer.python_param.module, layer.python_param.layer
        if cls not in allowed.get(module, ()):
            known = ", ".join(f"{m}.{c}" for m, cs in sorted(allowed.items()) for c in sorted(cs))
            raise CaffeFileError(f"{name}: layer {layer.name!r} names the Python layer {module!r}.{cls!r}, which is "
                                 f"not one of this project's layers ({known}); a prototxt may not name other "
                                 "Python code, and none was imported")


def read_prototxt(path, phase="test", what="prototxt", allow=None):
    """Parse and check a net prototxt (see the module docstring); returns the ``NetParameter``. ``allow``: extra
    Python layers ``{module: (class, ...)}`` this caller accepts besides :data:`PYTHON_LAYERS`."""
    from caffe.proto import caffe_pb2
    from google.protobuf import text_format

    import caffe

    path = os.fspath(path)
    name = f"{what} {path}" if what else path
    raw = _read_bytes(path, what)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CaffeFileError(f"{name}: not a text prototxt (not UTF-8; a binary caffemodel?)") from None
    net = caffe_pb2.NetParameter()
    try:
        text_format.Merge(text, net)
    except text_format.ParseError as e:
        raise CaffeFileError(f"{name}: not a valid net prototxt ({e})") from None
    check_python_layers(net, name, allow)  # before anything below could import a module
    if net.layers:  # the V1 format (no Python layers): Caffe upgrades it; only its presence is checked here
        return net
    if not net.layer:
        raise CaffeFileError(f"{name}: holds no layer (is it a solver prototxt?)")
    known = set(caffe.layer_type_list())
    blobs = set(net.input)
    for layer in net.layer:
        if not _included(layer, phase):
            continue
        if layer.type not in known:
            raise CaffeFileError(f"{name}: layer {layer.name!r} has type {layer.type!r}, which this Caffe build does "
                                 "not have")
        for b in layer.bottom:
            if b not in blobs:
                raise CaffeFileError(f"{name}: layer {layer.name!r} takes bottom {b!r}, which no input or earlier "
                                     "layer produces")
        if layer.type == "Python":
            _check_python_layer(name, layer)
        blobs.update(layer.top)
    return net


def _check_python_layer(name, layer):
    """An allowed Python layer (:func:`check_python_layers` ran first) whose module imports and has the class."""
    module, cls = layer.python_param.module, layer.python_param.layer
    try:
        mod = importlib.import_module(module)
    except ImportError as e:
        raise CaffeFileError(f"{name}: Python layer {layer.name!r}: module {module!r} cannot be imported "
                             f"({e})") from None
    if not hasattr(mod, cls):
        raise CaffeFileError(f"{name}: Python layer {layer.name!r}: module {module!r} has no class {cls!r}")


#: the fields of a solver prototxt that name (or hold) a net of their own
SOLVER_NET_FIELDS = ("net", "net_param", "train_net", "train_net_param", "test_net", "test_net_param")


def check_solver_nets(sp, path, allowed=("net",)):
    """Refuse a user's ``SolverParameter`` that names or holds nets in fields other than ``allowed``: those nets
    (test nets, inline nets) would reach Caffe without :func:`read_prototxt`'s checks."""
    for field in SOLVER_NET_FIELDS:
        if field in allowed:
            continue
        fd = sp.DESCRIPTOR.fields_by_name[field]
        present = len(getattr(sp, field)) > 0 if fd.label == fd.LABEL_REPEATED else sp.HasField(field)
        if present:
            raise CaffeFileError(f"solver {path}: field {field!r} names a net of its own; give the net with --prototxt "
                                 "and a solver without net fields (only its settings are used)")


def read_caffemodel(path, what=None):
    """``{layer name: [np.ndarray, ...]}`` from a binary caffemodel; clear errors for missing, empty, truncated,
    foreign or non-finite files. Blobs in the legacy format keep their 4D (num, channels, height, width) shape."""
    from caffe.proto import caffe_pb2
    from google.protobuf.message import DecodeError

    path = os.fspath(path)
    name = f"{what} {path}" if what else path
    raw = _read_bytes(path, what, WeightFileError)
    msg = caffe_pb2.NetParameter()
    try:
        msg.ParseFromString(raw)
    except DecodeError as e:
        raise WeightFileError(f"{name}: truncated or not a binary caffemodel ({e})") from None
    layers = list(msg.layer) or list(msg.layers)
    out = {}
    for layer in layers:
        blobs = []
        for i, b in enumerate(layer.blobs):
            shape = tuple(b.shape.dim) if b.HasField("shape") else (b.num, b.channels, b.height, b.width)
            data = np.asarray(b.data, dtype=np.float32)
            if data.size != int(np.prod(shape)):
                raise WeightFileError(f"{name}: layer {layer.name!r} blob {i} holds {data.size} values for shape "
                                      f"{shape} (truncated or corrupted)")
            if not np.isfinite(data).all():
                raise WeightFileError(f"{name}: layer {layer.name!r} blob {i} holds NaN or inf")
            blobs.append(data.reshape(shape))
        if blobs:
            out[layer.name] = blobs
    if not out:
        raise WeightFileError(f"{name}: holds no layer with weights (truncated or not a caffemodel)")
    return out


def param_shapes(net):
    """``{layer: [blob shape, ...]}`` of a ``caffe.Net``'s parameters, in the net's order."""
    return {k: [tuple(b.data.shape) for b in v] for k, v in net.params.items()}


def same_shape(stored, wanted):
    """Caffe's rule: equal shapes, or a legacy 4D shape equal to the wanted one padded with leading ones."""
    stored, wanted = tuple(stored), tuple(wanted)
    return stored == wanted or (len(stored) == 4 and len(wanted) <= 4 and stored == (1,) * (4 - len(wanted)) + wanted)


def check_covers(weights, shapes, path, net_name, hint=""):
    """Every parameter layer of ``shapes`` (:func:`param_shapes`) must be in ``weights`` (:func:`read_caffemodel`)
    with exactly its blob shapes; the error names the missing or mismatched layers."""
    missing = [k for k in shapes if k not in weights]
    if missing:
        listed = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
        raise WeightFileError(f"{path}: {len(missing)} of the {len(shapes)} parameter layers of {net_name} are "
                              f"missing ({listed}): weights of another net" + (f"; {hint}" if hint else ""))
    for k, want in shapes.items():
        got = [b.shape for b in weights[k]]
        if len(got) != len(want) or not all(same_shape(g, w) for g, w in zip(got, want)):
            raise WeightFileError(f"{path}: layer {k!r} holds blobs {[tuple(g) for g in got]}, {net_name} needs "
                                  f"{want}: weights of another net or variant" + (f"; {hint}" if hint else ""))


def copy_weights(net, weights, net_name, what="--weights", hint=""):
    """``net.copy_from(weights)`` after :func:`read_caffemodel` and :func:`check_covers`."""
    name = f"{what} {weights}" if what else os.fspath(weights)
    check_covers(read_caffemodel(weights, what), param_shapes(net), name, net_name, hint)
    net.copy_from(os.fspath(weights))


def load_net(prototxt, weights=None, phase="test", what="--weights", hint="", allow=None):
    """A ``caffe.Net`` of a checked prototxt, with checked weights (which must cover every parameter layer)."""
    import caffe

    prototxt = os.fspath(prototxt)
    read_prototxt(prototxt, phase, allow=allow)
    net = caffe.Net(prototxt, {"test": caffe.TEST, "train": caffe.TRAIN}[str(phase).lower()])
    if weights is not None:
        copy_weights(net, weights, prototxt, what, hint)
    return net


def check_solverstate(path, net, net_name, what="--resume"):
    """Check a ``.solverstate`` for ``net`` before ``Solver.restore``: it parses, its momentum history matches the
    net's parameters blob for blob, and its weights file exists and covers the net. Returns its iteration."""
    from caffe.proto import caffe_pb2
    from google.protobuf.message import DecodeError

    path = os.fspath(path)
    name = f"{what} {path}" if what else path
    if path.endswith(".h5"):
        raise CaffeFileError(f"{name}: HDF5 solver states are not supported; give a binary .solverstate")
    raw = _read_bytes(path, what)
    state = caffe_pb2.SolverState()
    try:
        state.ParseFromString(raw)
    except DecodeError as e:
        raise CaffeFileError(f"{name}: truncated or not a binary solverstate ({e})") from None
    if not state.learned_net:
        raise CaffeFileError(f"{name}: not a Caffe solverstate (no field 'learned_net'; a caffemodel?)")
    shapes = [s for blobs in param_shapes(net).values() for s in blobs]
    if len(state.history) != len(shapes):
        raise CaffeFileError(f"{name}: holds {len(state.history)} history blobs, {net_name} has {len(shapes)} "
                             "parameter blobs: the state of another net")
    for i, (h, want) in enumerate(zip(state.history, shapes)):
        got = tuple(h.shape.dim) if h.HasField("shape") else (h.num, h.channels, h.height, h.width)
        if not same_shape(got, want):
            raise CaffeFileError(f"{name}: history blob {i} has shape {got}, {net_name} needs {want}: the state of "
                                 "another net or variant")
    learned = state.learned_net
    if os.path.dirname(os.path.realpath(learned)) != os.path.dirname(os.path.realpath(path)):
        raise CaffeFileError(f"{name}: its weights file {learned} (field 'learned_net') lies in another folder than "
                             "the solverstate: a run folder copied or moved from there would resume from that "
                             "folder's weights, not its own; resume in the original folder")
    if not os.path.exists(learned):
        raise CaffeFileError(f"{name}: its weights file {learned} (field 'learned_net') does not exist; a snapshot "
                             "is a .solverstate and a .caffemodel, keep them together")
    check_covers(read_caffemodel(learned, f"{what} weights"), param_shapes(net), f"{what} weights {learned}",
                 net_name)
    return int(state.iter)
