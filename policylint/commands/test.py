"""``policylint test``: run the cases a pack ships beside its policies (docs/policy-tests.md)."""

from __future__ import annotations

import click

from policylint.cli import _describing_options, _guarded, _session
from policylint.errors import ExitCode


@click.command("test")
@click.argument("pack_dirs", metavar="[PACK_DIR]...", nargs=-1, type=str)
@click.option("--fail-under", type=click.FloatRange(0, 100), metavar="PERCENT",
              help="Fail when coverage (each policy shown firing and silent) is below PERCENT.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="Text format: only failed cases and coverage gaps.")
@_describing_options
@_guarded
def test(pack_dirs: tuple[str, ...], fail_under: float | None, output_format: str, quiet: bool,
         config_path: str | None, org_config: str | None, disabled_plugins: tuple[str, ...]) -> None:
    """Run the policy tests of packs (default: every pack the loaded plugins offer, and the
    policy-paths packs of the configuration for the current folder).

    Exit 1 when a case fails or coverage is under --fail-under; 2 when a pack or case file
    cannot be read.
    """
    import json
    import sys
    from pathlib import Path

    from policylint.packtest import format_report, host_engine_factory, run_pack_tests

    session = _session(config_path, org_config, disabled_plugins)
    if pack_dirs:
        dirs = [Path(folder) for folder in pack_dirs]
    else:
        policy_paths = [Path(s.value) for s in session.in_force(Path.cwd()).policy_paths]
        dirs = [pack.path for pack in session.packs] + policy_paths
    report = run_pack_tests(dirs, engine_factory=host_engine_factory(session.host))
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        click.echo(format_report(report, verbose=not quiet), nl=False)
    under = fail_under is not None and report.coverage_percent < fail_under
    if under:
        click.echo(f"policylint: coverage {report.coverage_percent:.1f}% is under --fail-under {fail_under:g}%", err=True)
    sys.exit(ExitCode.FAILED if not report.passed or under else ExitCode.OK)


COMMANDS = (test,)
