"""Provenance: what is in force and who set it, for ``policylint config`` and the reports.

Reports list only what differs from the built-in defaults (and the manifests an ``exclude``
left out), so a report with nothing changed is byte-identical to one from before this existed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from policylint.config.model import InForce, Origin, Setting
from policylint.findings import RuleInfo


def _entry(setting: Setting[Any]) -> dict[str, Any]:
    return {"value": setting.value, "origin": setting.origin.label}


def changes(state: InForce) -> dict[str, Any]:
    """What ``state`` changed from the built-in defaults, each with its value and origin."""
    data: dict[str, Any] = {}

    def put(key: str, value: Mapping[str, Any]) -> None:
        if value:
            data[key] = dict(value)

    put("params", {name: _entry(s) for name, s in sorted(state.params.items()) if s.changed})
    put("severity", {rule: _entry(s) for rule, s in sorted(state.severity.items()) if s.changed})
    put("ignored", {rule: {"origin": o.label} for rule, o in sorted(state.off.items())})
    for key, setting in (
        ("fail-on", state.fail_on), ("max-waiver-days", state.max_waiver_days), ("waiver-warn-days", state.waiver_warn_days)
    ):
        if setting.changed:
            data[key] = _entry(setting)
    put("non-waivable", {rule: {"origin": o.label} for rule, o in sorted(state.non_waivable.items())})
    put("disabled-plugins", {s.value: {"origin": s.origin.label} for s in state.disabled_plugins})
    put("pack-versions", {name: _entry(s) for name, s in sorted(state.pack_versions.items())})
    if state.baseline.changed:
        data["baseline"] = {"value": _path(state.baseline.value), "origin": state.baseline.origin.label}
    return data


def _path(value: Any) -> Any:
    return None if value is None else str(value)


def describe_in_force(state: InForce, rules: Mapping[str, RuleInfo]) -> dict[str, Any]:
    """Every setting and parameter in force, with its origin (``policylint config``)."""
    declared_non_waivable = sorted(r for r, info in rules.items() if not info.waivable and r not in state.non_waivable)
    return {
        "files": [str(path) for path in state.files],
        "params": {name: _entry(s) for name, s in sorted(state.params.items())},
        "severity": {rule: _entry(s) for rule, s in sorted(state.severity.items())},
        "ignored": {rule: {"origin": o.label} for rule, o in sorted(state.off.items())},
        "fail-on": _entry(state.fail_on),
        "max-waiver-days": _entry(state.max_waiver_days),
        "waiver-warn-days": _entry(state.waiver_warn_days),
        "non-waivable": {
            **{rule: {"origin": "built-in pack" if rule in rules else ""} for rule in declared_non_waivable},
            **{rule: {"origin": o.label} for rule, o in sorted(state.non_waivable.items())},
        },
        "policy-paths": [_entry(s) | {"value": str(s.value)} for s in state.policy_paths],
        "exclude": [{"value": s.value[1], "origin": s.origin.label} for s in state.exclude],
        "disabled-plugins": {s.value: {"origin": s.origin.label} for s in state.disabled_plugins},
        # only the pinned packs: a pack not listed is adopted at its current version
        "pack-versions": {name: _entry(s) for name, s in sorted(state.pack_versions.items())},
        "baseline": {"value": _path(state.baseline.value), "origin": state.baseline.origin.label},
    }


def in_force_text(path: str, data: Mapping[str, Any]) -> str:
    """``policylint config`` as text: one ``key = value  (origin)`` line per setting."""
    from policylint.expr import render

    files = ", ".join(data["files"]) or "none"
    lines = [f"settings in force for {path} (configuration files: {files})"]
    rows: list[tuple[str, str]] = []
    for name, entry in data["params"].items():
        rows.append((f"params.{name} = {render(entry['value'])}", entry["origin"]))
    for key in ("fail-on", "max-waiver-days", "waiver-warn-days"):
        rows.append((f"{key} = {render(data[key]['value'])}", data[key]["origin"]))
    for rule, entry in data["severity"].items():
        rows.append((f"severity.{rule} = {entry['value']}", entry["origin"]))
    if "baseline" in data:
        shown = data["baseline"]["value"]
        rows.append((f"baseline = {render(shown) if shown is not None else 'none'}", data["baseline"]["origin"]))
    for name, entry in data.get("pack-versions", {}).items():
        rows.append((f"pack-versions.{name} = {render(entry['value'])}", entry["origin"]))
    for key in ("ignored", "non-waivable", "disabled-plugins"):
        for name, entry in data[key].items():
            rows.append((f"{key}: {name}", entry["origin"]))
    for key in ("policy-paths", "exclude"):
        for entry in data[key]:
            rows.append((f"{key}: {entry['value']}", entry["origin"]))
    width = max(len(text) for text, _ in rows)
    lines += [f"  {text.ljust(width)}  ({origin})" for text, origin in rows]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class RunSettings:
    """A run's settings for the reports: shared by every manifest, or each manifest's own."""

    shared: dict[str, Any] | None = None
    per_manifest: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: ``{"path": ..., "origin": ...}`` for each manifest an ``exclude`` glob left out.
    excluded: list[dict[str, str]] = field(default_factory=list)

    def top_level(self) -> dict[str, Any] | None:
        """The report's top-level ``settings`` object, or None when nothing is to say."""
        data = dict(self.shared or {})
        if self.excluded:
            data["excluded"] = self.excluded
        return data or None

    def of(self, path: str) -> dict[str, Any] | None:
        """A manifest's own ``settings``, when the run's manifests do not all share them."""
        return self.per_manifest.get(path) or None if self.shared is None else None

    def note(self) -> str | None:
        """``settings: params.quality_bar = 0.9 (org config org.toml:2); 1 manifest excluded: ...``."""
        from policylint.expr import render
        from policylint.wording import plural

        seen: dict[str, None] = {}
        for data in ([self.shared] if self.shared is not None else self.per_manifest.values()):
            for key, value in (data or {}).items():
                if key in ("ignored",):
                    continue  # the note on rules turned off says it already
                if "origin" in value:
                    seen[f"{key} = {render(value['value'])} ({value['origin']})"] = None
                    continue
                for name, entry in value.items():
                    shown = f" = {render(entry['value'])}" if "value" in entry else ""
                    seen[f"{key}.{name}{shown} ({entry['origin']})"] = None
        parts = list(seen)
        if self.excluded:
            names = ", ".join(f"{e['path']} ({e['origin']})" for e in self.excluded)
            parts.append(f"{plural(len(self.excluded), 'manifest')} excluded: {names}")
        return "settings: " + "; ".join(parts) if parts else None


def run_settings(run: Any) -> RunSettings:
    """The settings of a planned run (:class:`policylint.runner.Plan`)."""
    by_state: dict[int, dict[str, Any]] = {}
    for state in run.in_force.values():
        if id(state) not in by_state:
            by_state[id(state)] = changes(state)
    distinct = _distinct(by_state.values())
    shared = distinct[0] if len(distinct) == 1 else ({} if not distinct else None)
    # One entry per manifest only when they differ (a run of one configuration holds none).
    per_manifest = {path: by_state[id(state)] for path, state in run.in_force.items()} if shared is None else {}
    excluded = [{"path": path, "origin": origin.label} for path, origin in _sorted(run.excluded)]
    return RunSettings(shared, per_manifest, excluded)


def _distinct(values: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for value in values:
        if value not in found:
            found.append(value)
    return found


def _sorted(pairs: Iterable[tuple[str, Origin]]) -> list[tuple[str, Origin]]:
    return sorted(pairs, key=lambda pair: pair[0])
