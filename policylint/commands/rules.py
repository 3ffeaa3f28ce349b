"""``policylint rules`` (every loaded rule, one line each) and ``policylint rule`` (one rule, or a
family, found by id in any case, by name, by alias or by family prefix)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import click

from policylint.cli import UsageError, _describing_options, _guarded, _session

if TYPE_CHECKING:
    from policylint.engine import Engine
    from policylint.findings import RuleInfo

#: Where MAN and WVR rules come from: policylint decides them itself, no pack or plugin.
BUILT_IN = "built into policylint"

_FAMILY = re.compile(r"[A-Za-z]{2,6}")


def _engine(config_path: str | None, org_config: str | None, disabled_plugins: tuple[str, ...]) -> Engine:
    """The rules as a run in the current folder would compile them (its configuration included)."""
    from pathlib import Path

    session = _session(config_path, org_config, disabled_plugins)
    return session.engine(session.in_force(Path.cwd()))


def origins(engine: Engine) -> dict[str, dict[str, Any]]:
    """Each rule's origin: ``built_in`` (MAN, WVR), its ``pack`` (and the ``plugin`` that offers
    the pack, or ``policy-paths``), or the ``plugin`` whose Python check it is."""
    from policylint.engine import builtin_rules
    from policylint.packs import Policy

    owners = {pack.name: pack.owner or None for pack in engine.packs}
    found: dict[str, dict[str, Any]] = {rule_id: {"built_in": True, "pack": None, "plugin": None} for rule_id in builtin_rules()}
    for compiled in engine.rule_set.compiled:
        rule = compiled.rule
        if isinstance(rule, Policy):
            found[rule.id] = {"built_in": False, "pack": rule.pack, "plugin": owners.get(rule.pack)}
        else:
            found[rule.id] = {"built_in": False, "pack": None, "plugin": compiled.owner}
    return found


def origin_text(origin: Mapping[str, Any]) -> str:
    """``pack builtin``, ``plugin 'acme' (acme-policylint 1.0)`` or ``built into policylint``."""
    if origin["built_in"]:
        return BUILT_IN
    if origin["pack"] is not None:
        return f"pack {origin['pack']}"
    return str(origin["plugin"])


def aliases(engine: Engine) -> dict[str, str]:
    """Every rule's names and aliases, case-folded, to its id."""
    names = {rule.name.casefold(): rule_id for rule_id, rule in engine.rules.items()}
    for compiled in engine.rule_set.compiled:
        for alias in compiled.rule.aliases:
            names.setdefault(alias.casefold(), compiled.rule.id)
    return names


def resolve(engine: Engine, query: str) -> tuple[list[str], bool]:
    """The rule ids ``query`` means, and whether it named a family: an id (any case), a name or
    alias, or a family prefix (``PRM``, ``prm``: the whole family). Anything else is a usage
    error with a suggestion over ids and names."""
    from policylint.schema import did_you_mean

    rules = engine.rules
    folded = query.strip().casefold()
    by_id = {rule_id.casefold(): rule_id for rule_id in rules}
    if folded in by_id:
        return [by_id[folded]], False
    named = aliases(engine)
    if folded in named:
        return [named[folded]], False
    if _FAMILY.fullmatch(folded):
        family = sorted(rule_id for rule_id in rules if rule_id[: len(folded)].casefold() == folded
                        and rule_id[len(folded):].isdigit())
        if family:
            return family, True
    candidates = [*sorted(rules), *sorted({rule.name for rule in rules.values()})]
    raise UsageError(f"unknown rule {query!r}{did_you_mean(query, candidates)}")


def since(engine: Engine) -> dict[str, str]:
    """The pack version that introduced each pack policy (Python checks and MAN/WVR have none)."""
    from policylint.packs import Policy

    return {c.rule.id: c.rule.since for c in engine.rule_set.compiled if isinstance(c.rule, Policy)}


def listing(engine: Engine, ids: Iterable[str]) -> list[dict[str, Any]]:
    """One record per rule, as ``rules --format json`` gives it: ``since`` is the pack version
    that introduced it, ``preview`` whether it is newer than the version adopted in the
    configuration in force (``pack-versions``), so that it runs as a warning that never fails."""
    found = origins(engine)
    introduced = since(engine)
    records = []
    for rule_id in ids:
        rule: RuleInfo = engine.rules[rule_id]
        records.append({
            "id": rule.id, "name": rule.name, "title": rule.title, "severity": rule.severity,
            "waivable": rule.waivable, "recommends": rule.recommends, "applies_to": rule.applies_to,
            "ignored": rule_id in engine.ignored, "since": introduced.get(rule_id), "preview": rule_id in engine.preview,
            **found.get(rule_id, {"built_in": False, "pack": rule.pack, "plugin": None}),
        })
    return records


def listing_text(records: list[dict[str, Any]]) -> str:
    """Aligned columns: id, name, severity, waivable, recommends, since, pack or plugin."""
    rows = [("id", "name", "severity", "waivable", "recommends", "since", "pack or plugin")]
    for r in records:
        off = " (turned off)" if r["ignored"] else ""
        preview = " (preview: not adopted in pack-versions)" if r.get("preview") else ""
        rows.append((r["id"], r["name"], r["severity"], "yes" if r["waivable"] else "no", r["recommends"] or "-",
                     r.get("since") or "-", origin_text(r) + off + preview))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1] for row in rows]
    return "\n".join(lines) + "\n"


def _render_listing(engine: Engine, ids: Iterable[str], output_format: str) -> str:
    import json

    records = listing(engine, ids)
    if output_format == "json":
        return json.dumps(records, indent=2) + "\n"
    return listing_text(records)


@click.command("rules")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_describing_options
@_guarded
def rules(output_format: str, config_path: str | None, org_config: str | None, disabled_plugins: tuple[str, ...]) -> None:
    """List every loaded rule: id, name, severity, waivable, recommends, the pack version that
    introduced it (since), and its pack or plugin; a rule newer than the version adopted in
    pack-versions is flagged preview (a warning that never fails the verdict)."""
    engine = _engine(config_path, org_config, disabled_plugins)
    click.echo(_render_listing(engine, sorted(engine.rules), output_format), nl=False)


@click.command("rule")
@click.argument("rule_id", metavar="RULE", required=False)
@click.option("--all", "show_all", is_flag=True, help="Show every rule.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_describing_options
@_guarded
def rule(rule_id: str | None, show_all: bool, output_format: str, config_path: str | None, org_config: str | None,
         disabled_plugins: tuple[str, ...]) -> None:
    """Explain a rule: what it checks, why, and its parameters (with the configured values).

    RULE is an id in any case (prm001), a name or alias (prompting-meets-bar), or a family
    prefix (PRM), which lists the family as `policylint rules` does.
    """
    from policylint.explain import explain_rules

    if not show_all and rule_id is None:
        raise UsageError("give a rule id (e.g. RAG001), a name, a family (PRM) or --all")
    engine = _engine(config_path, org_config, disabled_plugins)
    if show_all:
        click.echo(_with_owners(engine, explain_rules(engine, None, output_format), output_format), nl=False)
        return
    ids, family = resolve(engine, rule_id)  # type: ignore[arg-type]
    if family:
        click.echo(_render_listing(engine, ids, output_format), nl=False)
        return
    click.echo(_with_owners(engine, explain_rules(engine, ids[0], output_format), output_format), nl=False)


def _with_owners(engine: Engine, rendered: str, output_format: str) -> str:
    """The explanation with where a rule comes from when no policy file says so: the plugin of a
    Python check, or policylint itself for MAN and WVR rules."""
    found = origins(engine)
    if output_format == "json":
        import json

        entries = json.loads(rendered)
        for entry in entries:
            origin = found.get(entry["id"], {})
            entry["plugin"] = origin.get("plugin")
            entry["built_in"] = origin.get("built_in", False)
        return json.dumps(entries, indent=2) + "\n"
    unfiled = {rule_id: f"{origin['plugin']} (a Python check)" if not origin["built_in"] else BUILT_IN
               for rule_id, origin in found.items() if origin["pack"] is None}
    blocks = rendered.split("\n\n")
    out = []
    for index, block in enumerate(blocks):
        out.append(block)
        head = blocks[index - 1].rsplit("\n", 1)[-1] if index else ""
        rule_id = head.split(" ", 1)[0]
        if rule_id in unfiled and block.startswith("  "):  # the facts block under its heading
            # "  label<padding>  value": the values start in one column, after the widest label
            first = block.splitlines()[0]
            width = len(first) - len(first[2:].split("  ", 1)[1].lstrip()) - 4
            out[-1] = block + f"\n  {'origin'.ljust(width)}  {unfiled[rule_id]}"
    return "\n\n".join(out)


COMMANDS = (rules, rule)
