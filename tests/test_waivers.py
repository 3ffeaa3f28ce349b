"""WVR001-WVR005 through the whole engine, with the date pinned (as `check --today` does).

The manifests are adapted from scenarios/14-waived.toml. Every expected finding, position and
decision is worked out by hand from the text below (line numbers are written next to the lines)
and spec/policies.md ("Waivers" in "Clarifications", "Manifest and waiver problems").
"""

from __future__ import annotations

import datetime
import functools
import math
from pathlib import Path

import pytest

from policylint.builtin import builtin_pack_path
from policylint.engine import Engine, EngineOptions
from policylint.findings import Finding, ManifestResult
from policylint.manifest import Source
from policylint.packs import load_pack
from policylint.waivers import apply_waivers

SCENARIOS = Path(__file__).parent / "scenarios"
TODAY = datetime.date(2026, 12, 1)

# 14-waived.toml without its comments and its waiver.
HEAD = (
    "schema_version = 1\n"  # 1
    "\n"  # 2
    "[project]\n"  # 3
    'name = "receipts-parser"\n'  # 4
    "\n"  # 5
    "[task]\n"  # 6
    'kind = "extraction"\n'  # 7
    "narrow = true\n"  # 8
    "\n"  # 9
    "[proposal]\n"  # 10
    'approach = "fine-tune"\n'  # 11
    'reasons = ["format-consistency"]\n'  # 12
    'model_tier = "small"\n'  # 13
    "\n"  # 14
    "[evaluation]\n"  # 15
    "examples = 800\n"  # 16
    "\n"  # 17
    "[evaluation.prompting]\n"  # 18  DAT004 points here
    "zero_shot = 0.81\n"  # 19
    "few_shot = 0.86\n"  # 20
    "few_shot_examples = 6\n"  # 21
    "format_constraints = 0.87\n"  # 22
    "role = 0.87\n"  # 23
    "\n"  # 24
    "[evaluation.failures]\n"  # 25
    'mode = "format"\n'  # 26
    "malformed_rate = 0.018\n"  # 27
    "\n"  # 28
    "[volume]\n"  # 29  FMT001 points here
    "requests_per_day = 80_000\n"  # 30
    "\n"  # 31
    "[downstream]\n"  # 32
    "machine_parsed = true\n"  # 33
    'failure_impact = "system-failure"\n'  # 34
    "retry_logic = true\n"  # 35
    "\n"  # 36
    "[data]\n"  # 37
    "examples = 6_000\n"  # 38
)
DAT004 = ("DAT004", 18, 1, "evaluation.prompting")
FMT001 = ("FMT001", 29, 1, "volume")


def rule_line(index: int) -> int:
    """Line of ``rule`` in the index-th waiver appended to HEAD: blank, header, rule, ..."""
    return 41 + 6 * index


def waiver(rule: str = "FMT001", expires: str = "2027-03-31", reason: str = "volume ramps in February", owner: str = "payments-ml") -> str:
    return f'\n[[waivers]]\nrule = "{rule}"\nreason = "{reason}"\nowner = "{owner}"\nexpires = {expires}\n'


@functools.cache
def engine_for(max_days: int = 180, today: datetime.date = TODAY) -> Engine:
    return Engine([load_pack(builtin_pack_path())], options=EngineOptions(today=today, max_waiver_days=max_days))


def check(text: str | bytes, *, max_days: int = 180, today: datetime.date = TODAY) -> ManifestResult:
    raw = text.encode() if isinstance(text, str) else text
    result = engine_for(max_days, today).check("mlproject.toml", raw)
    assert not any(f.rule.startswith("MAN") for f in result.findings), result.findings
    return result


def wvr(result: ManifestResult) -> list[tuple[str, int, int, str]]:
    return [(f.rule, f.line, f.column, f.key) for f in result.findings if f.rule.startswith("WVR")]


def finding(result: ManifestResult, rule: str) -> Finding:
    (found,) = [f for f in result.findings if f.rule == rule]
    return found


def decision(result: ManifestResult) -> tuple[str | None, str | None, str]:
    d = result.decision
    return (d.proposal, d.recommendation, d.verdict)


def assert_wvr_severities(result: ManifestResult) -> None:
    for f in result.findings:
        if f.rule in ("WVR001", "WVR002", "WVR003", "WVR004"):
            assert f.severity == "error", f
        elif f.rule in ("WVR005", "WVR006"):
            assert f.severity == "warning", f
        if f.rule.startswith("WVR"):
            assert not f.waived


# ----------------------------------------------------------------------------- the baseline


def test_head_without_waivers() -> None:
    """What the waivers below act on: FMT001 (error) and DAT004 (warning), nothing else.

    FMT001: format-consistency and 80_000 <= 100_000 requests/day. DAT004: the Wilson interval
    of the best score 0.87 over 800 examples contains 0.85 (worked out below). Checklist complete
    (extraction is not reasoning), format-consistency excuses PRM002, downstream is harmful and
    retried, 6_000 high-quality examples, 6 few-shot examples, 800 >= 100 eval examples.
    """
    p, n, z = 0.87, 800, 1.959964
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert centre - half < 0.85 < centre + half

    result = check(HEAD)
    assert [(f.rule, f.line, f.column, f.key) for f in result.findings] == [DAT004, FMT001]
    assert finding(result, "FMT001").severity == "error"
    assert finding(result, "DAT004").severity == "warning"
    assert not any(f.waived for f in result.findings)
    assert decision(result) == ("fine-tune", "error-handling", "fail")


def test_scenario_14_as_shipped() -> None:
    # The file has two comment lines on top: [evaluation.prompting] on 20, [volume] on 31.
    result = check((SCENARIOS / "14-waived.toml").read_bytes())
    assert [(f.rule, f.line, f.column, f.waived) for f in result.findings] == [
        ("DAT004", 20, 1, False),
        ("FMT001", 31, 1, True),
    ]
    assert decision(result) == ("fine-tune", "error-handling", "pass")


def test_valid_waiver_accepts_the_error_without_changing_the_recommendation() -> None:
    result = check(HEAD + waiver("FMT001", "2027-03-31", reason="ramp to 300k/day", owner="payments-ml"))
    fmt = finding(result, "FMT001")
    assert fmt.waived
    assert fmt.waiver == ("ramp to 300k/day", "payments-ml", "2027-03-31")
    assert (fmt.severity, fmt.recommends) == ("error", "error-handling")  # still reported, unchanged
    assert not finding(result, "DAT004").waived
    assert wvr(result) == []
    # pass, and still error-handling: waivers never change what the analysis recommends
    assert decision(result) == ("fine-tune", "error-handling", "pass")


def test_a_waived_error_leaves_other_errors_failing() -> None:
    # failure_impact "retried" is not harmful: FMT002 (error, at downstream.failure_impact, 34:1) fires too.
    text = HEAD.replace('failure_impact = "system-failure"', 'failure_impact = "retried"')
    result = check(text + waiver("FMT001"))
    assert finding(result, "FMT001").waived
    fmt002 = finding(result, "FMT002")
    assert (fmt002.line, fmt002.column, fmt002.waived) == (34, 1, False)
    assert decision(result) == ("fine-tune", "error-handling", "fail")

    result = check(text + waiver("FMT001") + waiver("FMT002"))
    assert finding(result, "FMT001").waived and finding(result, "FMT002").waived
    assert wvr(result) == []
    assert decision(result) == ("fine-tune", "error-handling", "pass")


# ----------------------------------------------------------------------------------- WVR001


@pytest.mark.parametrize(
    "expires, expired",
    [
        ("2026-11-30", True),  # yesterday
        ("2025-06-01", True),
        ("2026-12-01", False),  # today: the last day the waiver holds
        ("2026-12-02", False),
    ],
)
def test_wvr001_expired(expires: str, expired: bool) -> None:
    result = check(HEAD + waiver("FMT001", expires))
    assert_wvr_severities(result)
    if expired:
        assert wvr(result) == [("WVR001", 41, 1, "waivers[0].rule")]
        assert expires in finding(result, "WVR001").message
        assert not finding(result, "FMT001").waived  # a waiver with a problem accepts nothing
        assert decision(result) == ("fine-tune", "error-handling", "fail")
    else:
        assert wvr(result) == [("WVR006", 41, 1, "waivers[0].rule")]  # valid, but runs out within 14 days
        assert finding(result, "FMT001").waived
        assert decision(result) == ("fine-tune", "error-handling", "pass")  # a warning never fails


def test_today_is_the_pinned_date() -> None:
    # The scenario's waiver runs until 2027-03-31: valid on 2027-03-31, expired the day after.
    text = HEAD + waiver("FMT001", "2027-03-31")
    assert wvr(check(text, today=datetime.date(2027, 3, 16))) == []
    assert wvr(check(text, today=datetime.date(2027, 3, 31))) == [("WVR006", 41, 1, "waivers[0].rule")]
    assert wvr(check(text, today=datetime.date(2027, 4, 1))) == [("WVR001", 41, 1, "waivers[0].rule")]


# ----------------------------------------------------------------------------------- WVR002


@pytest.mark.parametrize(
    "rule, suggestion",
    [
        ("FMT01", "FMT001"),
        ("FMT0001", "FMT001"),
        ("DAT04", "DAT004"),
        ("FMT001 ", "FMT001"),  # a trailing space: ids are exact
        ("PRM0O1", "PRM001"),
    ],
)
def test_wvr002_unknown_rule_with_suggestion(rule: str, suggestion: str) -> None:
    result = check(HEAD + waiver(rule))
    assert_wvr_severities(result)
    assert wvr(result) == [("WVR002", 41, 1, "waivers[0].rule")]
    assert f"did you mean '{suggestion}'" in finding(result, "WVR002").message
    assert not finding(result, "FMT001").waived
    assert decision(result) == ("fine-tune", "error-handling", "fail")


@pytest.mark.parametrize("rule", ["fmt001", "Fmt001"])
def test_wvr002_wrong_case_id_suggests_the_real_id(rule: str) -> None:
    result = check(HEAD + waiver(rule))
    assert wvr(result) == [("WVR002", 41, 1, "waivers[0].rule")]
    assert "did you mean 'FMT001'" in finding(result, "WVR002").message


@pytest.mark.parametrize("rule", ["fmt001", "Fmt001"])
def test_wvr002_wrong_case_id_is_not_accepted(rule: str) -> None:
    """Whatever the wording, ids are case-sensitive: a case slip waives nothing."""
    result = check(HEAD + waiver(rule))
    assert wvr(result) == [("WVR002", 41, 1, "waivers[0].rule")]
    assert not finding(result, "FMT001").waived
    assert decision(result) == ("fine-tune", "error-handling", "fail")


def test_wvr002_nothing_close() -> None:
    result = check(HEAD + waiver("XYZ999"))
    assert wvr(result) == [("WVR002", 41, 1, "waivers[0].rule")]
    assert "XYZ999" in finding(result, "WVR002").message


# ----------------------------------------------------------------------------------- WVR003


def test_wvr003_rag001_is_not_waivable() -> None:
    # 'knowledge' in reasons: RAG001 fires (stage 1, recommends rag) at proposal.reasons, 12:1.
    text = HEAD.replace('reasons = ["format-consistency"]', 'reasons = ["format-consistency", "knowledge"]')
    result = check(text + waiver("RAG001"))
    assert_wvr_severities(result)
    rag = finding(result, "RAG001")
    assert (rag.line, rag.column, rag.severity, rag.waived) == (12, 1, "error", False)
    assert wvr(result) == [("WVR003", 41, 1, "waivers[0].rule")]
    assert decision(result) == ("fine-tune", "rag", "fail")


def test_wvr003_dat001_is_not_waivable() -> None:
    # 150 examples (high_quality defaults to them) < 200: DAT001 fires at [data], 37:1.
    # FMT001 (stage 3) still sets the recommendation before DAT001 (stage 4).
    text = HEAD.replace("examples = 6_000", "examples = 150")
    result = check(text + waiver("DAT001"))
    dat = finding(result, "DAT001")
    assert (dat.line, dat.column, dat.waived) == (37, 1, False)
    assert wvr(result) == [("WVR003", 41, 1, "waivers[0].rule")]
    assert decision(result) == ("fine-tune", "error-handling", "fail")


def test_wvr003_without_a_matching_finding_is_not_also_wvr005() -> None:
    # DAT001 does not fire on HEAD; the waiver's problem is WVR003, so no WVR005.
    result = check(HEAD + waiver("DAT001"))
    assert wvr(result) == [("WVR003", 41, 1, "waivers[0].rule")]


@pytest.mark.parametrize(
    "rule", ["MAN001", "MAN002", "MAN003", "WVR001", "WVR002", "WVR003", "WVR004", "WVR005"]
)
def test_wvr003_for_man_and_wvr_ids(rule: str) -> None:
    result = check(HEAD + waiver(rule))
    assert_wvr_severities(result)
    assert wvr(result) == [("WVR003", 41, 1, "waivers[0].rule")]
    assert decision(result) == ("fine-tune", "error-handling", "fail")


# ----------------------------------------------------------------------------------- WVR004

# From 2026-12-01: +30 = 2026-12-31, +61 = 2027-01-31, +89 = 02-28, +120 = 03-31,
# +150 = 04-30, +180 = 2027-05-30, +181 = 2027-05-31, +365 = 2027-12-01.


@pytest.mark.parametrize(
    "max_days, expires, too_long",
    [
        (180, "2027-05-30", False),  # exactly 180 days: allowed
        (180, "2027-05-31", True),  # 181
        (180, "2028-12-01", True),
        (30, "2026-12-31", False),
        (30, "2027-01-01", True),
        (0, "2026-12-01", False),  # today, with no horizon at all
        (0, "2026-12-02", True),
        (365, "2027-05-31", False),
        (365, "2027-12-01", False),
        (365, "2027-12-02", True),
    ],
)
def test_wvr004_horizon(max_days: int, expires: str, too_long: bool) -> None:
    days = (datetime.date.fromisoformat(expires) - TODAY).days  # checks the table's arithmetic
    assert (days > max_days) == too_long
    result = check(HEAD + waiver("FMT001", expires), max_days=max_days)
    assert_wvr_severities(result)
    if too_long:
        assert wvr(result) == [("WVR004", 41, 1, "waivers[0].rule")]
        assert not finding(result, "FMT001").waived
        assert decision(result)[2] == "fail"
    else:
        soon = [("WVR006", 41, 1, "waivers[0].rule")] if days <= 14 else []
        assert wvr(result) == soon
        assert finding(result, "FMT001").waived
        assert decision(result)[2] == "pass"


# --------------------------------------------------------------------------- several at once


@pytest.mark.parametrize(
    "rule, expires, expected",
    [
        ("FMT01", "2026-01-01", ["WVR001", "WVR002"]),  # expired and unknown
        ("FMT01", "2027-12-01", ["WVR002", "WVR004"]),  # unknown and too long
        ("RAG001", "2027-12-01", ["WVR003", "WVR004"]),  # not waivable and too long
        ("DAT001", "2026-01-01", ["WVR001", "WVR003"]),  # expired and not waivable
        ("MAN002", "2026-11-30", ["WVR001", "WVR003"]),
    ],
)
def test_every_applicable_wvr_is_reported(rule: str, expires: str, expected: list[str]) -> None:
    result = check(HEAD + waiver(rule, expires))
    assert_wvr_severities(result)
    assert wvr(result) == [(r, 41, 1, "waivers[0].rule") for r in expected]
    assert not finding(result, "FMT001").waived
    assert decision(result) == ("fine-tune", "error-handling", "fail")


def test_findings_are_sorted_by_line_then_rule() -> None:
    result = check(HEAD + waiver("FMT01", "2026-01-01"))
    assert [(f.rule, f.line) for f in result.findings] == [
        ("DAT004", 18),
        ("FMT001", 29),
        ("WVR001", 41),
        ("WVR002", 41),
    ]


# ----------------------------------------------------------------------------------- WVR005


def test_wvr005_matches_no_finding_is_a_warning() -> None:
    # DST001 needs cost-latency: it does not fire here.
    result = check(HEAD + waiver("DST001"))
    assert_wvr_severities(result)
    assert wvr(result) == [("WVR005", 41, 1, "waivers[0].rule")]
    assert not finding(result, "FMT001").waived
    assert decision(result) == ("fine-tune", "error-handling", "fail")  # because of FMT001 only


def test_wvr005_does_not_change_the_verdict() -> None:
    result = check(HEAD + waiver("FMT001") + waiver("DST001"))
    assert wvr(result) == [("WVR005", rule_line(1), 1, "waivers[1].rule")]
    assert finding(result, "FMT001").waived
    assert decision(result) == ("fine-tune", "error-handling", "pass")


def test_wvr005_for_later_duplicates_in_file_order() -> None:
    result = check(
        HEAD
        + waiver("FMT001", "2027-03-31", reason="first", owner="a")
        + waiver("FMT001", "2027-04-30", reason="second", owner="b")
        + waiver("FMT001", "2027-02-28", reason="third", owner="c")
    )
    assert_wvr_severities(result)
    assert wvr(result) == [
        ("WVR005", rule_line(1), 1, "waivers[1].rule"),
        ("WVR005", rule_line(2), 1, "waivers[2].rule"),
    ]
    assert finding(result, "FMT001").waiver == ("first", "a", "2027-03-31")
    assert decision(result) == ("fine-tune", "error-handling", "pass")


def test_a_broken_earlier_waiver_does_not_make_a_later_one_a_duplicate() -> None:
    result = check(
        HEAD
        + waiver("FMT001", "2026-06-30", reason="old", owner="a")  # expired: accepts nothing
        + waiver("FMT001", "2027-03-31", reason="renewed", owner="b")
    )
    assert wvr(result) == [("WVR001", 41, 1, "waivers[0].rule")]
    assert finding(result, "FMT001").waived
    assert finding(result, "FMT001").waiver == ("renewed", "b", "2027-03-31")
    assert decision(result) == ("fine-tune", "error-handling", "fail")  # WVR001 is an error


def test_a_broken_waiver_without_a_finding_is_not_also_wvr005() -> None:
    assert wvr(check(HEAD + waiver("DST001", "2026-01-01"))) == [("WVR001", 41, 1, "waivers[0].rule")]
    assert wvr(check(HEAD + waiver("DST001", "2028-01-01"))) == [("WVR004", 41, 1, "waivers[0].rule")]


# ----------------------------------------------------------------------- warnings and proposals


def test_waivers_accept_warnings() -> None:
    result = check(HEAD + waiver("DAT004"))
    assert finding(result, "DAT004").waived
    assert not finding(result, "FMT001").waived
    assert wvr(result) == []
    assert decision(result) == ("fine-tune", "error-handling", "fail")

    result = check(HEAD + waiver("DAT004") + waiver("FMT001"))
    assert finding(result, "DAT004").waived and finding(result, "FMT001").waived
    assert decision(result) == ("fine-tune", "error-handling", "pass")


PROMPTING = HEAD.replace('approach = "fine-tune"', 'approach = "prompting"')


def test_prompting_proposal_without_waivers() -> None:
    # Only advisory rules: DAT004 (warning). FMT001 is a fine-tuning rule.
    result = check(PROMPTING)
    assert [(f.rule, f.line) for f in result.findings] == [("DAT004", 18)]
    assert decision(result) == ("prompting", "prompting", "pass")


@pytest.mark.parametrize(
    "block, expected",
    [
        (waiver("DAT004", "2026-11-01"), "WVR001"),
        (waiver("DAT04", "2027-01-01"), "WVR002"),
        (waiver("RAG001", "2027-01-01"), "WVR003"),
        (waiver("DAT004", "2027-05-31"), "WVR004"),
    ],
)
def test_wvr001_to_004_are_errors_whatever_the_proposal(block: str, expected: str) -> None:
    result = check(PROMPTING + block)
    assert_wvr_severities(result)
    assert wvr(result) == [(expected, 41, 1, "waivers[0].rule")]
    assert not finding(result, "DAT004").waived
    assert decision(result) == ("prompting", "prompting", "fail")


def test_prompting_proposal_valid_waiver_and_unused_waiver() -> None:
    result = check(PROMPTING + waiver("DAT004") + waiver("FMT001"))
    assert finding(result, "DAT004").waived
    # FMT001 is not evaluated for a prompting proposal: that waiver matches nothing.
    assert wvr(result) == [("WVR005", rule_line(1), 1, "waivers[1].rule")]
    assert decision(result) == ("prompting", "prompting", "pass")


# ------------------------------------------------------------------------------- positions


def test_wvr_is_at_the_rule_key_wherever_it_is_in_the_waiver() -> None:
    text = HEAD + (
        "\n"  # 39
        "[[waivers]]\n"  # 40
        'owner = "payments-ml"\n'  # 41
        'reason = "ramp"\n'  # 42
        "expires = 2026-01-01\n"  # 43
        '  rule = "FMT01"  # typo\n'  # 44: the key starts at column 3
    )
    for raw in (text.encode(), text.replace("\n", "\r\n").encode(), ("\ufeff" + text).encode()):
        result = check(raw)
        assert wvr(result) == [("WVR001", 44, 3, "waivers[0].rule"), ("WVR002", 44, 3, "waivers[0].rule")]


def test_wvr_at_a_quoted_rule_key() -> None:
    text = HEAD + '\n[[waivers]]\n"rule" = "FMT01"\nreason = "r"\nowner = "o"\nexpires = 2027-01-01\n'
    assert wvr(check(text)) == [("WVR002", 41, 1, "waivers[0].rule")]


def test_wvr_in_an_inline_array_of_waivers() -> None:
    text = (
        "schema_version = 1\n"  # 1
        "waivers = [\n"  # 2
        '  { owner = "o", rule = "FMT01", reason = "r", expires = 2027-01-01 },\n'  # 3: rule at 18
        '  {rule="DST001", owner="o", reason="r", expires=2027-01-01},\n'  # 4: rule at 4
        "]\n"  # 5
    ) + HEAD.removeprefix("schema_version = 1\n")  # HEAD's line n is now line n + 4
    result = check(text)
    assert wvr(result) == [("WVR002", 3, 18, "waivers[0].rule"), ("WVR005", 4, 4, "waivers[1].rule")]
    assert [(f.rule, f.line, f.column) for f in result.findings if not f.rule.startswith("WVR")] == [
        ("DAT004", 22, 1),
        ("FMT001", 33, 1),
    ]


def test_second_waiver_position() -> None:
    result = check(HEAD + waiver("FMT001") + waiver("FMT01", "2026-01-01"))
    assert wvr(result) == [
        ("WVR001", rule_line(1), 1, "waivers[1].rule"),
        ("WVR002", rule_line(1), 1, "waivers[1].rule"),
    ]
    assert rule_line(1) == 47
    assert finding(result, "FMT001").waived


# ------------------------------------------------------------------- invalid manifests, no waivers


def test_a_manifest_with_man_findings_gets_no_waiver_checks() -> None:
    # The second waiver's owner (header 46, rule 47, reason 48, owner 49) is blank; the first
    # waiver has expired and the second matches nothing: neither WVR001 nor WVR005 is reported.
    text = HEAD + waiver("FMT001", "2026-01-01") + waiver("DST001", owner="  ")
    result = engine_for().check("mlproject.toml", text.encode())
    assert [(f.rule, f.line, f.column, f.key) for f in result.findings] == [("MAN002", 49, 1, "waivers[1].owner")]
    assert decision(result) == ("fine-tune", None, "fail")


# --------------------------------------------------- a waiver accepts every finding of its rule


def test_a_waiver_accepts_every_finding_of_its_rule() -> None:
    """The built-in policies fire at most once each, so two findings of one rule come from here."""
    text = HEAD + waiver("FMT001")
    source = Source("mlproject.toml", text)
    findings = [
        Finding("FMT001", "format-volume-too-low", "error", "one", "volume", 29, 1, "error-handling"),
        Finding("DAT004", "score-inconclusive", "warning", "two", "evaluation.prompting", 18, 1),
        Finding("FMT001", "format-volume-too-low", "error", "three", "downstream", 32, 1, "error-handling"),
    ]
    waivers = [{"rule": "FMT001", "reason": "ramp", "owner": "payments-ml", "expires": datetime.date(2027, 3, 31)}]
    out = apply_waivers(source, waivers, findings, {"FMT001": True, "DAT004": True}, TODAY, 180)
    assert [(f.rule, f.message, f.waived) for f in out] == [
        ("FMT001", "one", True),
        ("DAT004", "two", False),
        ("FMT001", "three", True),
    ]
    assert all(f.waiver == ("ramp", "payments-ml", "2027-03-31") for f in out if f.waived)


# --------------------------------------------- waivers of rules that did not run (Clarifications)


def ignoring(*ids: str) -> Engine:
    return Engine([load_pack(builtin_pack_path())], options=EngineOptions(today=TODAY, off=frozenset(ids)))


def test_a_waiver_of_a_rule_turned_off_is_neither_used_nor_stale() -> None:
    result = ignoring("FMT001").check("mlproject.toml", (HEAD + waiver("FMT001")).encode())
    assert wvr(result) == []  # no WVR005: the rule did not run, so the waiver is moot
    assert all(f.rule != "FMT001" for f in result.findings)


def test_a_waiver_of_a_rule_turned_off_still_gets_wvr001_to_wvr004() -> None:
    text = HEAD + waiver("FMT001", "2026-11-30") + waiver("FMT001", "2027-12-31")
    result = ignoring("FMT001").check("mlproject.toml", text.encode())
    assert [w[0] for w in wvr(result)] == ["WVR001", "WVR004"]


def test_a_waiver_of_a_rule_outside_the_proposals_family_did_run_and_is_stale() -> None:
    prompting = HEAD.replace('approach = "fine-tune"', 'approach = "prompting"')
    result = check(prompting + waiver("FMT001"))
    assert [w[0] for w in wvr(result)] == ["WVR005"]  # FMT001 was on; it cannot fire for prompting


@pytest.mark.parametrize("approach", ["fine-tune", "distill", "prompting", "rag"])
def test_a_waiver_of_prm001_is_wvr003_whatever_the_proposal(approach: str) -> None:
    text = HEAD.replace('approach = "fine-tune"', f'approach = "{approach}"') + waiver("PRM001")
    result = check(text)
    assert [w[0] for w in wvr(result)] == ["WVR003"]
    assert "may not be waived" in next(f.message for f in result.findings if f.rule == "WVR003")


# ----------------------------------------------------------------------------------- WVR006


@pytest.mark.parametrize(
    ("warn_days", "expires", "warns", "when"),
    [
        (14, "2026-12-15", True, "in 14 days, on 2026-12-15"),  # exactly 14 days: warns
        (14, "2026-12-16", False, ""),  # 15 days: does not
        (14, "2026-12-01", True, "today"),  # runs out today (still valid)
        (14, "2026-12-02", True, "in 1 day, on 2026-12-02"),
        (0, "2026-12-01", True, "today"),
        (0, "2026-12-02", False, ""),
        (30, "2026-12-31", True, "in 30 days, on 2026-12-31"),
    ],
)
def test_wvr006_warns_before_a_valid_waiver_runs_out(warn_days: int, expires: str, warns: bool, when: str) -> None:
    engine = Engine([load_pack(builtin_pack_path())], options=EngineOptions(today=TODAY, waiver_warn_days=warn_days))
    result = engine.check("mlproject.toml", (HEAD + waiver("FMT001", expires, owner="payments-ml")).encode())
    assert finding(result, "FMT001").waived
    assert decision(result) == ("fine-tune", "error-handling", "pass")
    if warns:
        assert wvr(result) == [("WVR006", 41, 1, "waivers[0].rule")]
        (soon,) = [f for f in result.findings if f.rule == "WVR006"]
        assert soon.severity == "warning"
        assert soon.message == (
            f"the waiver for FMT001 (owner payments-ml) runs out {when}; renew it with a new expiry date or fix "
            "the finding before it fails the build"
        )
    else:
        assert wvr(result) == []


def test_wvr006_only_for_waivers_without_other_problems() -> None:
    # Stale (WVR005) and expired (WVR001) waivers get their own finding, never WVR006 as well.
    result = check(HEAD + waiver("DAT002", "2026-12-02") + waiver("FMT001", "2026-11-30"))
    assert [w[0] for w in wvr(result)] == ["WVR005", "WVR001"]
