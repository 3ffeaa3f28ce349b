"""The manifest's JSON Schema and the generated field reference (docs/manifest.md).

The schema must accept every manifest ``policylint check`` accepts, and reject every invalid one
whose rule a JSON Schema can state; the few it cannot are listed here with the reason, and a test
keeps that list honest. Manifests are checked as an editor sees them: Taplo hands TOML dates to
the schema as strings, so dates are turned into their ISO text first.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Literal

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ConfigDict, Field

from policylint import toml
from policylint.facts import FACT_DESCRIPTIONS, FACTS
from policylint.manifest import Manifest, describe_model, load_manifest
from policylint.schema import Count, Fraction, Text
from policylint.schema_export import (
    EXAMPLE,
    REGENERATE,
    SCHEMA_DIALECT,
    SCHEMA_ID,
    field_reference_markdown,
    manifest_json_schema,
    manifest_json_schema_text,
)
from test_manifest import MAN002_CASES, MINIMAL, VALID_CASES  # the loader's own tables

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "tests" / "scenarios"
INVALID_SCENARIO = "13-invalid.toml"


# ------------------------------------------------------------------------------- helpers


def editor_view(value: Any) -> Any:
    """A parsed manifest as a schema validator in an editor sees it: dates and times as text."""
    if isinstance(value, dict):
        return {key: editor_view(item) for key, item in value.items()}
    if isinstance(value, list):
        return [editor_view(item) for item in value]
    if isinstance(value, (datetime.date, datetime.time)):  # datetime.datetime is a date too
        return value.isoformat()
    return value


def validator(ext_models: dict[str, type[BaseModel]] | None = None) -> Draft202012Validator:
    """Formats asserted, as Taplo does; the date pattern holds even where they are not."""
    return Draft202012Validator(manifest_json_schema(ext_models), format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def core() -> Draft202012Validator:
    return validator()


def errors(check: Draft202012Validator, text: str) -> list[str]:
    data = editor_view(toml.loads(text.lstrip("\ufeff")))
    return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in check.iter_errors(data)]


def valid_files() -> list[Path]:
    scenarios = sorted(p for p in SCENARIOS.glob("*.toml") if p.name not in (INVALID_SCENARIO, "expected.toml"))
    examples = sorted(REPO.glob("examples/*/mlproject.toml"))
    assert len(scenarios) >= 15 and len(examples) >= 5, "the fixtures moved"
    return scenarios + examples


class Acme(BaseModel):
    """Acme's cost accounting."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    team: Text = Field(description="The team that pays.")
    cost_center: Count | None = Field(None, description="The cost center's number.")
    tier: Literal["gold", "silver"] = Field("silver", description="The support tier.")
    share: Fraction | None = Field(None, description="The team's share of the cost.")


class Data(BaseModel):
    """A plugin model that has the name of a core table: the two must not be confused."""

    model_config = ConfigDict(extra="forbid")

    steward: str = Field(description="Who looks after the data.")


# ------------------------------------------------------------------------------- the schema


def test_the_schema_is_valid_draft_2020_12() -> None:
    for ext in (None, {"acme": Acme}, {"acme": Acme, "stewardship": Data}):
        schema = manifest_json_schema(ext)
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == SCHEMA_DIALECT == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"] == SCHEMA_ID
        assert schema["title"]


def test_the_schema_is_deterministic() -> None:
    first, second = manifest_json_schema_text({"acme": Acme}), manifest_json_schema_text({"acme": Acme})
    assert first == second
    assert json.loads(first) == manifest_json_schema({"acme": Acme})
    assert list(json.loads(first)) == sorted(json.loads(first))


def test_the_schema_is_byte_identical_in_another_process() -> None:
    """Another interpreter, another hash seed: the same bytes as this one's."""
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    run = subprocess.run(
        [sys.executable, "-m", "policylint.schema_export", "--json"], capture_output=True, check=True, env=env, cwd=REPO
    )
    assert run.stdout.decode("utf-8") == manifest_json_schema_text()


def _properties(node: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every key the schema describes, by dotted path (array items' keys under the array)."""
    found = []
    for key, sub in node.get("properties", {}).items():
        found.append((path + key, sub))
        if sub.get("type") == "object":
            found.extend(_properties(sub, f"{path}{key}."))
        if sub.get("type") == "array" and sub.get("items", {}).get("type") == "object":
            found.extend(_properties(sub["items"], f"{path}{key}."))
    return found


def test_every_key_and_table_has_a_description() -> None:
    properties = _properties(manifest_json_schema({"acme": Acme}))
    assert {path for path, _ in properties} >= set(describe_model(Manifest)) - {"ext"}
    assert "ext.acme.tier" in dict(properties)
    undescribed = [path for path, node in properties if not node.get("description", "").strip()]
    assert undescribed == []


def test_every_table_forbids_unknown_keys() -> None:
    schema = manifest_json_schema({"acme": Acme})
    tables = [("", schema)] + [(p, n) for p, n in _properties(schema) if n.get("type") == "object"]
    tables += [(p, n["items"]) for p, n in _properties(schema) if n.get("type") == "array" and "properties" in n["items"]]
    assert len(tables) >= 13
    assert [p for p, node in tables if node.get("additionalProperties") is not False] == []


def test_types_ranges_and_enums_follow_the_models() -> None:
    props = dict(_properties(manifest_json_schema()))
    assert props["schema_version"] == {**props["schema_version"], "const": 1, "type": "integer"}
    count = props["evaluation.examples"]
    assert (count["type"], count["minimum"], count["maximum"]) == ("integer", 0, 10**12)
    score = props["evaluation.prompting.zero_shot"]
    assert (score["type"], score["minimum"], score["maximum"]) == ("number", 0, 1)
    volume = props["volume.requests_per_day"]
    assert (volume["type"], volume["minimum"], volume["maximum"]) == ("number", 0, 10**12)
    assert props["evaluation.failures.mode"]["enum"] == [
        "none", "format", "knowledge-gap", "hallucination", "domain-conventions", "behavior", "reasoning"
    ]
    assert props["proposal.reasons"]["items"]["enum"][0] == "general-quality"
    assert props["downstream.failure_impact"]["default"] == "none"
    assert props["waivers.expires"]["format"] == "date"
    assert props["project.name"]["minLength"] == 1
    assert "default" not in props["task.reasoning"]  # absent has a meaning that depends on kind
    assert not any("null" in json.dumps(node) for node in props.values())  # TOML has no null


def test_no_ext_table_is_accepted_without_a_plugin() -> None:
    ext = manifest_json_schema()["properties"]["ext"]
    assert (ext["properties"], ext["additionalProperties"]) == ({}, False)


# ------------------------------------------------------------------------------- valid manifests


@pytest.mark.parametrize("path", valid_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_valid_fixture_validates(core: Draft202012Validator, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert load_manifest(str(path), text.encode()).findings == []  # valid for the checker...
    assert errors(core, text) == []  # ...and for the schema


@pytest.mark.parametrize("text", VALID_CASES.values(), ids=VALID_CASES.keys())
def test_the_loaders_valid_cases_validate(core: Draft202012Validator, text: str) -> None:
    assert errors(core, text) == []


def test_the_reference_example_is_the_example_file_and_valid(core: Draft202012Validator) -> None:
    directive, rest = EXAMPLE.split("\n", 1)
    assert directive == "#:schema ./mlproject.schema.json"
    assert rest == (REPO / "examples" / "format-at-scale" / "mlproject.toml").read_text(encoding="utf-8")
    assert load_manifest("example.toml", EXAMPLE.encode()).findings == []
    assert errors(core, EXAMPLE) == []


# ------------------------------------------------------------------------------- invalid manifests

#: MAN002 cases a JSON Schema cannot reject, and why. Every other case must be rejected.
NOT_EXPRESSIBLE = {
    # JSON has one number type: 600.0 is an integer to a schema.
    "count-as-float": "integer-valued float",
    # Dates reach the schema as strings, so a quoted date looks like a date.
    "expires-as-string": "dates are strings to a schema",
    # NaN fails no comparison, and JSON has no NaN to forbid.
    "fraction-nan": "NaN",
    "volume-nan": "NaN",
    # Comparing two values of one manifest needs $data, which JSON Schema does not have.
    "high-quality-above-examples": "compares two keys",
    "high-quality-above-examples-listed-first": "compares two keys",
    "domain-examples-above-high-quality": "compares two keys",
    "domain-examples-above-examples-when-high-quality-absent": "compares two keys",
}
# Both its problems compare keys, so it is the one multi-problem case the schema lets through.
NOT_EXPRESSIBLE["domain-examples-and-high-quality-both-wrong"] = "compares two keys"


@pytest.mark.parametrize("name", [n for n in MAN002_CASES if n not in NOT_EXPRESSIBLE])
def test_invalid_manifests_are_rejected(core: Draft202012Validator, name: str) -> None:
    text, _ = MAN002_CASES[name]
    assert errors(core, text) != [], f"{name}: the schema accepts a manifest the checker rejects"


@pytest.mark.parametrize("name", sorted(NOT_EXPRESSIBLE))
def test_the_rules_a_schema_cannot_state_are_left_to_the_checker(core: Draft202012Validator, name: str) -> None:
    """Keeps NOT_EXPRESSIBLE honest: a case the schema starts rejecting must leave the list."""
    text, _ = MAN002_CASES[name]
    assert load_manifest("m.toml", text.encode()).findings != []
    assert errors(core, text) == []


def test_scenario_13_is_rejected_at_both_mistakes(core: Draft202012Validator) -> None:
    found = errors(core, (SCENARIOS / INVALID_SCENARIO).read_text(encoding="utf-8"))
    assert any(e.startswith("evaluation/prompting/zero_shot:") for e in found), found
    assert any(e.startswith("volume:") and "requests_per_dya" in e for e in found), found


_VOLUME = "\n[volume]\nrequests_per_day = 1_000\n"

#: One rule each, as named by the issue: (manifest text, the path the schema's error names).
REJECTED = {
    "unknown-key": (MINIMAL + "modle = 'x'\n", "proposal"),
    "unknown-table": (MINIMAL + "\n[evalution]\nexamples = 5\n", ""),
    "wrong-type": (MINIMAL.replace('kind = "extraction"', "kind = 3"), "task/kind"),
    "enum-typo": (MINIMAL + "\n[downstream]\nfailure_impact = 'data-corruptoin'\n", "downstream/failure_impact"),
    "score-above-1": (MINIMAL + "\n[evaluation.prompting]\nfew_shot = 85\n", "evaluation/prompting/few_shot"),
    "score-negative": (MINIMAL + "\n[distillation]\nteacher_quality = -0.1\n", "distillation/teacher_quality"),
    "count-above-10**12": (MINIMAL + "\n[data]\nexamples = 1_000_000_000_001\n", "data/examples"),
    "volume-negative": (MINIMAL + "\n[volume]\nrequests_per_month = -1\n", "volume/requests_per_month"),
    "volume-inf": (MINIMAL + "\n[volume]\nrequests_per_month = inf\n", "volume/requests_per_month"),
    "both-volume-keys": (MINIMAL + _VOLUME + "requests_per_month = 30_000\n", "volume"),
    "missing-required-table": (MINIMAL.replace('[task]\nkind = "extraction"\n', ""), ""),
    "missing-required-key": (MINIMAL.replace('approach = "prompting"', "model = 'x'"), "proposal"),
    "unclaimed-ext-table": (MINIMAL + "\n[ext.acme]\nteam = 'payments'\n", "ext"),
    "schema-version-2": (MINIMAL.replace("schema_version = 1", "schema_version = 2"), "schema_version"),
    "blank-name": (MINIMAL.replace('name = "invoice-extractor"', 'name = " \\t "'), "project/name"),
    "fine-tune-without-reasons": (MINIMAL.replace('"prompting"', '"fine-tune"'), "proposal"),
    "reasoning-contradicts-kind": (MINIMAL.replace('"extraction"', '"reasoning"\nreasoning = false'), "task/reasoning"),
    "source-none-with-examples": (MINIMAL + "\n[data]\nexamples = 3\nsource = 'none'\n", "data/examples"),
    "expires-date-time": (
        MINIMAL + "\n[[waivers]]\nrule = 'FMT001'\nreason = 'r'\nowner = 'o'\nexpires = 2027-01-01T00:00:00\n",
        "waivers/0/expires",
    ),
}


@pytest.mark.parametrize("text, path", REJECTED.values(), ids=REJECTED.keys())
def test_each_expressible_rule_is_rejected_at_its_key(core: Draft202012Validator, text: str, path: str) -> None:
    assert load_manifest("m.toml", text.encode()).findings != []  # the checker rejects it too
    found = errors(core, text)
    assert any(e.split(": ", 1)[0] == path for e in found), found


# ------------------------------------------------------------------------------- ext tables

ACME_OK = MINIMAL + "\n[ext.acme]\nteam = 'payments'\ncost_center = 7\ntier = 'gold'\n"


def test_a_plugins_ext_model_appears_under_ext() -> None:
    schema = manifest_json_schema({"acme": Acme})
    acme = schema["properties"]["ext"]["properties"]["acme"]
    assert acme["additionalProperties"] is False
    assert acme["required"] == ["team"]
    assert set(acme["properties"]) == {"team", "cost_center", "tier", "share"}
    assert acme["properties"]["tier"]["enum"] == ["gold", "silver"]
    assert acme["properties"]["cost_center"]["maximum"] == 10**12
    assert "Acme's cost accounting" in acme["description"]
    assert schema["properties"]["ext"]["additionalProperties"] is False


@pytest.mark.parametrize(
    "text, valid",
    [
        (ACME_OK, True),
        (ACME_OK + "colour = 'red'\n", False),  # unknown key in a claimed table
        (ACME_OK.replace("tier = 'gold'", "tier = 'bronze'"), False),
        (ACME_OK.replace("cost_center = 7", "cost_center = -7"), False),
        (ACME_OK.replace("team = 'payments'", "team = ''"), False),
        (ACME_OK + "\n[ext.globex]\nx = 1\n", False),  # claimed by nobody
    ],
)
def test_ext_tables_agree_with_the_checker(text: str, valid: bool) -> None:
    assert (load_manifest("m.toml", text.encode(), {"acme": Acme}).findings == []) is valid
    assert (errors(validator({"acme": Acme}), text) == []) is valid


def test_a_plugin_model_named_like_a_core_table_is_kept_apart() -> None:
    schema = manifest_json_schema({"stewardship": Data})
    assert set(schema["properties"]["data"]["properties"]) == {"examples", "high_quality", "domain_examples", "source"}
    assert set(schema["properties"]["ext"]["properties"]["stewardship"]["properties"]) == {"steward"}
    check = validator({"stewardship": Data})
    assert errors(check, MINIMAL + "\n[ext.stewardship]\nsteward = 'ana'\n\n[data]\nexamples = 5\n") == []


class Step(BaseModel):
    """A recursive table whose keys are named like schema keywords."""

    model_config = ConfigDict(extra="forbid")

    required: Count = Field(description="A key named like a keyword.")
    then: list[Step] = Field([], description="The steps after this one.")


Step.model_rebuild()


def test_a_recursive_ext_model_keeps_its_definition() -> None:
    schema = manifest_json_schema({"flow": Step})
    Draft202012Validator.check_schema(schema)
    step = schema["properties"]["ext"]["properties"]["flow"]
    assert step["properties"]["then"]["items"] == {"$ref": "#/$defs/Step"}
    assert set(schema["$defs"]) == {"Step"}
    check = validator({"flow": Step})
    nested = MINIMAL + "\n[ext.flow]\nrequired = 1\nthen = [{ required = 2, then = [{ required = 3 }] }]\n"
    assert errors(check, nested) == []
    assert errors(check, nested.replace("required = 3", "required = -3")) != []
    assert "$defs" not in manifest_json_schema()  # core tables are inlined


def test_the_governance_plugins_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """The example plugin's real model, loaded from its source (it need not be installed)."""
    path = REPO / "plugins" / "policylint-governance" / "policylint_governance" / "table.py"
    spec = importlib.util.spec_from_file_location("_governance_table", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its annotations are resolved there
    spec.loader.exec_module(module)
    models = {"governance": module.GovernanceTable}
    Draft202012Validator.check_schema(manifest_json_schema(models))
    text = MINIMAL + '\n[ext.governance]\nrisk_tier = "high"\nbudget_owner = "cfo"\nmonthly_budget_usd = 1_500\n'
    assert load_manifest("m.toml", text.encode(), models).findings == []
    assert errors(validator(models), text) == []
    assert errors(validator(models), text.replace('"high"', '"extreme"')) != []


# ------------------------------------------------------------------------------- the reference


def test_docs_manifest_md_is_current() -> None:
    committed = (REPO / "docs" / "manifest.md").read_text(encoding="utf-8")
    if committed != field_reference_markdown():
        pytest.fail(f"docs/manifest.md is stale: regenerate it with\n    {REGENERATE}\nand commit the result")


def test_the_reference_names_every_table_and_key() -> None:
    text = field_reference_markdown()
    for header in ("[project]", "[task]", "[proposal]", "[evaluation]", "[evaluation.prompting]",
                   "[evaluation.failures]", "[volume]", "[downstream]", "[data]", "[distillation]",
                   "[[waivers]]", "[ext.<name>]"):
        assert f"`{header}`" in text, header
    for path in describe_model(Manifest):
        assert f"| `{path.rpartition('.')[2]}` |" in text, path
    for fact in FACTS:
        assert f"| `{fact}` |" in text, fact
    assert "#:schema ./mlproject.schema.json" in text and "[[rule]]" in text  # editor completion
    assert "policylint schema > mlproject.schema.json" in text


def test_the_reference_includes_claimed_ext_tables() -> None:
    text = field_reference_markdown({"acme": Acme})
    assert "## `[ext.acme]`" in text
    assert "| `tier` | string | `\"gold\"`, `\"silver\"` | `\"silver\"` | The support tier. |" in text


def test_every_fact_is_described() -> None:
    assert list(FACT_DESCRIPTIONS) == list(FACTS)
    assert all(text.strip() for text in FACT_DESCRIPTIONS.values())


def test_the_module_prints_the_reference() -> None:
    run = subprocess.run([sys.executable, "-m", "policylint.schema_export"], capture_output=True, check=True, cwd=REPO)
    assert run.stdout.decode("utf-8") == field_reference_markdown()
    bad = subprocess.run([sys.executable, "-m", "policylint.schema_export", "--yaml"], capture_output=True, cwd=REPO)
    assert bad.returncode == 2 and b"usage" in bad.stderr
