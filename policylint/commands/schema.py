"""``policylint schema``: the manifest's JSON Schema, with the loaded plugins' ``[ext]`` tables,
for editor completion (docs/manifest.md, "Editor completion")."""

from __future__ import annotations

import click

from policylint.cli import _describing_options, _guarded, _session, emit


@click.command("schema")
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the schema to FILE (UTF-8) instead of standard output.")
@_describing_options
@_guarded
def schema(output: str | None, config_path: str | None, org_config: str | None, disabled_plugins: tuple[str, ...]) -> None:
    """Print the manifest's JSON Schema (draft 2020-12), with the ext tables of the loaded plugins."""
    from policylint.schema_export import manifest_json_schema_text

    session = _session(config_path, org_config, disabled_plugins)
    text = manifest_json_schema_text(session.ext_models)
    emit(text, output)


COMMANDS = (schema,)
