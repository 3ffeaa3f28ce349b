"""Layers: each starts from what the layers before it left in force; a repository only tightens.

The organisation (plugins, then its file) may loosen anything but the rules that can never be
turned off; a repository file or a flag may only make the gate harder to pass, setting by
setting as configuration.md's table says. A refusal is a configuration error at the refused
key that says what is in force and who set it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from policylint.config.files import Settings
from policylint.config.model import BUILT_IN, InForce, Origin, Setting
from policylint.errors import ConfigError
from policylint.findings import ALWAYS_ON, RuleInfo
from policylint.packs import PackNameTaken, Param, newer, param_problem
from policylint.schema import did_you_mean

ONLY_ORG = "only the organisation configuration may loosen it"


@dataclass(frozen=True)
class Catalog:
    """What exists to be configured: parameters and rules, with who declared them."""

    params: Mapping[str, Param]
    rules: Mapping[str, RuleInfo]
    #: Who declared each parameter and rule (``built-in pack``, a plugin's pack, policy-paths).
    owners: Mapping[str, Origin]
    #: Each loaded pack's current version, by pack name.
    pack_versions: Mapping[str, str] = field(default_factory=dict)
    #: Each pack policy's pack and ``since`` version, by rule id.
    since: Mapping[str, tuple[str, str]] = field(default_factory=dict)


def starting_point(catalog: Catalog) -> InForce:
    """The built-in layer: the packs' parameter defaults and the rules' own severities."""
    return fill(InForce(), catalog)


def fill(state: InForce, catalog: Catalog) -> InForce:
    """Parameters and rules a newly added pack declares, at their declared values."""
    params = dict(state.params)
    for name, param in catalog.params.items():
        params.setdefault(name, Setting(param.default, catalog.owners.get(f"params.{name}", BUILT_IN)))
    severity = dict(state.severity)
    for rule_id, info in catalog.rules.items():
        severity.setdefault(rule_id, Setting(info.severity, catalog.owners.get(rule_id, BUILT_IN)))
    return replace(state, params=params, severity=severity)


def with_defaults(state: InForce, defaults: Mapping[str, Any], origins: Mapping[str, Origin], catalog: Catalog) -> InForce:
    """Plugins' parameter defaults (organisation layer: any direction)."""
    params = dict(state.params)
    for name, value in defaults.items():
        params[name] = _checked_param(catalog, name, value, origins[name])
    return replace(state, params=params)


def apply(state: InForce, layer: Settings, catalog_for: Callable[[tuple[Path, ...]], Catalog]) -> InForce:
    """``layer`` over ``state``: each value checked, and refused when it loosens an untrusted layer."""
    policy_paths = state.policy_paths + layer.policy_paths
    for setting in layer.policy_paths:
        if not (setting.value / "pack.toml").is_file():
            raise ConfigError(f"{setting.origin.locate}: {setting.value} is not a policy pack (no pack.toml in it)")
    try:
        catalog = catalog_for(tuple(s.value for s in policy_paths))
    except PackNameTaken as exc:  # named at the setting that added the pack
        adding = [s for s in layer.policy_paths if s.value == exc.path]
        if not adding:
            raise
        raise ConfigError(f"{adding[0].origin.locate}: {exc}") from None
    state = fill(replace(state, policy_paths=policy_paths), catalog)
    check_disable(layer)
    params = dict(state.params)
    for name, setting in layer.params:
        checked = _checked_param(catalog, name, setting.value, setting.origin)
        if not setting.origin.trusted and _loosens(catalog.params[name].stricter, setting.value, params[name].value):
            raise _refused(setting, params[name])
        params[name] = checked
    severity = dict(state.severity)
    for rule_id, level in layer.severity:
        if rule_id not in catalog.rules:
            raise ConfigError(f"{level.origin.locate}: unknown rule {rule_id!r}{did_you_mean(rule_id, catalog.rules)}")
        if rule_id.startswith(("MAN", "WVR")):
            raise ConfigError(f"{level.origin.locate}: the severity of manifest and waiver rules ({rule_id}) is fixed")
        if not level.origin.trusted and level.value == "warning" and severity[rule_id].value == "error":
            raise _refused(level, severity[rule_id])
        severity[rule_id] = level
    non_waivable = dict(state.non_waivable)
    if layer.non_waivable is not None:
        for rule_id in layer.non_waivable.value:
            if rule_id not in catalog.rules:
                raise ConfigError(
                    f"{layer.non_waivable.origin.locate}: unknown rule {rule_id!r}{did_you_mean(rule_id, catalog.rules)}"
                )
            non_waivable.setdefault(rule_id, layer.non_waivable.origin)
    fail_on = state.fail_on
    if layer.fail_on is not None:
        if not layer.fail_on.origin.trusted and layer.fail_on.value == "error" and fail_on.value == "warning":
            raise _refused(layer.fail_on, fail_on)
        fail_on = layer.fail_on
    days = state.max_waiver_days
    if layer.max_waiver_days is not None:
        if not layer.max_waiver_days.origin.trusted and layer.max_waiver_days.value > days.value:
            raise _refused(layer.max_waiver_days, days)
        days = layer.max_waiver_days
    pack_versions = _pack_versions(state, layer, catalog)
    warn_days = layer.waiver_warn_days if layer.waiver_warn_days is not None else state.waiver_warn_days
    baseline = _baseline(state.baseline, layer.baseline)
    state = replace(
        state, params=params, severity=severity, non_waivable=non_waivable, fail_on=fail_on, max_waiver_days=days,
        waiver_warn_days=warn_days, pack_versions=pack_versions, baseline=baseline,
        exclude=state.exclude + layer.exclude, disabled_plugins=state.disabled_plugins + layer.disable_plugins,
        files=state.files + ((layer.path,) if layer.path else ()),
    )
    return replace(state, off=_selection(state, layer, catalog))


def _baseline(in_force: Setting[Path | None], setting: Setting[Path | None] | None) -> Setting[Path | None]:
    """``baseline`` after a layer: a repository may set it; once set, only the organisation may
    point it elsewhere or remove it (a baseline accepts findings: another file loosens)."""
    if setting is None:
        return in_force
    if in_force.value is None or setting.origin.trusted or _same_path(in_force.value, setting.value):
        return setting
    what = f"pointing it to {setting.value}" if setting.value is not None else "removing it"
    raise ConfigError(
        f"{setting.origin.locate}: {what} would loosen the gate: the baseline in force is "
        f"{in_force.value} ({in_force.origin.set_by()}); only the organisation configuration may point it elsewhere or remove it"
    )


def _same_path(a: Path, b: Path | None) -> bool:
    import os

    return b is not None and os.path.abspath(a) == os.path.abspath(b)


def resolve(base: InForce, layers: Iterable[Settings], catalog_for: Callable[[tuple[Path, ...]], Catalog]) -> InForce:
    for layer in layers:
        base = apply(base, layer, catalog_for)
    return base


def _pack_versions(state: InForce, layer: Settings, catalog: Catalog) -> dict[str, Setting[str]]:
    """``pack-versions`` after ``layer``: adopting a newer version tightens (more rules are
    errors), pinning an older one than is in force loosens (only the organisation may)."""
    versions = dict(state.pack_versions)
    for name, setting in layer.pack_versions:
        if name not in catalog.pack_versions:
            known = ", ".join(sorted(catalog.pack_versions)) or "none"
            raise ConfigError(
                f"{setting.origin.locate}: unknown pack {name!r}{did_you_mean(name, catalog.pack_versions)} (packs loaded: {known})"
            )
        current = catalog.pack_versions[name]
        if newer(setting.value, current):
            raise ConfigError(
                f"{setting.origin.locate}: pack {name!r} has no version {setting.value!r}: the newest loaded is {current!r}"
            )
        in_force = versions.get(name)
        adopted = in_force.value if in_force is not None else current
        if not setting.origin.trusted and newer(adopted, setting.value):
            who = in_force.origin.set_by() if in_force is not None else "the current version: no configuration pins an older one"
            raise ConfigError(
                f"{setting.origin.locate}: pinning pack {name!r} to version {setting.value!r} would loosen version "
                f"{adopted!r} in force ({who}): the rules added since would become preview warnings; "
                "only the organisation configuration may pin an older pack version"
            )
        versions[name] = setting
    return versions


def adopted_version(state: InForce, catalog: Catalog, pack: str) -> str:
    """The version of ``pack`` adopted under ``state``: its pin, else its current version."""
    pinned = state.pack_versions.get(pack)
    return pinned.value if pinned is not None else catalog.pack_versions.get(pack, "")


def preview_rules(state: InForce, catalog: Catalog) -> frozenset[str]:
    """Rules introduced after the adopted version of their pack: they run as warnings marked
    preview, never failing the verdict nor setting the recommendation. A rule whose severity a
    configuration layer set to ``error`` explicitly is not preview: whoever set it adopted it."""
    preview = set()
    for rule_id, (pack, since) in catalog.since.items():
        pinned = state.pack_versions.get(pack)
        if pinned is None or not newer(since, pinned.value):
            continue
        severity = state.severity.get(rule_id)
        if severity is not None and severity.changed and severity.value == "error":
            continue
        preview.add(rule_id)
    return frozenset(preview)


def _checked_param(catalog: Catalog, name: str, value: Any, origin: Origin) -> Setting[Any]:
    problem = param_problem(catalog.params, name, value)
    if problem:
        raise ConfigError(f"{origin.locate}: {problem}")
    return Setting(value, origin)


def _loosens(stricter: str, new: Any, old: Any) -> bool:
    """Whether moving a parameter from ``old`` to ``new`` makes the gate easier to pass."""
    return (stricter == "higher" and new < old) or (stricter == "lower" and new > old)


def _refused(setting: Setting[Any], in_force: Setting[Any]) -> ConfigError:
    from policylint.expr import render

    return ConfigError(
        f"{setting.origin.locate}: {render(setting.value)} would loosen {render(in_force.value)} "
        f"({in_force.origin.set_by()}); {ONLY_ORG}"
    )


def _selection(state: InForce, layer: Settings, catalog: Catalog) -> dict[str, Origin]:
    """Rules turned off after ``layer``'s select, extend-select and ignore (ruff's semantics).

    ``select`` runs only the rules it and ``extend-select`` match, turning back on any an earlier
    layer turned off (which only tightens); ``extend-select`` alone turns matching rules back on;
    ``ignore`` wins over both. A rule newly turned off by an untrusted layer must be a warning
    in force, and waivable.
    """
    patterns: list[tuple[Setting[tuple[str, ...]], str]] = [
        (s, key) for s, key in ((layer.select, "select"), (layer.extend_select, "extend-select"), (layer.ignore, "ignore"))
        if s is not None
    ]
    for setting, _ in patterns:
        for pattern in setting.value:
            if not any(rule_id.startswith(pattern) for rule_id in catalog.rules):
                raise ConfigError(f"{setting.origin.locate}: {pattern!r} matches no rule{did_you_mean(pattern, catalog.rules)}")
    off = dict(state.off)
    chosen = (*(layer.select.value if layer.select else ()), *(layer.extend_select.value if layer.extend_select else ()))
    for rule_id in sorted(catalog.rules):
        if rule_id.startswith(ALWAYS_ON):
            continue
        matched = any(rule_id.startswith(p) for p in chosen)
        if matched:
            off.pop(rule_id, None)
        elif layer.select is not None and rule_id not in off:
            off[rule_id] = _turn_off(state, rule_id, layer.select.origin, catalog)
        if layer.ignore is not None and any(rule_id.startswith(p) for p in layer.ignore.value):
            off[rule_id] = state.off.get(rule_id) or _turn_off(state, rule_id, layer.ignore.origin, catalog)
    return off


def _turn_off(state: InForce, rule_id: str, origin: Origin, catalog: Catalog) -> Origin:
    """``origin`` turns ``rule_id`` off, if it may."""
    if origin.trusted:
        return origin
    # A waiver rule is never waivable, but WVR005 (an unused waiver) is an ordinary warning here.
    never_waived = not catalog.rules[rule_id].waivable and not rule_id.startswith("WVR")
    if never_waived or rule_id in state.non_waivable:
        who = state.non_waivable[rule_id].set_by() if rule_id in state.non_waivable else catalog.owners.get(rule_id, BUILT_IN).set_by()
        raise ConfigError(
            f"{origin.locate}: turning off {rule_id} would loosen the gate: it is not waivable ({who}); "
            "no repository configuration or flag may turn it off or downgrade it"
        )
    severity = state.severity[rule_id]
    if severity.value == "error":
        raise ConfigError(
            f"{origin.locate}: turning off {rule_id} would loosen the gate: its severity is error "
            f"({severity.origin.set_by()}); only the organisation configuration may turn off an error"
        )
    return origin




def check_disable(layer: Settings) -> None:
    """A repository file or a flag that disables a plugin is refused, before any plugin loads.

    An essential plugin is refused as such first: no layer may disable it.
    """
    from policylint.plugins import ESSENTIAL

    for setting in layer.disable_plugins:
        if setting.origin.trusted:
            continue
        if setting.value in ESSENTIAL:
            raise ConfigError(f"{setting.origin.locate}: plugin {setting.value!r} is essential and cannot be disabled")
        raise ConfigError(
            f"{setting.origin.locate}: disabling plugin {setting.value!r} would loosen the gate; "
            "only the organisation configuration may disable a plugin"
        )
