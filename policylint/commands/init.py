"""``policylint init``: a commented starter manifest.

What it writes is a valid format-v1 manifest in which every key says what it means and which
values it takes; the evidence policylint cannot invent (scores, the failure mode, the size of
the evaluation set, the training data) is left as commented-out keys, so ``policylint check``
on the starter reports exactly that evidence, each finding naming the key to declare.

In a terminal with no flags it asks for the essentials; anywhere else (CI, a pipe) it takes the
flags and defaults and never waits for input. The allowed values are spelled out here so that
``policylint --help`` does not import pydantic; a test keeps them equal to the models'.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click

KINDS = ("classification", "extraction", "generation", "summarization", "reasoning", "other")
APPROACHES = ("prompting", "rag", "fine-tune", "distill", "collect-data", "error-handling")
REASONS = ("general-quality", "format-consistency", "domain-conventions", "cost-latency", "behavior", "knowledge",
           "hallucination")
FAILURE_MODES = ("none", "format", "knowledge-gap", "hallucination", "domain-conventions", "behavior", "reasoning")
DOMAINS = ("general", "medical", "legal", "financial", "technical", "other")
CONVENTIONS = ("none", "moderate", "strict")
FAILURE_IMPACTS = ("none", "retried", "system-failure", "data-corruption")
SOURCES = ("human-labeled", "frontier-generated", "production-logs", "mixed", "none")
MODEL_TIERS = ("frontier", "small")

DEFAULT_FILE = "mlproject.toml"
#: The reason a fine-tune starter gets when none is given (fine-tune requires one).
DEFAULT_REASON = "general-quality"


def _alternatives(values: tuple[str, ...]) -> str:
    return " | ".join(values)


def _quoted(text: str) -> str:
    """A TOML basic string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped)
    return f'"{escaped}"'


def _line(assignment: str, comment: str, width: int = 34) -> str:
    return f"{assignment:<{width}}# {comment}" if len(assignment) < width else f"{assignment}  # {comment}"


def render(name: str, kind: str, approach: str, reasons: tuple[str, ...]) -> str:
    """The starter manifest's text: the given essentials, everything else commented out."""
    reasons_value = "[" + ", ".join(_quoted(r) for r in reasons) + "]"
    lines = [
        "# An ML project manifest (format v1), written by `policylint init`.",
        "# Run `policylint check` on it: every finding names the key that is still to be declared.",
        "# Field reference: docs/manifest.md in policylint (or `policylint schema` for editor completion).",
        "# Inputs are strict: unknown keys are errors, scores are fractions from 0 to 1, counts are",
        "# integers, and a key that is absent (or commented out) means \"not known\", never zero.",
        "",
        _line("schema_version = 1", "required, the integer 1"),
        "",
        "[project]",
        _line(f"name = {_quoted(name)}", "required, non-blank: the use case's name, as reports show it"),
        _line('# owner = "my-team"', "the team or person who owns the use case"),
        _line('# description = "..."', "free text about the use case"),
        "",
        "[task]",
        _line(f"kind = {_quoted(kind)}", f"required: {_alternatives(KINDS)}"),
        _line("narrow = false", "one input type, one output contract (default false)"),
        _line("# reasoning = true", "the task needs multi-step reasoning (default: true when kind is \"reasoning\")"),
        _line('# domain = "general"', f"{_alternatives(DOMAINS)} (default general)"),
        _line('# conventions = "none"', f"terminology and style strictness: {_alternatives(CONVENTIONS)} (default none)"),
        "",
        "[proposal]",
        _line(f"approach = {_quoted(approach)}", f"required: {_alternatives(APPROACHES)}"),
    ]
    reasons_comment = (f"required and non-empty for fine-tune (distill implies cost-latency): "
                       f"{_alternatives(REASONS)}")
    if reasons:
        lines.append(_line(f"reasons = {reasons_value}", reasons_comment))
    else:
        lines.append(_line("# reasons = []", reasons_comment))
    lines += [
        _line('# model = "..."', "the model to be tuned; for distill, the student model"),
        _line('# model_tier = "small"', f"{_alternatives(MODEL_TIERS)} (default small for distill, else not declared)"),
        _line("# target_quality = 0.95", "the score the project wants to reach, a fraction 0-1"),
        "",
        "# The evidence: how the current prompting was measured. Record each step you tried;",
        "# fine-tune and distill proposals must have tried every applicable step first.",
        "[evaluation]",
        _line("# examples = 600", "the size of the evaluation set behind every score (at least 100 to fine-tune)"),
        _line('# metric = "exact-match"', "the evaluation metric, free text"),
        "",
        "[evaluation.prompting]",
        "# The prompting checklist, one score per step tried, as fractions 0-1 (absent: not tried).",
        _line("# zero_shot = 0.0", "step 1: zero-shot with a detailed system prompt"),
        _line("# few_shot = 0.0", "step 2: few-shot examples in the prompt"),
        _line("# few_shot_examples = 8", "how many examples that few-shot prompt holds"),
        _line("# few_shot_variants = 1", "how many distinct sets of few-shot examples were tried"),
        _line("# chain_of_thought = 0.0", "step 3: chain-of-thought (owed when the task needs reasoning)"),
        _line("# format_constraints = 0.0", "step 4: explicit output format constraints"),
        _line("# role = 0.0", "step 5: role or persona prompting"),
        _line("# domain_prompt = 0.0", "a domain glossary and style guide in the system prompt"),
        "",
        "[evaluation.failures]",
        _line('# mode = "format"', f"the dominant failure (required for fine-tune and distill): "
              f"{_alternatives(FAILURE_MODES)}"),
        _line("# malformed_rate = 0.0", "share of responses that fail to parse, 0-1 (needed for format-consistency)"),
        _line("# reproducible = true", "the dominant failure reproduces consistently"),
        "",
        "[volume]",
        "# Expected production traffic: one of the two keys, or neither when unknown (a month is 30 days).",
        _line("# requests_per_day = 10_000", "expected production requests per day"),
        _line("# requests_per_month = 300_000", "or per month, never both"),
        "",
        "[downstream]",
        _line("# machine_parsed = false", "outputs are parsed by programs, not read by people (default false)"),
        _line('# failure_impact = "none"', f"what a malformed output does: {_alternatives(FAILURE_IMPACTS)} (default none)"),
        _line("# retry_logic = false", "outputs are validated and retried when invalid (default false)"),
        "",
        "# Training data available for fine-tuning.",
        "[data]",
        _line("# examples = 0", "how many training examples are available (fine-tuning needs enough high-quality ones)"),
        _line("# high_quality = 0", "how many are reviewed and high quality, at most examples (default: all)"),
        _line("# domain_examples = 0", "how many high-quality examples come from the target domain"),
        _line('# source = "human-labeled"', f"where they come from: {_alternatives(SOURCES)}"),
        "",
        "# Teacher and student scores, read for distill proposals and the cost-latency reason.",
        "[distillation]",
        _line('# teacher_model = "..."', "the frontier model the task was validated on"),
        _line("# teacher_quality = 0.0", "the teacher's score on the test set, 0-1"),
        _line("# student_quality = 0.0", "the tuned smaller model's score on the same test set, 0-1"),
        _line("# max_quality_delta = 0.02", "the largest teacher-to-student drop accepted (can only tighten the pack's)"),
        "",
        "# Waivers accept one rule's findings until a date, on someone's name:",
        "# [[waivers]]",
        _line('# rule = "FMT001"', "the rule id"),
        _line('# reason = "..."', "why the findings are accepted (non-blank)"),
        _line('# owner = "..."', "who accepts them (non-blank)"),
        _line("# expires = 2027-03-31", "the last day it holds: a TOML local date, not a string"),
        "",
    ]
    return "\n".join(lines)


def _target(path: str | None) -> Path:
    """A folder (existing, or any path not ending in ``.toml``) gets ``mlproject.toml`` in it.
    A ``.toml`` name that is a symlink to a folder (``./mlproject.toml`` planted by a repository)
    stays the file named, which is then refused as a symlink: nothing is written where it leads."""
    target = Path(path) if path else Path(DEFAULT_FILE)
    folder = target.is_dir() and not (target.suffix == ".toml" and target.is_symlink())
    return target / DEFAULT_FILE if folder or target.suffix != ".toml" else target


def _split_reasons(value: str) -> tuple[str, ...]:
    reasons = tuple(dict.fromkeys(r.strip() for r in value.split(",") if r.strip()))
    unknown = [r for r in reasons if r not in REASONS]
    if unknown:
        raise click.BadParameter(f"unknown reason {unknown[0]!r}; choose from {', '.join(REASONS)}")
    return reasons


def _reasons_option(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    return None if value is None else _split_reasons(value)


def _interactive(forced: bool | None, flags_given: bool) -> bool:
    if forced is not None:
        return forced
    return not flags_given and sys.stdin.isatty()


@click.command()
@click.argument("path", required=False, type=click.Path(dir_okay=True, file_okay=True))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--name", help="The use case's name (default: the folder's name).")
@click.option("--kind", type=click.Choice(KINDS), help="What the model does with its input (default: other).")
@click.option("--approach", type=click.Choice(APPROACHES), help="What the project proposes (default: prompting).")
@click.option("--reasons", callback=_reasons_option, metavar="R1,R2",
              help=f"Why, comma-separated (fine-tune needs one; default {DEFAULT_REASON}): {', '.join(REASONS)}.")
@click.option("--pack-versions/--no-pack-versions", "pin", default=True, show_default=True,
              help="Adopt the loaded packs' current versions in the repository's configuration (pack-versions).")
@click.option("--interactive/--no-input", "interactive", default=None,
              help="Ask for the essentials, or never ask (default: ask in a terminal when no flag is given).")
def init(path: str | None, force: bool, name: str | None, kind: str | None, approach: str | None,
         reasons: tuple[str, ...] | None, pin: bool, interactive: bool | None) -> None:
    """Write a commented starter manifest to PATH (a folder or file; default ./mlproject.toml)."""
    target = _target(path)
    if os.path.lexists(target) and not force:  # a dangling symlink too: a file would be created where it leads
        click.echo(f"policylint: error: {target} already exists; use --force to overwrite it", err=True)
        sys.exit(2)
    default_name = target.resolve().parent.name or "my-project"
    flags_given = any(v is not None for v in (name, kind, approach, reasons))
    if _interactive(interactive, flags_given):
        name = click.prompt("Project name", default=name or default_name)
        kind = click.prompt("Task kind", type=click.Choice(KINDS), default=kind or "other")
        approach = click.prompt("Proposed approach", type=click.Choice(APPROACHES), default=approach or "prompting")
        if approach == "fine-tune" and not reasons:
            reasons = click.prompt(f"Reasons to fine-tune, comma-separated ({', '.join(REASONS)})",
                                   default=DEFAULT_REASON, value_proc=_split_reasons)
    name = name if name and name.strip() else default_name
    kind = kind or "other"
    approach = approach or "prompting"
    if approach == "fine-tune" and not reasons:
        reasons = (DEFAULT_REASON,)
    text = render(name, kind, approach, tuple(reasons or ()))
    from policylint.files import open_for_writing

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open_for_writing(target, encoding="utf-8") as out:  # never through a symlink, nor blocked on a FIFO
            out.write(text)
    except OSError as exc:
        click.echo(f"policylint: error: cannot write {target}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    click.echo(f"wrote {target}; run `policylint check {target}` to see the evidence still to declare")
    if pin:
        _adopt_pack_versions(target)


def _adopt_pack_versions(manifest: Path) -> None:
    """Pin the packs' current versions in the repository's configuration (``pack-versions``)
    unless it pins them already, so that a later upgrade of policylint or of a pack brings its
    new rules as preview warnings, announced by ``policylint upgrade``, not as blocking errors."""
    from policylint.cli import _session
    from policylint.commands.upgrade import Unsafe, inline, plan, target_file, write

    folder = manifest.resolve().parent
    session = _session(None, None)
    wanted = {r["pack"]: r["to"] for r in plan(session, session.in_force(folder)) if r["write"]}
    if not wanted:
        return
    path = target_file(None, start=folder)
    try:
        verb = write(path, wanted)
    except Unsafe as exc:
        click.echo(f"policylint: note: {path} was left alone ({exc}); add `{inline(wanted)}` to it to pin the "
                   "pack versions this repository adopts", err=True)
        return
    click.echo(f"{verb} {path}: {inline(wanted)} (the pack versions this repository adopts; see `policylint upgrade`)")


COMMANDS = (init,)
