"""A harness for plugin authors: an engine built as ``policylint check`` builds it, from the
built-in plugins plus yours, without installing anything or touching policylint's internals.

::

    from policylint.testing import check_text, engine_for
    from acme_policylint import plugin

    engine = engine_for(plugin, params={"quality_bar": 0.9}, today=datetime.date(2026, 12, 1))
    result = check_text(engine, MANIFEST)
    assert [f.rule for f in result.findings] == ["ACME001"]

Every hook answer goes through the checks a real run applies (a malformed answer raises
:class:`policylint.api.PluginError` naming your plugin), and the plugin is registered on a
fresh plugin manager each time, so tests cannot leak into each other. ``policylint test`` builds
its engines with the same two functions (:func:`plugin_host`, :func:`session_engine`).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from policylint.engine import Engine, EngineOptions
    from policylint.findings import ManifestResult
    from policylint.plugins import PluginHost, PluginInfo
    from policylint.session import Session

__all__ = ["check_text", "engine_for", "namespace_for", "plugin_host", "session_engine"]


def plugin_host(plugins: Iterable[tuple[object, PluginInfo]], *, builtins: Iterable[str] | None = None) -> PluginHost:
    """A fresh host: policylint's built-in plugins (``builtins``: their module names, default
    all), then each ``(plugin, info)`` under ``info.name``; a hook no spec declares is an error."""
    import importlib

    import pluggy

    from policylint import hookspecs
    from policylint._version import __version__
    from policylint.errors import PluginError
    from policylint.plugins import BUILTIN_PLUGINS, PluginHost, PluginInfo

    manager = pluggy.PluginManager("policylint")
    manager.add_hookspecs(hookspecs)
    host = PluginHost(manager)
    for module_name in BUILTIN_PLUGINS if builtins is None else builtins:
        manager.register(importlib.import_module(module_name), name=module_name)
        host.info[module_name] = PluginInfo(module_name, "policylint", __version__)
    for plugin, info in plugins:
        if info.name in host.info:
            raise PluginError(f"{info.describe()}: the name is already used by {host.info[info.name].describe()}")
        try:
            manager.register(plugin, name=info.name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            raise PluginError(f"{info.describe()} cannot be registered: {' '.join(str(exc).split())}") from None
        host.info[info.name] = info
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        name = manager.get_name(exc.plugin) or "?"
        raise PluginError(f"{host.info[name].describe()} implements a hook policylint does not have: "
                          f"{' '.join(str(exc).split())}") from None
    return host


def session_engine(session: Session, options: EngineOptions, policy_paths: tuple[Path, ...] = ()) -> Engine:
    """An engine of ``session``'s plugins plus the packs in ``policy_paths``, under ``options``
    (parameters in ``options.params`` over the plugins' defaults)."""
    from policylint.engine import Engine

    return Engine(
        session.packs_with(policy_paths), options=options, ext_models=session.ext_models, functions=session.functions,
        param_defaults=session.param_defaults, param_default_owners=session.param_default_owners, checks=session.checks,
    )


def engine_for(
    plugin: object | None = None,
    *,
    params: Mapping[str, Any] | None = None,
    today: datetime.date | None = None,
    policy_paths: Iterable[str | Path] = (),
    name: str | None = None,
    distribution: str | None = None,
    version: str = "test",
) -> Engine:
    """The engine ``policylint check`` would use with ``plugin`` installed and nothing else.

    :param plugin: a module or object with ``@hookimpl`` functions (None: the built-ins only).
    :param params: parameter values as an organisation's configuration sets them (they win
        over every plugin default and may loosen a parameter).
    :param today: the date waivers expire against (default: the local date).
    :param policy_paths: pack folders to add, as the ``policy-paths`` setting does.
    :param name: the plugin's name in messages (default: the module's top-level package).
    """
    from policylint.config.files import Settings
    from policylint.config.model import Origin, Setting
    from policylint.plugins import PluginInfo
    from policylint.session import Session

    plugins: list[tuple[object, PluginInfo]] = []
    if plugin is not None:
        module = getattr(plugin, "__name__", None) or type(plugin).__module__
        name = name or module.split(".")[0]
        plugins.append((plugin, PluginInfo(name, distribution or name.replace("_", "-"), version)))
    origin = Origin("org", "engine_for()", "engine_for()")
    org = Settings(
        params=tuple((key, Setting(value, Origin("org", "engine_for()", f"engine_for(): params.{key}")))
                     for key, value in (params or {}).items()),
        policy_paths=tuple(Setting(Path(p).resolve(), origin) for p in policy_paths),
    )
    session = Session(plugin_host(plugins), org, today=today)
    return session.engine(session.base)


def check_text(engine: Engine, toml_text: str, path: str = "mlproject.toml") -> ManifestResult:
    """Check one manifest given as TOML text: its findings, decision and verdict."""
    return engine.check(path, toml_text.encode("utf-8"))


def namespace_for(toml_text: str) -> Mapping[str, Any]:
    """The read-only fields and facts a :class:`policylint.api.Check`'s ``run`` receives for a
    well-formed manifest, for unit tests of a check function."""
    from policylint import toml
    from policylint.facts import namespace

    return MappingProxyType(namespace(toml.loads(toml_text)))
