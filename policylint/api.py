"""Everything a plugin imports from policylint, in one module that refactors do not move.

A plugin written against these names keeps working when policylint's internal modules are
split or renamed (pluggy's ``__init__`` re-exports its private modules the same way). What a
plugin may implement is documented on each hook in :mod:`policylint.hookspecs`; tests use
:mod:`policylint.testing`. ``docs/plugins.md`` is the guide.
"""

from __future__ import annotations

import pluggy

from policylint.checks import Check
from policylint.errors import PluginError
from policylint.expr import Function
from policylint.findings import Decision, Finding, ManifestResult, RuleInfo, Summary, Waiver
from policylint.reports import Reporter, ReportContext, Tally
from policylint.schema import ABSENT, MAX_QUANTITY, Count, FieldType, Fraction, Text, Volume

#: Decorates a plugin's hook implementations (the hooks are in :mod:`policylint.hookspecs`).
hookimpl = pluggy.HookimplMarker("policylint")

__all__ = [
    # writing hooks
    "hookimpl",
    # policylint_checks: a rule in Python
    "Check",
    # policylint_manifest_tables: the value types of the core tables, for [ext.<name>] models
    "Count",
    "Fraction",
    "Text",
    "Volume",
    "MAX_QUANTITY",
    "FieldType",
    # policylint_condition_functions: a typed function; a value that is not in the manifest
    "Function",
    "ABSENT",
    # policylint_report_formats: a reporter and what it receives and returns
    "Reporter",
    "ReportContext",
    "Tally",
    "ManifestResult",
    "Decision",
    "Finding",
    "Waiver",
    "RuleInfo",
    "Summary",
    # a plugin's failure, named in the one-line error of exit 2
    "PluginError",
]
