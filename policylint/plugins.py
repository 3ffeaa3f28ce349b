"""The plugin manager: built-in plugins first, then the ``policylint`` entry points.

Every hook answer is collected per plugin, so a plugin that raises or answers with malformed
data is named in the error (exit 2), never skipped.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.machinery import PathFinder
from pathlib import Path
from typing import Any, NamedTuple

import pluggy

from policylint import hookspecs
from policylint.errors import PLUGIN_FAILURES, PluginError, what_it_raised

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
            except PLUGIN_FAILURES as exc:  # a plugin's bug must stop the run, naming the plugin
                raise PluginError(f"{info.describe()} raised in {hook_name}: {what_it_raised(exc)}") from None
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


class EntryPoint(NamedTuple):
    """One ``policylint`` entry point and the distribution that declares it."""

    name: str
    value: str  # ``module`` or ``module:attribute`` (dotted), optionally followed by ``[extras]``
    distribution: str
    version: str

    def load(self) -> Any:
        """The module, or the attribute of it, the value names (importlib.metadata's rule)."""
        match = re.match(_ENTRY_POINT_VALUE, self.value)  # compiled on the first plugin's load
        if match is None:
            raise ValueError(f"malformed entry point {self.value!r} (expected 'module' or 'module:attribute')")
        loaded: Any = importlib.import_module(match["module"])
        for attribute in filter(None, (match["attr"] or "").split(".")):
            loaded = getattr(loaded, attribute)
        return loaded


#: importlib.metadata.EntryPoint.pattern: ``module[:attr.attr] [extras]``.
_ENTRY_POINT_VALUE = r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$"
_SECTION = b"[" + ENTRY_POINT_GROUP.encode() + b"]"
_INFO_SUFFIXES = (".dist-info", ".egg-info")


def _entry_points() -> list[EntryPoint]:
    """The ``policylint`` entry points of the installed distributions, sorted by name.

    What ``importlib.metadata.entry_points(group="policylint")`` finds, without importing it
    (it brings email, zipfile and csv, about 12 ms) or reading more than it must: each folder
    on ``sys.path`` is listed once (``os.listdir``), in order; of its ``*.dist-info`` and
    ``*.egg-info`` folders (and an ``.egg`` folder's ``EGG-INFO``) the first of each
    normalized name on ``sys.path`` counts, as importlib.metadata decides; only an
    ``entry_points.txt`` that has a ``[policylint]`` section is parsed, and only a
    distribution that declares one has its ``METADATA`` read, for its name and version.
    Lines of other sections are never parsed: a malformed one, which makes importlib.metadata
    raise for every group, does not stop a policylint run.

    A ``sys.path`` entry that is not a folder (a zipped egg, a zipapp: importlib.metadata
    reads those as zip files) is handed to importlib.metadata, for that entry only; so is the
    whole search when a meta path finder other than ``PathFinder`` offers distributions of
    its own (PyOxidizer, some bundlers), which only importlib.metadata can ask.
    """
    if any(finder is not PathFinder and hasattr(finder, "find_distributions") for finder in sys.meta_path):
        return _entry_points_from_metadata()
    found: list[EntryPoint] = []
    seen: set[str] = set()
    for entry in sys.path:
        root = entry or "."  # importlib.metadata's reading of ''
        try:
            children = os.listdir(root)  # one getdents, like os.scandir, without an object per child
        except NotADirectoryError:  # perhaps a zip: importlib.metadata reads it, for this entry
            found.extend(_entry_points_from_metadata([entry], seen))
            continue
        except (OSError, TypeError, ValueError):  # missing, unreadable, not a str path
            continue
        is_egg = os.path.basename(root).lower().endswith(".egg")
        eggs = []  # an unzipped egg's EGG-INFO, after the path's *-info folders (importlib.metadata's order)
        for child in children:
            low = child.lower()
            if low.endswith(_INFO_SUFFIXES):
                key = _normalize(low.rpartition(".")[0].partition("-")[0])
            elif is_egg and low == "egg-info":
                eggs.append(child)
                continue
            else:
                continue
            folder = root + os.sep + child
            if not key:  # a stem without a name: the metadata's Name decides
                key = _normalize(_metadata(folder, child)[0])
            if key not in seen:
                seen.add(key)
                found.extend(_read_entry_points(folder, child))
        for child in eggs:
            folder = root + os.sep + child
            key = _normalize(_metadata(folder, child)[0])
            if key not in seen:
                seen.add(key)
                found.extend(_read_entry_points(folder, child))
    return sorted(found, key=lambda ep: ep.name)


def _normalize(name: str) -> str:
    """importlib.metadata's normalized distribution name (PEP 503, dashes as underscores)."""
    name = name.lower().replace("-", "_").replace(".", "_")
    return re.sub("_+", "_", name) if "__" in name else name


def _read_entry_points(folder: str, child: str) -> list[EntryPoint]:
    """The ``[policylint]`` entries of one distribution's ``entry_points.txt``, if it has any."""
    path = folder + os.sep + "entry_points.txt"
    if not os.access(path, os.F_OK):  # most distributions have none (cheaper than a failed open)
        return []
    try:
        data = _read_bytes(path)
    except OSError:  # unreadable, or an egg-info file rather than a folder
        return []
    if _SECTION not in data:
        return []
    distribution, version = _metadata(folder, child)
    where = f"{distribution} {version}"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PluginError(f"{where}: cannot read {path}: {exc}") from None
    found: list[EntryPoint] = []
    group = None
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line.strip("[]")
        elif group == ENTRY_POINT_GROUP:
            name, equals, value = line.partition("=")
            if not equals or not name.strip():
                raise PluginError(f"{where}: malformed entry point in {path}, line {number}: {line!r} (expected 'name = module:attribute')")
            found.append(EntryPoint(name.strip(), value.strip(), distribution, version))
    return found


def _read_bytes(path: str) -> bytes:
    """A file's bytes: ``os.read`` rather than ``open``, half the cost for a small file (no
    buffered reader), which counts in an environment of hundreds of distributions."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        chunks = [os.read(fd, 65536)]
        while chunks[-1]:
            chunks.append(os.read(fd, 65536))
    finally:
        os.close(fd)
    return b"".join(chunks)


def _metadata(folder: str, child: str) -> tuple[str, str]:
    """A distribution's Name and Version headers (``METADATA``, or an egg's ``PKG-INFO``).

    Without them, the name and version in the folder's name (``name-version.dist-info``).
    """
    headers: dict[str, str] = {}
    for file_name in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(folder, file_name), encoding="utf-8", errors="replace") as file:
                for line in file:
                    if not line.strip():
                        break  # the end of the headers
                    key, colon, value = line.partition(":")
                    if colon and not line[0].isspace():
                        headers.setdefault(key.strip().lower(), value.strip())
        except OSError:
            continue
        break
    stem_name, _, rest = child.rpartition(".")[0].partition("-")
    return headers.get("name") or stem_name or "unknown", headers.get("version") or rest.partition("-")[0] or "unknown"


def _entry_points_from_metadata(path: list[str] | None = None, seen: set[str] | None = None) -> list[EntryPoint]:
    """importlib.metadata's answer: for every distribution, or those of the ``path`` entries.

    ``seen`` holds the normalized names already found earlier on ``sys.path`` (and gets this
    search's): the first distribution of a name wins, as importlib.metadata's own search rules.
    """
    import importlib.metadata

    seen = set() if seen is None else seen
    found: list[EntryPoint] = []
    distributions = importlib.metadata.distributions() if path is None else importlib.metadata.distributions(path=path)
    for dist in distributions:
        key = _normalize(getattr(dist, "_normalized_name", None) or dist.metadata["Name"] or "")
        if key in seen:
            continue
        seen.add(key)
        found.extend(
            EntryPoint(ep.name, ep.value, dist.metadata["Name"] or "unknown", dist.version or "unknown")
            for ep in dist.entry_points
            if ep.group == ENTRY_POINT_GROUP
        )
    return found if path is not None else sorted(found, key=lambda ep: ep.name)


def _load_entry_points(host: PluginHost, installed: list[EntryPoint], disabled: set[str]) -> None:
    for entry_point in installed:
        if entry_point.name in disabled:
            continue
        info = PluginInfo(entry_point.name, entry_point.distribution, entry_point.version)
        if entry_point.name in host.info:
            raise PluginError(f"{info.describe()}: the name is already used by {host.info[entry_point.name].describe()}")
        try:
            plugin = entry_point.load()
        except PLUGIN_FAILURES as exc:  # an import error in a plugin stops the run, naming it
            raise PluginError(f"{info.describe()} failed to load: {what_it_raised(exc)}") from None
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
