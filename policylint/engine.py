"""The engine: a :class:`RuleSet` compiled once per parameter values, an :class:`Engine` per
configuration in force (severities, selection, fail-on, waiver limits), then check and decide.

Per manifest: load and validate (MAN findings stop there), build the namespace, evaluate the
policies that apply, pick the recommendation from the first firing rule in decision order,
apply waivers, and give the verdict.
"""

from __future__ import annotations

import datetime
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, cast

from policylint.checks import Check
from policylint.checks import messages as check_messages
from policylint.errors import PLUGIN_FAILURES, ConfigError, PackError, PluginError, PolicylintError, located, what_it_raised
from policylint.expr import CompiledCondition, Compiler, ExpressionError, Function, Namespace
from policylint.facts import FACTS, defaults, namespace
from policylint.findings import ALWAYS_ON, Decision, Finding, ManifestResult, RuleInfo, Severity
from policylint.manifest import MANIFEST_RULES, LoadedManifest, load_manifest, namespace_fields
from policylint.packs import Pack, Param, Policy, declared_params, dotted_key, param_problem
from policylint.positions import KeyPath
from policylint.schema import did_you_mean
from policylint.waivers import DEFAULT_MAX_WAIVER_DAYS, DEFAULT_WAIVER_WARN_DAYS, WAIVER_RULES, apply_waivers

if TYPE_CHECKING:
    from pydantic import BaseModel

    from policylint.codegen import Rule, RulesFunction


class CompiledRule(NamedTuple):
    """A policy or a plugin's check, ready to run: ``evaluate`` gives one message per finding."""

    rule: Policy | Check
    evaluate: Callable[[Namespace], list[str]]
    points_at: KeyPath
    severity: Literal["error", "warning"]
    #: The plugin a check comes from (empty for a pack's policy, whose pack names it).
    owner: str = ""
    #: A policy's compiled ``when``, with the fields and parameters it reads (None for a check).
    condition: CompiledCondition | None = None
    #: Parameters its messages read besides (their ``when`` and their text).
    message_params: frozenset[str] = frozenset()
    #: A policy's message for a manifest its ``when`` holds for (None for a check).
    message: Callable[[Namespace], str] | None = None

    @property
    def rank(self) -> tuple[int, str]:
        """Place in the decision order; the first firing rule sets the recommendation."""
        return (self.rule.order if self.rule.order is not None else 1 << 30, self.rule.id)


@dataclass(frozen=True)
class EngineOptions:
    """What the configuration in force decides; :mod:`policylint.config.layers` has checked it."""

    params: Mapping[str, Any] = field(default_factory=dict)
    max_waiver_days: int = DEFAULT_MAX_WAIVER_DAYS
    #: WVR006 warns this many days (or fewer) before a valid waiver runs out.
    waiver_warn_days: int = DEFAULT_WAIVER_WARN_DAYS
    today: datetime.date | None = None
    #: Per-rule severities (only those that differ from the rule's own matter).
    severity: Mapping[str, str] = field(default_factory=dict)
    #: Rule ids turned off (MAN and WVR001-WVR004 are never: :data:`ALWAYS_ON`).
    off: frozenset[str] = frozenset()
    #: ``warning``: unwaived warnings fail the verdict too.
    fail_on: Literal["error", "warning"] = "error"
    #: Rule ids no waiver may accept, besides those their pack declares so.
    non_waivable: frozenset[str] = frozenset()
    #: Rule ids newer than the adopted version of their pack: their findings are marked preview,
    #: and they never fail the verdict nor set the recommendation (severity maps them to warning).
    preview: frozenset[str] = frozenset()


_NONE: list[str] = []  # shared "did not fire"; never mutated


def _codegen_rule(compiled: CompiledRule, compiler: Compiler) -> Rule:
    """A rule as :func:`policylint.codegen.rules_function` takes it: a policy's conditions and
    messages compiled again by ``compiler`` (which compiled them before, so cannot fail), as data."""
    from policylint.codegen import Rule

    policy = compiled.rule
    if compiled.condition is None or compiled.message is None or not isinstance(policy, Policy):
        return Rule(None, None, compiled.evaluate, is_check=True)
    variants = tuple(
        (compiler.compile_condition(when).code, compiler.compile_template(text).pieces) for when, text in policy.messages
    )
    return Rule(
        compiler.compile_condition(policy.when).code, compiled.condition.evaluate, compiled.message,
        # Defensive: a variant without its tree (none today) would leave the message to its closure.
        variants=tuple((when, pieces) for when, pieces in variants if when is not None),
        default=compiler.compile_template(policy.message).pieces if all(when is not None for when, _ in variants) else None,
    )


def _points_at_problem(points_at: str, fields: Mapping[str, Any]) -> str | None:
    """A finding is located at a manifest key: a derived fact or an unknown path has no line."""
    if points_at in fields and points_at not in FACTS:
        return None
    return f"unknown manifest key {points_at!r}{did_you_mean(points_at, [f for f in fields if f not in FACTS])}"


def builtin_rules() -> dict[str, RuleInfo]:
    """The manifest (MAN) and waiver (WVR) rules, which policylint itself decides."""
    rules = {
        rule_id: RuleInfo(rule_id, name, description, "error", False, description)
        for rule_id, (name, description) in MANIFEST_RULES.items()
    }
    for rule_id, (name, severity, description) in WAIVER_RULES.items():
        rules[rule_id] = RuleInfo(rule_id, name, description, severity, False, description)  # type: ignore[arg-type]
    return rules


class RuleSet:
    """Packs and checks compiled against one schema and one set of parameter values.

    Compiling is the costly part of a run, so it depends on nothing a configuration layer
    decides per manifest (severity, selection, waiver limits): manifests whose parameter values
    are the same share one rule set.
    """

    #: How many manifests a selection of rules runs as closures before it is generated as one
    #: function (:mod:`policylint.codegen`); results are the same either way. Generating the
    #: built-in pack's two selections costs about 15 ms (compiling their conditions again with
    #: their trees, writing and compiling the source) and saves about 20 us per manifest, so a
    #: run pays for it only after several hundred manifests: 300 of them cost the closures about
    #: 6 ms more, and a 10,000-manifest run loses that much against generating at once.
    GENERATE_AFTER = 300

    def __init__(
        self,
        packs: Iterable[Pack],
        *,
        params: Mapping[str, Any] | None = None,
        ext_models: Mapping[str, type[BaseModel]] | None = None,
        functions: Mapping[str, Function] | None = None,
        param_defaults: Mapping[str, Any] | None = None,
        param_default_owners: Mapping[str, str] | None = None,
        checks: Sequence[tuple[Check, str]] = (),
    ) -> None:
        self.packs = tuple(packs)
        self.ext_models = dict(ext_models or {})
        self.params = self._resolve_params(dict(param_defaults or {}), dict(params or {}), param_default_owners or {})
        fields = {**namespace_fields(self.ext_models), **FACTS}
        self.defaults = defaults(fields)
        values = {name: value for name, (value, _) in self.params.items()}
        compiler = Compiler(fields, values, functions, with_code=False)  # codegen compiles again, when it runs
        self._compiler_arguments = (fields, values, functions)
        compiled = [self._compile(compiler, fields, p) for pack in self.packs for p in pack.policies]
        compiled += [self._adopt(check, owner, fields, values) for check, owner in checks]
        self.rules = self._rule_table(compiled)
        self.compiled = tuple(sorted(compiled, key=lambda c: c.rule.id))
        self._generated: dict[tuple[str, ...], RulesFunction] = {}
        self._uses: dict[tuple[str, ...], int] = {}
        self._codegen_compiler: Compiler | None = None
        self._codegen_rules: dict[str, Rule] = {}

    def _resolve_params(
        self, plugin_defaults: dict[str, Any], overrides: dict[str, Any], owners: Mapping[str, str]
    ) -> dict[str, tuple[Any, Param]]:
        """Each parameter's value: its pack's default, then a plugin's default, then configuration."""
        declared = declared_params(self.packs)
        values = {name: (param.default, param) for name, param in declared.items()}
        for layer, error in ((plugin_defaults, PluginError), (overrides, ConfigError)):
            for name, value in layer.items():
                problem = param_problem(declared, name, value)
                if problem:
                    origin = "the configuration" if error is ConfigError else f"{owners.get(name, 'a plugin')}: parameter default"
                    raise error(f"{origin}: {problem}")
                values[name] = (value, declared[name])
        return values

    def _adopt(self, check: Check, owner: str, fields: Mapping[str, Any], params: Mapping[str, Any]) -> CompiledRule:
        """A plugin's check as a rule; its failures at run time name the plugin (exit 2)."""
        problem = _points_at_problem(check.points_at, fields)
        if problem:
            raise PluginError(f"{owner}: check {check.id}: {problem}")
        run = check.run

        def evaluate(ns: Namespace) -> list[str]:
            try:
                return check_messages(run(MappingProxyType(ns), params))  # type: ignore[arg-type]
            except PLUGIN_FAILURES as exc:  # a plugin's bug must stop the run, naming the plugin
                raise PluginError(f"{owner}: check {check.id} failed: {what_it_raised(exc)}") from exc

        return CompiledRule(check, evaluate, tuple(check.points_at.split(".")), check.severity, owner)  # type: ignore[arg-type]

    def _compile(self, compiler: Compiler, fields: Mapping[str, Any], policy: Policy) -> CompiledRule:
        def fail(key: tuple[str | int, ...], exc: ExpressionError | None, message: str | None = None) -> PackError:
            line, column = policy.where(key, exc.column if exc else None)
            return PackError(located(policy.file, line, column, f"{dotted_key(key)}: {message or exc.message}"))  # type: ignore[union-attr]

        def compile_part(key: tuple[str | int, ...], source: str, how: Callable[[str], Any]) -> Any:
            try:
                return how(source)
            except ExpressionError as exc:
                raise fail(key, exc) from None

        compiled_when: CompiledCondition = compile_part(("when",), policy.when, compiler.compile_condition)
        condition = compiled_when.evaluate
        message_params: set[str] = set()

        def reading(compiled: Any) -> Any:
            message_params.update(compiled.params)
            return compiled

        variants = tuple(
            (reading(compile_part(("messages", i, "when"), when, compiler.compile_condition)).evaluate,
             reading(compile_part(("messages", i, "message"), text, compiler.compile_template)).render)
            for i, (when, text) in enumerate(policy.messages)
        )
        default_message = reading(compile_part(("message",), policy.message, compiler.compile_template)).render
        problem = _points_at_problem(policy.points_at, fields)
        if problem:
            raise fail(("points_at",), None, problem)

        def message(ns: Namespace) -> str:
            for applies, text in variants:
                if applies(ns):
                    return text(ns)  # type: ignore[no-any-return]
            return default_message(ns)  # type: ignore[no-any-return]

        def evaluate(ns: Namespace) -> list[str]:
            return [message(ns)] if condition(ns) else _NONE

        return CompiledRule(policy, evaluate, tuple(policy.points_at.split(".")), policy.severity,
                            condition=compiled_when, message_params=frozenset(message_params), message=message)

    def generated(self, rule_ids: tuple[str, ...], rules: Sequence[CompiledRule]) -> RulesFunction | None:
        """``rules`` (whose ids are ``rule_ids``) as one generated function, once they are worth it.

        Generating and compiling costs about as much as 750 manifests' worth of closures, so the
        first :attr:`GENERATE_AFTER` manifests asking run the closures (None), and a check of a
        few manifests pays nothing. Engines sharing this rule set share the functions.
        """
        function = self._generated.get(rule_ids)
        if function is not None:
            return function
        uses = self._uses[rule_ids] = self._uses.get(rule_ids, 0) + 1
        if uses <= self.GENERATE_AFTER:
            return None
        from policylint.codegen import rules_function  # only runs that check many manifests need it

        def fail(path: str, index: int, exc: Exception) -> Exception:
            return evaluation_error(path, rules[index], exc)

        if self._codegen_compiler is None:  # the same compiler, keeping the trees as data
            self._codegen_compiler = Compiler(*self._compiler_arguments)
        for compiled in rules:  # a rule in several selections is compiled again once
            if compiled.rule.id not in self._codegen_rules:
                self._codegen_rules[compiled.rule.id] = _codegen_rule(compiled, self._codegen_compiler)
        function = rules_function([self._codegen_rules[c.rule.id] for c in rules], fail)
        self._generated[rule_ids] = function
        return function

    def _describe_origin(self, compiled: CompiledRule) -> str:
        """Where a rule comes from, for the message when two rules share an id."""
        rule = compiled.rule
        if isinstance(rule, Policy):
            pack = next(p for p in self.packs if p.name == rule.pack)
            return f"in {rule.file} (pack {pack.name!r}{', ' + pack.owner if pack.owner else ''})"
        return f"as a check of {compiled.owner}"

    def _rule_table(self, compiled: list[CompiledRule]) -> dict[str, RuleInfo]:
        rules = builtin_rules()
        owners = {rule_id: "built into policylint" for rule_id in rules}
        for c in compiled:
            r = c.rule
            origin = (r.pack, r.file) if isinstance(r, Policy) else (c.owner, None)
            if r.id in rules:
                raise PackError(f"rule id {r.id} is defined twice: {owners[r.id]} and {self._describe_origin(c)}")
            owners[r.id] = self._describe_origin(c)
            rules[r.id] = RuleInfo(
                r.id, r.name, r.title, c.severity, r.waivable, r.rationale, r.recommends, r.applies_to,
                r.framework, origin[0], origin[1], r.order,
            )
        return rules


def evaluation_error(path: str, compiled: CompiledRule, exc: Exception) -> PolicylintError:
    """What failed, for the one-line message: the manifest, then the rule and where it comes from.

    A plugin's check or condition function has already named its plugin (a ``PluginError``);
    a policy's condition that raises is the pack's problem (its file is named), and so is
    anything else a rule raises. The original exception stays the cause, for ``POLICYLINT_DEBUG``.
    """
    rule = compiled.rule
    if isinstance(rule, Policy):
        where = f"rule {rule.id} ({rule.file})"
        if isinstance(exc, PolicylintError):
            return type(exc)(f"{path}: {where}: {exc}")
        return PackError(f"{path}: {where} failed: {type(exc).__name__}: {exc}")
    if isinstance(exc, PolicylintError):
        return type(exc)(f"{path}: {exc}")
    return PluginError(f"{path}: {compiled.owner}: check {rule.id} failed: {type(exc).__name__}: {exc}")


_POSITION = operator.attrgetter("line", "rule", "column")


def _in_order(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """``findings`` sorted by :meth:`Finding.sort_key`; the message's natural order, the costly
    part of the key, is worked out only when two findings share a line, rule and column."""
    if len(findings) < 2:
        return tuple(findings)
    by_position = sorted(findings, key=_POSITION)
    if all(_POSITION(a) != _POSITION(b) for a, b in zip(by_position, by_position[1:])):
        return tuple(by_position)
    return tuple(sorted(findings, key=Finding.sort_key))


def _run_closures(rules: Sequence[CompiledRule], ns: Namespace, path: str) -> list[tuple[int, list[str]]]:
    """The rules that fire, run one closure at a time: what the generated function does, and the
    reference it is tested against."""
    fired = []
    for index, compiled in enumerate(rules):
        try:
            messages = compiled.evaluate(ns)
        except MemoryError:
            raise  # not the rule's fault; the runner names the manifest
        except Exception as exc:  # a rule that cannot run stops the run (exit 2), naming it
            raise evaluation_error(path, compiled, exc) from exc
        if messages:
            fired.append((index, messages))
    return fired


class Evaluated(NamedTuple):
    """What :meth:`Engine.evaluate` found: the approach, whether it fine-tunes, and each rule
    that fired (its index among the applicable rules) with its messages."""

    proposal: str
    fine_tuning: bool
    fired: list[tuple[int, list[str]]]


class Engine:
    """A compiled :class:`RuleSet` with what configuration decides: severities, selection,
    fail-on and waiver limits. Cheap to build from a rule set, so each manifest can have its own."""

    def __init__(
        self,
        packs: Iterable[Pack] = (),
        *,
        options: EngineOptions = EngineOptions(),
        ext_models: Mapping[str, type[BaseModel]] | None = None,
        functions: Mapping[str, Function] | None = None,
        param_defaults: Mapping[str, Any] | None = None,
        param_default_owners: Mapping[str, str] | None = None,
        checks: Sequence[tuple[Check, str]] = (),
        rule_set: RuleSet | None = None,
    ) -> None:
        if rule_set is None:
            rule_set = RuleSet(
                packs, params=options.params, ext_models=ext_models, functions=functions,
                param_defaults=param_defaults, param_default_owners=param_default_owners, checks=checks,
            )
        self.rule_set = rule_set
        self.packs = rule_set.packs
        self.ext_models = rule_set.ext_models
        self.params = rule_set.params
        self._defaults = rule_set.defaults
        self.today = options.today or datetime.date.today()
        self.max_waiver_days = options.max_waiver_days
        self.waiver_warn_days = options.waiver_warn_days
        self.fail_on = options.fail_on
        self.preview = options.preview
        severity = cast(Mapping[str, Severity], options.severity)  # checked by config.layers
        compiled = [
            c._replace(severity=severity[c.rule.id]) if severity.get(c.rule.id, c.severity) != c.severity else c
            for c in rule_set.compiled
        ]
        self.ignored = frozenset(r for r in options.off if r in rule_set.rules and not r.startswith(ALWAYS_ON))
        self.rules = {
            rule_id: info._replace(
                severity=severity.get(rule_id, info.severity), waivable=info.waivable and rule_id not in options.non_waivable
            )
            for rule_id, info in rule_set.rules.items()
        }
        self.policies = tuple(c for c in compiled if c.rule.id not in self.ignored)
        # Which rules run, by whether the proposal is to fine-tune; the id tuples are shared by
        # every result, so recording what was evaluated costs nothing per manifest.
        self._applicable = {
            True: tuple(c for c in self.policies if c.rule.applies_to != "other"),
            False: tuple(c for c in self.policies if c.rule.applies_to != "fine-tuning"),
        }
        self._evaluated = {key: tuple(c.rule.id for c in group) for key, group in self._applicable.items()}
        self._waivable = {rule_id: rule.waivable for rule_id, rule in self.rules.items()}
        #: Each group's rules as one generated function, once the rule set has made it.
        self._rules_functions: dict[bool, RulesFunction] = {}
        self._failing_levels = ("error", "warning") if self.fail_on == "warning" else ("error",)

    # -- checking ---------------------------------------------------------------------------

    def check(self, path: str, raw: bytes) -> ManifestResult:
        """Check one manifest's bytes; never raises for anything the file contains."""
        return self.decide(load_manifest(path, raw, self.ext_models))

    def decide(self, loaded: LoadedManifest) -> ManifestResult:
        return self.conclude(loaded, self.evaluate(loaded))

    # Deciding in two stages, so that a run can take each over a batch of manifests before the
    # next (runner.check_batch says why).

    def evaluate(self, loaded: LoadedManifest) -> Evaluated | None:
        """The first stage: the rules that fire; None for a manifest that breaks the format."""
        if loaded.findings or loaded.data is None:
            return None
        ns = namespace(loaded.data, self._defaults)
        fine_tuning = ns["proposes_fine_tuning"]
        applicable = self._applicable[fine_tuning]
        run_rules = self._rules_functions.get(fine_tuning)
        if run_rules is None:
            run_rules = self.rule_set.generated(self._evaluated[fine_tuning], applicable)
            if run_rules is not None:
                self._rules_functions[fine_tuning] = run_rules
        path = loaded.source.path
        fired = run_rules(ns, path) if run_rules is not None else _run_closures(applicable, ns, path)
        return Evaluated(ns["proposal.approach"], fine_tuning, fired)

    def conclude(self, loaded: LoadedManifest, evaluated: Evaluated | None) -> ManifestResult:
        """The second stage: the findings, located and waived, and the decision."""
        source = loaded.source
        if evaluated is None:
            return ManifestResult(source.path, Decision(loaded.proposal, None, "fail"), _in_order(loaded.findings))
        proposal, fine_tuning, fired_rules = evaluated
        applicable = self._applicable[fine_tuning]
        fired: list[Finding] = []
        deciding: CompiledRule | None = None
        for index, messages in fired_rules:
            compiled = applicable[index]
            rule = compiled.rule
            preview = rule.id in self.preview  # a preview rule never sets the recommendation
            if rule.recommends is not None and not preview and (deciding is None or compiled.rank < deciding.rank):
                deciding = compiled
            for message in messages:
                finding = source.finding(rule.id, rule.name, compiled.severity, message, compiled.points_at, recommends=rule.recommends)
                fired.append(finding._replace(preview=True) if preview else finding)
        waivers = loaded.data.get("waivers")  # type: ignore[union-attr]  # evaluated: data is a table
        findings = (
            apply_waivers(
                source, waivers, fired, self._waivable, self.today, self.max_waiver_days, self.ignored,
                self.waiver_warn_days,
            )
            if waivers else fired
        )
        failing = False
        for finding in findings:
            if finding.severity in self._failing_levels and not finding.waived and not finding.preview:
                failing = True
                break
        # Only a fine-tuning proposal can be redirected; otherwise the proposal stands.
        if fine_tuning and deciding is not None:
            decision = Decision(proposal, deciding.rule.recommends, "fail" if failing else "pass", deciding.rule.id)
        else:
            decision = Decision(proposal, proposal, "fail" if failing else "pass", None)
        return ManifestResult(source.path, decision, _in_order(findings), self._evaluated[fine_tuning])
