"""The run itself (issue 11, items 3, 4, 5 and 9): workers that fail closed, checking before
reporting, reports whatever the locale, and one order for serial and parallel runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import REPO, SCENARIOS

PASSING = (SCENARIOS / "01-format-at-scale.toml").read_text("utf-8")
FAILING = (SCENARIOS / "02-knowledge-via-fine-tuning.toml").read_text("utf-8")
FORMATS = ("text", "json", "sarif", "junit", "github", "gitlab", "markdown")
TODAY = ("--today", "2026-12-01")


def environ(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("POLICYLINT_DEBUG", "POLICYLINT_ORG_CONFIG")}
    return {**env, **extra}


def policylint(*args: str, cwd: Path, prelude: str = "", env: dict[str, str] | None = None,
               stdin: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    """The command as a process; ``prelude`` is Python run first (to break something on purpose)."""
    code = textwrap.dedent(prelude) + "\nfrom policylint.cli import main\nmain()\n"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, cwd=cwd, input=stdin,
                          env=env or environ(), timeout=timeout, check=False)


def corpus(root: Path, folders: dict[str, int], text: str = FAILING) -> Path:
    for folder, count in folders.items():
        for i in range(count):
            path = root / folder / f"p{i:03}" / "mlproject.toml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text if i % 3 else PASSING, "utf-8")
    return root


BREAK_RAG001 = """
import policylint.engine as engine
compile_policy = engine.RuleSet._compile
def broken(self, compiler, fields, policy):
    compiled = compile_policy(self, compiler, fields, policy)
    if policy.id != "RAG001":
        return compiled
    def evaluate(ns):
        return [str(1 / 0)]
    return compiled._replace(evaluate=evaluate)
engine.RuleSet._compile = broken
"""



# -- item 3: --jobs fails closed ---------------------------------------------------------------

KILL_ONE = """
import os, signal
import policylint.engine as engine
evaluate = engine.Engine.evaluate
def dying(self, loaded):
    if loaded.source.path.startswith("b/p007/"):
        os.kill(os.getpid(), signal.SIGKILL)
    return evaluate(self, loaded)
engine.Engine.evaluate = dying
"""


def test_a_killed_worker_ends_the_run_with_exit_2_naming_its_manifests(tmp_path: Path) -> None:
    corpus(tmp_path, {"a": 100, "b": 100, "c": 100})
    proc = policylint("check", "-j", "2", *TODAY, ".", cwd=tmp_path, prelude=KILL_ONE, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == b""
    err = proc.stderr.decode()
    assert err.count("\n") == 1, err
    assert err.startswith("policylint: error: a worker process was killed by SIGKILL while checking ")
    # the chunk it held (a/p064 to b/p027, with b/p007), its first manifests named
    assert "checking 64 manifest(s), not checked: a/p064/mlproject.toml, a/p065/mlproject.toml, " in err
    assert err.endswith(" and 59 more\n")


def test_a_killed_worker_is_no_problem_in_a_serial_run_control(tmp_path: Path) -> None:
    """The control: the same corpus and worker count without the kill."""
    corpus(tmp_path, {"a": 100, "b": 100, "c": 100})
    proc = policylint("check", "-j", "2", *TODAY, ".", cwd=tmp_path, timeout=60)
    assert (proc.returncode, proc.stderr) == (1, b"")
    assert proc.stdout.decode().splitlines()[-1].startswith("300 manifests checked")


def test_worker_count_is_capped() -> None:
    from policylint.runner import MAX_WORKERS, worker_count

    cpus = len(os.sched_getaffinity(0))
    assert worker_count(1500, 5) == min(5, 4 * cpus)
    assert worker_count(1500, 100_000) == min(4 * cpus, MAX_WORKERS)
    assert worker_count(2, 100_000) == 2
    assert worker_count(4, 1) == 1


def test_many_jobs_on_few_manifests_forks_few_processes(tmp_path: Path) -> None:
    corpus(tmp_path, {"a": 5})
    counting = """
    import multiprocessing.context as context
    started = []
    start = context.ForkProcess.start
    def counted(self):
        started.append(self)
        start(self)
    context.ForkProcess.start = counted
    import atexit, sys
    atexit.register(lambda: sys.stderr.write(f"forked {len(started)}\\n"))
    """
    proc = policylint("check", "-j", "1500", *TODAY, ".", cwd=tmp_path, prelude=counting)
    assert proc.returncode == 1
    assert proc.stderr == b"forked 0\n"  # five manifests: one chunk, checked in this process
    corpus(tmp_path, {"b": 300})
    proc = policylint("check", "-j", "1500", *TODAY, ".", cwd=tmp_path, prelude=counting)
    assert proc.returncode == 1
    forked = int(proc.stderr.decode().split()[-1])
    assert 2 <= forked <= 5  # 305 manifests: chunks of 64 at least


def test_an_error_in_a_worker_is_passed_on(tmp_path: Path) -> None:
    corpus(tmp_path, {"a": 150, "b": 150})
    proc = policylint("check", "-j", "2", *TODAY, ".", cwd=tmp_path, prelude=BREAK_RAG001)
    assert proc.returncode == 2
    assert proc.stdout == b""
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1
    # whichever worker reports first: the first failing manifest of its chunk
    assert re.match(r"policylint: error: [ab]/p0[0-9]{2}/mlproject.toml: rule RAG001 \(", lines[0]), lines[0]
    assert lines[0].endswith("RAG001.toml) failed: ZeroDivisionError: division by zero")


# -- item 4: checking before reporting -------------------------------------------------------

@pytest.mark.parametrize("output_format", ["json", "text"])
def test_a_rule_that_raises_is_named_with_its_manifest_not_the_report(tmp_path: Path, output_format: str) -> None:
    (tmp_path / "mlproject.toml").write_text(FAILING, "utf-8")
    proc = policylint("check", "--format", output_format, *TODAY, ".", cwd=tmp_path, prelude=BREAK_RAG001)
    assert proc.returncode == 2
    assert proc.stdout == b""  # not half a report
    err = proc.stderr.decode()
    assert err.startswith("policylint: error: mlproject.toml: rule RAG001 (")
    assert err.endswith("RAG001.toml) failed: ZeroDivisionError: division by zero\n")
    assert "report format" not in err


def test_debug_prints_the_traceback_and_still_exits_2(tmp_path: Path) -> None:
    (tmp_path / "mlproject.toml").write_text(FAILING, "utf-8")
    proc = policylint("check", "--format", "json", *TODAY, ".", cwd=tmp_path, prelude=BREAK_RAG001,
                      env=environ(POLICYLINT_DEBUG="1"))
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert err.startswith("Traceback (most recent call last):")
    assert "ZeroDivisionError: division by zero" in err and "in evaluate" in err
    assert err.splitlines()[-1].startswith("policylint: error: mlproject.toml: rule RAG001")


def test_debug_shows_a_workers_traceback(tmp_path: Path) -> None:
    corpus(tmp_path, {"a": 150, "b": 150})
    proc = policylint("check", "-j", "2", *TODAY, ".", cwd=tmp_path, prelude=BREAK_RAG001,
                      env=environ(POLICYLINT_DEBUG="1"))
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "(in a worker process)" in err and "in evaluate" in err and "ZeroDivisionError" in err


def with_format(body: str) -> str:
    return f"""
import policylint.session as session
init = session.Session.__init__
def render(results, context, out):
{textwrap.indent(textwrap.dedent(body), "    ")}
def patched(self, *args, **kwargs):
    init(self, *args, **kwargs)
    self.formats["lazy"] = session._guard_reporter(render, "plugin 'lazy' (lazy 1.0)", "lazy")
session.Session.__init__ = patched
"""


def test_a_reporter_that_reads_nothing_cannot_turn_a_failure_into_a_pass(tmp_path: Path) -> None:
    (tmp_path / "mlproject.toml").write_text(FAILING, "utf-8")
    proc = policylint("check", "--format", "lazy", *TODAY, ".", cwd=tmp_path,
                      prelude=with_format("out.write('nothing read\\n')"))
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, b"nothing read\n", b"")


def test_a_reporter_that_fails_halfway_leaves_nothing_on_stdout(tmp_path: Path) -> None:
    (tmp_path / "mlproject.toml").write_text(FAILING, "utf-8")
    proc = policylint("check", "--format", "lazy", *TODAY, ".", cwd=tmp_path,
                      prelude=with_format("out.write('{\"half\": ' * 10000)\nraise RuntimeError('disk full')"))
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert proc.stderr == b"policylint: error: plugin 'lazy' (lazy 1.0): report format 'lazy' failed: RuntimeError: disk full\n"


@pytest.mark.parametrize("caught", ["Exception", "BaseException"])
def test_a_reporter_that_swallows_errors_cannot_hide_an_error_while_checking(tmp_path: Path, caught: str) -> None:
    """Results stream into the reporter as they are checked: a rule's error raised there is
    still the run's error (exit 2, nothing on stdout), whatever the reporter catches."""
    corpus(tmp_path, {"a": 3})
    body = f"""
try:
    for result in results:
        out.write(result.path + '\\n')
except {caught}:
    out.write('swallowed\\n')
"""
    second_breaks = """
import policylint.engine as engine
evaluate = engine.Engine.evaluate
def broken(self, loaded):
    if loaded.source.path.startswith("a/p001/"):
        raise ValueError("boom")
    return evaluate(self, loaded)
engine.Engine.evaluate = broken
"""
    proc = policylint("check", "--format", "lazy", *TODAY, ".", cwd=tmp_path, prelude=second_breaks + with_format(body))
    assert (proc.returncode, proc.stdout) == (2, b"")
    err = proc.stderr.decode()
    assert err.startswith("policylint: error: internal error: ValueError: boom") and "report format" not in err
    if sys.version_info >= (3, 11):  # exceptions' notes
        assert "while checking a/p001/mlproject.toml" in err


def test_a_reporter_that_stops_early_still_has_every_manifest_checked(tmp_path: Path) -> None:
    """The verdict counts every manifest, also those a reporter never asked for (the only
    failing one comes last here)."""
    for name, text in (("a", PASSING), ("b", PASSING), ("c", FAILING)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "mlproject.toml").write_text(text, "utf-8")
    proc = policylint("check", "--format", "lazy", *TODAY, ".", cwd=tmp_path,
                      prelude=with_format("out.write(next(iter(results)).path + '\\n')"))
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, b"a/mlproject.toml\n", b"")


def test_an_internal_error_while_checking_names_the_manifest(tmp_path: Path) -> None:
    (tmp_path / "mlproject.toml").write_text(FAILING, "utf-8")
    prelude = """
    import policylint.engine as engine
    def evaluate(self, loaded):
        raise MemoryError()
    engine.Engine.evaluate = evaluate
    """
    proc = policylint("check", *TODAY, ".", cwd=tmp_path, prelude=prelude)
    assert proc.returncode == 2 and proc.stdout == b""
    err = proc.stderr.decode()
    if sys.version_info >= (3, 11):  # exceptions' notes
        assert "internal error: MemoryError" in err and "while checking mlproject.toml" in err


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_sys_exit_0_while_checking_fails_the_run_naming_the_manifest(tmp_path: Path, jobs: str) -> None:
    """A plugin's code that calls sys.exit(0) mid-run would end it with exit 0, a passing gate
    with no report: it is exit 2 instead, naming the manifest, with or without workers."""
    corpus(tmp_path, {"a": 300})
    prelude = """
    import sys
    import policylint.engine as engine
    evaluate = engine.Engine.evaluate
    def exiting(self, loaded):
        if loaded.source.path == "a/p250/mlproject.toml":
            sys.exit(0)
        return evaluate(self, loaded)
    engine.Engine.evaluate = exiting
    """
    proc = policylint("check", "-j", jobs, *TODAY, ".", cwd=tmp_path, prelude=prelude)
    assert (proc.returncode, proc.stdout) == (2, b"")
    assert proc.stderr.decode() == (
        "policylint: error: a/p250/mlproject.toml: sys.exit(0) was called while checking it (a plugin's check, "
        "table model or condition function must return or raise, never end the process)\n"
    )


@pytest.mark.parametrize("output_format", ["json", "text"])
def test_a_closed_pipe_exits_quietly_and_non_zero(tmp_path: Path, output_format: str) -> None:
    """`policylint check . | head -1`: the reader is gone before the report is written (`true`
    reads nothing, so the write fails whatever the pipe's buffer size)."""
    corpus(tmp_path, {"a": 30})
    code = "from policylint.cli import main; main()"
    script = f"set -o pipefail; '{sys.executable}' -c '{code}' check --today 2026-12-01 --format {output_format} . | true"
    proc = subprocess.run(["bash", "-c", script], capture_output=True, cwd=tmp_path, env=environ(), timeout=60,
                          check=False)
    assert proc.returncode == 2
    assert proc.stderr == b""  # no traceback, not even "Exception ignored ... BrokenPipeError"


# -- item 5: reports whatever the locale --------------------------------------------------------

UNICODE = (REPO / "examples" / "waived" / "mlproject.toml").read_text("utf-8").replace(
    'name = "receipts-parser"', 'name = "Ünïcødé ✓ 测试"').replace(
    'owner = "payments-ml"', 'owner = "payments-ml 🚀"').replace('reason = "Launch', 'reason = "Ünïcødé – “quoted” ✓ Launch')

LOCALES = {
    "cp1252": {"PYTHONIOENCODING": "cp1252"},
    "C": {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0", "PYTHONIOENCODING": ""},
}


def parse(output_format: str, data: bytes) -> None:
    """Machine formats are UTF-8 and parse; the others at least decode."""
    text = data.decode("utf-8")
    if output_format in ("json", "sarif", "gitlab"):
        json.loads(text)
    elif output_format == "junit":
        ET.fromstring(data)


@pytest.mark.parametrize("locale", list(LOCALES))
@pytest.mark.parametrize("output_format", FORMATS)
def test_every_format_under_a_non_utf8_locale(tmp_path: Path, output_format: str, locale: str) -> None:
    (tmp_path / "unicode").mkdir()
    (tmp_path / "unicode" / "mlproject.toml").write_text(UNICODE, "utf-8")
    env = environ(**LOCALES[locale])
    examples = policylint("check", "--format", output_format, *TODAY, str(REPO / "examples"), cwd=tmp_path, env=env)
    assert examples.returncode == 1, examples.stderr  # knowledge-via-fine-tuning fails
    parse(output_format, examples.stdout)
    unicode = policylint("check", "--format", output_format, *TODAY, "unicode", cwd=tmp_path, env=env)
    assert unicode.returncode in (0, 1), unicode.stderr
    parse(output_format, unicode.stdout)
    assert unicode.returncode == 0
    if output_format == "text":  # the terminal's encoding, and escapes for what it lacks
        assert unicode.stdout.isascii() or locale != "C"
        assert b"waived by payments-ml \\U0001f680 until 2027-03-31" in unicode.stdout
    elif output_format != "gitlab":  # UTF-8 whatever the locale (GitLab leaves waived findings out)
        assert "payments-ml 🚀".encode() in unicode.stdout


def test_output_file_is_utf8_under_a_c_locale(tmp_path: Path) -> None:
    (tmp_path / "mlproject.toml").write_text(UNICODE, "utf-8")
    proc = policylint("check", "--format", "json", "-o", "report.json", *TODAY, ".", cwd=tmp_path,
                      env=environ(**LOCALES["C"]))
    assert proc.returncode in (0, 1), proc.stderr
    assert proc.stdout.isascii()
    assert "payments-ml 🚀" in (tmp_path / "report.json").read_text("utf-8")
    assert b"payments-ml \\U0001f680" in proc.stdout


# -- item 9: one order, serial or parallel ------------------------------------------------------

def test_serial_and_parallel_runs_print_the_same_order(tmp_path: Path) -> None:
    corpus(tmp_path, {"+a": 30, "-b": 30, "a b": 30, "a": 30, "Z": 30, "é": 30})
    outputs = {}
    for jobs in ("1", "2"):
        for output_format in ("text", "json"):
            proc = policylint("check", "-j", jobs, "--format", output_format, *TODAY, "--", "-", ".",
                              cwd=tmp_path, stdin=FAILING.encode())
            assert proc.returncode == 1, proc.stderr
            outputs[jobs, output_format] = proc.stdout
    assert outputs["1", "text"] == outputs["2", "text"]
    assert outputs["1", "json"] == outputs["2", "json"]
    paths = [m["path"] for m in json.loads(outputs["1", "json"])["manifests"]]
    folders = list(dict.fromkeys(p.split("/")[0] for p in paths))
    assert folders == ["-", "+a", "-b", "Z", "a", "a b", "é"]
    assert paths == ["-", *sorted(paths[1:], key=lambda p: p.split("/"))]


def test_position_orders_by_parts_with_stdin_first() -> None:
    from policylint.runner import position

    given = ["a b/mlproject.toml", "a/x/mlproject.toml", "+a/mlproject.toml", "-", "a/mlproject.toml", "a.b/mlproject.toml"]
    assert sorted(given, key=position) == [
        "-", "+a/mlproject.toml", "a/mlproject.toml", "a/x/mlproject.toml", "a b/mlproject.toml", "a.b/mlproject.toml",
    ]


def test_discovery_gives_the_run_order_once_each(tmp_path: Path) -> None:
    """A manifest given as a file and found in its folder is checked once; the order is the
    run's (parts, standard input first) whether or not a plain sort already gives it."""
    from policylint.discovery import discover

    corpus(tmp_path, {"a": 2, "a b": 1, "+a": 1})
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        found = discover(["a/p001/mlproject.toml", ".", "-", "a/p001/mlproject.toml"])
    finally:
        os.chdir(cwd)
    assert found == ["-", "+a/p000/mlproject.toml", "a/p000/mlproject.toml", "a/p001/mlproject.toml",
                     "a b/p000/mlproject.toml"]


def test_with_workers_a_broken_configuration_is_the_plans_error(tmp_path: Path) -> None:
    """Workers are forked before the plan and resolve configuration themselves; a broken file
    is still reported once, as the plan meets it (exit 2), and no worker outlives the run."""
    corpus(tmp_path, {"a": 150, "b": 150})
    (tmp_path / "b" / "p100" / "policylint.toml").write_text("fail-on = [\n", "utf-8")
    proc = policylint("check", "-j", "2", *TODAY, ".", cwd=tmp_path, timeout=60)
    assert (proc.returncode, proc.stdout) == (2, b"")
    err = proc.stderr.decode()
    assert err.count("\n") == 1 and err.startswith("policylint: error: ") and "b/p100/policylint.toml" in err


def test_with_workers_excluded_manifests_are_left_out_as_in_a_serial_run(tmp_path: Path) -> None:
    corpus(tmp_path, {"a": 150, "b": 150})
    (tmp_path / "policylint.toml").write_text('exclude = ["b/p1*"]\n', "utf-8")
    outputs = [policylint("check", "-j", jobs, "--format", "json", *TODAY, ".", cwd=tmp_path, timeout=60).stdout
               for jobs in ("1", "2")]
    assert outputs[0] == outputs[1]
    report = json.loads(outputs[0])
    paths = [m["path"] for m in report["manifests"]]
    assert len(paths) == 250 and not any(p.startswith("b/p1") for p in paths)  # p100 to p149 excluded


@pytest.mark.parametrize("count", [1, 63, 64, 65, 300, 2_049, 10_000])
@pytest.mark.parametrize("workers", [2, 3, 8])
def test_chunks_cover_the_run_in_order_and_shrink_towards_its_end(count: int, workers: int) -> None:
    from policylint.runner import MAX_CHUNK, MIN_CHUNK, _chunks

    files = [f"p{i:05}/mlproject.toml" for i in range(count)]
    chunks = _chunks(files, workers)
    assert [path for chunk in chunks for path in chunk] == files
    sizes = [len(chunk) for chunk in chunks]
    assert all(MIN_CHUNK <= size <= MAX_CHUNK for size in sizes[:-1]) and 0 < sizes[-1] <= MAX_CHUNK
    assert sizes[:-1] == sorted(sizes[:-1], reverse=True)
    if count >= 4 * workers * MAX_CHUNK:  # a large run starts with the largest chunks and ends with the smallest
        assert sizes[0] == MAX_CHUNK and sizes[-2] == MIN_CHUNK
