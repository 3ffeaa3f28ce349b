"""The command line: the only module that prints or exits.

Heavy modules (pydantic, pluggy, the engine) are imported inside the commands, so that
``--version`` and ``--help`` answer at the cost of importing click.
"""

from __future__ import annotations

import datetime
import gc
import io
import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from policylint._version import __version__
from policylint.errors import ExitCode, PolicylintError, UsageError, printable

if TYPE_CHECKING:  # the heavy modules load inside the commands, after --version and --help
    from policylint.config.files import Settings
    from policylint.reports import ReportContext
    from policylint.runner import Plan
    from policylint.session import Session
    from policylint.spool import Spool

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str) -> NoReturn:
    click.echo(f"policylint: error: {printable(message)}", err=True)
    sys.exit(ExitCode.TOOL_ERROR)


def _guarded(command: F) -> F:
    """Turn every failure into a one-line message and exit 2: the gate fails closed.

    ``POLICYLINT_DEBUG=1`` prints the traceback first (a worker's, too, as the cause of the
    error it passed on), then the same line and the same exit status.

    The garbage collector, off since :func:`main`, is turned back on here, except for ``check``,
    which does it itself once its start-up is done (see :func:`_start_collecting`).
    """

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if command.__name__ != "check":
            gc.enable()
        try:
            return command(*args, **kwargs)
        except PolicylintError as exc:
            _debug_traceback(exc)
            _fail(str(exc))
        except BrokenPipeError:
            # Standard output's reader went away (`policylint check . | head -1`): exit quietly,
            # non-zero (the report was not delivered). Standard output is pointed at /dev/null
            # so that the interpreter's last flush does not fail again (Python's "Note on SIGPIPE").
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except (OSError, ValueError, AttributeError):
                pass
            sys.exit(ExitCode.TOOL_ERROR)
        except KeyboardInterrupt:
            sys.exit(ExitCode.TOOL_ERROR)
        except Exception as exc:  # an internal bug must never look like a pass
            _debug_traceback(exc)
            notes = "; ".join(str(n) for n in getattr(exc, "__notes__", ()))
            where = f" ({notes})" if notes else ""
            _fail(f"internal error: {type(exc).__name__}: {exc}{where} (set POLICYLINT_DEBUG=1 for a traceback)")

    wrapper.__name__ = command.__name__
    wrapper.__doc__ = command.__doc__
    return wrapper  # type: ignore[return-value]


def _debug_traceback(exc: BaseException) -> None:
    if os.environ.get("POLICYLINT_DEBUG"):
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)


def _parse_today(value: str | None) -> datetime.date | None:
    if value is None:
        return None
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):  # 3.11 also reads 20260115
            raise ValueError(value)
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--today: expected a date as YYYY-MM-DD, got {value!r}") from None


def _use_color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="policylint", message="%(prog)s %(version)s")
def cli() -> None:
    """Check ML project manifests against fine-tuning policies.

    Exit status: 0 every manifest passes, 1 at least one fails, 2 the tool could not do its
    job (bad arguments, configuration, policy pack or plugin).
    """


class _CheckCommand(click.Command):
    """``check`` refuses an argument that reads as an option but names an existing file or
    folder: the pre-commit hook passes each staged manifest's path, and one in a folder named
    ``--output=X`` was taken as ``--output X/mlproject.toml``, so that manifest went unchecked
    (and the report overwrote a file). After ``--``, or written ``./--output=X/...``, it is a path."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for arg in args:
            if arg == "--":
                break
            if arg[:1] == "-" and arg != "-" and os.path.lexists(arg):
                raise click.UsageError(
                    f"{arg!r} names a file or folder but reads as an option; give it as ./{arg}, or after --", ctx
                )
        return super().parse_args(ctx, args)


@cli.command(cls=_CheckCommand)
@click.argument("paths", nargs=-1, type=str)
@click.option("--format", "output_format", default="text", show_default=True, metavar="FORMAT",
              help="Report format: text, json, sarif, junit, github, gitlab, markdown, or one a plugin offers.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="Write the report to FILE; the terminal still gets the text report.")
@click.option("--select", multiple=True, metavar="IDS", help="Run only these rules (ids or prefixes, comma-separated).")
@click.option("--extend-select", multiple=True, metavar="IDS", help="Add rules to --select or the configured select.")
@click.option("--ignore", multiple=True, metavar="IDS", help="Leave these rules out (ids or prefixes, comma-separated).")
@click.option("--fail-on", type=click.Choice(["error", "warning"]), help="Lowest severity that fails a manifest.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Set a policy parameter (repeatable).")
@click.option("--today", metavar="YYYY-MM-DD", help="Date that waivers expire against (default: the local date).")
@click.option("--changed-since", metavar="REF", help="Only manifests added or modified since the merge base with REF.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when manifests fail (never hides exit 2).")
@click.option("-q", "--quiet", is_flag=True, help="Text format: only failing manifests and their errors.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), metavar="N",
              help="Worker processes (default: 1 for a few manifests, the CPU count for many).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), metavar="PATH",
              help="Repository configuration file for every manifest (default: each manifest's policylint.toml or "
                   "pyproject.toml files, from the repository root down).")
@click.option("--org-config", metavar="PATH",
              help="Organisation configuration (default: $POLICYLINT_ORG_CONFIG); the only layer that may loosen the gate.")
@click.option("--disable-plugin", "disabled_plugins", multiple=True, metavar="NAME",
              help="Refused here: only the organisation configuration may disable a plugin.")
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Accept the findings recorded in FILE (default: the configured baseline); fail only on new ones.")
@click.option("--write-baseline", type=click.Path(dir_okay=False), metavar="FILE",
              help="Record the failing findings in FILE (never those of non-waivable rules).")
@click.option("--no-waivers", is_flag=True, help="Audit run: ignore every waiver (nothing is accepted by one).")
@click.option("--sarif-suppressed", type=click.Choice(["include", "omit"]), default="include", metavar="MODE",
              help="SARIF: include waived and baselined results as suppressed ones (the default), or omit them.")
@_guarded
def check(paths: tuple[str, ...], output_format: str, output: str | None, select: tuple[str, ...],
          extend_select: tuple[str, ...], ignore: tuple[str, ...], fail_on: str | None, params: tuple[str, ...],
          today: str | None, changed_since: str | None, exit_zero: bool, quiet: bool, jobs: int | None,
          config_path: str | None, org_config: str | None, disabled_plugins: tuple[str, ...],
          baseline_path: str | None = None, write_baseline: str | None = None, no_waivers: bool = False,
          sarif_suppressed: str = "include") -> None:
    """Check manifests: files, or directories searched for mlproject.toml (default: .).

    `-` reads one manifest from standard input.
    """
    from pathlib import Path

    from policylint.config.files import flag_settings
    from policylint.config.layers import check_disable
    from policylint.discovery import MANIFEST_NAME, Listing, discover
    from policylint.runner import baselines_in_force, plan_and_check, settle
    from policylint.schema import did_you_mean

    if paths.count("-") > 1:
        raise UsageError("`-` (standard input) may be given only once")
    flags = flag_settings(select=select, extend_select=extend_select, ignore=ignore, fail_on=fail_on, params=params,
                          disable_plugins=disabled_plugins)
    check_disable(flags)
    session = _session(config_path, org_config, (), flags, _parse_today(today))
    session.in_force(Path.cwd())  # flags and this folder's files are checked even when no manifest is found
    reporter = session.formats.get(output_format)
    if reporter is None:
        known = sorted(session.formats)
        raise UsageError(f"unknown format {output_format!r}{did_you_mean(output_format, known)}; choose from {', '.join(known)}")
    only: set[str] | None = None
    if changed_since is not None:
        from policylint.changes import changed_manifests

        only = changed_manifests(changed_since)
    listing = Listing()
    found = discover(paths, only, listing)
    session.use_listing(listing.names)
    _start_collecting()  # before any worker is forked: they inherit the collector's state
    run, checking = plan_and_check(session, found, sys.stdin.buffer, jobs)
    if only is None:
        _note_ignored(paths)
    if not run.paths:
        what = "changed since " + changed_since if changed_since is not None else "found"
        searched = ", ".join(p for p in paths if p != "-") or "."
        left_out = f"; {len(run.excluded):,} excluded by configuration" if run.excluded else ""
        click.echo(f"policylint: warning: no manifests {what} in {searched} (looked for {MANIFEST_NAME}{left_out})", err=True)
    context = _report_context(session, run)
    # Every result exists before any report reaches standard output or the file: reports are
    # rendered into a spool as the results stream past, and written only once the last manifest
    # is checked. An error while checking names the manifest and the rule (exit 2) and can never
    # be taken for a report format's failure, and the verdict is counted here, whatever a
    # reporter reads. Only what needs every result at once holds them: a baseline (its stale
    # entries), --write-baseline, and -o (two reports of one run).
    results: Any = checking
    if output is not None or write_baseline is not None or baselines_in_force(run, baseline_path):
        results = list(results)
    results, extras = settle(results, run, baseline=baseline_path, write_baseline=write_baseline, no_waivers=no_waivers,
                             tool_version=_tool_version(), warn=lambda line: click.echo(line, err=True))
    context = _with(context, sarif_suppressed=sarif_suppressed, **extras)
    if output is not None:
        results = list(results)  # read by two reports
    checked = _Checked(results)
    terminal = context(color=_use_color(), quiet=quiet)
    if output is None:
        report = _render(reporter, checked, terminal)
        for_terminal = output_format == "text"
    else:  # two reports of one run: the file's (always UTF-8) and the terminal's
        saved = _render(reporter, checked, context())
        from policylint.files import open_for_writing

        try:  # opened (and an ordinary file truncated) only now that the report is complete
            stream = open_for_writing(output, encoding="utf-8", errors="backslashreplace", newline="\n")
        except OSError as exc:
            raise UsageError(f"--output: cannot write {output}: {exc.strerror or exc}") from None
        with stream, saved:
            saved.copy_to(stream)
        report = _render(session.formats["text"], results, terminal)
        for_terminal = True
    failed = checked.failed
    _write_stdout(report, for_terminal)
    sys.exit(ExitCode.FAILED if failed and not exit_zero else ExitCode.OK)


def emit(text: str, output: str | None) -> None:
    """A generated document (``schema``, ``docs``) to standard output, or to ``--output`` FILE."""
    if output is None:
        click.echo(text, nl=False)
        return
    from policylint.files import open_for_writing

    try:
        with open_for_writing(output, encoding="utf-8", newline="\n") as stream:
            stream.write(text)
    except OSError as exc:
        raise UsageError(f"--output: cannot write {output}: {exc.strerror or exc}") from None


def _note_ignored(paths: tuple[str, ...]) -> None:
    """Say which manifests git's ignore rules left out of a directory run (never silently)."""
    from policylint.discovery import ignored_manifests
    from policylint.reports.text import log_line

    ignored = ignored_manifests(paths)
    if ignored:
        # Names from the repository, shown as the text report shows them: one line, no terminal
        # escape, nothing CI reads as a command (standard error goes to the log too).
        shown = ", ".join(map(printable, ignored[:5])) + (f" and {len(ignored) - 5:,} more" if len(ignored) > 5 else "")
        what = "1 manifest not checked: git ignores it" if len(ignored) == 1 else (
            f"{len(ignored):,} manifests not checked: git ignores them"
        )
        click.echo(log_line(f"policylint: note: {what}: {shown}"), err=True)


class _CheckingStopped(BaseException):
    """Raised into a reporter when checking fails, so that no ``except Exception`` of its takes
    the error for its own; :func:`_render` raises the checking error itself."""


class _Checked:
    """The results as a reporter consumes them, counting the failed ones; once the reporter is
    done, the manifests it did not ask for are checked too (the verdict covers every manifest).
    An error while checking is kept and stops the reporter (see :class:`_CheckingStopped`)."""

    def __init__(self, results: Any) -> None:
        self._results = iter(results)
        self.failed = 0
        self.error: BaseException | None = None

    def __iter__(self) -> Any:
        while True:
            try:
                result = next(self._results)
            except StopIteration:
                return
            except BaseException as exc:
                self.error = exc
                raise _CheckingStopped from None
            self.failed += not result.passed
            yield result

    def finish(self) -> None:
        """Check what the reporter left, and raise the error that stopped checking, if any."""
        if self.error is None:
            for _ in self:
                pass
        if self.error is not None:
            raise self.error


def _render(reporter: Any, results: Any, context: ReportContext) -> Spool:
    """The whole report, rendered into a spool (in memory, then a temporary file past 256 KiB)
    before a byte of it reaches standard output or the file: a reporter that fails leaves
    nothing behind (not half a JSON document), and a run's memory does not grow with its report.
    """
    from policylint.spool import Spool

    spool = Spool()
    checked = results if isinstance(results, _Checked) else _Checked(results)
    try:
        reporter(iter(checked), context, spool)
    except BaseException:  # _CheckingStopped, or what a reporter made of it
        spool.close()
        if checked.error is None:
            raise
    checked.finish()
    return spool


def _write_stdout(report: Spool, for_terminal: bool) -> None:
    """The report at once, encoded here.

    Every report is UTF-8 whatever the locale, except the text report on standard output
    (``for_terminal``), which is for a terminal: it follows standard output's encoding (cp1252
    on a Windows console, ASCII under ``LC_ALL=C`` without UTF-8 mode), and what that encoding
    lacks is written as a backslash escape (``\\u2713``), never an error. Machine formats (JSON,
    SARIF, JUnit, GitLab, GitHub's workflow commands, Markdown for a step summary, plugins'
    formats) and ``--output`` files are always UTF-8, as their readers expect; lone surrogates
    (a file name that is not UTF-8) are escaped the same way in any encoding.
    """
    sys.stdout.flush()
    out = getattr(sys.stdout, "buffer", None)
    with report:
        if out is None:  # a text-only stream put in place of standard output (an embedding program)
            report.copy_to(sys.stdout)
        else:
            encoding = (getattr(sys.stdout, "encoding", None) or "utf-8") if for_terminal else "utf-8"
            text = io.TextIOWrapper(out, encoding=encoding, errors="backslashreplace",
                                    newline=None if for_terminal else "\n", write_through=False)
            try:
                report.copy_to(text)
                text.flush()
            finally:
                text.detach()  # standard output stays open
        sys.stdout.flush()


def _with(context: Callable[..., ReportContext], **extras: Any) -> Callable[..., ReportContext]:
    """The report context with what settling the results added (baseline, --no-waivers, SARIF option)."""
    import functools

    return functools.partial(context, **extras)


def _tool_version() -> str:
    from policylint._version import __version__

    return __version__


def _report_context(session: Session, run: Plan) -> Callable[..., ReportContext]:
    """Reports' context for a run: the rules, what was turned off, and the settings in force."""
    import functools

    from policylint._version import __version__
    from policylint.config.provenance import run_settings
    from policylint.reports import ReportContext

    engines = list({id(e): e for e in run.engines.values()}.values()) or [session.engine(session.base)]
    rules: dict[str, Any] = {}
    for engine in engines:
        rules.update(engine.rules)
    ignored = tuple(sorted({r for engine in engines for r in engine.ignored}))
    settings = run_settings(run)
    return functools.partial(ReportContext, __version__, rules, ignored=ignored, settings=settings)


def _session(config_path: str | None, org_config: str | None, disabled: tuple[str, ...] = (),
             flags: Settings | None = None, today: datetime.date | None = None) -> Session:
    """Plugins and configuration as a run builds them: the organisation's layer first.

    ``disabled`` (``rule`` and ``plugins`` only: they describe, they do not gate) are plugins
    to leave out besides those the organisation disables.
    """
    from pathlib import Path

    from policylint.config.files import Settings, load_config, org_config_path
    from policylint.plugins import create_host
    from policylint.session import Session

    org_path = org_config_path(org_config)
    org = load_config(org_path, "org") if org_path is not None else None
    config = None
    if config_path is not None:
        if not Path(config_path).is_file():
            from policylint.files import not_a_file

            raise UsageError(f"--config: {not_a_file(config_path)}: {config_path}")
        config = load_config(Path(config_path))
    origins = {name: "--disable-plugin" for name in disabled}
    org_disabled = list(org.disable_plugins) if org is not None else []
    origins.update({s.value: s.origin.locate for s in org_disabled})
    host = create_host([*disabled, *(s.value for s in org_disabled)], origins=origins)
    return Session(host, org, flags if flags is not None else Settings(), config, today)


def _describing_options(command: F) -> F:
    """``--config``, ``--org-config`` and ``--disable-plugin`` for commands that describe, not gate."""
    command = click.option("--disable-plugin", "disabled_plugins", multiple=True, metavar="NAME",
                           help="Do not load this plugin.")(command)
    command = click.option("--org-config", metavar="PATH", help="Organisation configuration (default: $POLICYLINT_ORG_CONFIG).")(command)
    return click.option("--config", "config_path", type=click.Path(dir_okay=False), metavar="PATH",
                        help="Repository configuration file (default: the files that apply to the current folder).")(command)


@cli.command()
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_describing_options
@_guarded
def plugins(output_format: str, config_path: str | None, org_config: str | None, disabled_plugins: tuple[str, ...]) -> None:
    """List the loaded plugins and what each contributes (after checking their answers)."""
    import json

    from policylint.plugins import describe

    from pathlib import Path

    session = _session(config_path, org_config, disabled_plugins)  # a broken plugin exits 2 here too
    state = session.in_force(Path.cwd())  # and so does a broken configuration: the same as `check` would read
    listing = describe(session.host)
    disabled = sorted({*disabled_plugins, *(s.value for s in session.base.disabled_plugins)})
    configured = [  # the packs of the configuration's policy-paths, which no plugin offers
        {"name": pack.name, "path": str(pack.path), "rules": sorted(p.id for p in pack.policies), "origin": setting.origin.label}
        for setting in state.policy_paths for pack in session.packs_with((setting.value,))[len(session.packs):]
    ]
    if output_format == "json":
        click.echo(json.dumps({"plugins": listing, "policy_paths": configured, "disabled": disabled}, indent=2))
        return
    for plugin in listing:
        click.echo(f"{plugin['name']} ({plugin['distribution']} {plugin['version']})")
        for pack in plugin.get("packs", []):
            click.echo(f"  pack {pack['name']} ({pack['path']}): {', '.join(pack['rules']) or 'no rules'}")
        for key in ("tables", "checks", "formats"):
            if plugin.get(key):
                click.echo(f"  {key}: {', '.join(plugin[key])}")
        for name, doc in plugin.get("functions", {}).items():
            click.echo(f"  function {name}(): {doc or 'undocumented'}")
        if plugin.get("params"):
            click.echo("  params: " + ", ".join(f"{k} = {v}" for k, v in plugin["params"].items()))
        if plugin.get("settings"):
            click.echo("  settings: " + ", ".join(f"{k} = {v}" for k, v in plugin["settings"].items()))
    if configured:
        click.echo("policy-paths (configuration)")
    for pack in configured:
        click.echo(f"  pack {pack['name']} ({pack['path']}): {', '.join(pack['rules']) or 'no rules'} [{pack['origin']}]")
    if disabled:
        click.echo(f"disabled: {', '.join(disabled)}")


@cli.command("config")
@click.argument("path", required=False, default=".")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), metavar="PATH",
              help="Repository configuration file (default: the files that apply to PATH).")
@click.option("--org-config", metavar="PATH", help="Organisation configuration (default: $POLICYLINT_ORG_CONFIG).")
@_guarded
def config_command(path: str, output_format: str, config_path: str | None, org_config: str | None) -> None:
    """Show every setting and parameter in force for a manifest or folder PATH, with its origin."""
    import json
    import os
    from pathlib import Path

    from policylint.config.provenance import describe_in_force, in_force_text

    if not os.path.exists(path):
        raise UsageError(f"path does not exist: {path}")
    folder = Path(path).resolve()
    folder = folder if folder.is_dir() else folder.parent
    session = _session(config_path, org_config)
    state = session.in_force(folder)
    rules = session.engine(state).rules
    data = describe_in_force(state, rules)
    if output_format == "json":
        click.echo(json.dumps({"path": path, **data}, indent=2))
    else:
        click.echo(in_force_text(path, data), nl=False)


def _start_collecting() -> None:
    """Turn the garbage collector on for the per-manifest work, with what start-up built frozen.

    Start-up (imports, plugins, the compiled packs) allocates tens of thousands of objects that
    live until the end and form no garbage, so :func:`main` turns the collector off for it
    (about 10 ms of collections saved); frozen, they are never scanned again, nor copied into
    ``--jobs`` workers' memory by a collection touching them.
    """
    gc.freeze()
    gc.enable()


def main() -> None:
    """Console-script entry point: the process ends as soon as its output is flushed.

    ``os._exit`` skips the interpreter's teardown, which frees every module and object one by
    one (about 20 ms of a pre-commit hook's start-up) for nobody's benefit: every file policylint
    writes is closed when its command returns, ``atexit`` handlers (a plugin's, multiprocessing's)
    still run, and standard output and error are flushed here.
    """
    gc.disable()
    try:
        cli.main(prog_name="policylint")
        code: Any = 0
    except SystemExit as exc:
        code = exc.code
    if code is not None and not isinstance(code, int):  # sys.exit("message"), as Python prints it
        print(code, file=sys.stderr)
        code = 1
    import atexit

    getattr(atexit, "_run_exitfuncs", lambda: None)()  # what the interpreter would run before teardown
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):  # closed or gone: the report was not delivered
            code = code or ExitCode.TOOL_ERROR
    os._exit(int(code or 0))


from policylint.commands import register  # noqa: E402  (after the helpers the commands import)

register(cli)
