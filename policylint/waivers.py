"""Waivers: a manifest accepts one rule's findings for a limited time, on someone's name.

A waiver never changes the recommendation: it marks findings as accepted, and the verdict
ignores accepted errors. Each waiver problem is a WVR finding at the waiver's ``rule`` key.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from policylint.findings import Finding, Waiver
from policylint.manifest import Source
from policylint.schema import did_you_mean
from policylint.wording import plural

DEFAULT_MAX_WAIVER_DAYS = 180
#: WVR006 warns when a valid waiver runs out within this many days (configuration:
#: ``waiver-warn-days``), so its owner renews it or fixes the finding before the build breaks.
DEFAULT_WAIVER_WARN_DAYS = 14

WAIVER_RULES = {
    "WVR001": ("waiver-expired", "error", "The waiver's expiry date has passed."),
    "WVR002": ("waiver-unknown-rule", "error", "The waiver names a rule that does not exist."),
    "WVR003": ("waiver-not-allowed", "error", "The waiver names a rule that may not be waived."),
    "WVR004": ("waiver-too-long", "error", "The waiver runs further ahead than the longest waiver allowed."),
    "WVR005": ("waiver-unused", "warning", "The waiver accepts nothing: no finding of its rule, or an earlier waiver already accepts them."),
    "WVR006": ("waiver-expires-soon", "warning", "The waiver runs out soon: renew it or fix the finding before it fails the build."),
}


def apply_waivers(
    source: Source,
    waivers: Sequence[Mapping[str, Any]],
    findings: list[Finding],
    waivable: Mapping[str, bool],
    today: datetime.date,
    max_days: int = DEFAULT_MAX_WAIVER_DAYS,
    not_run: frozenset[str] = frozenset(),
    warn_days: int = DEFAULT_WAIVER_WARN_DAYS,
) -> list[Finding]:
    """``findings`` with accepted ones marked waived, followed by the WVR findings.

    ``waivable`` maps every known rule id to whether a waiver may accept it. A waiver of a rule
    in ``not_run`` (turned off by configuration) is neither used nor stale: no WVR005. A waiver
    with none of WVR001-WVR005 that expires within ``warn_days`` days gets WVR006.
    """
    problems: list[Finding] = []
    accepted: dict[str, Waiver] = {}
    for index, waiver in enumerate(waivers):
        rule, expires = waiver["rule"], waiver["expires"]
        key_path = ("waivers", index, "rule")

        def report(rule_id: str, message: str) -> None:
            name, severity, _ = WAIVER_RULES[rule_id]
            problems.append(source.finding(rule_id, name, severity, message, key_path))  # type: ignore[arg-type]  # noqa: B023

        before = len(problems)
        if expires < today:
            report("WVR001", f"the waiver for {rule} expired on {expires.isoformat()}; renew it or fix the finding")
        if rule not in waivable:
            report("WVR002", f"no rule {rule!r} exists{did_you_mean(rule, waivable)}")
        elif not waivable[rule]:
            report("WVR003", f"{rule} may not be waived; the finding has to be fixed")
        if (expires - today).days > max_days:
            report(
                "WVR004",
                f"the waiver runs until {expires.isoformat()}, {(expires - today).days} days from today; "
                f"waivers may run at most {max_days} days",
            )
        if len(problems) > before or rule in not_run:
            continue  # a waiver with any problem accepts nothing; one of a rule not run is moot
        if rule in accepted:
            report("WVR005", f"an earlier waiver already accepts {rule}; remove this one")
            continue
        if not any(f.rule == rule for f in findings):
            report("WVR005", f"nothing to waive: {rule} has no finding in this manifest; remove the waiver")
            continue
        accepted[rule] = Waiver(waiver["reason"], waiver["owner"], expires.isoformat())
        days_left = (expires - today).days
        if days_left <= warn_days:
            when = "today" if days_left == 0 else f"in {plural(days_left, 'day')}, on {expires.isoformat()}"
            report(
                "WVR006",
                f"the waiver for {rule} (owner {waiver['owner']}) runs out {when}; renew it with a new expiry "
                f"date or fix the finding before it fails the build",
            )
    marked = [
        f._replace(waived=True, waiver=accepted[f.rule]) if f.rule in accepted else f for f in findings
    ]
    return marked + problems
