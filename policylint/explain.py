"""``policylint rule``: a rule's documentation, read from its policy file."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from policylint.engine import CompiledRule, Engine
from policylint.errors import UsageError
from policylint.expr import render
from policylint.findings import RuleInfo
from policylint.packs import Policy
from policylint.schema import did_you_mean


def explain_rules(engine: Engine, rule_id: str | None, output_format: str) -> str:
    """One rule (or all, when ``rule_id`` is None) as text or JSON, with the run's parameter values."""
    rules = engine.rules
    if rule_id is not None and rule_id not in rules:
        raise UsageError(f"unknown rule {rule_id!r}{did_you_mean(rule_id, rules)}")
    selected = [rules[rule_id]] if rule_id is not None else [rules[k] for k in sorted(rules)]
    compiled = {c.rule.id: c for c in engine.policies}
    entries = []
    for rule in selected:
        source = compiled[rule.id].rule if rule.id in compiled else None
        policy = source if isinstance(source, Policy) else None
        used = sorted(params_read(compiled[rule.id])) if rule.id in compiled else []
        params = {name: engine.params[name][0] for name in used}
        when = policy.when if policy else ("a Python check" if source is not None else None)
        entries.append((rule, when, source.order if source else None, params))
    if output_format == "json":
        return json.dumps([_as_dict(*entry) for entry in entries], indent=2) + "\n"
    return "\n".join(_as_text(*entry) for entry in entries)


def params_read(compiled: CompiledRule) -> frozenset[str]:
    """The parameters a rule reads, as its compiler found them: its condition's and its messages'."""
    if compiled.condition is None:
        return frozenset()
    return compiled.condition.params | compiled.message_params


def _as_dict(rule: RuleInfo, when: str | None, order: int | None, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "title": rule.title,
        "severity": rule.severity,
        "waivable": rule.waivable,
        "applies_to": rule.applies_to,
        "recommends": rule.recommends,
        "order": order,
        "framework": rule.framework,
        "when": when,
        "params": params,
        "rationale": rule.rationale,
        "pack": rule.pack,
        "source": rule.source,
    }


APPLIES_TO_TEXT = {
    "fine-tuning": "fine-tune and distill proposals",
    "other": "every proposal except fine-tune and distill (advice)",
    "any": "every proposal",
}


def _as_text(rule: RuleInfo, when: str | None, order: int | None, params: dict[str, Any]) -> str:
    lines = [f"{rule.id} ({rule.name}): {rule.title}", ""]
    facts = [
        ("severity", rule.severity),
        ("waivable", "yes" if rule.waivable else "no"),
        ("applies to", APPLIES_TO_TEXT.get(rule.applies_to, "every proposal")),
    ]
    if rule.recommends:
        facts.append(("recommends", f"{rule.recommends} (decision order {order})"))
    if rule.framework:
        facts.append(("framework", rule.framework))
    if when:
        facts.append(("fires when", when))
    for name, value in params.items():
        facts.append((f"params.{name}", render(value)))
    if rule.source:
        facts.append(("defined in", f"{rule.source} (pack {rule.pack})"))
    width = max(len(label) for label, _ in facts)
    lines += [f"  {label.ljust(width)}  {value}" for label, value in facts]
    lines += ["", textwrap.fill(rule.rationale, 96, initial_indent="  ", subsequent_indent="  "), ""]
    return "\n".join(lines)
