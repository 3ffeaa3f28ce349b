"""Manifest validation without pydantic: the models' verdict, from a generated table.

``policylint check`` must not pay for importing pydantic and building the models (about 70 ms
of a cold start), nor for a model instance per manifest. This module walks the TOML data
(dicts, lists, strings, integers, floats, booleans, dates and times) against
:mod:`policylint._manifest_spec`, which is generated from the models, and gives the errors
pydantic's strict models give, in the same order, as :class:`~policylint.schema.RawError`
tuples that :func:`~policylint.schema.explain_errors` words: per table, each declared key in
declaration order (a value's errors, or ``missing``), then unknown keys in input order
(``extra_forbidden``); a value of the wrong kind is one error, its contents unchecked; a bad
list item is an error at its index. ``tests/test_validator_equivalence.py`` holds the two to
the same answers.

Most manifests are well-formed, so :func:`check` first asks :func:`is_clean`, the same checks as
generated predicates (a type test per value, nothing collected), and walks the data only when
it says no.

Lists are checked up to :data:`MAX_LIST_ITEMS` items. Each longer list, wherever it is (in an
unknown key or a value of the wrong kind too), is returned once, in the order of a depth-first
walk of the file, so that it can be reported before the other problems; nothing is copied.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any

from policylint import _manifest_spec
from policylint.positions import KeyPath
from policylint.schema import RawError, has_visible

#: Items a list in a manifest may hold (``reasons`` has 7 values; a manifest with more than a
#: thousand waivers is not one a person wrote). Longer lists are validated up to the limit.
MAX_LIST_ITEMS = 1_000

Errors = list[RawError]
#: Lists longer than :data:`MAX_LIST_ITEMS`: where, and how many items.
Cuts = list[tuple[KeyPath, int]]
#: Whether a scalar value is acceptable (the fast path: no call per valid value but this one).
Test = Callable[[Any], bool]
#: Appends a value's errors (located at ``loc``) and its long lists.
Walk = Callable[[Any, KeyPath, Errors, Cuts], None]


def check(data: dict[str, Any]) -> tuple[Errors, Cuts]:
    """The errors pydantic would give for ``data``, and its lists over the limit in file order."""
    if is_clean(data):
        return [], []
    return full_check(data)


def full_check(data: dict[str, Any]) -> tuple[Errors, Cuts]:
    """:func:`check` without asking :func:`is_clean` first (for a caller that has asked it)."""
    errors: Errors = []
    cuts: Cuts = []
    _ROOT(data, (), errors, cuts)
    if len(cuts) > 1:  # found in validation order; reported in the order of the file
        cuts.sort(key=lambda cut: _input_order(data, cut[0]))
    return errors, cuts


def is_clean(data: Any) -> bool:
    """Whether ``data`` is a well-formed manifest with no list over the limit: :func:`check`
    would find nothing.

    Most manifests checked are well-formed, so this answers for them at the cost of a type test
    per value (in functions generated with the table, :mod:`policylint.manifest_spec`), without
    building paths or collecting anything; :func:`check` walks the data in full only when this
    says no. For the types TOML gives (exact ``str``, ``int``, ``float``, ``bool``, dates,
    times, lists and dicts) it answers exactly what the walk finds; for anything else it may
    say no where the walk finds nothing, never the reverse.
    """
    try:
        return _manifest_spec.is_clean(data)
    except TypeError:  # a list or table tested for membership in a literal's values: not clean
        return False


def _input_order(data: Any, key_path: KeyPath) -> tuple[int, ...]:
    """A path's position in a depth-first walk of ``data`` (keys in the order they were read)."""
    order = []
    node = data
    for part in key_path:
        order.append(part if isinstance(part, int) else list(node).index(part))
        node = node[part]
    return tuple(order)


def _wrong(value: Any, loc: KeyPath, errors: Errors, cuts: Cuts) -> None:
    """An unacceptable value: one error; what it holds is not validated, but its long lists count."""
    errors.append(RawError(loc, "invalid", value))
    if isinstance(value, (dict, list)):
        _scan(value, loc, cuts)


def _scan(value: Any, loc: KeyPath, cuts: Cuts) -> None:
    """The long lists in a value that is not validated."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                _scan(item, (*loc, key), cuts)
    elif isinstance(value, list):
        if len(value) > MAX_LIST_ITEMS:
            cuts.append((loc, len(value)))
        for index, item in enumerate(islice(value, MAX_LIST_ITEMS)):
            if isinstance(item, (dict, list)):
                _scan(item, (*loc, index), cuts)


def _any(value: Any, loc: KeyPath, errors: Errors, cuts: Cuts) -> None:
    if isinstance(value, (dict, list)):
        _scan(value, loc, cuts)


# Scalar tests, as pydantic's strict mode has them: a boolean is neither an integer nor a
# float; an integer is a float (if it converts) but a float is never an integer; a date-time
# is not a date; a literal matches by equality (so True and 1.0 match 1, as in pydantic).


def _text(value: Any) -> bool:
    return isinstance(value, str) and has_visible(value)


def _date(value: Any) -> bool:
    return isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)


def _literal(values: Iterable[Any]) -> Test:
    allowed = frozenset(values)
    return lambda value: not isinstance(value, (dict, list)) and value in allowed


def _int(ge: int | None, le: int | None) -> Test:
    def test(value: Any) -> bool:
        return (
            isinstance(value, int) and not isinstance(value, bool)
            and (ge is None or value >= ge) and (le is None or value <= le)
        )

    return test


def _float(ge: float | None, le: float | None, allow_inf_nan: bool) -> Test:
    def test(value: Any) -> bool:
        if isinstance(value, float):
            number = value
        elif isinstance(value, int) and not isinstance(value, bool):
            try:
                number = float(value)  # pydantic compares as a float, and refuses what overflows
            except OverflowError:
                return False
        else:
            return False
        if not allow_inf_nan and not math.isfinite(number):
            return False
        return (ge is None or number >= ge) and (le is None or number <= le)

    return test


_SCALARS: dict[str, Callable[..., Test]] = {
    "str": lambda: lambda value: isinstance(value, str),
    "text": lambda: _text,
    "bool": lambda: lambda value: value is True or value is False,
    "date": lambda: _date,
    "literal": _literal,
    "int": _int,
    "float": _float,
}


def _compile(spec: tuple[Any, ...], tables: dict[str, Walk]) -> tuple[Test | None, Walk]:
    """A check of the generated table as a scalar test (None for tables and lists) and a walk."""
    kind, *args = spec
    if kind == "table":
        return None, _table(args[0], tables)
    if kind == "list":
        return None, _list(*_compile(args[0], tables))
    if kind == "dict":
        return None, _dict(_compile(args[0], tables)[1])
    if kind == "any":
        return None, _any
    test = _SCALARS[kind](*args)

    def walk(value: Any, loc: KeyPath, errors: Errors, cuts: Cuts) -> None:
        if not test(value):
            _wrong(value, loc, errors, cuts)

    return test, walk


def _table(name: str, tables: dict[str, Walk]) -> Walk:
    if name in tables:
        return tables[name]
    rows = tuple((key, required, *_compile(spec, tables)) for key, required, spec in _manifest_spec.TABLES[name])
    known = frozenset(row[0] for row in rows)

    def walk(value: Any, loc: KeyPath, errors: Errors, cuts: Cuts) -> None:
        if not isinstance(value, dict):
            _wrong(value, loc, errors, cuts)
            return
        for key, required, test, sub in rows:
            if key in value:
                item = value[key]
                if test is None:
                    sub(item, (*loc, key), errors, cuts)
                elif not test(item):
                    _wrong(item, (*loc, key), errors, cuts)
            elif required:
                errors.append(RawError((*loc, key), "missing", value))
        if not known.issuperset(value):
            for key, item in value.items():
                if key not in known:
                    errors.append(RawError((*loc, key), "extra_forbidden", item))
                    if isinstance(item, (dict, list)):
                        _scan(item, (*loc, key), cuts)

    tables[name] = walk
    return walk


def _list(test: Test | None, sub: Walk) -> Walk:
    def walk(value: Any, loc: KeyPath, errors: Errors, cuts: Cuts) -> None:
        if not isinstance(value, list):
            _wrong(value, loc, errors, cuts)
            return
        items: Iterable[Any] = value
        if len(value) > MAX_LIST_ITEMS:
            cuts.append((loc, len(value)))
            items = islice(value, MAX_LIST_ITEMS)
        if test is None:
            for index, item in enumerate(items):
                sub(item, (*loc, index), errors, cuts)
        else:
            for index, item in enumerate(items):
                if not test(item):
                    _wrong(item, (*loc, index), errors, cuts)

    return walk


def _dict(sub: Walk) -> Walk:
    def walk(value: Any, loc: KeyPath, errors: Errors, cuts: Cuts) -> None:
        if not isinstance(value, dict):
            _wrong(value, loc, errors, cuts)
            return
        for key, item in value.items():
            sub(item, (*loc, key), errors, cuts)

    return walk


_ROOT = _table(_manifest_spec.ROOT, {})
