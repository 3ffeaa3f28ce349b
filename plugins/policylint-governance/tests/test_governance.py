"""Unit tests of the governance plugin: its table, function, check, pack and report.

They need policylint and this package installed (``pip install -e '.[test]'`` from this
folder, or the wheel); policylint's own suite builds both wheels and runs these in a fresh
virtualenv. The end-to-end tests through the command line live in policylint's
``tests/test_plugins.py``.
"""

from __future__ import annotations

import datetime
import io
from importlib.metadata import distribution
from typing import Any

import pytest
from policylint_governance import plugin
from policylint_governance.cost import SERVING_COST, estimate, over_budget
from policylint_governance.functions import is_review_id
from policylint_governance.report import render_csv
from policylint_governance.table import GovernanceTable
from pydantic import ValidationError

from policylint.api import Decision, Finding, ManifestResult, ReportContext
from policylint.testing import check_text, engine_for, namespace_for

TODAY = datetime.date(2026, 12, 1)

# A fine-tuning proposal the built-in pack lets through (format at scale), so that every
# finding in these tests comes from the governance plugin.
BASE = """\
schema_version = 1

[project]
name = "invoice-field-extractor"

[task]
kind = "extraction"
narrow = true

[proposal]
approach = "fine-tune"
reasons = ["format-consistency"]
model_tier = "{tier}"

[evaluation]
examples = 10_000

[evaluation.prompting]
zero_shot = 0.78
few_shot = 0.86
few_shot_examples = 8
format_constraints = 0.86
role = 0.86

[evaluation.failures]
mode = "format"
malformed_rate = 0.021

[volume]
requests_per_day = 240_000

[downstream]
machine_parsed = true
failure_impact = "data-corruption"
retry_logic = true

[data]
examples = 4_200
"""


def manifest(governance: str | None, tier: str = "small") -> str:
    text = BASE.format(tier=tier)
    if governance is not None:
        text += "\n[ext.governance]\n" + governance
    return text


@pytest.fixture(scope="module")
def engine() -> Any:
    """The engine as ``policylint check`` builds it, with this plugin and nothing else installed.

    :func:`policylint.testing.engine_for` registers the module directly (not through the entry
    point) on a fresh plugin manager, so every answer goes through policylint's own checks,
    whether or not the distribution is installed, and no other installed plugin interferes.
    """
    return engine_for(plugin, name="governance", distribution="policylint-governance", today=TODAY)


def rules(result: ManifestResult) -> list[str]:
    return [f.rule for f in result.findings]


# -- the table --------------------------------------------------------------------------------


def test_table_accepts_a_complete_declaration() -> None:
    table = GovernanceTable.model_validate(
        {"risk_tier": "high", "budget_owner": "payments-ml", "personal_data": True,
         "privacy_review": "PRV-2026-014", "monthly_budget_usd": 5_000}
    )
    assert table.risk_tier == "high"
    assert table.monthly_budget_usd == 5_000.0


def test_table_defaults() -> None:
    table = GovernanceTable.model_validate({"risk_tier": "low"})
    assert (table.budget_owner, table.personal_data, table.privacy_review, table.monthly_budget_usd) == (None, False, None, None)


def test_table_forbids_unknown_keys_as_policylint_requires() -> None:
    assert GovernanceTable.model_config["extra"] == "forbid"


@pytest.mark.parametrize(
    ("data", "location", "error_type"),
    [
        ({}, ("risk_tier",), "missing"),
        ({"risk_tier": "extreme"}, ("risk_tier",), "literal_error"),
        ({"risk_tier": "low", "budget_ownr": "x"}, ("budget_ownr",), "extra_forbidden"),
        ({"risk_tier": "low", "budget_owner": "  "}, ("budget_owner",), "value_error"),
        ({"risk_tier": "low", "personal_data": "yes"}, ("personal_data",), "bool_type"),  # strict: no coercion
        ({"risk_tier": "low", "personal_data": 1}, ("personal_data",), "bool_type"),
        ({"risk_tier": "low", "monthly_budget_usd": -1}, ("monthly_budget_usd",), "greater_than_equal"),
        ({"risk_tier": "low", "monthly_budget_usd": float("inf")}, ("monthly_budget_usd",), "finite_number"),
        ({"risk_tier": "low", "monthly_budget_usd": "5000"}, ("monthly_budget_usd",), "float_type"),
    ],
)
def test_table_rejects(data: dict[str, Any], location: tuple[str, ...], error_type: str) -> None:
    with pytest.raises(ValidationError) as caught:
        GovernanceTable.model_validate(data)
    assert [(tuple(e["loc"]), e["type"]) for e in caught.value.errors()] == [(location, error_type)]


# -- the condition function -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PRV-2026-014", True),
        ("PRV-2026-1234", True),
        ("pending", False),
        ("TBD", False),
        ("PRV-26-014", False),
        ("prv-2026-014", False),
        ("PRV-2026-014 ", False),
        ("see PRV-2026-014", False),
        (14, False),  # never raises, whatever a policy passes it
    ],
)
def test_is_review_id(text: Any, expected: bool) -> None:
    assert is_review_id(text) is expected


# -- the check ----------------------------------------------------------------------------------

PRICES = {"frontier_cost_per_1k_requests_usd": 10.0, "small_cost_per_1k_requests_usd": 0.5}


def ns(volume: str = "requests_per_day = 240_000", tier: str | None = "small", governance: str = "") -> Any:
    """The read-only namespace a check receives, built the way the engine builds it."""
    proposal = 'approach = "fine-tune"\nreasons = ["format-consistency"]\n' + (f'model_tier = "{tier}"\n' if tier else "")
    text = (
        f'schema_version = 1\n[project]\nname = "x"\n[task]\nkind = "extraction"\n[proposal]\n{proposal}'
        f"[volume]\n{volume}\n[ext.governance]\nrisk_tier = \"low\"\n{governance}"
    )
    return namespace_for(text)


def test_check_declaration_is_sound() -> None:
    assert SERVING_COST.problems() == []
    assert (SERVING_COST.id, SERVING_COST.severity, SERVING_COST.recommends, SERVING_COST.applies_to) == (
        "GOV100", "warning", None, "any")


def test_estimate_prices_the_monthly_volume_by_tier() -> None:
    small = estimate(ns(tier="small"), PRICES)
    assert small is not None and (small.requests_per_month, small.tier, small.tier_assumed) == (7_200_000, "small", False)
    assert small.cost == pytest.approx(3_600)
    frontier = estimate(ns(tier="frontier"), PRICES)
    assert frontier is not None and frontier.cost == pytest.approx(72_000)


def test_estimate_assumes_the_frontier_price_when_the_tier_is_unknown() -> None:
    unknown = estimate(ns(tier=None), PRICES)
    assert unknown is not None and (unknown.tier, unknown.tier_assumed, unknown.cost) == ("frontier", True, pytest.approx(72_000))


def test_estimate_reads_a_monthly_volume_as_declared() -> None:
    monthly = estimate(ns(volume="requests_per_month = 1_000_000"), PRICES)
    assert monthly is not None and monthly.cost == pytest.approx(500)


def test_estimate_is_none_when_the_volume_is_unknown() -> None:
    assert estimate(ns(volume=""), PRICES) is None


def test_check_is_silent_within_budget_and_at_the_boundary() -> None:
    assert over_budget(ns(governance="monthly_budget_usd = 5_000"), PRICES) is None
    assert over_budget(ns(governance="monthly_budget_usd = 3_600"), PRICES) is None  # exactly the cost: within


def test_check_fires_over_budget_with_the_numbers() -> None:
    message = over_budget(ns(governance="monthly_budget_usd = 3_599"), PRICES)
    assert message == (
        "estimated serving cost $3,600/month (7,200,000 requests/month at $0.50 per 1,000, small-tier price) exceeds "
        "the monthly budget of $3,599 by $1.00; the budget covers 7,198,000 requests/month: cut the volume, choose a "
        "smaller model, or agree a higher budget with its owner"
    )


def test_check_says_when_it_assumed_the_tier() -> None:
    message = over_budget(ns(tier=None, governance="monthly_budget_usd = 5_000"), PRICES)
    assert message is not None
    assert "$72,000/month" in message and "frontier-tier price (proposal.model_tier is not set)" in message


def test_check_is_silent_without_a_budget_or_a_volume() -> None:
    assert over_budget(ns(), PRICES) is None
    assert over_budget(ns(volume="", governance="monthly_budget_usd = 1"), PRICES) is None


def test_check_reads_the_price_parameters() -> None:
    cheaper = {**PRICES, "small_cost_per_1k_requests_usd": 0.1}
    assert over_budget(ns(governance="monthly_budget_usd = 1_000"), cheaper) is None
    assert over_budget(ns(governance="monthly_budget_usd = 1_000"), PRICES) is not None


# -- the pack -------------------------------------------------------------------------------


def test_pack_compiles_with_the_builtin_pack(engine: Any) -> None:
    """Every condition, field path, function call and parameter is checked when it compiles."""
    assert {"GOV001", "GOV002", "GOV003", "GOV100"} <= set(engine.rules)
    assert {name: engine.params[name][0] for name in PRICES} == PRICES
    gov003 = engine.rules["GOV003"]
    assert (gov003.waivable, gov003.name) == (False, "high-risk-frontier-fine-tuning")
    assert engine.params["quality_bar"][0] == 0.88


def test_param_default_yields_to_the_organisation_configuration() -> None:
    assert engine_for(plugin, params={"quality_bar": 0.8}).params["quality_bar"][0] == 0.8
    assert engine_for(plugin).params["quality_bar"][0] == 0.88
    assert engine_for(None).params["quality_bar"][0] == 0.85  # the built-in default, without this plugin


# -- the policies, through the engine ------------------------------------------------------------

COMPLETE = 'risk_tier = "medium"\nbudget_owner = "payments-ml"\n'


def test_a_complete_declaration_passes(engine: Any) -> None:
    result = check_text(engine, manifest(COMPLETE))
    assert rules(result) == []
    assert result.decision == Decision("fine-tune", "fine-tune", "pass")


def test_gov001_fine_tuning_needs_a_budget_owner(engine: Any) -> None:
    result = check_text(engine, manifest('risk_tier = "low"\n'))
    assert rules(result) == ["GOV001"]
    assert result.decision == Decision("fine-tune", "fine-tune", "fail")  # a gate, not a redirection


def test_gov001_fires_when_the_table_is_absent(engine: Any) -> None:
    assert rules(check_text(engine, manifest(None))) == ["GOV001"]


def test_gov001_leaves_other_proposals_alone(engine: Any) -> None:
    text = manifest('risk_tier = "low"\n').replace('approach = "fine-tune"', 'approach = "prompting"')
    assert rules(check_text(engine, text)) == []


@pytest.mark.parametrize(
    ("declaration", "fires"),
    [
        ("personal_data = true\n", True),
        ('personal_data = true\nprivacy_review = "pending"\n', True),
        ('personal_data = true\nprivacy_review = "PRV-2026-014"\n', False),
        ("personal_data = false\n", False),
        ("", False),
    ],
)
def test_gov002_personal_data_needs_a_privacy_review(engine: Any, declaration: str, fires: bool) -> None:
    result = check_text(engine, manifest(COMPLETE + declaration))
    assert rules(result) == (["GOV002"] if fires else [])


def test_gov002_applies_to_every_proposal(engine: Any) -> None:
    text = manifest(COMPLETE + "personal_data = true\n").replace('approach = "fine-tune"', 'approach = "rag"')
    result = check_text(engine, text)
    assert rules(result) == ["GOV002"]
    assert result.decision == Decision("rag", "rag", "fail")


@pytest.mark.parametrize(
    ("risk", "tier", "fires"),
    [("high", "frontier", True), ("high", "small", False), ("medium", "frontier", False), ("low", "frontier", False)],
)
def test_gov003_high_risk_may_not_tune_a_frontier_model(engine: Any, risk: str, tier: str, fires: bool) -> None:
    result = check_text(engine, manifest(f'risk_tier = "{risk}"\nbudget_owner = "payments-ml"\n', tier=tier))
    assert rules(result) == (["GOV003"] if fires else [])
    assert result.decision.recommendation == ("prompting" if fires else "fine-tune")


def test_gov003_decides_before_the_builtin_case_rules(engine: Any) -> None:
    low_volume = manifest('risk_tier = "high"\nbudget_owner = "x"\n', tier="frontier").replace(
        "requests_per_day = 240_000", "requests_per_day = 1_000")
    result = check_text(engine, low_volume)
    assert set(rules(result)) == {"GOV003", "FMT001"}  # FMT001 recommends error-handling at order 310
    assert result.decision == Decision("fine-tune", "prompting", "fail", "GOV003")


def test_gov003_cannot_be_waived(engine: Any) -> None:
    waiver = '\n[[waivers]]\nrule = "GOV003"\nreason = "r"\nowner = "o"\nexpires = 2027-01-31\n'
    text = BASE.format(tier="frontier") + waiver + '\n[ext.governance]\nrisk_tier = "high"\nbudget_owner = "x"\n'
    result = check_text(engine, text)
    assert "WVR003" in rules(result)
    assert not any(f.waived for f in result.findings)


def test_gov100_runs_in_the_engine(engine: Any) -> None:
    over = check_text(engine, manifest(COMPLETE + "monthly_budget_usd = 1_000\n"))
    assert [(f.rule, f.severity) for f in over.findings] == [("GOV100", "warning")]
    assert over.decision.verdict == "pass"  # a warning
    under = check_text(engine, manifest(COMPLETE + "monthly_budget_usd = 10_000\n"))
    assert rules(under) == []


# -- the report ---------------------------------------------------------------------------------


def test_csv_report() -> None:
    results = [
        ManifestResult("a/mlproject.toml", Decision("fine-tune", "prompting", "fail"), (
            Finding("GOV003", "high-risk-frontier-fine-tuning", "error", "a, b", "proposal.model_tier", 16, 1, "prompting"),
            Finding("GOV100", "serving-cost-over-budget", "warning", "=cmd()", "ext.governance", 53, 1, waived=True),
        )),
        ManifestResult("b/mlproject.toml", Decision("prompting", "prompting", "pass")),
    ]
    out = io.StringIO()
    summary = render_csv(iter(results), ReportContext("0", {}), out)
    assert out.getvalue().splitlines() == [
        "path,proposal,recommendation,verdict,rule,severity,line,column,waived,message",
        'a/mlproject.toml,fine-tune,prompting,fail,GOV003,error,16,1,no,"a, b"',
        "a/mlproject.toml,fine-tune,prompting,fail,GOV100,warning,53,1,yes,'=cmd()",  # never a formula
        "b/mlproject.toml,prompting,prompting,pass,,,,,,",
    ]
    assert (summary.manifests, summary.passed, summary.errors, summary.waived) == (2, 1, 1, 1)


# -- the distribution ---------------------------------------------------------------------------


def test_entry_point_names_the_plugin_module() -> None:
    (entry_point,) = [ep for ep in distribution("policylint-governance").entry_points if ep.group == "policylint"]
    assert (entry_point.name, entry_point.value) == ("governance", "policylint_governance.plugin")
    assert entry_point.load() is plugin


def test_pack_ships_inside_the_package() -> None:
    files = {str(f) for f in distribution("policylint-governance").files or []}
    assert {f"policylint_governance/policies/{name}" for name in ("pack.toml", "GOV001.toml", "GOV002.toml", "GOV003.toml")} <= files
