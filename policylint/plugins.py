"""The plugin manager: built-in plugins first, then the ``policylint`` entry points.

Every hook answer is collected per plugin, so a plugin that raises or answers with malformed
data is named in the error (exit 2), never skipped.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from policylint import hookspecs
from policylint.errors import PluginError

ENTRY_POINT_GROUP = "policylint"

#: policylint's own features, registered like any third-party plugin.
BUILTIN_PLUGINS = (
    "policylint.builtin",
    "policylint.reports.text",
    "policylint.reports.json",
    "policylint.reports.sarif",
    "policylint.reports.junit",
    "policylint.reports.github",
    "policylint.reports.gitlab",
    "policylint.reports.markdown",
)
#: Built-ins that ``--disable-plugin`` refuses: without them nothing can be reported.
ESSENTIAL = frozenset({"policylint.reports.text", "policylint.reports.json"})


@dataclass(frozen=True)
class PluginInfo:
    """Where a plugin comes from, for listings and error messages."""

    name: str
    distribution: str
    version: str

    def describe(self) -> str:
        return f"plugin {self.name!r} ({self.distribution} {self.version})"


@dataclass
class PluginHost:
    """A pluggy manager plus what is known of each registered plugin."""

    manager: pluggy.PluginManager
    info: dict[str, PluginInfo] = field(default_factory=dict)

    def collect(self, hook_name: str, check: Callable[[Any], Any]) -> list[tuple[PluginInfo, Any]]:
        """Call one hook plugin by plugin, sorted by plugin name; ``check`` validates each answer."""
        answers = []
        hook = getattr(self.manager.hook, hook_name)
        for impl in hook.get_hookimpls():
            info = self.info[impl.plugin_name]
            try:
                answer = impl.function()
            except Exception as exc:  # a plugin's bug must stop the run, naming the plugin
                raise PluginError(f"{info.describe()} raised in {hook_name}: {type(exc).__name__}: {exc}") from None
            if answer is None:
                continue
            try:
                answers.append((info, check(answer)))
            except (TypeError, ValueError) as exc:
                raise PluginError(f"{info.describe()} returned malformed data from {hook_name}: {exc}") from None
        return sorted(answers, key=lambda pair: pair[0].name)


def create_host(
    disabled: Iterable[str] = (), *, entry_points: bool = True, origins: Mapping[str, str] | None = None
) -> PluginHost:
    """Register the built-ins and the installed plugins, minus the disabled ones.

    ``origins`` maps a disabled plugin's name to where that was asked for, for error messages.
    """
    from policylint._version import __version__

    disabled = set(disabled)
    origins = origins or {}

    def origin(name: str) -> str:
        where = origins.get(name)
        return f"{where}: " if where else ""

    refused = disabled & ESSENTIAL
    if refused:
        name = sorted(refused)[0]
        raise PluginError(f"{origin(name)}plugin {name!r} is essential and cannot be disabled")
    manager = pluggy.PluginManager("policylint")
    manager.add_hookspecs(hookspecs)
    host = PluginHost(manager)
    for module_name in BUILTIN_PLUGINS:
        if module_name in disabled:
            continue
        manager.register(importlib.import_module(module_name), name=module_name)
        host.info[module_name] = PluginInfo(module_name, "policylint", __version__)
    installed = _entry_points() if entry_points else []
    _load_entry_points(host, installed, disabled)
    known = {*BUILTIN_PLUGINS, *host.info}
    unknown = sorted(disabled - known - {ep.name for ep in installed})
    if unknown:
        raise PluginError(f"{origin(unknown[0])}cannot disable unknown plugin {unknown[0]!r}; installed: {', '.join(sorted(known))}")
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        name = manager.get_name(exc.plugin) or "?"
        info = host.info.get(name, PluginInfo(name, "unknown", "unknown"))
        raise PluginError(f"{info.describe()} implements a hook policylint does not have: {_one_line(str(exc))}") from None
    return host


def _entry_points() -> list[Any]:
    from importlib.metadata import entry_points

    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def _load_entry_points(host: PluginHost, installed: list[Any], disabled: set[str]) -> None:
    for entry_point in installed:
        if entry_point.name in disabled:
            continue
        dist = entry_point.dist
        info = PluginInfo(entry_point.name, dist.name if dist else "unknown", dist.version if dist else "unknown")
        if entry_point.name in host.info:
            raise PluginError(f"{info.describe()}: the name is already used by {host.info[entry_point.name].describe()}")
        try:
            plugin = entry_point.load()
        except Exception as exc:  # an import error in a plugin stops the run, naming it
            raise PluginError(f"{info.describe()} failed to load: {type(exc).__name__}: {exc}") from None
        try:
            host.manager.register(plugin, name=entry_point.name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            raise PluginError(f"{info.describe()} cannot be registered: {_one_line(str(exc))}") from None
        host.info[entry_point.name] = info


def _one_line(text: str) -> str:
    """pluggy's messages span lines; an error here is one line (the CLI's promise)."""
    return " ".join(text.split())


def as_mapping(answer: Any) -> Mapping[str, Any]:
    if not isinstance(answer, Mapping) or not all(isinstance(k, str) for k in answer):
        raise TypeError(f"expected a mapping of names, got {type(answer).__name__}")
    return answer


def as_paths(answer: Any) -> list[Path]:
    if isinstance(answer, (str, Path)) or not isinstance(answer, Iterable):
        raise TypeError(f"expected a sequence of folders, got {type(answer).__name__}")
    paths = [Path(p) for p in answer]
    for path in paths:
        if not path.is_dir():
            raise ValueError(f"policy pack folder {str(path)!r} does not exist")
    return paths


def merged(
    host: PluginHost, hook_name: str, what: str, check: Callable[[Any], Mapping[str, Any]] = as_mapping
) -> tuple[dict[str, Any], dict[str, PluginInfo]]:
    """One mapping from every plugin's answer, and who offered each name.

    Two plugins offering one name stop the run: the answer would depend on load order.
    """
    result: dict[str, Any] = {}
    owner: dict[str, PluginInfo] = {}
    for info, answer in host.collect(hook_name, check):
        for name, value in answer.items():
            if name in result:
                raise PluginError(f"{what} {name!r} is offered by both {owner[name].describe()} and {info.describe()}")
            result[name], owner[name] = value, info
    return result, owner


def describe(host: PluginHost) -> list[dict[str, Any]]:
    """What each loaded plugin contributes, for ``policylint plugins``."""
    from policylint.packs import load_pack

    contributions: dict[str, dict[str, Any]] = {
        name: {"name": name, "distribution": info.distribution, "version": info.version} for name, info in host.info.items()
    }

    def add(hook_name: str, key: str, render: Callable[[Any], Any]) -> None:
        for info, answer in host.collect(hook_name, lambda a: a):
            value = render(answer)
            if value:
                contributions[info.name][key] = value

    add("policylint_policy_packs", "packs", lambda paths: [
        {"name": pack.name, "path": str(pack.path), "rules": sorted(p.id for p in pack.policies)}
        for pack in (load_pack(Path(p)) for p in paths)
    ])
    add("policylint_manifest_tables", "tables", lambda tables: sorted(f"ext.{name}" for name in tables))
    add("policylint_condition_functions", "functions", lambda functions: {
        name: (inspect.getdoc(function) or "").split("\n")[0] for name, function in sorted(functions.items())
    })
    add("policylint_checks", "checks", lambda checks: sorted(check.id for check in checks))
    add("policylint_param_defaults", "params", lambda params: dict(sorted(params.items())))
    add("policylint_org_settings", "settings", lambda settings: dict(sorted(settings.items())))
    add("policylint_report_formats", "formats", lambda formats: sorted(formats))
    return [contributions[name] for name in sorted(contributions)]
