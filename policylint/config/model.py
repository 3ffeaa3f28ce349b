"""Values that carry their origin: what is in force for a manifest, and who set each part.

A setting is only as trustworthy as whoever set it, so every value travels with its
:class:`Origin` (the built-in pack, a plugin, the organisation's file, a repository file, a
flag): tighten-only checks, error messages, ``policylint config`` and the reports all read it
from here instead of from a table of keys kept on the side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

T = TypeVar("T")

#: Who may set what (configuration.md): the organisation may loosen, a repository only tighten.
Layer = Literal["built-in", "plugin", "org", "repo", "flag"]
#: Layers that may make the gate easier to pass.
TRUSTED: frozenset[str] = frozenset({"built-in", "plugin", "org"})


@dataclass(frozen=True)
class Origin:
    """Where a value was set: ``label`` for people, ``locate`` to prefix an error about it."""

    layer: Layer
    #: ``built-in pack``, ``plugin NAME (dist VERSION)``, ``org config FILE:LINE``, ``FILE:LINE``, ``flag --name``.
    label: str
    #: ``FILE:LINE:COL: key`` for a file, ``--param NAME=VALUE`` for a flag.
    locate: str = ""

    @property
    def trusted(self) -> bool:
        return self.layer in TRUSTED

    def set_by(self) -> str:
        """``set by the built-in pack`` / ``set by policylint.toml:3``."""
        return f"set by {'the ' if self == BUILT_IN else ''}{self.label}"

    def __str__(self) -> str:
        return self.label


BUILT_IN = Origin("built-in", "built-in pack", "the built-in pack")


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One value and who set it."""

    value: T
    origin: Origin = BUILT_IN

    @property
    def changed(self) -> bool:
        """Whether anyone but the built-in pack set it (reports list only those)."""
        return self.origin.layer != "built-in"


@dataclass(frozen=True)
class InForce:
    """Everything one manifest is checked with, each part with its origin.

    Built by :mod:`policylint.config.layers`, one layer at a time; manifests that share a chain
    of configuration files share one of these.
    """

    params: dict[str, Setting[Any]] = field(default_factory=dict)
    #: Every known rule's severity.
    severity: dict[str, Setting[str]] = field(default_factory=dict)
    #: Rules turned off, and who turned each off.
    off: dict[str, Origin] = field(default_factory=dict)
    fail_on: Setting[str] = Setting("error")
    max_waiver_days: Setting[int] = Setting(180)
    #: How many days before a waiver runs out WVR006 warns (any layer may change it: a warning).
    waiver_warn_days: Setting[int] = Setting(14)
    #: Rule ids no waiver may accept beyond those the packs declare so (``non-waivable``).
    non_waivable: dict[str, Origin] = field(default_factory=dict)
    policy_paths: tuple[Setting[Path], ...] = ()
    #: Globs, each with the folder it is relative to.
    exclude: tuple[Setting[tuple[Path, str]], ...] = ()
    disabled_plugins: tuple[Setting[str], ...] = ()
    #: ``pack-versions``: the version of each pack adopted, and who pinned it. A pack not listed
    #: is adopted at its current version (every rule in force as declared).
    pack_versions: dict[str, Setting[str]] = field(default_factory=dict)
    #: ``baseline``: the baseline file and who set it (None: no baseline). A repository sets it;
    #: once set, only the organisation may point it elsewhere or remove it.
    baseline: Setting[Path | None] = Setting(None)
    #: The configuration files applied, outermost first (the organisation's first).
    files: tuple[Path, ...] = ()

    def params_key(self) -> tuple[tuple[str, Any], ...]:
        """What a compiled rule set depends on besides the packs: the parameter values."""
        return tuple(sorted((name, setting.value) for name, setting in self.params.items()))
