"""The baseline: findings a repository accepted once, so the gate fails only on new ones.

``check --write-baseline FILE`` records every failing finding of a waivable rule; ``--baseline
FILE`` (or ``baseline = "path"`` in configuration) marks the findings it lists ``baselined``:
the verdict accepts them as it accepts waived ones, and every report marks them.

A finding is matched by its **fingerprint**: a hash of the rule id, the manifest's path relative
to the repository root (the nearest folder above the manifest holding ``.git``; outside a git
work tree, relative to the baseline file's folder), the key the finding points at, and the value
at that key in the manifest as canonical text (JSON with sorted keys; a table's value is the
whole table; a key the manifest lacks is ``null``). Never a line number: an edit elsewhere in
the file keeps the fingerprint, a change of the offending value breaks it.

Non-waivable rules are never baselined: writing leaves them out (and says so), reading ignores
such entries (and reports them). Entries that match no finding of a manifest the run checked,
or name a manifest that no longer exists, are **stale**: reported, never an error.

The file is TOML, sorted by path, rule, key and value, one ``[[finding]]`` per entry, and
records the policylint and pack versions it was written with.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from policylint.errors import UsageError
from policylint.files import read_bounded
from policylint.findings import Decision, Finding, ManifestResult, RuleInfo

#: Bump when the recipe changes: every baseline written before would go stale at once.
RECIPE = "policylint-fingerprint/1"
#: A baseline file is read only up to this size (50,000 findings take about 10 MiB): the
#: configuration a repository controls names it, so it must not hang or fill the gate.
MAX_BASELINE_BYTES = 64 << 20
#: Written at the top of every baseline file.
HEADER = (
    "# policylint baseline: findings accepted when policylint was adopted; new ones still fail.\n"
    "# Written by `policylint check --write-baseline`; shrink it by fixing findings and writing it again.\n"
)


def fingerprint(rule: str, path: str, key: str, value: str) -> str:
    """The one fingerprint recipe: sha256 of its parts, 32 hex digits.

    The baseline passes the manifest's value at ``key`` (:func:`canonical`); the SARIF and
    GitLab reports, which do not hold the manifest's data, pass the occurrence index of the
    finding instead (``#0``, ``#1``...), so that no two of their results share one.
    """
    recipe = "\0".join((RECIPE, rule, path, key, value))
    return hashlib.sha256(recipe.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def canonical(value: Any) -> str:
    """A value as canonical text: JSON, keys sorted, no spaces; dates as ISO text; absent: ``null``."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_iso)


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


_PART = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def value_at(data: Any, key: str) -> Any:
    """The value at ``waivers[0].rule``-style ``key`` in ``data``, or None when it is absent."""
    for index, name in _PART.findall(key):
        if index:
            if not isinstance(data, list) or int(index) >= len(data):
                return None
            data = data[int(index)]
        else:
            if not isinstance(data, dict) or name not in data:
                return None
            data = data[name]
    return data


_ROOTS: dict[str, str | None] = {}


def repo_root(folder: str) -> str | None:
    """The nearest folder at or above ``folder`` that holds ``.git`` (cached per folder)."""
    folder = os.path.abspath(folder)
    if folder not in _ROOTS:
        parent = os.path.dirname(folder)
        if os.path.exists(os.path.join(folder, ".git")):
            _ROOTS[folder] = folder
        else:
            _ROOTS[folder] = None if parent == folder else repo_root(parent)
    return _ROOTS[folder]


def relative_path(manifest: str, baseline_file: Path) -> str:
    """The manifest's path as a baseline records it: relative to its repository root, or to
    the baseline file's folder outside a git work tree; always with ``/``."""
    absolute = os.path.abspath(manifest)
    root = repo_root(os.path.dirname(absolute)) or os.path.dirname(os.path.abspath(baseline_file))
    return os.path.relpath(absolute, root).replace(os.sep, "/")


@dataclass(frozen=True)
class Entry:
    rule: str
    path: str
    key: str
    value: str
    fingerprint: str

    def sort_key(self) -> tuple[str, str, str, str]:
        return (self.path, self.rule, self.key, self.value)

    def describe(self) -> str:
        return f"{self.path}: {self.rule} at {self.key} = {self.value}"


@dataclass
class Outcome:
    """What applying a baseline found, for the reports."""

    file: str
    #: Entries that matched nothing, as ``path: RULE at key = value``.
    stale: list[str] = field(default_factory=list)
    #: Entries of non-waivable rules: never applied.
    not_applied: list[str] = field(default_factory=list)
    baselined: int = 0

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"file": self.file, "stale": self.stale}
        if self.not_applied:
            data["not_applied"] = self.not_applied
        return data

    def notes(self) -> list[str]:
        from policylint.wording import plural

        lines = []
        if self.baselined:
            lines.append(f"{plural(self.baselined, 'finding')} accepted by the baseline {self.file}")
        if self.stale:
            lines.append(
                f"warning: {len(self.stale):,} stale {'entry' if len(self.stale) == 1 else 'entries'} in the baseline {self.file} "
                f"(they match no finding; write the baseline again to drop them): " + "; ".join(self.stale)
            )
        if self.not_applied:
            lines.append(
                f"warning: the baseline {self.file} lists findings of non-waivable rules, never baselined: "
                + "; ".join(self.not_applied)
            )
        return lines


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _toml_key(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else _toml_string(text)


# --------------------------------------------------------------------------------- reading


def load(file: Path) -> list[Entry]:
    """The entries of a baseline file; a missing or malformed file stops the run (exit 2)."""
    from policylint import toml

    try:
        text = read_bounded(file, MAX_BASELINE_BYTES).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"baseline: cannot read {file}: not UTF-8 text ({exc.reason} at byte {exc.start:,})") from None
    except OSError as exc:
        hint = f" (write one with `policylint check --write-baseline {file}`)" if isinstance(exc, FileNotFoundError) else ""
        raise UsageError(f"baseline: cannot read {file}: {exc.strerror or exc}{hint}") from None
    try:
        data = toml.loads(text)
    except toml.TOMLError as exc:
        raise UsageError(f"{file}:{exc.line}:{exc.column}: invalid baseline: {exc.message}") from None
    entries = []
    for number, item in enumerate(data.get("finding", [])):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("rule", "path", "key", "value")):
            raise UsageError(f"{file}: invalid baseline: finding[{number}] needs rule, path, key and value as strings")
        print_ = fingerprint(item["rule"], item["path"], item["key"], item["value"])
        entries.append(Entry(item["rule"], item["path"], item["key"], item["value"], print_))
    return entries


def _manifest_data(path: str) -> Any:
    """A manifest's parsed data, re-read only for manifests that have findings to match."""
    from policylint import toml

    from policylint.manifest import MAX_MANIFEST_BYTES

    try:
        return toml.loads(read_bounded(path, MAX_MANIFEST_BYTES).decode("utf-8").removeprefix("\ufeff"))
    except (OSError, UnicodeDecodeError, toml.TOMLError):
        return None


def _candidates(result: ManifestResult, rules: Mapping[str, RuleInfo]) -> list[int]:
    """Indexes of the findings a baseline may accept: unwaived, not preview, of a waivable rule."""
    return [
        i for i, f in enumerate(result.findings)
        if not f.waived and not f.preview and (rules[f.rule].waivable if f.rule in rules else False)
    ]


def entries_of(result: ManifestResult, rules: Mapping[str, RuleInfo], file: Path,
               fail_on: str = "error") -> tuple[list[Entry], list[Finding]]:
    """A manifest's failing findings as baseline entries, and those left out as non-waivable."""
    failing = ("error", "warning") if fail_on == "warning" else ("error",)
    chosen = [f for f in result.findings if f.severity in failing and not f.waived and not f.preview]
    if not chosen or result.path == "-":
        return [], [f for f in chosen]
    data = _manifest_data(result.path)
    relative = relative_path(result.path, file)
    entries, left_out = [], []
    for finding in chosen:
        info = rules.get(finding.rule)
        if info is None or not info.waivable or data is None:
            left_out.append(finding)
            continue
        value = canonical(value_at(data, finding.key))
        entries.append(Entry(finding.rule, relative, finding.key, value,
                             fingerprint(finding.rule, relative, finding.key, value)))
    return entries, left_out


def render(entries: Iterable[Entry], versions: Mapping[str, str], tool_version: str) -> str:
    """The baseline file's text: sorted, one ``[[finding]]`` per entry, byte-identical across runs."""
    unique = sorted({e.fingerprint: e for e in entries}.values(), key=Entry.sort_key)
    packs = ", ".join(f"{_toml_key(name)} = {_toml_string(v)}" for name, v in sorted(versions.items()))
    lines = [HEADER, "[baseline]", f"policylint = {_toml_string(tool_version)}", f"packs = {{ {packs} }}" if packs else "packs = {}"]
    for entry in unique:
        lines += [
            "",
            "[[finding]]",
            f"rule = {_toml_string(entry.rule)}",
            f"path = {_toml_string(entry.path)}",
            f"key = {_toml_string(entry.key)}",
            f"value = {_toml_string(entry.value)}",
            f"fingerprint = {_toml_string(entry.fingerprint)}",
        ]
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------- applying


def verdict(findings: Sequence[Finding], fail_on: str) -> Literal["pass", "fail"]:
    """The verdict of findings as marked: unwaived, unbaselined, non-preview ones at a failing level."""
    failing = ("error", "warning") if fail_on == "warning" else ("error",)
    return "fail" if any(
        f.severity in failing and not f.waived and not f.baselined and not f.preview for f in findings
    ) else "pass"


def apply(
    results: Sequence[ManifestResult],
    baselines: Mapping[str, Path],
    rules_of: Mapping[str, Mapping[str, RuleInfo]],
    fail_on_of: Mapping[str, str],
) -> tuple[list[ManifestResult], list[Outcome]]:
    """Mark the findings each manifest's baseline accepts, and recompute the verdicts.

    ``baselines`` maps each manifest path to its baseline file (manifests without one are left
    as they are); each file is read once. Only manifests with a finding a baseline may accept
    are re-read.
    """
    files = {file: load(file) for file in dict.fromkeys(baselines.values())}
    matched: dict[Path, set[str]] = {file: set() for file in files}
    checked: dict[Path, set[str]] = {file: set() for file in files}
    by_print = {file: {e.fingerprint: e for e in entries} for file, entries in files.items()}
    outcomes = {file: Outcome(str(file)) for file in files}
    out = []
    for result in results:
        file = baselines.get(result.path)
        if file is None or result.path == "-":
            out.append(result)
            continue
        relative = relative_path(result.path, file)
        checked[file].add(relative)
        rules = rules_of[result.path]
        indexes = _candidates(result, rules)
        if not indexes:
            out.append(result)
            continue
        data = _manifest_data(result.path)
        findings = list(result.findings)
        for i in indexes:
            f = findings[i]
            value = canonical(value_at(data, f.key)) if data is not None else None
            if value is None:
                continue
            print_ = fingerprint(f.rule, relative, f.key, value)
            if print_ in by_print[file]:
                matched[file].add(print_)
                findings[i] = f._replace(baselined=True)
                outcomes[file].baselined += 1
        new = verdict(findings, fail_on_of[result.path])
        decision: Decision = result.decision
        if decision.recommendation is not None and new != decision.verdict:
            decision = decision._replace(verdict=new)
        out.append(result._replace(findings=tuple(findings), decision=decision))
    for file, entries in files.items():
        root = repo_root(str(Path(file).parent.resolve())) or str(Path(file).parent.resolve())
        waivable = _waivable_rules(rules_of)
        for entry in sorted(entries, key=Entry.sort_key):
            if entry.rule in waivable and not waivable[entry.rule]:
                outcomes[file].not_applied.append(entry.describe() + " (not waivable)")
            elif entry.fingerprint not in matched[file] and (
                entry.path in checked[file] or not os.path.exists(os.path.join(root, entry.path))
            ):
                outcomes[file].stale.append(entry.describe())
    return out, list(outcomes.values())


def _waivable_rules(rules_of: Mapping[str, Mapping[str, RuleInfo]]) -> dict[str, bool]:
    waivable: dict[str, bool] = {}
    for rules in {id(r): r for r in rules_of.values()}.values():
        for rule_id, info in rules.items():
            waivable[rule_id] = waivable.get(rule_id, True) and info.waivable
    return waivable


# ---------------------------------------------------------------------------- --no-waivers


def without_waivers(result: ManifestResult, fail_on: str) -> ManifestResult:
    """A result as if the manifest had no waivers: nothing accepted, WVR005/WVR006 (about what
    a waiver accepts) gone. WVR001-WVR004 stay (a broken waiver is an error in the manifest
    whatever the run does with waivers), and a verdict that failed stays failed: an audit only
    tightens."""
    if not any(f.waived or f.rule.startswith("WVR") for f in result.findings):
        return result
    findings = tuple(
        f._replace(waived=False, waiver=None) for f in result.findings if f.rule not in ("WVR005", "WVR006")
    )
    decision = result.decision
    if decision.recommendation is not None and decision.verdict == "pass":
        decision = decision._replace(verdict=verdict(findings, fail_on))
    return result._replace(findings=findings, decision=decision)
