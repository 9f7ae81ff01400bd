"""The tickets' times as numpy arrays, for the tables' sorts and groups of a year's 250,000 tickets.

Sorting a year's waits in Python takes a tenth of a second, grouping them by service or day as much
again; numpy sorts and groups them in C. The values are the same floats: a column of ``float`` and
``None`` becomes float64 with NaN for None (``float(v)`` of each value, so whole numbers too), a
stable sort puts equal values in the order Python's ``sorted`` keeps, and the groups go back to lists
of Python floats, so every mean is still Python's ``sum`` of the same values in the same order (the
fold is the definition; the tests compare with it exactly).

A column holding NaN itself (never written by the engine, but a float could be) cannot be told from
None in the array: then ``floats`` gives None and the tables take their Python path.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Sequence
from operator import countOf
from typing import Any


def floats(values: Sequence[Any]) -> Any | None:
    """``values`` as float64 with NaN for None; None when a value is NaN itself (or not a number)."""
    import numpy as np  # here, as charts import matplotlib: the server starts without them

    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if array.ndim != 1 or int(np.count_nonzero(np.isnan(array))) != countOf(values, None):
        return None
    return array


def sorted_present(array: Any) -> list[float]:
    """The values that are not None, in ascending order (as ``sorted`` orders them)."""
    import numpy as np

    return np.sort(array[~np.isnan(array)], kind="stable").tolist()  # type: ignore[no-any-return]


def key_ids(keys: Sequence[Hashable]) -> tuple[list[Hashable], Any]:
    """The distinct keys in order of first appearance, and each key's number among them."""
    import numpy as np

    distinct = list(dict.fromkeys(keys))
    number = {k: i for i, k in enumerate(distinct)}
    return distinct, np.fromiter(map(number.__getitem__, keys), dtype=np.int64, count=len(keys))


def sorted_by(distinct: Sequence[Hashable], ids: Any, array: Any) -> dict[Hashable, list[float]]:
    """The values that are not None by key number (``key_ids``), only keys with one, each group in
    ascending order."""
    import numpy as np

    present = ~np.isnan(array)
    ids, values = ids[present], array[present]
    order = np.lexsort((values, ids))  # by key, then by value; stable
    return _split(distinct, ids, values[order].tolist())


def sorted_runs(keys: Sequence[Any], array: Any) -> dict[Any, list[float]]:
    """``sorted_by`` for keys in ascending order (a year's days in issue order): each key's values
    are one slice, sorted alone."""
    import numpy as np

    out: dict[Any, list[float]] = {}
    for key in set(keys):
        part = array[bisect_left(keys, key) : bisect_right(keys, key)]
        part = part[~np.isnan(part)]
        if len(part):
            out[key] = np.sort(part, kind="stable").tolist()
    return out


def grouped(ids: Any, distinct: Sequence[Hashable], array: Any) -> dict[Hashable, list[float]]:
    """The values that are not None by key number, each group in the values' order."""
    import numpy as np

    present = ~np.isnan(array)
    ids, values = ids[present], array[present]
    order = np.argsort(ids, kind="stable")
    return _split(distinct, ids, values[order].tolist())


def _split(distinct: Sequence[Hashable], ids: Any, flat: list[float]) -> dict[Hashable, list[float]]:
    """``flat`` (values ordered by key number) cut into each key's group; keys without values left out."""
    import numpy as np

    counts = np.bincount(ids, minlength=len(distinct)).tolist()
    out: dict[Hashable, list[float]] = {}
    at = 0
    for key, n in zip(distinct, counts, strict=True):
        if n:
            out[key] = flat[at : at + n]
            at += n
    return out
