"""The checks a named record's ``from_json`` makes on what it reads back (a summary inside a results JSON file): a
JSON object with exactly the record's fields, counts that are integers >= 0, numbers, strings. Every error names
``where`` (the file and the path to the field, e.g. ``results.json: runs['ours'].p1.median``)."""
from __future__ import annotations

import math
from dataclasses import fields as _fields

#: ``null=REFUSE`` (the default of :func:`number`): a JSON null is an error
REFUSE = object()


def names(record):
    """A dataclass record's (or its class's) field names, in order: the keys of its JSON form."""
    return tuple(f.name for f in _fields(record))


def fields(data, keys, where):
    """``data`` must be a dict (a JSON object) holding exactly ``keys``; returns it. Missing or unexpected fields are
    named."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a JSON object with the fields {list(keys)}, got {_kind(data)}")
    missing = [k for k in keys if k not in data]
    if missing:
        raise ValueError(f"{where}: field{'s' * (len(missing) > 1)} {', '.join(map(repr, missing))} missing "
                         f"(expected {list(keys)})")
    extra = [k for k in data if k not in keys]
    if extra:
        raise ValueError(f"{where}: unexpected field{'s' * (len(extra) > 1)} {', '.join(map(repr, extra))} "
                         f"(expected {list(keys)})")
    return data


def count(value, where):
    """A count: an integer >= 0 (not a bool, not a float)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where}: expected a count (an integer >= 0), got {_kind(value)}")
    return value


def number(value, where, null=REFUSE):
    """A finite number (int or float) as a float; a JSON null gives ``null`` (the writer turns NaN, or None, into
    null) unless it is :data:`REFUSE`."""
    if value is None and null is not REFUSE:
        return null
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where}: expected a finite number{'' if null is REFUSE else ' or null'}, got "
                         f"{_kind(value)}")
    return float(value)


def string(value, where):
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a string, got {_kind(value)}")
    return value


def mapping(value, where):
    """A JSON object of any keys (a dict)."""
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a JSON object, got {_kind(value)}")
    return value


def sequence(value, where):
    """A JSON array (a list)."""
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a JSON array, got {_kind(value)}")
    return value


def _kind(value):
    text = repr(value)
    return f"{type(value).__name__} {text[:60] + '...' if len(text) > 60 else text}"
