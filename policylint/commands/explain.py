"""``policylint explain MANIFEST``: why a manifest got its recommendation, and what would pass it."""

from __future__ import annotations

import click

from policylint.cli import UsageError, _guarded, _parse_today, _session


@click.command()
@click.argument("manifest", type=str)
@click.option("--all", "show_all", is_flag=True, help="Show every rule evaluated, not only those that fired.")
@click.option("--facts", is_flag=True, help="Show the derived facts (volume.per_day, checklist.missing, ...).")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "mermaid"]), default="text",
              show_default=True, help="text, json (documented in docs/explain.md) or a mermaid flowchart.")
@click.option("--today", metavar="YYYY-MM-DD", help="Date that waivers expire against (default: the local date).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), metavar="PATH",
              help="Repository configuration file (default: the files that apply to the manifest's folder).")
@click.option("--org-config", metavar="PATH", help="Organisation configuration (default: $POLICYLINT_ORG_CONFIG).")
@_guarded
def explain(manifest: str, show_all: bool, facts: bool, output_format: str, today: str | None,
            config_path: str | None, org_config: str | None) -> None:
    """Explain a manifest's decision: each rule in the decision order with the values it read,
    which rule set the recommendation, and for each error what change would pass it.

    Exit status as check: 0 the manifest passes, 1 it fails, 2 the tool could not do its job.
    """
    import json
    import sys
    from pathlib import Path

    from policylint.errors import ExitCode
    from policylint.files import read_bounded
    from policylint.manifest import MAX_MANIFEST_BYTES, load_manifest
    from policylint.trail import as_data, iter_text, mermaid, walk

    path = Path(manifest)
    if not path.is_file():
        raise UsageError(f"no such manifest: {manifest}")
    try:
        raw = read_bounded(path, MAX_MANIFEST_BYTES, cut=True)  # one byte over: the loader says it is too large
    except OSError as exc:
        raise UsageError(f"cannot read {manifest}: {exc.strerror or exc}") from None
    session = _session(config_path, org_config, (), None, _parse_today(today))
    engine = session.engine(session.in_force(path.resolve().parent))
    loaded = load_manifest(manifest, raw, engine.ext_models)
    result = engine.decide(loaded)
    trail = walk(engine, loaded, result)
    if output_format == "json":
        click.echo(json.dumps(as_data(trail, show_all, facts), indent=2, sort_keys=True))
    elif output_format == "mermaid":
        click.echo(mermaid(trail), nl=False)
    else:
        for line in iter_text(trail, show_all, facts):
            click.echo(line)
    sys.exit(ExitCode.OK if result.passed else ExitCode.FAILED)


COMMANDS = (explain,)
