"""The shortcuts :func:`policylint.manifest.validate` takes for a well-formed manifest give the
answers of the checks they skip.

For a manifest :func:`policylint.validator.is_clean` accepts, ``validate`` asks
``_agree_between_keys`` before running ``_cross_field_problems``: these tests hold the first to
saying "nothing to report" exactly when the second finds nothing, on manifests drawn to put
every count, rate and approach the checks compare next to its bounds, and ``validate`` to what
it returned before the shortcut (the problems between keys, bounded). Malformed manifests take
the full walk, compared with pydantic in tests/test_validator_equivalence.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from policylint import manifest, validator
from policylint.manifest import Source
from policylint.packtest import to_toml

PROPERTY = settings(max_examples=1500, deadline=None, database=None, suppress_health_check=list(HealthCheck))

#: Counts near each other, so that equal, smaller and larger all come up; and the bounds.
COUNTS = st.integers(0, 6) | st.sampled_from([10**12, 10**12 - 1])
RATES = st.integers(0, 10**12) | st.floats(0, 1e12)
APPROACHES = ["prompting", "rag", "fine-tune", "distill", "collect-data", "error-handling"]
KINDS = ["classification", "extraction", "generation", "summarization", "reasoning", "other"]
SOURCES = ["human-labeled", "frontier-generated", "production-logs", "mixed", "none"]
REASONS = ["format-consistency", "cost-latency", "knowledge"]


def _some(draw: st.DrawFn, options: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    """A table holding some of ``options``' keys, in a drawn order."""
    keys = draw(st.permutations(list(options)))
    return {key: draw(options[key]) for key in keys if draw(st.booleans())}


@st.composite
def clean_manifests(draw: st.DrawFn) -> dict[str, Any]:
    """Well-formed manifests that vary the keys the problems between keys read."""
    task = {"kind": draw(st.sampled_from(KINDS)), **_some(draw, {"reasoning": st.booleans(), "narrow": st.booleans()})}
    proposal = {"approach": draw(st.sampled_from(APPROACHES)), **_some(draw, {"reasons": st.lists(st.sampled_from(REASONS), max_size=2)})}
    data: dict[str, Any] = {"schema_version": 1, "project": {"name": "n"}, "task": task, "proposal": proposal}
    if draw(st.booleans()):
        data["volume"] = _some(draw, {"requests_per_day": RATES, "requests_per_month": RATES})
    if draw(st.booleans()):
        data["data"] = _some(draw, {
            "examples": COUNTS, "high_quality": COUNTS, "domain_examples": COUNTS, "source": st.sampled_from(SOURCES),
        })
    assume(validator.is_clean(data))
    return data


def _problems_between_keys(data: dict[str, Any]) -> tuple[Source, list[Any]]:
    source = Source("m.toml", to_toml(data))
    return source, manifest._cross_field_problems(source, data, set())


@PROPERTY
@given(clean_manifests())
def test_agreeing_between_keys_is_having_no_problem_between_keys(data: dict[str, Any]) -> None:
    _, problems = _problems_between_keys(data)
    assert manifest._agree_between_keys(data) == (problems == [])


@PROPERTY
@given(clean_manifests())
def test_a_clean_manifest_is_validated_as_before(data: dict[str, Any]) -> None:
    """Before the shortcut, a clean manifest without ext tables got its problems between keys, bounded."""
    source, problems = _problems_between_keys(data)
    assert manifest.validate(source, data, {}) == manifest._bounded(problems)


MINIMAL: dict[str, Any] = {"schema_version": 1, "project": {"name": "n"}, "task": {"kind": "other"}, "proposal": {"approach": "rag"}}


@pytest.mark.parametrize(
    "tables, agree",
    [
        ({}, True),
        ({"volume": {"requests_per_day": 1, "requests_per_month": 30.0}}, False),
        ({"volume": {"requests_per_month": 30.0}}, True),
        ({"task": {"kind": "reasoning", "reasoning": False}}, False),
        ({"task": {"kind": "reasoning", "reasoning": True}}, True),
        ({"task": {"kind": "other", "reasoning": False}}, True),
        ({"proposal": {"approach": "fine-tune"}}, False),
        ({"proposal": {"approach": "fine-tune", "reasons": []}}, False),
        ({"proposal": {"approach": "fine-tune", "reasons": ["knowledge"]}}, True),
        ({"proposal": {"approach": "distill"}}, True),
        ({"data": {"examples": 3, "high_quality": 4}}, False),
        ({"data": {"examples": 3, "high_quality": 3, "domain_examples": 3}}, True),
        ({"data": {"examples": 5, "high_quality": 3, "domain_examples": 4}}, False),
        ({"data": {"examples": 3, "domain_examples": 4}}, False),
        ({"data": {"high_quality": 3, "domain_examples": 4}}, False),
        ({"data": {"domain_examples": 4}}, True),
        ({"data": {"examples": 1, "source": "none"}}, False),
        ({"data": {"examples": 0, "source": "none"}}, True),
        ({"data": {"source": "none"}}, True),
    ],
)
def test_each_problem_between_keys_is_seen(tables: dict[str, Any], agree: bool) -> None:
    data = {**MINIMAL, **tables}
    assert validator.is_clean(data)
    _, problems = _problems_between_keys(data)
    assert manifest._agree_between_keys(data) is agree is (problems == [])
