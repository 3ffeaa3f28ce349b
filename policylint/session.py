"""A run's set-up: plugin contributions collected once, configuration resolved per manifest,
and one compiled rule set per distinct set of parameter values and packs.

The organisation layer (plugins, then its file) is applied once; each chain of repository files
(and the flags over it) is resolved once and shared by every manifest it applies to.
"""

from __future__ import annotations

import datetime
import inspect
import os
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

from policylint.checks import Check
from policylint.config import layers
from policylint.config.files import Chains, Settings, load_config, plugin_settings
from policylint.config.model import BUILT_IN, InForce, Origin
from policylint.engine import Engine, EngineOptions, RuleSet, builtin_rules
from policylint.errors import PLUGIN_FAILURES, PluginError, PolicylintError, what_it_raised
from policylint.expr import Function
from policylint.findings import RuleInfo
from policylint.manifest import ext_model_check
from policylint.packs import Pack, PackNameTaken, declared_params, load_pack
from policylint.plugins import PluginHost, as_mapping, as_paths, merged
from policylint.reports import Reporter


def _check_function(name: str, impl: Any, owner: str) -> Function:
    """A plugin's condition function, its arity read from its signature, its failures named."""
    if not callable(impl):
        raise TypeError(f"condition function {name!r} is not callable")
    doc = (inspect.getdoc(impl) or "").split("\n")[0]
    try:
        parameters = inspect.signature(impl).parameters.values()
    except (TypeError, ValueError):
        arity = None
    else:
        if any(p.kind is p.VAR_POSITIONAL for p in parameters):
            arity = None
        else:
            positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            arity = sum(1 for p in parameters if p.kind in positional and p.default is p.empty)

    def guarded(*args: Any) -> Any:
        try:
            return impl(*args)
        except PLUGIN_FAILURES as exc:  # a plugin's bug must stop the run, naming the plugin
            raise PluginError(f"{owner}: condition function {name}() failed: {what_it_raised(exc)}") from None

    return Function(name, guarded, arity, doc)


def _tables(answer: Any) -> Mapping[str, Any]:
    tables = as_mapping(answer)
    for name, model in tables.items():
        ext_model_check(name, model)
    return tables


def _formats(answer: Any) -> Mapping[str, Any]:
    formats = as_mapping(answer)
    for name, reporter in formats.items():
        if not callable(reporter):
            raise TypeError(f"report format {name!r} is not callable")
    return formats


def _checks(answer: Any) -> list[Check]:
    if isinstance(answer, (str, bytes, Mapping)) or not isinstance(answer, Iterable):
        raise TypeError(f"expected a sequence of Check objects, got {type(answer).__name__}")
    checks = list(answer)
    for check in checks:
        if not isinstance(check, Check):
            raise TypeError(f"expected policylint.checks.Check objects, got {type(check).__name__}")
        problems = check.problems()
        if problems:
            raise ValueError(f"check {check.id!r}: {problems[0]}")
    return checks


def _guard_reporter(reporter: Reporter, owner: str, name: str) -> Reporter:
    """A reporter whose failure names its plugin (exit 2), whatever it raises.

    Every result exists before a reporter runs and it writes into a buffer (see the ``check``
    command), so what fails here is the reporter itself, never a rule or standard output.
    """

    def report(results: Any, context: Any, out: Any) -> Any:
        try:
            return reporter(results, context, out)
        except (PolicylintError, MemoryError):
            raise  # the reporter's own error names itself; memory is no plugin's fault
        except PLUGIN_FAILURES as exc:
            raise PluginError(f"{owner}: report format {name!r} failed: {what_it_raised(exc)}") from exc

    return report


class Session:
    """What the plugins contributed, checked once, and the configuration in force per manifest."""

    def __init__(
        self,
        host: PluginHost,
        org: Settings | None = None,
        flags: Settings = Settings(),
        config: Settings | None = None,
        today: datetime.date | None = None,
    ) -> None:
        from policylint.expr import BUILTIN_FUNCTIONS, PRESENCE_FUNCTIONS

        self.host = host
        self.flags = flags
        self.config = config
        self.today = today
        self.packs: list[Pack] = []
        self.pack_origins: dict[str, Origin] = {}
        for info, paths in host.collect("policylint_policy_packs", as_paths):
            for path in paths:
                pack = load_pack(path)._replace(owner=info.describe())
                self.packs.append(pack)
                builtin = info.name == "policylint.builtin"
                self.pack_origins[pack.name] = BUILT_IN if builtin else Origin("built-in", info.describe(), info.describe())
        self.checks = [(check, info.describe()) for info, answer in host.collect("policylint_checks", _checks) for check in answer]
        functions, function_owners = merged(host, "policylint_condition_functions", "condition function")
        self.functions: dict[str, Function] = {}
        for name, impl in functions.items():
            owner = function_owners[name].describe()
            if name in (*BUILTIN_FUNCTIONS, *PRESENCE_FUNCTIONS):
                raise PluginError(f"{owner}: condition function {name!r} is built in and cannot be replaced")
            try:
                self.functions[name] = _check_function(name, impl, owner)
            except TypeError as exc:
                raise PluginError(f"{owner}: {exc}") from None
        self.param_defaults, owners = merged(host, "policylint_param_defaults", "parameter default")
        self.param_default_owners = {name: info.describe() for name, info in owners.items()}
        self.ext_models = merged(host, "policylint_manifest_tables", "manifest table", _tables)[0]
        formats, format_owners = merged(host, "policylint_report_formats", "report format", _formats)
        self.formats = {name: _guard_reporter(r, format_owners[name].describe(), name) for name, r in formats.items()}
        self._catalogs: dict[tuple[Path, ...], layers.Catalog] = {}
        self._rule_sets: dict[Any, RuleSet] = {}
        self._engines: dict[int, Engine] = {}
        self._in_force: dict[tuple[Path, ...], InForce] = {}
        self._files: dict[Path, Settings] = {}
        self._chains = Chains()
        self._extra_packs: dict[Path, Pack] = {}
        self.base = self._organisation(org)

    # -- configuration ----------------------------------------------------------------------

    def _organisation(self, org: Settings | None) -> InForce:
        """Built-in defaults, then the plugins' settings, then the organisation's file."""
        catalog = self.catalog(())
        state = layers.starting_point(catalog)
        origins = {name: Origin("plugin", owner, f"{owner}: parameter default") for name, owner in self.param_default_owners.items()}
        state = layers.with_defaults(state, self.param_defaults, origins, catalog)
        for info, answer in self.host.collect("policylint_org_settings", as_mapping):
            try:
                settings = plugin_settings(answer, info.describe())
            except ValueError as exc:
                raise PluginError(f"{info.describe()} returned malformed data from policylint_org_settings: {exc}") from None
            state = layers.apply(state, settings, self.catalog)
        if org is not None:
            state = layers.apply(state, org, self.catalog)
        return state

    def catalog(self, policy_paths: tuple[Path, ...]) -> layers.Catalog:
        """Parameters and rules of the plugins' packs plus ``policy_paths``' packs."""
        if policy_paths not in self._catalogs:
            packs = self.packs_with(policy_paths)
            owners: dict[str, Origin] = {}
            rules = builtin_rules()
            for pack in packs:
                origin = self.pack_origins.get(pack.name, BUILT_IN)
                for policy in pack.policies:
                    rules.setdefault(policy.id, RuleInfo(policy.id, policy.name, policy.title, policy.severity, policy.waivable, ""))
                    owners.setdefault(policy.id, origin)
                for name in pack.params:
                    owners.setdefault(f"params.{name}", origin)
            for check, owner in self.checks:
                rules.setdefault(check.id, RuleInfo(check.id, check.name, check.title, check.severity, check.waivable, ""))  # type: ignore[arg-type]
                owners.setdefault(check.id, Origin("built-in", owner, owner))
            versions = {pack.name: pack.version for pack in packs}
            since = {policy.id: (pack.name, policy.since) for pack in packs for policy in pack.policies}
            self._catalogs[policy_paths] = layers.Catalog(declared_params(packs), rules, owners, versions, since)
        return self._catalogs[policy_paths]

    def packs_with(self, policy_paths: tuple[Path, ...]) -> list[Pack]:
        """The plugins' packs and those of ``policy_paths`` (each read once per session)."""
        for path in policy_paths:
            if path not in self._extra_packs:
                self._extra_packs[path] = load_pack(path)._replace(owner="policy-paths")
        extra = [self._extra_packs[path] for path in policy_paths]
        # A pack is known by its name (``pack-versions``): a second pack of one name would make
        # the first's current version read as its own, and a repository could then pin it older.
        names = {pack.name: pack for pack in self.packs}
        for pack in extra:
            other = names.setdefault(pack.name, pack)
            if other is not pack and os.path.realpath(other.path) != os.path.realpath(pack.path):
                raise PackNameTaken(pack.path, other.path, pack.name)
        for pack in extra:
            self.pack_origins.setdefault(pack.name, Origin("built-in", f"pack {pack.name} ({pack.path})", str(pack.path)))
        return [*self.packs, *extra]

    def use_listing(self, listed: Callable[[str], Collection[str] | None]) -> None:
        """Answer which configuration files a folder holds from discovery's walk where it listed
        the folder (``discovery.Listing.names``), instead of three system calls per folder."""
        self._chains.listed = listed

    def in_force(self, folder: Path | str) -> InForce:
        """What applies to a manifest in ``folder``: ``--config`` or its chain of files, then the flags."""
        if self.config is not None:
            chain: tuple[Path, ...] = (self.config.path,) if self.config.path else ()
        else:
            chain = self._chains.of(folder)
        if chain not in self._in_force:
            for path in chain:
                if path not in self._files:
                    self._files[path] = load_config(path)
            files = [self.config] if self.config is not None else [self._files[path] for path in chain]
            self._in_force[chain] = layers.resolve(self.base, [*files, self.flags], self.catalog)
        return self._in_force[chain]

    # -- compiling --------------------------------------------------------------------------

    def rule_set(self, state: InForce) -> RuleSet:
        """One compiled rule set per distinct parameter values and packs."""
        paths = tuple(s.value for s in state.policy_paths)
        key = (state.params_key(), paths)
        if key not in self._rule_sets:
            self._rule_sets[key] = RuleSet(
                self.packs_with(paths), params={n: s.value for n, s in state.params.items()}, ext_models=self.ext_models,
                functions=self.functions, checks=self.checks,
            )
        return self._rule_sets[key]

    def engine(self, state: InForce) -> Engine:
        """The engine for one resolved configuration (cached: chains that resolve alike share it)."""
        if id(state) not in self._engines:
            # Rules newer than the adopted version of their pack run as warnings marked preview.
            preview = layers.preview_rules(state, self.catalog(tuple(s.value for s in state.policy_paths)))
            options = EngineOptions(
                max_waiver_days=state.max_waiver_days.value, waiver_warn_days=state.waiver_warn_days.value,
                today=self.today,
                severity={rule: "warning" if rule in preview else s.value for rule, s in state.severity.items()},
                off=frozenset(state.off),
                fail_on=state.fail_on.value,  # type: ignore[arg-type]
                non_waivable=frozenset(state.non_waivable), preview=preview,
            )
            self._engines[id(state)] = Engine(rule_set=self.rule_set(state), options=options)
        return self._engines[id(state)]

