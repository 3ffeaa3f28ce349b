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
from policylint.errors import ExitCode, PolicylintError, UsageError, printable

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str) -> NoReturn:
    click.echo(f"policylint: error: {printable(message)}", err=True)
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
              help="Configuration file (default: the nearest policylint.toml or pyproject.toml with [tool.policylint]).")
@click.option("--disable-plugin", "disabled_plugins", multiple=True, metavar="NAME",
              help="Do not load this plugin (repeatable).")
@_guarded
def check(paths: tuple[str, ...], output_format: str, output: str | None, select: tuple[str, ...],
          extend_select: tuple[str, ...], ignore: tuple[str, ...], fail_on: str | None, params: tuple[str, ...],
          today: str | None, changed_since: str | None, exit_zero: bool, quiet: bool, jobs: int | None,
          config_path: str | None, disabled_plugins: tuple[str, ...]) -> None:
    """Check manifests: files, or directories searched for mlproject.toml (default: .).

    `-` reads one manifest from standard input.
    """
    from policylint.config import with_flags
    from policylint.engine import EngineOptions
    from policylint.plugins import create_host
    from policylint.reports import ReportContext, Tally
    from policylint.runner import check_paths, discover, setup
    from policylint.schema import did_you_mean

    if paths.count("-") > 1:
        raise UsageError("`-` (standard input) may be given only once")
    settings = with_flags(
        _settings(config_path), select=select, extend_select=extend_select, ignore=ignore, fail_on=fail_on,
        params=params, disable_plugins=disabled_plugins,
    )
    options = EngineOptions(
        params=settings.params, max_waiver_days=settings.max_waiver_days, today=_parse_today(today),
        select=settings.select, extend_select=settings.extend_select, ignore=settings.ignore,
        severity=settings.severity, fail_on=settings.fail_on,
        origins=settings.origins,
    )
    only: set[str] | None = None
    if changed_since is not None:
        from policylint.changes import changed_manifests

        only = changed_manifests(changed_since)
    manifest_paths = discover(paths, settings.exclude, settings.root, only)
    if not manifest_paths:
        what = "changed since " + changed_since if changed_since is not None else "found"
        click.echo(f"policylint: warning: no manifests {what}", err=True)
    run = setup(create_host(settings.disable_plugins, origins=settings.origins), options, settings.policy_paths)
    reporter = run.formats.get(output_format)
    if reporter is None:
        known = sorted(run.formats)
        raise UsageError(f"unknown format {output_format!r}{did_you_mean(output_format, known)}; choose from {', '.join(known)}")
    ignored = tuple(sorted(run.engine.ignored))
    tally = Tally()
    results = (tally.add(r) for r in check_paths(run.engine, manifest_paths, sys.stdin.buffer, jobs))
    if output is None:
        context = ReportContext(__version__, run.engine.rules, color=_use_color(), quiet=quiet, ignored=ignored)
        reporter(results, context, sys.stdout)
    else:
        kept = list(results)  # two reports of one run: the file's and the terminal's
        try:
            stream = open(output, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        except OSError as exc:
            raise UsageError(f"--output: cannot write {output}: {exc.strerror or exc}") from None
        with stream:
            reporter(iter(kept), ReportContext(__version__, run.engine.rules, ignored=ignored), stream)
        terminal = run.formats["text"]
        terminal(iter(kept), ReportContext(__version__, run.engine.rules, color=_use_color(), quiet=quiet, ignored=ignored), sys.stdout)
    sys.stdout.flush()
    failed = tally.summary().failed
    sys.exit(ExitCode.FAILED if failed and not exit_zero else ExitCode.OK)


def _settings(config_path: str | None) -> Any:
    from pathlib import Path

    from policylint.config import Settings, find_config, load_config

    if config_path is not None:
        if not Path(config_path).is_file():
            raise UsageError(f"--config: no such file: {config_path}")
        return load_config(Path(config_path))
    found = find_config(Path.cwd())
    return load_config(found) if found else Settings()


def _setup_from_config(config_path: str | None, disabled_plugins: tuple[str, ...]) -> Any:
    """Plugins and engine as ``check`` would build them (configured params, severities, packs).

    Rule selection is left out: ``rule`` and ``plugins`` describe every rule there is.
    """
    from policylint.config import with_flags
    from policylint.engine import EngineOptions
    from policylint.plugins import create_host
    from policylint.runner import setup

    settings = with_flags(_settings(config_path), disable_plugins=disabled_plugins)
    options = EngineOptions(params=settings.params, severity=settings.severity, origins=settings.origins)
    host = create_host(settings.disable_plugins, origins=settings.origins)
    return settings, host, setup(host, options, settings.policy_paths)


@cli.command()
@click.argument("rule_id", required=False)
@click.option("--all", "show_all", is_flag=True, help="Show every rule.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), metavar="PATH", help="Configuration file.")
@click.option("--disable-plugin", "disabled_plugins", multiple=True, metavar="NAME", help="Do not load this plugin.")
@_guarded
def rule(rule_id: str | None, show_all: bool, output_format: str, config_path: str | None,
         disabled_plugins: tuple[str, ...]) -> None:
    """Explain a rule: what it checks, why, and its parameters (with the configured values)."""
    from policylint.explain import explain_rules

    if not show_all and rule_id is None:
        raise UsageError("give a rule id (e.g. RAG001) or --all")
    _, _, run = _setup_from_config(config_path, disabled_plugins)
    click.echo(explain_rules(run.engine, None if show_all else rule_id, output_format), nl=False)


@cli.command()
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), metavar="PATH", help="Configuration file.")
@click.option("--disable-plugin", "disabled_plugins", multiple=True, metavar="NAME", help="Do not load this plugin.")
@_guarded
def plugins(output_format: str, config_path: str | None, disabled_plugins: tuple[str, ...]) -> None:
    """List the loaded plugins and what each contributes (after checking their answers)."""
    import json

    from policylint.plugins import describe

    settings, host, _ = _setup_from_config(config_path, disabled_plugins)  # a broken plugin exits 2 here too
    listing = describe(host)
    disabled = sorted(set(settings.disable_plugins))
    if output_format == "json":
        click.echo(json.dumps({"plugins": listing, "disabled": disabled}, indent=2))
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
    if disabled:
        click.echo(f"disabled: {', '.join(disabled)}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="policylint")
