"""A Markdown report for a pull-request comment or a CI job summary (GitHub-flavoured).

A heading, the summary sentence, a table of every manifest with its proposal, recommendation
and verdict, then a section per manifest that has findings: each finding with its rule,
location and message, and the rule's rationale folded in ``<details>``. Passing manifests
without findings appear only in the table.

Text from manifests and messages is escaped: ``&``, ``<`` and ``>`` become entities (no HTML
gets through), Markdown punctuation is backslash-escaped (a ``|`` cannot split a table cell),
line breaks become ``<br>``, and an ``@`` before a name gets a zero-width space after it (GitHub
would link ``@name`` and ``@org/team`` and notify them). The summary sentence heads the report,
so the table's rows and the sections are spooled as results arrive (:mod:`policylint.spool`: in
memory while small, in a temporary file beyond) and written after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, TextIO

import pluggy

from policylint.errors import printable
from policylint.findings import Finding, ManifestResult, RuleInfo, Summary
from policylint.reports import ReportContext, Reporter, Tally, verdict_reason
from policylint.reports.text import format_summary

if TYPE_CHECKING:
    from policylint.spool import Writable

hookimpl = pluggy.HookimplMarker("policylint")

VERDICTS = {"pass": "✅ pass", "fail": "❌ fail"}
#: Punctuation that starts Markdown inline syntax anywhere in a line (``&<>`` become entities).
_INLINE = re.compile(r"([\\`*_\[\]|~])")
#: What starts a heading, a list or a setext underline when it opens a line.
_LINE_START = re.compile(r"^(\s*)([#+=-]|\d+(?=[.)](?:\s|$)))")
_NEWLINE = re.compile(r"\r\n|\r|\n")
#: An ``@`` that GitHub could read as a mention: a zero-width space after it (as the entity) breaks it.
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")


def _no_mention(html_text: str) -> str:
    """HTML-escaped text with every ``@name`` broken, so that GitHub notifies nobody."""
    return _MENTION.sub("@&#8203;", html_text)


def escape(text: str) -> str:
    """Literal text inside Markdown, a table cell included: no HTML, no syntax, one line."""
    import html  # imported here: most runs never write this format
    escaped = _LINE_START.sub(_escape_start, _INLINE.sub(r"\\\1", printable(text, keep_newlines=True)))
    return _no_mention(_NEWLINE.sub("<br>", html.escape(escaped, quote=False)))


def _escape_start(match: re.Match[str]) -> str:
    mark = match.group(2)
    if mark.isdigit():  # ``1.`` opens an ordered list: escape the dot or parenthesis after it
        return match.group(1) + mark + "\\"
    return match.group(1) + "\\" + mark


def _label(finding: Finding) -> str:
    if finding.waived:
        return "waived"
    if finding.baselined:
        return "baselined"
    return finding.severity


def _counts(result: ManifestResult) -> str:
    counts = {"error": 0, "warning": 0, "waived": 0, "baselined": 0}
    for finding in result.findings:
        counts[_label(finding)] += 1
    parts = [f"{n} {label}{'s' if n != 1 and label not in ('waived', 'baselined') else ''}" for label, n in counts.items() if n]
    return ", ".join(parts) or "none"


def table_row(result: ManifestResult) -> str:
    decision = result.decision
    cells = [
        escape(result.path),
        escape(decision.proposal) if decision.proposal else "—",
        escape(decision.recommendation) if decision.recommendation else "— (not evaluated)",
        VERDICTS.get(decision.verdict, escape(decision.verdict)),
        _counts(result),
    ]
    return "| " + " | ".join(cells) + " |"


def _rationale(rule: RuleInfo) -> list[str]:
    import html  # imported here: most runs never write this format
    title = _no_mention(html.escape(rule.title))  # inside HTML: entities, not backslashes
    lines = [f"<details><summary>Why {html.escape(rule.id)}: {title}</summary>", ""]
    lines += [escape(line.strip()) for line in rule.rationale.strip().splitlines()]
    if rule.recommends:
        lines += ["", f"Recommended instead: {escape(rule.recommends)}."]
    lines += ["", "</details>", ""]
    return lines


def finding_lines(path: str, finding: Finding, rules: Mapping[str, RuleInfo], explain: bool = True) -> list[str]:
    """The finding, then its rule's rationale folded (once per rule and manifest: ``explain``)."""
    icon = {"error": "❌", "warning": "⚠️", "waived": "☑️", "baselined": "☑️"}[_label(finding)]
    lines = [
        (f"{icon} **{escape(finding.rule)} {escape(finding.name)}** ({_label(finding)}{', preview' if finding.preview else ''}) at "
         f"{escape(path)}:{finding.line}:{finding.column}  "),
        escape(finding.message),
    ]
    if finding.waiver is not None:
        lines[-1] += "  "
        waiver = finding.waiver
        lines.append(f"Waived by {escape(waiver.owner)} until {waiver.expires}: {escape(waiver.reason)}")
    elif finding.baselined:
        lines[-1] += "  "
        lines.append("Accepted: in the baseline.")
    lines.append("")
    rule = rules.get(finding.rule)
    if explain and rule is not None and rule.rationale.strip():
        lines += _rationale(rule)
    return lines


def section(result: ManifestResult, rules: Mapping[str, RuleInfo]) -> list[str]:
    decision = result.decision
    lines = [f"### {VERDICTS.get(decision.verdict, '')} {escape(result.path)}", ""]
    if decision.recommendation is None:
        lines += ["Invalid manifest: not evaluated.", ""]
    else:
        proposal = escape(decision.proposal or "—")
        decided = f", decided by {escape(decision.decided_by)}" if decision.decided_by else ""
        reason = verdict_reason(result)
        why = f" Verdict {decision.verdict}: {escape(reason)}." if reason else ""
        lines += [f"Proposal {proposal}, recommendation {escape(decision.recommendation)}{decided}.{why}", ""]
    explained: set[str] = set()
    for finding in result.findings:
        lines += finding_lines(result.path, finding, rules, explain=finding.rule not in explained)
        explained.add(finding.rule)
    if result.evaluated:  # the stages and the path taken, as `policylint explain --format mermaid` draws them
        from policylint.trail import mermaid_of_result  # imported here: most runs never write this format

        # The path is escaped as text (printable): a line break in it would end the fence early.
        shown = result._replace(path=printable(result.path))
        lines += ["<details><summary>Decision path</summary>", "", "```mermaid",
                  *mermaid_of_result(shown, rules).splitlines(), "```", "", "</details>", ""]
    return lines


class _Lines:
    """Lines as ``"\n".join(lines) + "\n"`` writes them, less the blank lines at the very end:
    a blank line is held until a line with text follows it."""

    def __init__(self, out: Writable) -> None:
        self.out = out
        self.blank = 0

    def write(self, lines: list[str]) -> None:
        end = len(lines)
        while end and lines[end - 1] == "":
            end -= 1
        if end:
            self.out.write("\n" * self.blank + "\n".join(lines[:end]) + "\n")
            self.blank = 0
        self.blank += len(lines) - end


def render_markdown(results: Iterable[ManifestResult], context: ReportContext, out: TextIO) -> Summary:
    """Streams: the table's rows and the sections are spooled (in memory while small, in a
    temporary file beyond) as results arrive, and copied after the summary that heads them."""
    from policylint.spool import Spool  # imported here: most runs never write this format

    tally = Tally()
    with Spool() as rows, Spool() as sections:
        findings = _Lines(sections)
        with_findings = 0
        for result in results:
            tally.add(result)
            rows.write(table_row(result) + "\n")
            if result.findings:
                findings.write(section(result, context.rules))
                with_findings += 1
        summary = tally.summary()
        lines = ["## policylint report", "", escape(format_summary(summary)) + ".", ""]
        for note in (context.settings_note(), context.ignored_note(), *context.run_notes()):
            if note:
                lines += [f"> **Note:** {escape(note)}", ""]
        if not summary.manifests:
            out.write("\n".join([*lines, "No manifests were checked."]) + "\n")
            return summary
        out.write("\n".join([*lines, "| Manifest | Proposal | Recommendation | Verdict | Findings |", "|---|---|---|---|---|"]) + "\n")
        rows.copy_to(out)
        if with_findings:
            out.write("\n## Findings\n\n")
            sections.copy_to(out)
    return summary


@hookimpl
def policylint_report_formats() -> Mapping[str, Reporter]:
    return {"markdown": render_markdown}
