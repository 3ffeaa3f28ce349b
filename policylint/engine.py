"""The engine: compile the packs once, then check manifests and decide.

Per manifest: load and validate (MAN findings stop there), build the namespace, evaluate the
policies that apply, pick the recommendation from the first firing rule in decision order,
apply waivers, and give the verdict.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from policylint.errors import PackError, located
from policylint.expr import Compiler, ExpressionError, Function, Namespace
from policylint.facts import FACTS, namespace
from policylint.findings import Decision, Finding, ManifestResult, RuleInfo
from policylint.manifest import MANIFEST_RULES, LoadedManifest, load_manifest, namespace_fields
from policylint.packs import Pack, Param, Policy
from policylint.positions import KeyPath
from policylint.schema import did_you_mean
from policylint.waivers import DEFAULT_MAX_WAIVER_DAYS, WAIVER_RULES, apply_waivers


@dataclass(frozen=True)
class CompiledPolicy:
    policy: Policy
    condition: Callable[[Namespace], bool]
    message: Callable[[Namespace], str]
    points_at: KeyPath

    @property
    def rank(self) -> tuple[int, str]:
        """Place in the decision order; the first firing rule sets the recommendation."""
        return (self.policy.order if self.policy.order is not None else 1 << 30, self.policy.id)


@dataclass(frozen=True)
class EngineOptions:
    """What a run may change: parameter values, the waiver horizon, the date."""

    params: Mapping[str, Any] = ()  # type: ignore[assignment]
    max_waiver_days: int = DEFAULT_MAX_WAIVER_DAYS
    today: datetime.date | None = None


class Engine:
    """Packs compiled against one schema and one set of parameter values."""

    def __init__(
        self,
        packs: Iterable[Pack],
        *,
        options: EngineOptions = EngineOptions(),
        ext_models: Mapping[str, type[BaseModel]] | None = None,
        functions: Mapping[str, Function] | None = None,
        param_defaults: Mapping[str, Any] | None = None,
    ) -> None:
        self.packs = tuple(packs)
        self.ext_models = dict(ext_models or {})
        self.today = options.today or datetime.date.today()
        self.max_waiver_days = options.max_waiver_days
        self.params = self._resolve_params(dict(param_defaults or {}), dict(options.params or {}))
        fields = {**namespace_fields(self.ext_models), **FACTS}
        compiler = Compiler(fields, {name: value for name, (value, _) in self.params.items()}, functions)
        self.policies = tuple(
            sorted((self._compile(compiler, fields, p) for pack in self.packs for p in pack.policies), key=lambda c: c.policy.id)
        )
        self.rules = self._rule_table()
        # Which policies run, by whether the proposal is to fine-tune; the id tuples are shared
        # by every result, so recording what was evaluated costs nothing per manifest.
        self._applicable = {
            True: self.policies,
            False: tuple(c for c in self.policies if c.policy.applies_to != "fine-tuning"),
        }
        self._evaluated = {key: tuple(c.policy.id for c in group) for key, group in self._applicable.items()}
        self._waivable = {rule.id: rule.waivable for rule in self.rules.values()}

    # -- set-up -----------------------------------------------------------------------------

    def _resolve_params(self, plugin_defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, tuple[Any, Param]]:
        declared: dict[str, Param] = {}
        for pack in self.packs:
            for name, param in pack.params.items():
                if name in declared:
                    raise PackError(f"parameter {name!r} is declared by both pack {declared[name].pack!r} and pack {pack.name!r}")
                declared[name] = param
        values = {name: (param.default, param) for name, param in declared.items()}
        for layer, what in ((plugin_defaults, "a plugin default"), (overrides, "the configuration")):
            for name, value in layer.items():
                if name not in declared:
                    raise PackError(f"{what} sets unknown parameter {name!r}{did_you_mean(name, declared)}")
                problem = declared[name].check(value)
                if problem:
                    raise PackError(f"parameter {name!r} from {what}: {problem}")
                values[name] = (value, declared[name])
        return values

    def _compile(self, compiler: Compiler, fields: Mapping[str, Any], policy: Policy) -> CompiledPolicy:
        def fail(key: str, exc: ExpressionError | None, message: str | None = None) -> PackError:
            line, column = policy.where(key, exc.column if exc else None)
            return PackError(located(policy.file, line, column, f"{key}: {message or exc.message}"))  # type: ignore[union-attr]

        try:
            condition = compiler.condition(policy.when)
        except ExpressionError as exc:
            raise fail("when", exc) from None
        try:
            message = compiler.template(policy.message)
        except ExpressionError as exc:
            raise fail("message", exc) from None
        if policy.points_at not in fields or policy.points_at in FACTS:
            hint = did_you_mean(policy.points_at, [f for f in fields if f not in FACTS])
            raise fail("points_at", None, f"unknown manifest key {policy.points_at!r}{hint}")
        return CompiledPolicy(policy, condition, message, tuple(policy.points_at.split(".")))

    def _rule_table(self) -> dict[str, RuleInfo]:
        rules: dict[str, RuleInfo] = {}
        for rule_id, (name, description) in MANIFEST_RULES.items():
            rules[rule_id] = RuleInfo(rule_id, name, description, "error", False, description)
        for rule_id, (name, severity, description) in WAIVER_RULES.items():
            rules[rule_id] = RuleInfo(rule_id, name, description, severity, False, description)  # type: ignore[arg-type]
        for compiled in self.policies:
            p = compiled.policy
            if p.id in rules:
                other = rules[p.id]
                raise PackError(f"rule id {p.id} is defined twice: in pack {other.pack!r} and in {p.file}")
            rules[p.id] = RuleInfo(
                p.id, p.name, p.title, p.severity, p.waivable, p.rationale, p.recommends, p.applies_to,
                p.framework, p.pack, p.file,
            )
        return rules

    # -- checking ---------------------------------------------------------------------------

    def check(self, path: str, raw: bytes) -> ManifestResult:
        """Check one manifest's bytes; never raises for anything the file contains."""
        return self.decide(load_manifest(path, raw, self.ext_models))

    def decide(self, loaded: LoadedManifest) -> ManifestResult:
        source = loaded.source
        if loaded.findings or loaded.data is None:
            findings = tuple(sorted(loaded.findings, key=Finding.sort_key))
            return ManifestResult(source.path, Decision(loaded.proposal, None, "fail"), findings)
        ns = namespace(loaded.data)
        proposal = ns["proposal.approach"]
        fine_tuning = ns["proposes_fine_tuning"]
        fired: list[Finding] = []
        deciding: CompiledPolicy | None = None
        for compiled in self._applicable[fine_tuning]:
            if not compiled.condition(ns):
                continue
            policy = compiled.policy
            if policy.recommends is not None and (deciding is None or compiled.rank < deciding.rank):
                deciding = compiled
            fired.append(
                source.finding(
                    policy.id, policy.name, policy.severity, compiled.message(ns), compiled.points_at,
                    recommends=policy.recommends,
                )
            )
        # Only a fine-tuning proposal can be redirected; otherwise the proposal stands.
        recommendation = deciding.policy.recommends if fine_tuning and deciding is not None else proposal
        waivers = loaded.data.get("waivers", [])
        findings = apply_waivers(source, waivers, fired, self._waivable, self.today, self.max_waiver_days) if waivers else fired
        failing = any(f.severity == "error" and not f.waived for f in findings)
        decision = Decision(proposal, recommendation, "fail" if failing else "pass")
        ordered = tuple(sorted(findings, key=Finding.sort_key))
        return ManifestResult(source.path, decision, ordered, self._evaluated[fine_tuning])
