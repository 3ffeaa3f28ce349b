"""The plugin author's surface: ``policylint.api`` (one module to import) and
``policylint.testing`` (an engine with one plugin, built without touching the host)."""

from __future__ import annotations

import ast
import re
import datetime
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from conftest import REPO
from policylint import api
from policylint.plugins import create_host
from policylint.testing import check_text, engine_for, namespace_for

GOVERNANCE = REPO / "plugins" / "policylint-governance"
TODAY = datetime.date(2026, 12, 1)

PROMPTING = """\
schema_version = 1
[project]
name = "x"
[task]
kind = "classification"
[proposal]
approach = "prompting"
"""


@pytest.fixture()
def governance_plugin(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(GOVERNANCE))
    from policylint_governance import plugin

    return plugin


def test_every_name_in_all_exists() -> None:
    assert api.__all__ and all(hasattr(api, name) for name in api.__all__)
    assert len(set(api.__all__)) == len(api.__all__)


def test_api_offers_what_a_plugin_needs() -> None:
    assert {"hookimpl", "Check", "Fraction", "Count", "Volume", "Text", "Reporter", "ReportContext", "ManifestResult",
            "Finding", "Summary", "Tally", "Function", "ABSENT"} <= set(api.__all__)


def test_the_example_plugin_imports_only_the_api() -> None:
    for path in sorted((GOVERNANCE / "policylint_governance").glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            modules = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                       else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for module in modules:
                if module == "policylint" or module.startswith("policylint."):
                    assert module == "policylint.api", f"{path.name}:{node.lineno}: imports {module}"


def test_engine_for_adds_the_plugin(governance_plugin: Any) -> None:
    engine = engine_for(governance_plugin, today=TODAY)
    assert {"GOV001", "GOV100"} <= set(engine.rules)
    assert engine.params["quality_bar"][0] == 0.88  # the plugin's default over the built-in 0.85
    result = check_text(engine, PROMPTING + '[ext.governance]\nrisk_tier = "low"\n')
    assert result.findings == () and result.decision.verdict == "pass"


def test_engine_for_leaves_the_host_alone(governance_plugin: Any) -> None:
    before = sorted(create_host(entry_points=False).info)
    engine_for(governance_plugin)
    assert sorted(create_host(entry_points=False).info) == before
    assert "GOV001" not in engine_for(None).rules  # a second engine does not see the first's plugin
    result = check_text(engine_for(None), PROMPTING + '[ext.governance]\nrisk_tier = "low"\n')
    assert [f.rule for f in result.findings] == ["MAN002"]  # unclaimed without the plugin


def test_params_are_set_as_an_organisation_would(governance_plugin: Any) -> None:
    assert engine_for(governance_plugin, params={"quality_bar": 0.8}).params["quality_bar"][0] == 0.8


def test_policy_paths_add_a_pack(tmp_path: Path) -> None:
    (tmp_path / "pack.toml").write_text('[pack]\nname = "acme"\nversion = "1"\ndescription = "d"\n')
    (tmp_path / "ACME001.toml").write_text(
        'id = "ACME001"\nname = "no-rag"\ntitle = "t"\nseverity = "error"\napplies_to = "any"\n'
        'points_at = "proposal.approach"\nwhen = "proposal.approach == \'rag\'"\nmessage = "m"\nrationale = "r"\n')
    engine = engine_for(None, policy_paths=[tmp_path])
    result = check_text(engine, PROMPTING.replace('"prompting"', '"rag"'))
    assert [f.rule for f in result.findings] == ["ACME001"]


class Shouting:
    """A plugin as an object: one Python check, one ext table."""

    class Table(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
        volume: api.Fraction | None = None

    @api.hookimpl
    def policylint_manifest_tables(self) -> Mapping[str, type[BaseModel]]:
        return {"shout": self.Table}

    @api.hookimpl
    def policylint_checks(self) -> Sequence[api.Check]:
        def run(ns: Mapping[str, Any], params: Mapping[str, Any]) -> str | None:
            return "too loud" if ns.get("ext.shout.volume", 0) > 0.5 else None

        return [api.Check(id="SHT001", name="too-loud", title="Too loud", severity="warning", points_at="ext.shout.volume",
                          rationale="Quiet please.", run=run, applies_to="any")]


def test_an_object_plugin_and_its_check() -> None:
    engine = engine_for(Shouting(), name="shout")
    loud = check_text(engine, PROMPTING + "[ext.shout]\nvolume = 0.9\n")
    assert [(f.rule, f.message) for f in loud.findings] == [("SHT001", "too loud")]
    bad = check_text(engine, PROMPTING + "[ext.shout]\nvolume = 9\n")
    assert [f.rule for f in bad.findings] == ["MAN002"]  # the api's Fraction: 9 is not a fraction


def test_a_malformed_answer_names_the_plugin() -> None:
    class Broken:
        @api.hookimpl
        def policylint_policy_packs(self) -> object:
            return "not a list"

    with pytest.raises(api.PluginError, match=r"plugin 'broken' \(broken test\) returned malformed data"):
        engine_for(Broken(), name="broken")


def test_an_unknown_hook_names_the_plugin() -> None:
    class Typo:
        @api.hookimpl
        def policylint_chekcs(self) -> list[Any]:
            return []

    with pytest.raises(api.PluginError, match="plugin 'typo' .* implements a hook policylint does not have"):
        engine_for(Typo(), name="typo")


def test_namespace_for_gives_a_check_what_it_reads() -> None:
    ns = namespace_for(PROMPTING + "[volume]\nrequests_per_day = 10\n")
    assert ns["volume.per_month"] == 300 and ns["proposal.approach"] == "prompting"
    with pytest.raises(TypeError):
        ns["x"] = 1  # type: ignore[index]


def test_importing_the_api_does_not_import_the_cli() -> None:
    assert "policylint.api" in sys.modules
    import subprocess

    code = "import sys, policylint.api, policylint.testing; print('click' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_plugins_command_lists_the_policy_paths_packs(tmp_path: Path) -> None:
    import json
    import subprocess

    pack = tmp_path / "packs" / "acme"
    pack.mkdir(parents=True)
    (pack / "pack.toml").write_text('[pack]\nname = "acme"\nversion = "1"\ndescription = "d"\n')
    (pack / "ACME001.toml").write_text(
        'id = "ACME001"\nname = "no-rag"\ntitle = "t"\nseverity = "error"\napplies_to = "any"\n'
        'points_at = "proposal.approach"\nwhen = "proposal.approach == \'rag\'"\nmessage = "m"\nrationale = "r"\n')
    (tmp_path / "policylint.toml").write_text('policy-paths = ["packs/acme"]\n')

    def plugins(*args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "policylint", "plugins", *args], cwd=tmp_path,
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    lines = plugins().splitlines()
    at = lines.index("policy-paths (configuration)")
    assert lines[at + 1] == f"  pack acme ({pack.resolve()}): ACME001 [{(tmp_path / 'policylint.toml').resolve()}:1]"
    listing = json.loads(plugins("--format", "json"))
    assert [(p["name"], p["rules"]) for p in listing["policy_paths"]] == [("acme", ["ACME001"])]


# -- docs/plugins.md ---------------------------------------------------------------------------

DOC = (REPO / "docs" / "plugins.md").read_text("utf-8")


def _table_after(heading: str) -> dict[str, str]:
    """The rows of the first table after ``heading``: key (first cell) -> the whole row."""
    rest = DOC[DOC.index(heading):]
    rows = [line for line in rest[rest.index("\n|"):].split("\n\n")[0].splitlines() if line.startswith("| `")]
    return {row.split("|")[1].strip().strip("`"): row for row in rows}


@pytest.mark.parametrize(("heading", "keys_name"), [
    ("**`pack.toml`, `[pack]`**", "PACK_KEYS"),
    ("**`pack.toml`, `[params.<name>]`**", "PARAM_KEYS"),
    ("**A policy file, `<ID>.toml`**", "POLICY_KEYS"),
    ("**`[[messages]]`**", "MESSAGE_KEYS"),
])
def test_docs_list_every_pack_and_policy_key_with_its_values(heading: str, keys_name: str) -> None:
    from policylint import packs

    keys = getattr(packs, keys_name)
    table = _table_after(heading)
    assert set(table) == set(keys)
    for name, key in keys.items():
        for choice in key.choices:
            assert f'`"{choice}"`' in table[name], (name, choice)
        if name != "order":  # required exactly when recommends is set
            assert ("| yes |" in table[name]) == key.required, name


def test_docs_list_every_api_name() -> None:
    documented = {name.strip("` ") for row in _table_after("## The public API").values()
                  for name in row.split("|")[1].split(",")}
    assert documented == set(api.__all__)


def test_docs_snippets_import_only_the_public_modules() -> None:
    imports = set(re.findall(r"^from (policylint(?:\.[\w.]+)?) import", DOC, re.MULTILINE))
    assert imports <= {"policylint.api", "policylint.testing"}, imports
