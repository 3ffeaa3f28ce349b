"""Rebuild the seed corpus ``fuzz/corpus/<target>/`` from the fixtures.

- ``manifest`` and ``positions``: the scenario manifests (``tests/scenarios/[0-9]*.toml``) and
  the example manifests (``examples/*/mlproject.toml``); ``positions`` also gets the policy
  files themselves (TOML with multi-line strings, arrays of tables);
- ``expr``: every ``when`` and ``message`` string of ``policies/*.toml`` (the top-level ones and
  those of ``[[messages]]``), one file each.

File names are the SHA-1 of the content, as libFuzzer names the inputs it keeps. It also writes
the libFuzzer dictionaries ``fuzz/<target>.dict`` (manifest keys and enum values, TOML syntax;
field and parameter names, operators and functions of the condition language), which
``fuzz/run.py`` passes with ``-dict``. Run with ``python fuzz/make_corpus.py``; it only writes
under ``fuzz/``.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import tomli

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "corpus"


def manifests() -> list[Path]:
    return sorted((REPO / "tests" / "scenarios").glob("[0-9]*.toml")) + sorted((REPO / "examples").glob("*/mlproject.toml"))


def policy_files() -> list[Path]:
    return sorted((REPO / "policies").glob("*.toml"))


def conditions() -> list[str]:
    """The ``when`` and ``message`` strings of the built-in policies."""
    found: list[str] = []
    for path in policy_files():
        doc = tomli.loads(path.read_text("utf-8"))
        for table in [doc, *doc.get("messages", [])]:
            for key in ("when", "message"):
                if isinstance(table.get(key), str):
                    found.append(table[key])
    return found


def write(target: str, seeds: list[bytes]) -> int:
    folder = CORPUS / target
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for seed in seeds:
        (folder / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
    return len(list(folder.iterdir()))


def _entry(token: str) -> str:
    return '"' + token.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\x0a") + '"'


def write_dict(target: str, tokens: set[str]) -> int:
    lines = [_entry(t) for t in sorted(tokens) if t]
    (CORPUS.parent / f"{target}.dict").write_text("\n".join(lines) + "\n", "utf-8")
    return len(lines)


def dictionaries() -> dict[str, set[str]]:
    import sys

    sys.path.insert(0, str(REPO))
    from policylint.builtin import builtin_pack_path
    from policylint.expr import BUILTIN_FUNCTIONS
    from policylint.facts import FACTS
    from policylint import manifest as manifest_module
    from policylint.manifest import FIELDS
    from policylint.packs import load_pack

    toml_syntax = {"[", "]", "[[", "]]", "{", "}", "=", ",", ".", "#", '"', "'", '"""', "'''", "\n", "\\u",
                   "true", "false", "inf", "nan", "0x", "1e3", "2026-01-15", "2026-01-15T10:00:00Z", "10:00:00"}
    manifest = set(toml_syntax) | {"schema_version = 1\n", "[[waivers]]\n", "[ext]\n"}
    all_fields = getattr(manifest_module, "_ALL_FIELDS", FIELDS)  # with waivers and ext
    for path, spec in all_fields.items():
        manifest.add(path)
        manifest.update(path.split("."))
        manifest.update(f'"{v}"' for v in spec.values)
    expr = {"and", "or", "not", "in", "not in", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "(", ")",
            "[", "]", ",", "{", "}", "{{", "}}", ":", "True", "False", "None", "true", "false", "defined", "missing"}
    expr |= set(BUILTIN_FUNCTIONS) | set(FIELDS) | set(FACTS)
    expr |= {f"params.{name}" for name in load_pack(builtin_pack_path()).params}
    for spec in {**FIELDS, **FACTS}.values():
        expr.update(f"'{v}'" for v in spec.values)
    return {"manifest": manifest, "positions": set(toml_syntax), "expr": expr}


def main() -> None:
    manifest_seeds = [p.read_bytes() for p in manifests()]
    counts = {
        "manifest": write("manifest", manifest_seeds),
        "positions": write("positions", manifest_seeds + [p.read_bytes() for p in policy_files()]),
        "expr": write("expr", [text.encode("utf-8") for text in conditions()]),
    }
    for target, count in counts.items():
        print(f"fuzz/corpus/{target}: {count} seeds")
    for target, tokens in dictionaries().items():
        print(f"fuzz/{target}.dict: {write_dict(target, tokens)} entries")


if __name__ == "__main__":
    main()
