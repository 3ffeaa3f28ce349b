"""Reports against an untrusted repository: what its file names and manifest strings can make a
report say (found in review).

GitHub's runner reads a workflow command from any line of a step's output, policylint's text
report included (the action prints it to the log): ``::name ...::data`` at the start of a line
once leading white space is trimmed, and the older ``##[name ...]data`` anywhere in a line.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from conftest import SCENARIOS
from policylint.engine import Engine
from policylint.findings import Decision, Finding, ManifestResult, Summary, Waiver
from policylint.reports import ReportContext
from policylint.reports.github import render_github
from policylint.reports.gitlab import render_gitlab
from policylint.reports.markdown import escape, render_markdown
from policylint.reports.sarif import render_sarif
from policylint.reports.text import render_text

#: The commands the runner knows (its command extensions, and stop-commands).
RUNNER_COMMANDS = {"set-env", "set-output", "save-state", "add-mask", "add-path", "add-matcher", "remove-matcher",
                   "debug", "warning", "error", "notice", "group", "endgroup", "echo", "stop-commands"}
#: Names that open a workflow command once leading white space is gone (.NET's TrimStart()).
HOSTILE_PATHS = [" ::error::lead/m.toml", "\u3000::warning file=x.py,line=1::ideographic/m.toml",
                 "\u00a0::add-mask::nbsp/m.toml", "::set-output name=a::b/m.toml"]
#: For policylint run as a process: no GIT_ variable of a hook running these tests.
ENV = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
HOSTILE_TEXT = "x ##[error]fake ##[add-mask]pass ##[set-output name=exit-code;]0"


def runner_commands(text: str) -> list[tuple[str, str]]:
    """``(command, line)`` for each line GitHub's runner would take as a workflow command (as
    actions/runner's ActionCommand.TryParseV2, then TryParse)."""
    commands = []
    for line in re.split(r"\r\n|\r|\n", text):  # StreamReader.ReadLine's line breaks
        trimmed = line.lstrip()  # Python's white space includes all of .NET's
        if trimmed.startswith("::") and trimmed.find("::", 2) > 0:
            info = trimmed[2:trimmed.find("::", 2)]
            if info.split(" ", 1)[0] in RUNNER_COMMANDS:
                commands.append((info.split(" ", 1)[0], trimmed))
                continue
        start = line.find("##[")
        if start >= 0 and line.find("]", start) > 0:
            info = line[start + 3:line.find("]", start)]
            if info.split(" ", 1)[0] in RUNNER_COMMANDS:
                commands.append((info.split(" ", 1)[0], line))
    return commands


def finding(message: str = "a message", *, waiver: Waiver | None = None, line: int = 3) -> Finding:
    return Finding("FMT001", "format-volume-too-low", "error", message, "volume", line, 1,
                   waived=waiver is not None, waiver=waiver)


def hostile_results() -> list[ManifestResult]:
    waiver = Waiver(f"reason {HOSTILE_TEXT}", f"owner {HOSTILE_TEXT}", "2027-01-31")
    results = [
        ManifestResult(path, Decision("fine-tune", "error-handling", "fail", "FMT001"), (finding(HOSTILE_TEXT),),
                       ("FMT001",))
        for path in HOSTILE_PATHS
    ]
    results.append(ManifestResult("w/m.toml", Decision("fine-tune", "error-handling", "pass", "FMT001"),
                                  (finding(waiver=waiver),), ("FMT001",)))
    results.append(ManifestResult(f"p/{HOSTILE_TEXT}/m.toml", Decision("fine-tune", "error-handling", "pass"), (),
                                  ("FMT001",)))
    return results


def render(reporter: Callable[..., Summary], results: Iterable[ManifestResult], context: ReportContext) -> str:
    out = io.StringIO(newline="")
    reporter(iter(list(results)), context, out)
    return out.getvalue()


@pytest.fixture(scope="module")
def context(engine: Engine) -> ReportContext:
    return ReportContext("0.1.0", engine.rules)


# --- text and GitHub: no workflow command from the repository ----------------------------------


@pytest.mark.parametrize("color", [False, True])
def test_the_text_report_gives_the_runner_no_command(context: ReportContext, color: bool) -> None:
    text = render(render_text, hostile_results(), dataclasses.replace(context, color=color))
    assert runner_commands(text) == []
    assert "./ ::error::lead/m.toml:3:1: " in text  # the same file, still where editors look


def test_the_github_report_gives_the_runner_only_its_own_annotations(context: ReportContext) -> None:
    results = hostile_results()
    text = render(render_github, results, context)
    commands = runner_commands(text)
    own = [line for line in text.splitlines() if re.match(r"::(error|warning|notice) file=[^:]*,line=\d+,col=\d+,title=", line)]
    assert [line for _, line in commands] == own
    assert len(own) == len(results) - 1  # one finding each, but for the manifest without findings


def test_github_plain_lines_past_the_annotation_limit_give_no_command(context: ReportContext) -> None:
    many = tuple(finding(HOSTILE_TEXT, line=i) for i in range(1, 13))
    result = ManifestResult("\u2003::error file=x.py::em-space/m.toml", Decision("fine-tune", "rag", "fail", "FMT001"),
                            many, ("FMT001",))
    text = render(render_github, [result], context)
    commands = runner_commands(text)
    assert len(commands) == 11  # 10 annotations, then the closing notice
    assert all(line.startswith(("::error file=\u2003%3A%3Aerror", "::notice title=policylint::")) for _, line in commands)


def test_notes_at_the_end_give_no_command(context: ReportContext) -> None:
    from policylint.baseline import Outcome

    outcome = Outcome(file="b.json", stale=["m.toml: FMT001 at volume = ##[error]fake"], baselined=1)
    noted = ReportContext("0.1.0", context.rules, baseline=(outcome,))
    for reporter in (render_text, render_github):
        assert runner_commands(render(reporter, [], noted)) == [], reporter


# --- Markdown -----------------------------------------------------------------------------------


def test_a_newline_in_a_path_cannot_close_the_decision_path_fence(engine: Engine, context: ReportContext) -> None:
    path = "x\n```\n\n# \u2705 every manifest passed\n\n<img src=x>\n\n```mermaid\ny/mlproject.toml"
    result = engine.check(path, (SCENARIOS / "02-knowledge-via-fine-tuning.toml").read_bytes())
    text = render(render_markdown, [result], context)
    before, block = text.split("```mermaid\n", 1)
    block, after = block.split("\n```\n", 1)  # the first fence line after it closes it
    assert len(block.splitlines()) == 16 and block.startswith('flowchart TD\n  start(["x\\n```\\n')
    assert "<img" not in before + after and "\n# " not in before + after
    assert "```" not in after


@pytest.mark.parametrize("mention", ["@org/team", "@someone", "@some-one"])
def test_markdown_text_mentions_nobody(context: ReportContext, mention: str) -> None:
    waiver = Waiver(f"ask {mention}", mention, "2027-01-31")
    result = ManifestResult(f"{mention}/m.toml", Decision("fine-tune", "error-handling", "pass", "FMT001"),
                            (finding(f"see {mention}", waiver=waiver),), ("FMT001",))
    text = render(render_markdown, [result], context)
    text = re.sub(r"```mermaid\n.*?\n```\n", "", text, flags=re.S)  # code: GitHub links no mention there
    assert "@" in text and re.search(r"@[A-Za-z0-9]", text) is None  # it links, and notifies, @name and @org/team
    assert "@&#8203;" in escape(mention)  # shown as written: a zero-width space after the @


def test_an_e_mail_address_reads_the_same(context: ReportContext) -> None:
    assert escape("ml@example.com") == "ml@&#8203;example.com"


# --- SARIF and GitLab ---------------------------------------------------------------------------


def test_sarif_takes_a_file_name_that_is_not_utf8(context: ReportContext) -> None:
    path = b"bad\xff\xfe/mlproject.toml".decode("utf-8", "surrogateescape")
    result = ManifestResult(path, Decision("fine-tune", "rag", "fail", "FMT001"), (finding(),), ("FMT001",))
    text = render(render_sarif, [result], context)
    report = json.loads(text.encode("utf-8", "backslashreplace"))
    location = report["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "bad%FF%FE/mlproject.toml", "uriBaseId": "%SRCROOT%"}  # the file's own bytes


def test_sarif_exit_code_with_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    if sys.platform in ("darwin", "win32"):
        pytest.skip("the file system refuses names that are not UTF-8")
    folder = tmp_path / "repo"
    (folder / ".git").mkdir(parents=True)
    raw = os.fsencode(folder) + b"/bad\xff"
    os.mkdir(raw)
    with open(raw + b"/mlproject.toml", "wb") as file:
        file.write((SCENARIOS / "02-knowledge-via-fine-tuning.toml").read_bytes())
    proc = subprocess.run([sys.executable, "-m", "policylint", "check", "--today", "2026-12-01", "--format", "sarif",
                           "."], cwd=folder, capture_output=True, env=ENV)
    assert proc.returncode == 1, proc.stderr  # failed, as any other format says: not a tool error (2)
    assert json.loads(proc.stdout)["runs"][0]["properties"]["policylint"]["summary"]["failed"] == 1


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_gitlab_keeps_paths_and_messages_as_they_are(context: ReportContext, separator: str) -> None:
    path = f"a{separator}b/m.toml"
    result = ManifestResult(path, Decision("fine-tune", "rag", "fail", "FMT001"), (finding(f"x{separator}y"),),
                            ("FMT001",))
    (issue,) = json.loads(render(render_gitlab, [result], context))
    assert issue["location"]["path"] == path
    assert issue["description"] == f"FMT001: x{separator}y"


# --- standard error -----------------------------------------------------------------------------


def test_the_note_on_manifests_git_ignores_gives_no_command(tmp_path: Path) -> None:
    if shutil.which("git") is None or sys.platform == "win32":
        pytest.skip("needs git, and a file system that takes a newline in a name")
    folder = tmp_path / "repo"
    folder.mkdir()
    subprocess.run(["git", "init", "-q", str(folder)], check=True, env=ENV)
    hidden = folder / "ig\n::error file=x.py,line=1::fake ##[add-mask]pass"
    hidden.mkdir()
    (hidden / "mlproject.toml").write_bytes((SCENARIOS / "01-format-at-scale.toml").read_bytes())
    (folder / ".gitignore").write_text("ig*\n")
    proc = subprocess.run([sys.executable, "-m", "policylint", "check", "--today", "2026-12-01", "."], cwd=folder,
                          capture_output=True, text=True, env=ENV)
    assert "git ignores it" in proc.stderr
    assert runner_commands(proc.stderr) == []
    assert proc.stderr.count("\n") == 2  # the note, then the warning that nothing was found


def test_the_waivers_text_report_gives_the_runner_no_command(tmp_path: Path) -> None:
    folder = tmp_path / "repo"
    (folder / ".git").mkdir(parents=True)
    waived = (SCENARIOS / "14-waived.toml").read_text("utf-8")
    assert 'owner = "payments-ml"' in waived
    for name in ("::error file=x.py::colons", "\u3000::warning::ideographic"):
        (folder / name).mkdir()
        (folder / name / "mlproject.toml").write_text(waived.replace('owner = "payments-ml"', f'owner = "{HOSTILE_TEXT}"'))
    proc = subprocess.run([sys.executable, "-m", "policylint", "waivers", "--today", "2026-12-01", "."], cwd=folder,
                          capture_output=True, text=True, env=ENV)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert runner_commands(proc.stdout) == [] and len(lines) == 4
    assert len({line.index(" FMT001 ") for line in lines[1:3]}) == 1  # the columns stay aligned
