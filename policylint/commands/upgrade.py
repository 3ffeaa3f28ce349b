"""``policylint upgrade [--to VERSION] [--write]``: what each pack's current version adds over the
version adopted in ``pack-versions``, and, with ``--write``, adopting it in the repository's
configuration file (docs/upgrades.md).

A rule newer than the adopted version of its pack runs as a warning marked preview; adopting
the version makes it run at its own severity. Writing edits the file's text (comments and
layout kept) only where it can do so safely, and checks the result reads back as intended;
otherwise it refuses and prints the line to add.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from policylint.cli import UsageError, _describing_options, _guarded, _session

if TYPE_CHECKING:
    from policylint.config.model import InForce
    from policylint.session import Session

KEY = "pack-versions"


def plan(session: Session, state: InForce, pack: str | None = None, to: str | None = None) -> list[dict[str, Any]]:
    """One record per loaded pack (or ``pack`` only): the version adopted and by whom, the
    version to adopt (``to``, default the current one) and the rules that version adds."""
    from policylint.config import layers
    from policylint.packs import newer, version_key
    from policylint.schema import did_you_mean

    paths = tuple(s.value for s in state.policy_paths)
    catalog = session.catalog(paths)
    packs = session.packs_with(paths)
    names = [p.name for p in packs]
    if pack is not None and pack not in names:
        raise UsageError(f"--pack: unknown pack {pack!r}{did_you_mean(pack, names)} (packs loaded: {', '.join(names)})")
    chosen = [p for p in packs if pack is None or p.name == pack]
    if to is not None:
        if len(chosen) != 1:
            raise UsageError(f"--to: more than one pack is loaded ({', '.join(names)}); name one with --pack")
        if version_key(to) is None:
            raise UsageError(f"--to: expected a pack version such as \"2\", got {to!r}")
    records = []
    for p in chosen:
        pinned = state.pack_versions.get(p.name)
        adopted = layers.adopted_version(state, catalog, p.name)
        target = to if to is not None else p.version
        if to is not None and newer(to, p.version):
            raise UsageError(f"--to: pack {p.name!r} has no version {to!r}: the newest loaded is {p.version!r}")
        if to is not None and newer(adopted, to):
            raise UsageError(
                f"--to: version {to!r} of pack {p.name!r} is older than version {adopted!r} in force "
                f"({pinned.origin.set_by() if pinned else 'its current version'}); upgrade only moves forward"
            )
        adds = [
            {"id": policy.id, "title": policy.title, "severity": state.severity.get(policy.id).value  # type: ignore[union-attr]
             if policy.id in state.severity else policy.severity, "since": policy.since}
            for policy in sorted(p.policies, key=lambda x: x.id)
            if newer(policy.since, adopted) and not newer(policy.since, target)
        ]
        records.append({
            "pack": p.name, "current": p.version, "adopted": adopted,
            "pinned": pinned is not None, "origin": pinned.origin.label if pinned else None,
            "to": target, "adds": adds,
            # a pin to write: the target differs from the pin (or nothing pins the pack yet)
            "write": pinned is None or pinned.value != target,
        })
    return records


def render_text(records: list[dict[str, Any]]) -> str:
    from policylint.wording import plural

    lines = []
    for r in records:
        where = f"pinned by {r['origin']}" if r["pinned"] else "not pinned: every rule of the current version is adopted"
        lines.append(f"pack {r['pack']}: version {r['adopted']} adopted ({where}); current version {r['current']}")
        if not r["adds"]:
            lines.append(f"  nothing to adopt: version {r['to']} adds no rule over version {r['adopted']}")
            continue
        lines.append(f"  version {r['to']} adds {plural(len(r['adds']), 'rule')}, reported as preview warnings until adopted:")
        width = max(len(a["severity"]) for a in r["adds"])
        for a in r["adds"]:
            lines.append(f"    {a['id']}  {a['severity'].ljust(width)}  since {a['since']}  {a['title']}")
    return "\n".join(lines) + "\n"


def target_file(config_path: str | None, start: Path | None = None) -> Path:
    """The file ``--write`` edits: ``--config``, else the outermost repository file that applies
    to ``start`` (default: the current folder), else a new ``policylint.toml`` at the repository
    root (``start`` itself outside a git work tree)."""
    from policylint.config.files import CONFIG_FILE, Chains

    if config_path is not None:
        return Path(config_path)
    here = (start or Path.cwd()).resolve()
    chain = Chains().of(here)
    if chain:
        return chain[0]
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder / CONFIG_FILE
    return here / CONFIG_FILE


def _value(version: str) -> str:
    return f'"{version}"'


def inline(versions: dict[str, str]) -> str:
    """``pack-versions = { builtin = "2" }``."""
    return f"{KEY} = {{ " + ", ".join(f"{_bare(n)} = {_value(v)}" for n, v in versions.items()) + " }"


def _bare(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f'"{name}"'


class Unsafe(Exception):
    """The file's layout is one this command will not edit by hand."""


def edited(text: str, pyproject: bool, wanted: dict[str, str]) -> str:
    """``text`` with ``pack-versions`` holding ``wanted`` (merged over what it holds), its other
    lines untouched; :class:`Unsafe` when the layout is not one edited safely here."""
    from policylint import toml

    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    try:
        data = toml.loads(text)
    except toml.TOMLError as exc:
        raise Unsafe(f"it is not valid TOML ({exc.message})") from None
    table: Any = data.get("tool", {}).get("policylint") if pyproject else data
    if not isinstance(table, dict):
        raise Unsafe("it has no [tool.policylint] table")
    header = r"\[\s*tool\s*\.\s*policylint\s*\]" if pyproject else None
    sub_header = (r"\[\s*tool\s*\.\s*policylint\s*\.\s*" if pyproject else r"\[\s*") + r"(pack-versions|\"pack-versions\")\s*\]"
    current = table.get(KEY)
    merged = {**(current if isinstance(current, dict) else {}), **wanted}

    def section(pattern: str) -> tuple[int, int] | None:
        """Line range of the table whose header matches: from its header to the next header."""
        start = next((i for i, line in enumerate(lines) if re.fullmatch(pattern + r"\s*(#.*)?", line.strip())), None)
        if start is None:
            return None
        end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
        return start, end

    if current is None:
        if pyproject:
            found = section(header)  # type: ignore[arg-type]
            if found is None:
                raise Unsafe("its [tool.policylint] table is not written as a [tool.policylint] header")
            at = found[0] + 1
        else:
            at = next((i for i, line in enumerate(lines) if line.lstrip().startswith("[")), len(lines))
        new = inline(merged) + newline
        if not pyproject:
            # right after the last top-level key (they go before the first table), leaving blank
            # lines and a table's own comments where they are
            last_key = at
            while last_key > 0 and (not lines[last_key - 1].strip() or lines[last_key - 1].lstrip().startswith("#")):
                last_key -= 1
            if last_key > 0:
                at = last_key
            elif at < len(lines):
                new += newline  # no key above the first table: a blank line keeps the table apart
        if at == len(lines) and lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += newline
        lines.insert(at, new)
    else:
        if not isinstance(current, dict):
            raise Unsafe(f"its {KEY} is not a table")
        pattern = re.compile(r"(\s*)(pack-versions|\"pack-versions\")\s*=\s*\{[^{}\n#]*\}\s*(#.*)?(\r?\n)?")
        matches = [i for i, line in enumerate(lines) if pattern.fullmatch(line)]
        found = section(sub_header)
        if len(matches) == 1 and found is None:
            match = pattern.fullmatch(lines[matches[0]])
            assert match is not None
            comment = f"  {match.group(3)}" if match.group(3) else ""
            lines[matches[0]] = match.group(1) + inline(merged) + comment + (match.group(4) or "")
        elif found is not None and not matches:
            start, end = found
            for name, version in wanted.items():
                key = re.compile(rf"(\s*)({re.escape(name)}|\"{re.escape(name)}\")(\s*=\s*)(\"[^\"\n]*\"|'[^'\n]*')(\s*(#.*)?)(\r?\n)?")
                hits = [i for i in range(start + 1, end) if key.fullmatch(lines[i])]
                if len(hits) > 1:
                    raise Unsafe(f"its [{KEY}] table names {name!r} twice")
                if hits:
                    m = key.fullmatch(lines[hits[0]])
                    assert m is not None
                    lines[hits[0]] = f"{m.group(1)}{m.group(2)}{m.group(3)}{_value(version)}{m.group(5)}{m.group(7) or ''}"
                else:
                    last = start
                    for i in range(start + 1, end):
                        if lines[i].strip() and not lines[i].lstrip().startswith("#"):
                            last = i
                    if not lines[last].endswith(("\n", "\r")):
                        lines[last] += newline
                    lines.insert(last + 1, f"{_bare(name)} = {_value(version)}{newline}")
                    end += 1
        else:
            raise Unsafe(f"its {KEY} is written in a layout this command does not edit (dotted keys or a multi-line table)")
    result = "".join(lines)
    try:
        reread = toml.loads(result)
    except toml.TOMLError:
        raise Unsafe("the edit would not read back as valid TOML") from None
    new_table = reread.get("tool", {}).get("policylint") if pyproject else reread
    expected_data = {**table, KEY: merged}
    rest_same = {k: v for k, v in reread.items() if k != "tool"} == {k: v for k, v in data.items() if k != "tool"} if pyproject else True
    if new_table != expected_data or not rest_same:
        raise Unsafe("the edit would not read back as exactly the intended change")
    return result


def write(path: Path, wanted: dict[str, str]) -> str:
    """Write ``wanted`` into ``path``'s ``pack-versions``; what was done, for people."""
    import os
    import tempfile

    from policylint.config.files import MAX_CONFIG_FILE_BYTES, PYPROJECT
    from policylint.files import read_bounded

    pyproject = path.name == PYPROJECT
    if path.exists():
        try:  # bounded, and only a regular file: a FIFO or a device put in its place is refused
            text = read_bounded(path, MAX_CONFIG_FILE_BYTES).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise Unsafe(f"it cannot be read ({exc})") from None
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        new = bom + edited(text.removeprefix("\ufeff"), pyproject, wanted)
        verb = "updated"
    else:
        if pyproject:
            raise Unsafe("it does not exist")
        new = (
            "# policylint configuration (docs/ci.md). pack-versions: the pack versions this repository\n"
            "# has adopted; rules added in later versions report as preview warnings until adopted.\n"
            + inline(wanted) + "\n"
        )
        verb = "created"
    handle, temp = tempfile.mkstemp(prefix=".policylint-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(new)
        if path.exists():
            os.chmod(temp, path.stat().st_mode & 0o7777)
        else:  # a new file gets the mode any new file would (mkstemp makes it private)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return verb


@click.command("upgrade")
@click.option("--to", "to", metavar="VERSION", help="The pack version to adopt (default: the current one).")
@click.option("--pack", "pack", metavar="NAME", help="Only this pack (default: every loaded pack).")
@click.option("--write", "do_write", is_flag=True,
              help="Adopt it: write pack-versions into the repository's configuration file (policylint.toml, created if none).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_describing_options
@_guarded
def upgrade(to: str | None, pack: str | None, do_write: bool, output_format: str, config_path: str | None,
            org_config: str | None, disabled_plugins: tuple[str, ...]) -> None:
    """Show what each pack's current version adds over the version adopted in the configuration
    in force for the current folder (pack-versions), and with --write adopt it.

    Rules newer than the adopted version run as warnings marked preview, which never fail the
    verdict; adopting the version makes them run at their own severity (errors can then fail).
    """
    import json

    session = _session(config_path, org_config, disabled_plugins)
    state = session.in_force(Path.cwd())
    records = plan(session, state, pack, to)
    wanted = {r["pack"]: r["to"] for r in records if r["write"]}
    written: dict[str, Any] | None = None
    if do_write and wanted:
        path = target_file(config_path)
        try:
            verb = write(path, wanted)
        except Unsafe as exc:
            from policylint.errors import ConfigError

            raise ConfigError(
                f"{path}: cannot safely edit the file: {exc}; nothing was written. Add this line to it yourself "
                f"(at the top level of policylint.toml, or under [tool.policylint]):\n  {inline(wanted)}"
            ) from None
        written = {"file": str(path), "action": verb, "pack-versions": wanted}
    if output_format == "json":
        click.echo(json.dumps({"packs": records, "written": written}, indent=2))
        return
    click.echo(render_text(records), nl=False)
    if written is not None:
        click.echo(f"{written['action']} {written['file']}: {inline(wanted)}")
    elif do_write:
        click.echo("nothing to write: pack-versions already pins every pack at the version to adopt")
    elif wanted:
        click.echo(f"to adopt: policylint upgrade --write (writes {inline(wanted)})")


COMMANDS = (upgrade,)
