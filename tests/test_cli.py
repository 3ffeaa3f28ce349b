"""The real command, run as a process: exit codes, output lines, discovery, stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, SCENARIOS, heavy_modules_after

PASSING = (SCENARIOS / "01-format-at-scale.toml").read_text("utf-8")
FAILING = (SCENARIOS / "02-knowledge-via-fine-tuning.toml").read_text("utf-8")


def run(*args: str, cwd: Path | None = None, stdin: bytes | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "policylint", *args],
        capture_output=True, cwd=cwd, input=stdin, check=False,
        env={**os.environ, **(env or {})},
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def test_passing_manifest_exits_0(tmp_path: Path) -> None:
    write(tmp_path / "mlproject.toml", PASSING)
    proc = run("check", "mlproject.toml", "--today", "2026-12-01", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.decode().splitlines() == [
        "mlproject.toml: proposal fine-tune -> recommend fine-tune: pass",
        "1 manifest checked: 1 passed, 0 failed (0 errors, 0 warnings, 0 waived)",
    ]
    assert proc.stderr == b""


def test_failing_manifest_exits_1_with_located_finding(tmp_path: Path) -> None:
    write(tmp_path / "mlproject.toml", FAILING)
    proc = run("check", "mlproject.toml", cwd=tmp_path)
    lines = proc.stdout.decode().splitlines()
    assert proc.returncode == 1
    reasons_line = FAILING.splitlines().index('reasons = ["knowledge"]') + 1
    assert lines[0].startswith(f"mlproject.toml:{reasons_line}:1: RAG001 [error] ")
    assert lines[1] == "mlproject.toml: proposal fine-tune -> recommend rag (decided by RAG001): fail (errors: RAG001)"
    assert lines[2] == "1 manifest checked: 0 passed, 1 failed (1 error, 0 warnings, 0 waived)"


def test_directory_discovery_skips_hidden_vendored_and_virtualenvs(tmp_path: Path) -> None:
    write(tmp_path / "a" / "mlproject.toml", PASSING)
    write(tmp_path / "b" / "c" / "mlproject.toml", FAILING)
    write(tmp_path / "b" / "other.toml", FAILING)  # not a manifest name: not discovered
    write(tmp_path / ".git" / "mlproject.toml", FAILING)
    write(tmp_path / ".hidden" / "mlproject.toml", FAILING)
    write(tmp_path / "node_modules" / "x" / "mlproject.toml", FAILING)
    write(tmp_path / "myenv" / "pyvenv.cfg", "home = /usr\n")
    write(tmp_path / "myenv" / "lib" / "mlproject.toml", FAILING)
    proc = run("check", "--format", "json", cwd=tmp_path)  # no path: the current directory
    paths = [m["path"] for m in json.loads(proc.stdout)["manifests"]]
    assert paths == ["a/mlproject.toml", "b/c/mlproject.toml"]
    assert proc.returncode == 1


def test_explicit_file_of_any_name_and_dedup(tmp_path: Path) -> None:
    write(tmp_path / "x" / "other.toml", PASSING)
    proc = run("check", "--format", "json", "x/other.toml", "./x/other.toml", "x", cwd=tmp_path)
    assert [m["path"] for m in json.loads(proc.stdout)["manifests"]] == ["x/other.toml"]


def test_stdin(tmp_path: Path) -> None:
    proc = run("check", "-", "--format", "json", stdin=FAILING.encode())
    report = json.loads(proc.stdout)
    assert report["manifests"][0]["path"] == "-"
    assert report["manifests"][0]["decision"]["recommendation"] == "rag"
    assert proc.returncode == 1


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    proc = run("check", "nope/mlproject.toml", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.decode() == "policylint: error: path does not exist: nope/mlproject.toml\n"
    assert proc.stdout == b""


def test_not_utf8_is_man001_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_bytes(b"schema_version = 1\nname = \"caf\xe9\"\n")
    write(tmp_path / "good.toml", PASSING)
    proc = run("check", "bad.toml", "good.toml", "--format", "json", cwd=tmp_path)
    manifests = json.loads(proc.stdout)["manifests"]
    assert [(f["rule"], f["line"], f["column"]) for f in manifests[0]["findings"]] == [("MAN001", 2, 12)]
    assert manifests[1]["decision"]["verdict"] == "pass"
    assert proc.returncode == 1


def test_unreadable_file_is_man001(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from policylint.runner import read

    def refuse(path: str, flags: int, mode: int = 0o777) -> int:
        raise PermissionError(13, "Permission denied", path)

    (tmp_path / "m.toml").write_text("schema_version = 1\n", "utf-8")  # a regular file that cannot be opened
    monkeypatch.setattr("os.open", refuse)
    assert read(str(tmp_path / "m.toml")) == (None, "Permission denied")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--today", "01/12/2026"], "policylint: error: --today: expected a date as YYYY-MM-DD, got '01/12/2026'\n"),
        (["--today", "20260115"], "policylint: error: --today: expected a date as YYYY-MM-DD, got '20260115'\n"),
        (["--param", "quality_bar=0.9\nmin_examples=1"],
         "policylint: error: --param quality_bar: expected one value on one line, got '0.9\\nmin_examples=1'\n"),
        (["--format", "jsn"], "policylint: error: unknown format 'jsn' (did you mean 'json'?); "
                                 "choose from github, gitlab, json, junit, markdown, sarif, text\n"),
        (["-", "-"], "policylint: error: `-` (standard input) may be given only once\n"),
        (["--disable-plugin", "policylint.reports.text"],
         "policylint: error: --disable-plugin: plugin 'policylint.reports.text' is essential and cannot be disabled\n"),
    ],
)
def test_usage_errors_exit_2_without_traceback(tmp_path: Path, args: list[str], message: str) -> None:
    write(tmp_path / "mlproject.toml", PASSING)
    proc = run("check", *args, cwd=tmp_path, stdin=b"")
    assert proc.returncode == 2
    assert proc.stderr.decode() == message


def test_unknown_option_exits_2() -> None:
    assert run("check", "--frmat", "json").returncode == 2


def test_quiet_shows_only_failures(tmp_path: Path) -> None:
    write(tmp_path / "a" / "mlproject.toml", PASSING)
    write(tmp_path / "b" / "mlproject.toml", (SCENARIOS / "05-format-low-volume.toml").read_text("utf-8"))
    lines = run("check", "-q", cwd=tmp_path).stdout.decode().splitlines()
    assert [line.split(" ")[1] for line in lines[:-2]] == ["FMT001"]  # warnings and passing manifests hidden
    assert lines[-2] == "b/mlproject.toml: proposal fine-tune -> recommend error-handling (decided by FMT001): fail (errors: FMT001)"
    assert lines[-1].startswith("2 manifests checked: 1 passed, 1 failed")


def test_quiet_with_fail_on_warning_shows_the_warnings_that_fail(tmp_path: Path) -> None:
    write(tmp_path / "mlproject.toml", (SCENARIOS / "10-prompting-only.toml").read_text("utf-8"))  # PRM004 only
    proc = run("check", "-q", "--fail-on", "warning", cwd=tmp_path)
    lines = proc.stdout.decode().splitlines()
    assert proc.returncode == 1
    assert [line.split(" ")[1] for line in lines[:-2]] == ["PRM004"]
    assert lines[-2].endswith(": fail (warnings: PRM004 (fail-on warning))")


def test_quiet_and_all_passing_prints_nothing(tmp_path: Path) -> None:
    write(tmp_path / "mlproject.toml", PASSING)
    proc = run("check", "-q", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, b"")


def test_no_colour_when_not_a_tty(tmp_path: Path) -> None:
    write(tmp_path / "mlproject.toml", FAILING)
    assert b"\x1b[" not in run("check", cwd=tmp_path).stdout


def test_colour_on_a_tty_unless_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    from policylint import cli

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert cli._use_color() is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli._use_color() is False


def test_text_colour_codes() -> None:
    from policylint.findings import Finding
    from policylint.reports.text import format_finding

    finding = Finding("RAG001", "x", "error", "msg", "proposal.reasons", 3, 1)
    assert format_finding("m.toml", finding, color=True) == "m.toml:3:1: \x1b[1mRAG001\x1b[0m [\x1b[31merror\x1b[0m] msg"


def test_version_and_help() -> None:
    from policylint import __version__

    assert run("--version").stdout.decode() == f"policylint {__version__}\n"
    help_text = run("check", "--help").stdout.decode()
    for option in ("--format", "--today", "--quiet", "--disable-plugin"):
        assert option in help_text


def test_rule_explains_itself() -> None:
    proc = run("rule", "FMT001")
    text = proc.stdout.decode()
    assert proc.returncode == 0
    assert text.startswith("FMT001 (format-volume-too-low): ")
    facts = {line.split()[0]: " ".join(line.split()[1:]) for line in text.splitlines()[2:9] if line.strip()}
    assert facts["params.format_volume_per_day"] == "100,000"
    assert facts["recommends"] == "error-handling (decision order 310)"
    assert facts["waivable"] == "yes"


def test_rule_all_json() -> None:
    rules = json.loads(run("rule", "--all", "--format", "json").stdout)
    ids = [r["id"] for r in rules]
    assert ids == sorted(ids) and len(ids) == 31 + 3 + 6  # pack version 2, MAN001-003, WVR001-006
    assert {"MAN002", "WVR005", "DAT004"} <= set(ids)


def test_unknown_rule() -> None:
    proc = run("rule", "FMT01")
    assert proc.returncode == 2
    assert proc.stderr.decode() == "policylint: error: unknown rule 'FMT01' (did you mean 'FMT001'?)\n"


def test_version_imports_neither_pydantic_nor_pluggy() -> None:
    assert heavy_modules_after("--version") == []


def test_no_manifest_found_warns_and_passes(tmp_path: Path) -> None:
    proc = run("check", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stderr.decode() == "policylint: warning: no manifests found in . (looked for mlproject.toml)\n"


def test_rule_shows_configured_parameter_values(tmp_path: Path) -> None:
    write(tmp_path / "policylint.toml", "params = { format_volume_per_day = 150_000 }\n")
    text = run("rule", "FMT001", cwd=tmp_path).stdout.decode()
    facts = {line.split()[0]: " ".join(line.split()[1:]) for line in text.splitlines() if line.startswith("  params.")}
    assert facts == {"params.format_volume_per_day": "150,000"}


def test_rule_and_plugins_fail_closed_on_bad_configuration(tmp_path: Path) -> None:
    write(tmp_path / "policylint.toml", "params = { quality_bar = 85 }\n")
    for args in (("rule", "PRM002"), ("plugins",)):
        proc = run(*args, cwd=tmp_path)
        assert proc.returncode == 2
        assert "did you mean 0.85?" in proc.stderr.decode()


def test_output_to_an_unwritable_place_is_a_usage_error(tmp_path: Path) -> None:
    write(tmp_path / "mlproject.toml", PASSING)
    proc = run("check", "-o", "missing/dir/report.json", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.decode() == (
        "policylint: error: --output: cannot write missing/dir/report.json: No such file or directory\n"
    )


def test_output_writes_the_report_and_prints_text(tmp_path: Path) -> None:
    write(tmp_path / "mlproject.toml", FAILING)
    proc = run("check", "-o", "report.json", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert report["manifests"][0]["decision"]["recommendation"] == "rag"
    assert proc.stdout.decode().splitlines()[-1] == "1 manifest checked: 0 passed, 1 failed (1 error, 0 warnings, 0 waived)"


def _readme_first_command_and_output() -> tuple[list[str], list[str]]:
    """The README's first command (its policylint part) and the output lines it documents."""
    readme = (REPO / "README.md").read_text("utf-8")
    first_block = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    command = first_block.splitlines()[0].split("&& ", 1)[1].split()
    documented = readme.split("then one decision line per manifest and a summary:\n\n```\n", 1)[1].split("```", 1)[0]
    return command, documented.splitlines()


def test_the_readme_first_command_gives_the_documented_output_on_any_date() -> None:
    command, documented = _readme_first_command_and_output()
    assert command[:2] == ["policylint", "check"] and "--today" in command
    proc = run(*command[1:], cwd=REPO)
    assert proc.returncode == 1  # two examples fail on purpose
    lines = proc.stdout.decode().splitlines()
    for line in documented:  # a documented line is the real one, or its start before "..."
        prefix, cut, _ = line.partition(" ...")
        assert any(out == line or (cut and out.startswith(prefix)) for out in lines), line


def test_a_device_a_fifo_and_a_huge_file_are_man001_and_never_read_whole(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.toml")  # opening it would wait for a writer forever
    (tmp_path / "big.toml").write_bytes(b"#" * (2 << 20))
    proc = run("check", "/dev/zero", str(tmp_path / "fifo.toml"), str(tmp_path / "big.toml"), "--format", "json")
    assert proc.returncode == 1
    messages = {m["path"]: m["findings"][0]["message"] for m in json.loads(proc.stdout)["manifests"]}
    assert messages["/dev/zero"] == "the file cannot be read: not a regular file (a device or socket)"
    assert messages[f"{tmp_path.as_posix()}/fifo.toml"] == "the file cannot be read: not a regular file (a FIFO)"
    assert messages[f"{tmp_path.as_posix()}/big.toml"] == (
        "the file is larger than 1,048,576 bytes, the limit for a manifest; is it the right file?"
    )
