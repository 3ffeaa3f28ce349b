"""``[ext.governance]``: the fields every governed project declares in its manifest.

The model follows the core tables' rules (``spec/manifest.md``): unknown keys are errors,
types are exact, and an absent optional key means "not known". The annotated types from
:mod:`policylint.api` give the same error messages as the core tables (a blank string, a
negative or infinite number).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from policylint.api import Text, Volume

RiskTier = Literal["low", "medium", "high"]


class GovernanceTable(BaseModel):
    """What the governance board needs to know about a project."""

    # extra="forbid" is required: policylint refuses a model that accepts unknown keys.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    risk_tier: RiskTier = Field(description="The project's risk classification, set by the risk review.")
    budget_owner: Text | None = Field(default=None, description="Who answers for the project's spend.")
    personal_data: bool = Field(default=False, description="Training, evaluation or retrieval data holds personal data.")
    privacy_review: Text | None = Field(default=None, description="The privacy review's id, such as PRV-2026-014.")
    monthly_budget_usd: Volume | None = Field(default=None, description="What the project may spend on serving each month.")
