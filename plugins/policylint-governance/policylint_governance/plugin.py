"""The hook implementations: what this plugin adds to policylint.

Each hook is called once per run, when policylint builds its engine; its answer is checked,
and a mistake here stops the run with exit 2, naming this plugin. See
``policylint/hookspecs.py`` for the contract of every hook; everything this plugin
imports from policylint comes from :mod:`policylint.api`, the plugins' one stable module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel

from policylint.api import Check, Reporter, hookimpl
from policylint_governance.cost import SERVING_COST
from policylint_governance.functions import is_review_id
from policylint_governance.report import render_csv
from policylint_governance.table import GovernanceTable

#: The declarative pack (GOV001-GOV003), shipped inside the package.
PACK = Path(__file__).resolve().parent / "policies"


@hookimpl
def policylint_manifest_tables() -> Mapping[str, type[BaseModel]]:
    return {"governance": GovernanceTable}


@hookimpl
def policylint_policy_packs() -> Sequence[Path]:
    return [PACK]


@hookimpl
def policylint_condition_functions() -> Mapping[str, Callable[..., object]]:
    return {"is_review_id": is_review_id}


@hookimpl
def policylint_param_defaults() -> Mapping[str, object]:
    # The organisation's quality bar is stricter than the built-in 0.85. A project's own
    # configuration (params in [tool.policylint], or --param) still wins over this.
    return {"quality_bar": 0.88}


@hookimpl
def policylint_checks() -> Sequence[Check]:
    return [SERVING_COST]


@hookimpl
def policylint_report_formats() -> Mapping[str, Reporter]:
    return {"governance-csv": render_csv}
