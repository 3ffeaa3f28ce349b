"""``policylint waivers``: every waiver in the manifests found, with its status.

The status of a waiver is read off the WVR findings that ``check`` itself reports for its
manifest (each at the waiver's ``waivers[N].rule`` key), never worked out a second time, so the
audit and the gate cannot disagree:

========================  =====================================================================
status                    when
========================  =====================================================================
``invalid``               WVR002 (unknown rule), WVR003 (not waivable) or WVR004 (too long)
``expired``               WVR001 (and none of WVR002-WVR004)
``stale``                 WVR005: the waiver accepts nothing
``expiring soon``         WVR006: it runs out within ``waiver-warn-days`` (configuration in force)
``active``                no WVR finding
========================  =====================================================================

Exit 1 when a waiver is expired or invalid, or a manifest is invalid (its waivers cannot be
read, and ``check`` fails it); else 0; 2 on a tool error.

The JSON document (``--format json``), keys in this order, stable across releases:

* ``today``: the ISO date waivers were measured against;
* ``waivers``: one object per waiver, sorted by manifest path then file order, with ``path``,
  ``line``, ``index`` (its position in the manifest's ``[[waivers]]``), ``rule``, ``owner``,
  ``reason``, ``expires`` (ISO date), ``days_left`` (negative once expired), ``status`` (one of
  the statuses above), ``warn_days`` (``waiver-warn-days`` in force for that manifest) and
  ``findings`` (the WVR findings at the waiver: ``rule``, ``severity``, ``message``);
* ``invalid_manifests``: ``path`` and ``findings`` (``rule``, ``line``, ``column``,
  ``message``) of each manifest with MAN findings, whose waivers were not audited;
* ``excluded``: ``path`` and ``by`` (where the ``exclude`` glob was set) of each manifest the
  configuration leaves out;
* ``summary``: ``manifests``, ``waivers``, then the count of each status (``active``,
  ``expiring_soon``, ``expired``, ``invalid``, ``stale``) and ``invalid_manifests``.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import click

from policylint.cli import _guarded, _parse_today, _session
from policylint.errors import ExitCode, printable

#: Statuses, most urgent first (a waiver with several WVR findings takes the first that applies).
STATUSES = ("invalid", "expired", "stale", "expiring soon", "active")
#: The WVR finding that gives each status.
STATUS_RULES = {
    "WVR002": "invalid",
    "WVR003": "invalid",
    "WVR004": "invalid",
    "WVR001": "expired",
    "WVR005": "stale",
    "WVR006": "expiring soon",
}
#: What each WVR id says about a waiver, in the status column.
PROBLEMS = {
    "WVR001": "expired",
    "WVR002": "unknown rule",
    "WVR003": "not waivable",
    "WVR004": "too long",
    "WVR005": "accepts nothing",
    "WVR006": "runs out soon",
}


@dataclass(frozen=True)
class WaiverFinding:
    rule: str
    severity: str
    message: str


@dataclass(frozen=True)
class AuditedWaiver:
    """One waiver of one manifest, with what ``check`` says of it."""

    path: str
    line: int
    index: int
    rule: str
    owner: str
    reason: str
    expires: datetime.date
    days_left: int
    warn_days: int
    findings: tuple[WaiverFinding, ...] = ()

    @property
    def status(self) -> str:
        found = {STATUS_RULES[f.rule] for f in self.findings if f.rule in STATUS_RULES}
        return next((s for s in STATUSES if s in found), "active")

    @property
    def status_text(self) -> str:
        """``invalid (WVR002 unknown rule)``, ``expired (WVR001)``, ``active``."""
        ids = [f.rule for f in self.findings if f.rule in STATUS_RULES]
        if not ids:
            return self.status
        if self.status == "invalid":
            return f"invalid ({', '.join(f'{i} {PROBLEMS[i]}' for i in ids)})"
        return f"{self.status} ({', '.join(ids)})"


@dataclass
class Audit:
    today: datetime.date
    waivers: list[AuditedWaiver] = field(default_factory=list)
    #: Manifests with MAN findings: (path, [(rule, line, column, message)]).
    invalid_manifests: list[tuple[str, list[tuple[str, int, int, str]]]] = field(default_factory=list)
    excluded: list[tuple[str, str]] = field(default_factory=list)
    manifests: int = 0

    @property
    def failed(self) -> bool:
        return bool(self.invalid_manifests) or any(w.status in ("expired", "invalid") for w in self.waivers)

    def counts(self) -> dict[str, int]:
        return {status: sum(w.status == status for w in self.waivers) for status in reversed(STATUSES)}


def _waiver_index(key: str) -> int | None:
    """``waivers[3].rule`` -> 3: the waiver a WVR finding is about."""
    if not key.startswith("waivers[") or not key.endswith("].rule"):
        return None
    number = key[len("waivers["): -len("].rule")]
    return int(number) if number.isdigit() else None


def audit(session: Any, paths: Sequence[str], today: datetime.date, stdin: Any = None) -> Audit:
    """Every waiver of the manifests ``paths`` finds, as ``check`` would judge it today."""
    from policylint.discovery import discover
    from policylint.manifest import load_manifest, unreadable
    from policylint.runner import plan, read

    run = plan(session, discover(paths))
    result = Audit(today, excluded=[(path, origin.locate) for path, origin in run.excluded], manifests=len(run.paths))
    for path in run.paths:
        engine = run.engines[path]
        raw, problem = read(path, stdin)
        checked = engine.check(path, raw) if raw is not None else engine.decide(unreadable(path, problem))
        broken = [f for f in checked.findings if f.rule.startswith("MAN")]
        if broken or raw is None:
            result.invalid_manifests.append((path, [(f.rule, f.line, f.column, f.message) for f in broken]))
            continue
        loaded = load_manifest(path, raw, engine.ext_models)  # the waivers' own lines and values
        if loaded.data is None:  # cannot be: check found no MAN finding
            continue
        by_index: dict[int, list[WaiverFinding]] = {}
        for finding in checked.findings:
            index = _waiver_index(finding.key) if finding.rule.startswith("WVR") else None
            if index is not None:
                by_index.setdefault(index, []).append(WaiverFinding(finding.rule, finding.severity, finding.message))
        warn_days = run.in_force[path].waiver_warn_days.value
        for index, waiver in enumerate(loaded.data.get("waivers", [])):
            line, _column = loaded.source.index.locate(("waivers", index, "rule"))
            expires = waiver["expires"]
            result.waivers.append(AuditedWaiver(
                path, line, index, waiver["rule"], waiver["owner"], waiver["reason"], expires,
                (expires - today).days, warn_days, tuple(sorted(by_index.get(index, []), key=lambda f: f.rule)),
            ))
    return result


# --- formats ------------------------------------------------------------------------------------

def _summary_line(result: Audit) -> str:
    counts = result.counts()
    parts = ", ".join(f"{counts[s]} {s}" for s in reversed(STATUSES))
    waivers = f"{len(result.waivers)} waiver{'' if len(result.waivers) == 1 else 's'}"
    manifests = f"{result.manifests} manifest{'' if result.manifests == 1 else 's'}"
    line = f"{waivers} in {manifests} (as of {result.today.isoformat()}): {parts}"
    if result.invalid_manifests:
        line += f"; {len(result.invalid_manifests)} invalid manifest{'' if len(result.invalid_manifests) == 1 else 's'}"
    return line


def _cell(text: str) -> str:
    """One line, escaped, with no runner command marker (the action prints this report to the
    log, where GitHub's runner would read one)."""
    from policylint.reports.text import without_command_marker

    return without_command_marker(printable(" ".join(str(text).split())))


def text_report(result: Audit) -> str:
    from policylint.reports.text import log_line

    header = ("MANIFEST", "RULE", "OWNER", "EXPIRES", "DAYS LEFT", "STATUS", "REASON")
    rows = [
        (f"{w.path}:{w.line}", w.rule, w.owner, w.expires.isoformat(), str(w.days_left), w.status_text, w.reason)
        for w in result.waivers
    ]
    lines: list[str] = []
    if rows:
        # The path opens the line: log_line puts ./ before one that would start a command.
        table = [(log_line(_cell(row[0])), *(_cell(c) for c in row[1:])) for row in [header, *rows]]
        widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
        for row in table:
            lines.append("  ".join([*(c.ljust(w) for c, w in zip(row, widths)), row[-1]]).rstrip())
    for path, problems in result.invalid_manifests:
        for rule, line, column, message in problems:
            lines.append(log_line(printable(f"{path}:{line}:{column}: invalid manifest, waivers not audited: {rule} {message}")))
    for path, by in result.excluded:
        lines.append(log_line(printable(f"{path}: excluded by {by}")))
    lines.append(_summary_line(result))
    return "\n".join(lines) + "\n"


def json_report(result: Audit) -> str:
    import json

    counts = result.counts()
    document = {
        "today": result.today.isoformat(),
        "waivers": [
            {
                "path": w.path, "line": w.line, "index": w.index, "rule": w.rule, "owner": w.owner, "reason": w.reason,
                "expires": w.expires.isoformat(), "days_left": w.days_left, "status": w.status, "warn_days": w.warn_days,
                "findings": [{"rule": f.rule, "severity": f.severity, "message": f.message} for f in w.findings],
            }
            for w in result.waivers
        ],
        "invalid_manifests": [
            {"path": path, "findings": [{"rule": r, "line": line, "column": col, "message": m} for r, line, col, m in problems]}
            for path, problems in result.invalid_manifests
        ],
        "excluded": [{"path": path, "by": by} for path, by in result.excluded],
        "summary": {
            "manifests": result.manifests,
            "waivers": len(result.waivers),
            **{status.replace(" ", "_"): counts[status] for status in reversed(STATUSES)},
            "invalid_manifests": len(result.invalid_manifests),
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def markdown_report(result: Audit) -> str:
    from policylint.reports.markdown import escape

    lines = ["## policylint waivers", ""]
    if result.waivers:
        lines += [
            "| Manifest | Line | Rule | Owner | Reason | Expires | Days left | Status |",
            "|---|---:|---|---|---|---|---:|---|",
        ]
        for w in result.waivers:
            cells = (escape(w.path), str(w.line), escape(w.rule), escape(w.owner), escape(w.reason), w.expires.isoformat(),
                     str(w.days_left), escape(w.status_text))  # numbers and dates need no escaping
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if result.invalid_manifests:
        lines += ["Invalid manifests (their waivers were not audited):", ""]
        for path, problems in result.invalid_manifests:
            for rule, line, column, message in problems:
                lines.append(f"- {escape(f'{path}:{line}:{column}')}: {escape(rule)} {escape(message)}")
        lines.append("")
    if result.excluded:
        lines += ["Excluded by configuration:", ""]
        lines += [f"- {escape(path)} (by {escape(by)})" for path, by in result.excluded]
        lines.append("")
    lines.append(escape(_summary_line(result)))
    return "\n".join(lines) + "\n"


FORMATS = {"text": text_report, "json": json_report, "markdown": markdown_report}


def _write(text: str, for_terminal: bool) -> None:
    """UTF-8 for the machine formats; the terminal's encoding (escaping what it lacks) for text."""
    encoding = (getattr(sys.stdout, "encoding", None) or "utf-8") if for_terminal else "utf-8"
    data = text.encode(encoding, "backslashreplace")
    sys.stdout.flush()
    out = getattr(sys.stdout, "buffer", None)
    if out is None:
        sys.stdout.write(data.decode(encoding, "replace"))
    else:
        out.write(data)
        out.flush()


@click.command("waivers")
@click.argument("paths", nargs=-1, type=str)
@click.option("--format", "output_format", type=click.Choice(sorted(FORMATS)), default="text", show_default=True)
@click.option("--today", metavar="YYYY-MM-DD", help="Date that waivers expire against (default: the local date).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), metavar="PATH",
              help="Repository configuration file for every manifest (default: each manifest's own files).")
@click.option("--org-config", metavar="PATH", help="Organisation configuration (default: $POLICYLINT_ORG_CONFIG).")
@_guarded
def waivers(paths: tuple[str, ...], output_format: str, today: str | None, config_path: str | None,
            org_config: str | None) -> None:
    """List every waiver in the manifests found, with its status (default path: .).

    Status: active, expiring soon (WVR006), expired (WVR001), invalid (WVR002-WVR004) or stale
    (WVR005), as `check` reports them. Exit 1 when a waiver is expired or invalid or a manifest
    is invalid, else 0.
    """
    from pathlib import Path

    from policylint.discovery import MANIFEST_NAME

    date = _parse_today(today) or datetime.date.today()
    session = _session(config_path, org_config, (), None, date)
    session.in_force(Path.cwd())  # this folder's configuration is checked even when no manifest is found
    result = audit(session, paths, date, sys.stdin.buffer)
    if not result.manifests:
        searched = ", ".join(paths) or "."
        click.echo(f"policylint: warning: no manifests found in {searched} (looked for {MANIFEST_NAME})", err=True)
    _write(FORMATS[output_format](result), for_terminal=output_format == "text")
    sys.exit(ExitCode.FAILED if result.failed else ExitCode.OK)


COMMANDS = (waivers,)
