"""Hook specifications: everything a plugin can contribute, documented where it is declared.

policylint's own policy pack and report formats are registered through these same hooks (see
:data:`policylint.plugins.BUILTIN_PLUGINS`). A plugin implements any subset with
``@policylint.hookimpl``. Every hook is called once per run, when the engine is built; each
plugin's answer is checked, and a plugin that raises or answers with malformed data stops the
run with exit 2, naming the plugin. pluggy calls the last-registered plugin first, so callers
sort what hooks return: answers never depend on registration order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

    from pydantic import BaseModel

    from policylint.checks import Check
    from policylint.reports import Reporter

hookspec = pluggy.HookspecMarker("policylint")

# -------------------------------------------------------------------------------------------
# Policies
# -------------------------------------------------------------------------------------------


@hookspec
def policylint_policy_packs() -> Sequence[Path]:
    """Offer policy packs: folders holding a ``pack.toml`` and one TOML file per policy.

    Packs are read and compiled when the run starts. A pack that cannot be read, a condition
    that does not compile, or a rule id that another pack already uses stops the run (exit 2).

    :returns: Folders; an empty sequence if the plugin offers none.
    """


@hookspec
def policylint_param_defaults() -> Mapping[str, object]:
    """Change the default value of pack parameters (an organisation's quality bar, say).

    Part of the organisation layer (configuration.md): applied over the packs' own defaults, in
    either direction, and before the organisation's file. Repository files and flags may then
    only move a parameter in its ``stricter`` direction. Naming a parameter that no pack
    declares, or giving a value of the wrong type, stops the run. Two plugins setting the same
    parameter stop the run too: the answer would depend on order.

    :returns: Parameter name -> value.
    """


@hookspec
def policylint_org_settings() -> Mapping[str, object]:
    """Set the organisation's settings beyond parameter defaults: how a platform team's plugin
    makes a rule an error, non-waivable, or caps how long waivers may run.

    The answer has the keys of a configuration file (``severity``, ``non-waivable``,
    ``max-waiver-days``, ``fail-on``, ``select``, ``extend-select``, ``ignore``, ``params``), checked
    like a file's. It is part of the organisation layer: applied after every plugin's
    ``policylint_param_defaults`` and before the organisation's file (``POLICYLINT_ORG_CONFIG``),
    plugins in name order, and it may loosen as well as tighten. Each value's origin is the
    plugin (``plugin NAME (dist VERSION)``) in ``policylint config`` and the reports. A key
    outside that list, or a bad value, stops the run (exit 2), naming the plugin.

    :returns: Configuration key -> value; empty if the plugin sets none.
    """


@hookspec
def policylint_condition_functions() -> Mapping[str, Callable[..., object]]:
    """Offer functions that policy conditions may call by name.

    Functions must be pure and fast: they run once per manifest per condition that calls them.
    Absent arguments never reach them (a call with an absent argument is itself absent). The
    function's docstring is shown by ``policylint plugins``; its positional parameter count is
    checked against each call when the packs load.

    :returns: Function name -> callable. A name already taken stops the run.
    """


@hookspec
def policylint_checks() -> Sequence[Check]:
    """Offer rules written in Python, for logic a condition cannot express.

    A :class:`policylint.checks.Check` declares the same fields as a policy file (id, name,
    title, severity, waivable, applies_to, recommends, order, points_at, rationale) plus
    ``run(manifest, params)``, which returns None or the message of each finding. Checks take
    part in the decision order like policies. A malformed check, an id another rule uses, or a
    ``run`` that raises or returns anything but messages stops the run (exit 2), naming the
    plugin.

    :returns: Checks; an empty sequence if the plugin offers none.
    """


# -------------------------------------------------------------------------------------------
# Manifest
# -------------------------------------------------------------------------------------------


@hookspec
def policylint_manifest_tables() -> Mapping[str, type[BaseModel]]:
    """Claim ``[ext.<name>]`` tables of the manifest, each validated by a pydantic model.

    The model must forbid unknown keys (``extra="forbid"``); its errors are reported as MAN002
    findings at their key, and its fields become ``ext.<name>.<field>`` paths that conditions
    may read. An ``[ext.<name>]`` table no loaded plugin claims is itself a MAN002 finding.

    :returns: Table name -> model class. Two plugins claiming one name stop the run.
    """


# -------------------------------------------------------------------------------------------
# Reports
# -------------------------------------------------------------------------------------------


@hookspec
def policylint_report_formats() -> Mapping[str, Reporter]:
    """Offer report formats by name (the values of ``--format``).

    A reporter receives the manifests' results one at a time, in path order, and writes to a
    text stream; see :class:`policylint.reports.Reporter`.

    :returns: Format name -> reporter. Two plugins offering the same name stop the run.
    """
