"""GOV100: the proposal's estimated serving cost against the project's monthly budget.

A condition could compare two numbers, but not say by how much the budget is missed or which
price was assumed: a message template interpolates fields and parameters, not sums. This check
prices the declared volume by model tier, falls back to the frontier price when the tier is
not declared, and words the overrun in dollars, so it is Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from policylint.api import Check

#: The pack parameter that holds each tier's price per 1,000 requests.
PRICE_PARAMS = {
    "frontier": "frontier_cost_per_1k_requests_usd",
    "small": "small_cost_per_1k_requests_usd",
}
#: A model of unknown size is priced as the expensive kind: an estimate that errs, errs safe.
ASSUMED_TIER = "frontier"


@dataclass(frozen=True)
class Estimate:
    """A month of serving: how many requests, at which tier's price, for how much."""

    requests_per_month: float
    tier: str
    tier_assumed: bool
    price_per_1k: float

    @property
    def cost(self) -> float:
        return self.requests_per_month / 1000 * self.price_per_1k

    def requests_covered_by(self, budget: float) -> float:
        """How many requests a month ``budget`` pays for at this price."""
        return budget / self.price_per_1k * 1000 if self.price_per_1k else float("inf")


def estimate(namespace: Mapping[str, Any], params: Mapping[str, Any]) -> Estimate | None:
    """The serving cost of the declared volume, or None when the volume is not known."""
    per_month = namespace.get("volume.per_month")  # a derived fact: requests_per_day * 30 if given per day
    if per_month is None:
        return None
    declared = namespace.get("proposal.model_tier")  # "small" for distill, a default policylint applies
    tier = declared if declared in PRICE_PARAMS else ASSUMED_TIER
    return Estimate(per_month, tier, declared is None, params[PRICE_PARAMS[tier]])


def over_budget(namespace: Mapping[str, Any], params: Mapping[str, Any]) -> str | None:
    """GOV100's ``run``: a message when the estimate exceeds the declared budget, else None."""
    budget = namespace.get("ext.governance.monthly_budget_usd")
    serving = estimate(namespace, params)
    if budget is None or serving is None or serving.cost <= budget:
        return None
    priced = f"{serving.tier}-tier price" + (" (proposal.model_tier is not set)" if serving.tier_assumed else "")
    return (
        f"estimated serving cost {_usd(serving.cost)}/month ({_count(serving.requests_per_month)} requests/month "
        f"at {_usd(serving.price_per_1k)} per 1,000, {priced}) exceeds the monthly budget of {_usd(budget)} "
        f"by {_usd(serving.cost - budget)}; the budget covers {_count(serving.requests_covered_by(budget))} "
        "requests/month: cut the volume, choose a smaller model, or agree a higher budget with its owner"
    )


def _usd(amount: float) -> str:
    return f"${amount:,.2f}" if amount < 100 else f"${amount:,.0f}"


def _count(value: float) -> str:
    return f"{value:,.0f}"


SERVING_COST = Check(
    id="GOV100",
    name="serving-cost-over-budget",
    title="Estimated serving cost exceeds the monthly budget",
    severity="warning",
    waivable=True,
    applies_to="any",
    points_at="ext.governance.monthly_budget_usd",
    framework="Governance: cost control",
    rationale=(
        "The declared volume priced at the organisation's negotiated rates (per model tier, "
        "parameters frontier_cost_per_1k_requests_usd and small_cost_per_1k_requests_usd) should "
        "fit the budget the project was given. An overrun is a warning, not a gate: the budget "
        "owner decides, and the estimate is only as good as the declared volume. It recommends no "
        "other approach, because any approach serves the same requests. An organisation that wants "
        "overruns to fail the build sets severity GOV100 = \"error\" in its configuration."
    ),
    run=over_budget,
)
