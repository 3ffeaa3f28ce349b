"""Policy unit tests as data: cases beside a pack, run through the real engine.

What ``conftest verify`` and ``opa test`` give Rego authors: a pack ships ``tests/*.toml``
beside its policies, each file a ``base`` manifest and ``[[case]]`` entries that change it and
say which of the pack's rules fire, and optionally what the decision is. Running them answers
two questions before a pack gates anyone: does every case hold, and has every policy been seen
both firing and staying silent (coverage)? ``docs/policy-tests.md`` is the user's guide.

Case files sit in ``<pack>/tests/``, which :func:`policylint.packs.load_pack` never reads (it
globs ``*.toml`` at the top of the folder only), so a case is never mistaken for a policy.
A mistake in a case file is a :class:`CaseFileError` located at its key; a case that does not
hold is a failed :class:`CaseResult` with its differences, never an error.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from policylint.engine import Engine, EngineOptions
from policylint.errors import ConfigError, PackError, located
from policylint.findings import RECOMMENDATIONS, ManifestResult
from policylint.packs import RULE_ID, Key, Pack, _check_keys, dotted_key, load_pack, param_problem, read_toml
from policylint.positions import SourceIndex
from policylint.schema import did_you_mean, show, type_name

if TYPE_CHECKING:
    from policylint.plugins import PluginHost

#: The folder of a pack that holds its cases.
CASES_FOLDER = "tests"
#: ``decided_by`` when no rule set the recommendation (TOML has no null).
NO_RULE = "none"

_TABLE = Key((dict,), required=False, expected="a table")
_RULES = Key((list,), required=False, expected="a list of rule ids")
FILE_KEYS: dict[str, Key | None] = {
    "base": Key((dict, str), required=False, expected="a table (the manifest) or a file name relative to this file"),
    "params": _TABLE,
    "today": Key((datetime.date,), required=False, expected="a date such as 2026-12-01"),
    "case": None,  # the array of tables, checked entry by entry
}
CASE_KEYS: dict[str, Key | None] = {
    "name": Key((str,), pattern=r"[^\n]*\S[^\n]*", expected="one non-blank line of text"),
    "manifest": _TABLE,
    "unset": Key((list,), required=False, expected="a list of dotted manifest keys", default=[]),
    "params": _TABLE,
    "today": FILE_KEYS["today"],
    "fires": _RULES,
    "includes": _RULES,
    "silent": _RULES,
    "recommendation": Key((str,), required=False, choices=RECOMMENDATIONS, expected="a string"),
    "verdict": Key((str,), required=False, choices=("pass", "fail"), expected="a string"),
    "decided_by": Key((str,), required=False, pattern=rf"{RULE_ID.pattern}|{NO_RULE}",
                      expected=f"a rule id, or {NO_RULE!r} when no rule sets the recommendation"),
}

#: Builds the engine that runs a pack's cases: policylint's built-in pack, the pack under test,
#: and whatever that pack needs (its plugin's tables, functions, checks). Called once per pack
#: and distinct ``(params, today)``.
EngineFactory = Callable[[Pack, EngineOptions], Engine]


class CaseFileError(PackError):
    """A case file that cannot be read: located at its key, exit 2 like a broken pack."""


# =============================================================================================
# What a case file holds
# =============================================================================================


@dataclass(frozen=True)
class Case:
    """One ``[[case]]``: the manifest to check and what must come of it."""

    pack: str
    file: str
    line: int
    column: int
    name: str
    manifest: Mapping[str, Any]
    params: Mapping[str, Any]
    today: datetime.date | None
    #: Exactly these of the pack's rules fire (None: not said).
    fires: frozenset[str] | None
    #: These fire, others of the pack may too.
    includes: frozenset[str]
    #: These are evaluated and do not fire.
    silent: frozenset[str]
    recommendation: str | None
    verdict: str | None
    #: A rule id, ``none``, or None when not said.
    decided_by: str | None
    #: Where each parameter override was written, for the engine's error messages.
    param_origins: Mapping[str, str] = field(default_factory=dict)
    #: ``file:line:col`` of ``decided_by``, checked against the engine's rules when the case runs.
    decided_by_where: str = ""

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def expected_firing(self) -> frozenset[str]:
        return self.fires if self.fires is not None else self.includes

    def asserts_silent(self, rule: str) -> bool:
        return rule in self.silent or (self.fires is not None and rule not in self.fires)


def load_cases(pack: Pack) -> list[Case]:
    """Every case of ``pack``: ``tests/*.toml`` in name order, cases in file order."""
    folder = pack.path / CASES_FOLDER
    if not folder.is_dir():
        return []
    cases: list[Case] = []
    for path in sorted(folder.glob("*.toml")):
        cases.extend(load_case_file(path, pack))
    return cases


def load_case_file(path: Path, pack: Pack) -> list[Case]:
    """Read and check one case file against the pack it tests."""
    data, text = _read(path)
    if "case" not in data and "schema_version" in data:
        _fail(path, text, (), "this looks like a manifest, not a case file: a case file holds [[case]] entries; "
                              "put a shared base manifest in a subfolder (tests/manifests/) and name it with base = \"...\"")
    spec = _keys(data, FILE_KEYS, (), path, text)
    entries = data.get("case")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        what = "is missing" if entries is None else "must be an array of tables ([[case]])"
        _fail(path, text, ("case",) if entries is not None else (), f"case: {what}; add a [[case]] entry")
    base = _base(spec["base"], path, text)
    file_params = spec["params"] or {}
    rules = sorted(policy.id for policy in pack.policies)
    positions = SourceIndex.from_text(text)
    cases: list[Case] = []
    names: dict[str, int] = {}
    for number, entry in enumerate(entries):
        at: tuple[str | int, ...] = ("case", number)
        c = _keys(entry, CASE_KEYS, at, path, text)
        if c["name"] in names:
            _fail(path, text, (*at, "name"), f"{dotted_key((*at, 'name'))}: {c['name']!r} is already the name of "
                                             f"case {names[c['name']] + 1}")
        names[c["name"]] = number
        expected = {key: _rule_set(c[key], (*at, key), rules, pack.name, path, text) for key in ("fires", "includes", "silent")}
        if expected["fires"] is not None and (expected["includes"] is not None or expected["silent"] is not None):
            _fail(path, text, (*at, "fires"), f"{dotted_key((*at, 'fires'))}: names every rule of the pack that fires; "
                                              "use it alone, or includes and silent instead")
        if all(value is None for value in expected.values()):
            _fail(path, text, at, f"{dotted_key(at)}: say which rules fire: fires = [...] (exactly; [] for none), "
                                  "or includes = [...] and/or silent = [...]")
        both = (expected["includes"] or frozenset()) & (expected["silent"] or frozenset())
        if both:
            _fail(path, text, (*at, "silent"), f"{dotted_key((*at, 'silent'))}: {', '.join(sorted(both))} "
                                               "cannot be in both includes and silent")
        manifest = copy.deepcopy(base)
        for number_in_list, key in enumerate(c["unset"]):
            _unset(manifest, key, (*at, "unset"), number_in_list, path, text)
        _merge(manifest, c["manifest"] or {})
        params = {**file_params, **(c["params"] or {})}
        origins = {}
        for name in params:
            key = (*at, "params", name) if name in (c["params"] or {}) else ("params", name)
            origins[f"params.{name}"] = located(str(path), *positions.locate(key), dotted_key(key))
        line, column = positions.locate(at)
        cases.append(Case(
            pack.name, str(path), line, column, c["name"], manifest, params, c["today"] or spec["today"],
            expected["fires"], expected["includes"] or frozenset(), expected["silent"] or frozenset(),
            c["recommendation"], c["verdict"], c["decided_by"], origins,
            located(str(path), *positions.locate((*at, "decided_by")), dotted_key((*at, "decided_by"))),
        ))
    return cases


def _keys(
    data: Mapping[str, Any], keys: Mapping[str, Key | None], at: tuple[str | int, ...], path: Path, text: str
) -> dict[str, Any]:
    """The pack files' key check (unknown keys with a suggestion, types, choices), as case errors."""
    try:
        values = _check_keys(data, keys, at, path, text)
    except CaseFileError:
        raise
    except PackError as exc:
        raise CaseFileError(str(exc)) from None
    if isinstance(values.get("today"), datetime.datetime):  # a date-time is a date to isinstance
        _fail(path, text, (*at, "today"), f"{dotted_key((*at, 'today'))}: expected a date such as 2026-12-01, "
                                          f"got a date-time {show(values['today'])}")
    return values


def _rule_set(
    value: list[Any] | None, key: tuple[str | int, ...], rules: list[str], pack: str, path: Path, text: str
) -> frozenset[str] | None:
    if value is None:
        return None
    seen: set[str] = set()
    for item in value:
        if not isinstance(item, str):
            _fail(path, text, key, f"{dotted_key(key)}: expected rule ids, got {type_name(item)} {show(item)}".rstrip())
        if item not in rules:
            _fail(path, text, key, f"{dotted_key(key)}: {item!r} is not a policy of pack {pack!r}{did_you_mean(item, rules)}")
        if item in seen:
            _fail(path, text, key, f"{dotted_key(key)}: {item} is named twice")
        seen.add(item)
    return frozenset(seen)


def _base(value: dict[str, Any] | str | None, path: Path, text: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    base_path = path.parent / value
    if not base_path.is_file():
        _fail(path, text, ("base",), f"base: no such file {str(base_path)!r}")
    data, _ = _read(base_path)
    return data


def _unset(manifest: dict[str, Any], key: Any, at: tuple[str | int, ...], index: int, path: Path, text: str) -> None:
    """Remove a dotted key from the base; a key it does not hold is a mistake worth naming."""
    where = f"{dotted_key(at)}[{index + 1}]"
    if not isinstance(key, str) or not key:
        _fail(path, text, at, f"{where}: expected a dotted manifest key such as evaluation.failures.mode, got {show(key)}")
    table: Any = manifest
    parts = key.split(".")
    for depth, part in enumerate(parts):
        if not isinstance(table, dict) or part not in table:
            known = sorted(_dotted_keys(manifest))
            _fail(path, text, at, f"{where}: {key!r} is not in the base manifest{did_you_mean(key, known)}")
        if depth == len(parts) - 1:
            del table[part]
        else:
            table = table[part]


def _dotted_keys(data: Mapping[str, Any], prefix: str = "") -> Iterable[str]:
    for name, value in data.items():
        yield prefix + name
        if isinstance(value, dict):
            yield from _dotted_keys(value, f"{prefix}{name}.")


def _merge(target: dict[str, Any], fragment: Mapping[str, Any]) -> None:
    """Deep-merge: tables merge key by key, any other value (arrays included) replaces."""
    for name, value in fragment.items():
        if isinstance(value, dict) and isinstance(target.get(name), dict):
            _merge(target[name], value)
        else:
            target[name] = copy.deepcopy(value)


def _fail(path: Path, text: str, key_path: tuple[str | int, ...], message: str) -> NoReturn:
    line, column = SourceIndex.from_text(text).locate(key_path) if key_path else (1, 1)
    raise CaseFileError(located(str(path), line, column, message))


def _read(path: Path) -> tuple[dict[str, Any], str]:
    return read_toml(path, "case file", CaseFileError)


# =============================================================================================
# Manifests back to TOML (the engine reads bytes, as ``check`` does)
# =============================================================================================

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def to_toml(data: Mapping[str, Any]) -> str:
    """A manifest as TOML text: a table's values first, then its tables and arrays of tables."""
    lines: list[str] = []

    def body(prefix: str, table: Mapping[str, Any]) -> None:
        for name, value in table.items():
            if not _is_table(value) and not _is_table_array(value):
                lines.append(f"{_key(name)} = {_value(value)}")
        for name, value in table.items():
            full = f"{prefix}.{_key(name)}" if prefix else _key(name)
            if _is_table(value):
                lines.extend(["", f"[{full}]"])
                body(full, value)
            elif _is_table_array(value):
                for item in value:
                    lines.extend(["", f"[[{full}]]"])
                    body(full, item)

    body("", data)
    return "\n".join(lines).lstrip("\n") + "\n"


def _is_table(value: Any) -> bool:
    return isinstance(value, dict)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)


def _key(name: str) -> str:
    return name if _BARE.fullmatch(name) else _string(name)


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, datetime.date, datetime.time)):
        return value.isoformat() if isinstance(value, (datetime.date, datetime.time)) else repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


# =============================================================================================
# Results
# =============================================================================================


@dataclass(frozen=True)
class CaseResult:
    """One case run: what fired of the pack's rules, the decision, and what differed."""

    case: Case
    #: The pack's rules that fired, sorted.
    fired: tuple[str, ...]
    recommendation: str | None
    verdict: str
    decided_by: str | None
    #: One line per expectation that did not hold; empty when the case passed.
    problems: tuple[str, ...]
    #: Every rule the engine evaluated (a rule outside the proposal's family is not).
    evaluated: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        case = self.case
        expected: dict[str, Any] = {}
        if case.fires is not None:
            expected["fires"] = sorted(case.fires)
        if case.includes:
            expected["includes"] = sorted(case.includes)
        if case.silent:
            expected["silent"] = sorted(case.silent)
        for key in ("recommendation", "verdict", "decided_by"):
            if getattr(case, key) is not None:
                expected[key] = getattr(case, key)
        if case.decided_by == NO_RULE:
            expected["decided_by"] = None  # as in ``got`` and in check's JSON report
        return {
            "pack": case.pack, "file": case.file, "line": case.line, "column": case.column, "name": case.name,
            "passed": self.passed, "expected": expected,
            "got": {"fires": list(self.fired), "recommendation": self.recommendation, "verdict": self.verdict,
                    "decided_by": self.decided_by},
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class PolicyCoverage:
    """Which passing cases show a policy firing, and which show it evaluated and silent."""

    pack: str
    rule: str
    fires_in: tuple[str, ...]
    silent_in: tuple[str, ...]

    @property
    def covered(self) -> bool:
        return bool(self.fires_in and self.silent_in)

    def gaps(self) -> list[str]:
        return [gap for gap, seen in (("no case makes it fire", self.fires_in), ("no case keeps it silent", self.silent_in))
                if not seen]

    def to_dict(self) -> dict[str, Any]:
        return {"pack": self.pack, "rule": self.rule, "fires_in": list(self.fires_in), "silent_in": list(self.silent_in),
                "covered": self.covered}


@dataclass(frozen=True)
class PackTestReport:
    """Every case of every pack tested, and each policy's coverage."""

    #: ``(pack name, pack folder)`` in the order given.
    packs: tuple[tuple[str, str], ...]
    cases: tuple[CaseResult, ...]
    coverage: tuple[PolicyCoverage, ...]

    @property
    def failed(self) -> tuple[CaseResult, ...]:
        return tuple(result for result in self.cases if not result.passed)

    @property
    def passed(self) -> bool:
        return not self.failed

    @property
    def uncovered(self) -> tuple[PolicyCoverage, ...]:
        return tuple(entry for entry in self.coverage if not entry.covered)

    @property
    def covered_pairs(self) -> int:
        return sum(bool(entry.fires_in) + bool(entry.silent_in) for entry in self.coverage)

    @property
    def coverage_percent(self) -> float:
        """Share of (policy, fires) and (policy, silent) pairs some passing case shows; 100 with no policies."""
        total = 2 * len(self.coverage)
        return 100.0 if not total else 100.0 * self.covered_pairs / total

    def pack_coverage(self, pack: str) -> tuple[int, int]:
        """``(covered pairs, all pairs)`` of one pack."""
        entries = [entry for entry in self.coverage if entry.pack == pack]
        return sum(bool(e.fires_in) + bool(e.silent_in) for e in entries), 2 * len(entries)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-able data; the same input always gives the same data."""
        packs = []
        for name, path in self.packs:
            covered, total = self.pack_coverage(name)
            results = [r for r in self.cases if r.case.pack == name]
            packs.append({
                "name": name, "path": path, "cases": len(results), "failed": sum(not r.passed for r in results),
                "coverage": {"covered": covered, "total": total, "percent": _percent(covered, total)},
            })
        return {
            "version": 1,
            "packs": packs,
            "cases": [result.to_dict() for result in self.cases],
            "coverage": [entry.to_dict() for entry in self.coverage],
            "summary": {
                "cases": len(self.cases), "passed": len(self.cases) - len(self.failed), "failed": len(self.failed),
                "policies": len(self.coverage), "uncovered": len(self.uncovered),
                "coverage_percent": round(self.coverage_percent, 2),
            },
        }


def _percent(covered: int, total: int) -> float:
    return round(100.0 * covered / total, 2) if total else 100.0


# =============================================================================================
# Running
# =============================================================================================


def builtin_engine_factory(pack: Pack, options: EngineOptions) -> Engine:
    """policylint's built-in pack plus ``pack``, with no plugin (enough for a pack of conditions
    over the core manifest; a pack that reads a plugin's table needs :func:`host_engine_factory`).

    A pack named as the built-in one (a working copy of it) takes its place.
    """
    from policylint.builtin import builtin_pack_path

    builtin = load_pack(builtin_pack_path())
    return Engine([builtin, pack] if builtin.name != pack.name else [pack], options=options)


def host_engine_factory(host: PluginHost) -> EngineFactory:
    """Engines built as ``check`` builds them, from policylint's built-in plugins and the one plugin
    of ``host`` that offers the pack under test (by folder, or by name for a working copy).

    Other installed plugins stay out: their rules and parameter defaults (a stricter quality bar)
    would change the outcome of another pack's cases. The pack under test is always read from
    the folder given, in place of any pack of the same name a plugin offers.
    """
    from policylint.plugins import BUILTIN_PLUGINS, as_paths
    from policylint.session import Session
    from policylint.testing import plugin_host, session_engine

    offered: dict[str, list[tuple[Path, str]]] = {}
    for info, paths in host.collect("policylint_policy_packs", as_paths):
        for path in paths:
            offered.setdefault(info.name, []).append((path.resolve(), load_pack(path).name))
    builtins = [name for name in BUILTIN_PLUGINS if name in host.info]

    def factory(pack: Pack, options: EngineOptions) -> Engine:
        owners = [name for name, packs in sorted(offered.items())
                  if any(path == pack.path.resolve() or pack_name == pack.name for path, pack_name in packs)]
        plugins = []
        for name in dict.fromkeys([*builtins, *owners[:1]]):
            plugin = host.manager.get_plugin(name)
            others = [path for path, pack_name in offered.get(name, []) if pack_name != pack.name and path != pack.path.resolve()]
            if len(others) != len(offered.get(name, [])):
                plugin = _offering_only(plugin, others)
            plugins.append((plugin, host.info[name]))
        session = Session(plugin_host(plugins, builtins=()), today=options.today)
        return session_engine(session, options, (pack.path,))

    return factory


def _offering_only(plugin: object, packs: list[Path]) -> object:
    """``plugin`` with its hooks as they are, except that it offers only ``packs``."""
    import types

    from policylint import hookimpl

    marker = "policylint_impl"  # where pluggy's HookimplMarker("policylint") leaves its mark
    hooks = {name: getattr(plugin, name) for name in dir(plugin) if hasattr(getattr(plugin, name, None), marker)}

    @hookimpl
    def policylint_policy_packs() -> Sequence[Path]:
        return packs

    hooks["policylint_policy_packs"] = policylint_policy_packs
    return types.SimpleNamespace(**hooks)


def run_pack_tests(pack_dirs: Sequence[Path], *, engine_factory: EngineFactory = builtin_engine_factory) -> PackTestReport:
    """Run the cases of every pack in ``pack_dirs`` (a folder given twice runs once).

    Raises :class:`~policylint.errors.PackError` for a pack or case file that cannot be read,
    and whatever building the engine raises (an unknown parameter in ``params``, located in the
    case file); a case that does not hold is a failed result, not an error.
    """
    packs: dict[Path, Pack] = {}
    for folder in map(Path, pack_dirs):
        if folder.resolve() not in packs:
            packs[folder.resolve()] = load_pack(folder)
    results: list[CaseResult] = []
    coverage: list[PolicyCoverage] = []
    for pack in packs.values():
        pack_results = _run_pack(pack, load_cases(pack), engine_factory)
        results.extend(pack_results)
        coverage.extend(_coverage(pack, pack_results))
    return PackTestReport(tuple((p.name, str(p.path)) for p in packs.values()), tuple(results), tuple(coverage))


def _run_pack(pack: Pack, cases: list[Case], engine_factory: EngineFactory) -> list[CaseResult]:
    engines: dict[tuple[Any, ...], Engine] = {}
    rules = frozenset(policy.id for policy in pack.policies)
    results = []
    for case in cases:
        key = (tuple(sorted(case.params.items())), case.today)
        if key not in engines:
            _check_params(case, engines.get(("probe",)) or engines.setdefault(("probe",), engine_factory(pack, EngineOptions())))
            engine = engine_factory(pack, EngineOptions(params=dict(case.params), today=case.today))
            missing = sorted(rules - set(engine.rules))
            if missing:
                raise PackError(f"{pack.path}: the engine built for pack {pack.name!r} lacks its rules {', '.join(missing)}")
            engines[key] = engine
        engine = engines[key]
        result = engine.check(case.where, to_toml(case.manifest).encode("utf-8"))
        results.append(_judge(case, result, rules, engine))
    return results


def _check_params(case: Case, engine: Engine) -> None:
    """A case's parameter overrides against the parameters the engine's packs declare, each
    problem located where the case file writes it."""
    declared = {name: param for name, (_, param) in engine.params.items()}
    for name, value in case.params.items():
        problem = param_problem(declared, name, value)
        if problem:
            raise ConfigError(f"{case.param_origins.get(f'params.{name}', case.where)}: {problem}")


def _judge(case: Case, result: ManifestResult, rules: frozenset[str], engine: Engine) -> CaseResult:
    decision = result.decision
    invalid = [f for f in result.findings if f.rule.startswith("MAN")]
    fired = tuple(sorted({f.rule for f in result.findings if f.rule in rules}))
    problems: list[str] = []
    if invalid:
        problems += [f"the case's manifest is invalid: {f.rule} {f.message}" for f in invalid]
    else:
        problems += _rule_problems(case, result, fired)
        if case.decided_by is not None and case.decided_by != NO_RULE and case.decided_by not in engine.rules:
            raise CaseFileError(f"{case.decided_by_where}: unknown rule {case.decided_by!r}"
                                f"{did_you_mean(case.decided_by, engine.rules)}")
        if case.recommendation is not None and case.recommendation != decision.recommendation:
            problems.append(f"recommendation: expected {case.recommendation!r}, got {decision.recommendation!r}"
                            f"{_decided(decision.decided_by)}")
        if case.decided_by is not None and case.decided_by != (decision.decided_by or NO_RULE):
            problems.append(f"decided_by: expected {case.decided_by}, got {decision.decided_by or NO_RULE}")
    if case.verdict is not None and case.verdict != decision.verdict:
        errors = sorted({f.rule for f in result.findings if f.severity == "error" and not f.waived})
        because = f" (unwaived errors: {', '.join(errors)})" if errors else ""
        problems.append(f"verdict: expected {case.verdict!r}, got {decision.verdict!r}{because}")
    return CaseResult(
        case, fired, decision.recommendation, decision.verdict, decision.decided_by, tuple(problems), result.evaluated
    )


def _rule_problems(case: Case, result: ManifestResult, fired: tuple[str, ...]) -> list[str]:
    got = set(fired)
    messages = {f.rule: f.message for f in result.findings}
    shown = f"[{', '.join(fired)}]"
    problems = []
    if case.fires is not None:
        missing, unexpected = sorted(case.fires - got), sorted(got - case.fires)
        if missing or unexpected:
            problems.append(f"fires: expected [{', '.join(sorted(case.fires))}], got {shown}")
    else:
        missing, unexpected = sorted(case.includes - got), sorted(case.silent & got)
        if missing:
            problems.append(f"includes: expected [{', '.join(sorted(case.includes))}] to fire, got {shown}")
        if unexpected:
            problems.append(f"silent: expected [{', '.join(sorted(case.silent))}] silent, got {shown}")
    problems += [f"  missing {rule}: did not fire{_not_evaluated(rule, result)}" for rule in missing]
    problems += [f"  unexpected {rule}: {messages[rule]}" for rule in unexpected]
    for rule in sorted(case.silent - set(result.evaluated) - got):
        problems.append(f"silent: {rule} is not evaluated for a {result.decision.proposal!r} proposal, "
                        "so the case cannot show it silent")
    return problems


def _not_evaluated(rule: str, result: ManifestResult) -> str:
    return "" if rule in result.evaluated else f" (not evaluated for a {result.decision.proposal!r} proposal)"


def _decided(rule: str | None) -> str:
    return f" (decided by {rule})" if rule else " (no rule decided; the proposal stands)"


def _coverage(pack: Pack, results: list[CaseResult]) -> list[PolicyCoverage]:
    """A policy is shown firing by a passing case that expects it to fire, and silent by a passing
    case that expects it silent while it was evaluated (a rule outside the proposal's family is
    silent without testing anything)."""
    entries = []
    for rule in sorted(policy.id for policy in pack.policies):
        fires_in, silent_in = [], []
        for result in results:
            if not result.passed:
                continue
            ref = f"{result.case.where} {result.case.name}"
            if rule in result.case.expected_firing():
                fires_in.append(ref)
            elif result.case.asserts_silent(rule) and rule in result.evaluated:
                silent_in.append(ref)
        entries.append(PolicyCoverage(pack.name, rule, tuple(fires_in), tuple(silent_in)))
    return entries


# =============================================================================================
# Text
# =============================================================================================


def format_report(report: PackTestReport, *, verbose: bool = True) -> str:
    """The report as text: each case (``verbose``) or only the failed ones, each failure with its
    differences, then coverage per pack with every gap, then one summary line."""
    lines: list[str] = []
    for result in report.cases:
        case = result.case
        if result.passed:
            if verbose:
                lines.append(f"{case.where}: ok {case.name}")
            continue
        lines.append(f"{case.where}: FAIL {case.name}")
        lines += [f"    {problem}" for problem in result.problems]
    if lines:
        lines.append("")
    for name, path in report.packs:
        covered, total = report.pack_coverage(name)
        cases = sum(1 for r in report.cases if r.case.pack == name)
        lines.append(f"pack {name!r} ({path}): {cases} case{'s' * (cases != 1)}, "
                     f"coverage {covered}/{total} ({_percent(covered, total):.1f}%)")
        for entry in report.uncovered:
            if entry.pack == name:
                lines.append(f"    {entry.rule}: {'; '.join(entry.gaps())}")
    failed = len(report.failed)
    lines.append(
        f"{len(report.cases)} case{'s' * (len(report.cases) != 1)}: {len(report.cases) - failed} passed, {failed} failed; "
        f"coverage {report.coverage_percent:.1f}% ({report.covered_pairs} of {2 * len(report.coverage)}: "
        "each policy firing and silent)"
    )
    return "\n".join(lines) + "\n"
