"""The command line: the only module that prints or exits.

Heavy modules (pydantic, pluggy, the engine) are imported inside the commands, so that
``--version`` and ``--help`` answer at the cost of importing click.
"""

from __future__ import annotations

import datetime
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from policylint._version import __version__
from policylint.errors import ExitCode, PolicylintError, UsageError

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str) -> NoReturn:
    click.echo(f"policylint: error: {message}", err=True)
    sys.exit(ExitCode.TOOL_ERROR)


def _guarded(command: F) -> F:
    """Turn every failure into a one-line message and exit 2: the gate fails closed."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except PolicylintError as exc:
            _fail(str(exc))
        except (KeyboardInterrupt, BrokenPipeError):
            sys.exit(ExitCode.TOOL_ERROR)
        except Exception as exc:  # an internal bug must never look like a pass
            if os.environ.get("POLICYLINT_DEBUG"):
                raise
            _fail(f"internal error: {type(exc).__name__}: {exc} (set POLICYLINT_DEBUG=1 for a traceback)")

    wrapper.__name__ = command.__name__
    wrapper.__doc__ = command.__doc__
    return wrapper  # type: ignore[return-value]


def _parse_today(value: str | None) -> datetime.date | None:
    if value is None:
        return None
    try:
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


@cli.command()
@click.argument("paths", nargs=-1, type=str)
@click.option("--format", "output_format", default="text", show_default=True, metavar="FORMAT",
              help="Report format: text, json, or one a plugin offers.")
@click.option("--today", metavar="YYYY-MM-DD", help="Date that waivers expire against (default: the local date).")
@click.option("-q", "--quiet", is_flag=True, help="Text format: only failing manifests and their errors.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), metavar="N",
              help="Worker processes (default: 1 for a few manifests, the CPU count for many).")
@click.option("--disable-plugin", "disabled_plugins", multiple=True, metavar="NAME",
              help="Do not load this plugin (repeatable).")
@_guarded
def check(paths: tuple[str, ...], output_format: str, today: str | None, quiet: bool, jobs: int | None,
          disabled_plugins: tuple[str, ...]) -> None:
    """Check manifests: files, or directories searched for mlproject.toml (default: .).

    `-` reads one manifest from standard input.
    """
    from policylint.engine import EngineOptions
    from policylint.plugins import create_host
    from policylint.reports import ReportContext
    from policylint.runner import check_paths, discover, setup
    from policylint.schema import did_you_mean

    options = EngineOptions(today=_parse_today(today))
    manifest_paths = discover(paths)
    if paths.count("-") > 1:
        raise UsageError("`-` (standard input) may be given only once")
    run = setup(create_host(disabled_plugins), options)
    reporter = run.formats.get(output_format)
    if reporter is None:
        known = sorted(run.formats)
        raise UsageError(f"unknown format {output_format!r}{did_you_mean(output_format, known)}; choose from {', '.join(known)}")
    context = ReportContext(__version__, run.engine.rules, color=_use_color(), quiet=quiet)
    results = check_paths(run.engine, manifest_paths, sys.stdin.buffer, jobs)
    summary = reporter(results, context, sys.stdout)
    sys.stdout.flush()
    sys.exit(ExitCode.FAILED if summary.failed else ExitCode.OK)


@cli.command()
@click.argument("rule_id", required=False)
@click.option("--all", "show_all", is_flag=True, help="Show every rule.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_guarded
def rule(rule_id: str | None, show_all: bool, output_format: str) -> None:
    """Explain a rule: what it checks, why, and its parameters."""
    from policylint.explain import explain_rules

    if not show_all and rule_id is None:
        raise UsageError("give a rule id (e.g. RAG001) or --all")
    click.echo(explain_rules(None if show_all else rule_id, output_format), nl=False)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="policylint")
