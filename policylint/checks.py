"""Python checks: rules for logic a condition cannot express, contributed by plugins.

A check carries the same fields as a declarative policy, so its findings look the same in every
report and it takes part in the decision order like any policy. Only its condition is code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from policylint.findings import RECOMMENDATIONS



@dataclass(frozen=True)
class Check:
    """A rule implemented in Python.

    ``run(manifest, params)`` receives the manifest's namespace (read-only ``{dotted path:
    value}``, the same fields and derived facts conditions read; absent keys are not in it) and
    the resolved parameter values. It returns None when the rule does not fire, or the message
    of each finding. It must be pure: it runs once per manifest, maybe in a worker process.
    """

    id: str
    name: str
    title: str
    severity: Literal["error", "warning"]
    points_at: str
    rationale: str
    run: Callable[[Mapping[str, Any], Mapping[str, Any]], Any]
    waivable: bool = True
    applies_to: Literal["fine-tuning", "other", "any"] = "fine-tuning"
    recommends: str | None = None
    order: int | None = None
    framework: str | None = None
    aliases: tuple[str, ...] = ()

    def problems(self) -> list[str]:
        """What is malformed in this declaration (empty when it is sound)."""
        found = []
        if not re.fullmatch(r"[A-Z]{2,6}[0-9]{3}", str(self.id)):
            found.append(f"id {self.id!r} is not a rule id (2-6 capitals and 3 digits)")
        if not re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", str(self.name)):
            found.append(f"name {self.name!r} is not kebab-case")
        if self.severity not in ("error", "warning"):
            found.append(f"severity {self.severity!r} is not 'error' or 'warning'")
        if self.applies_to not in ("fine-tuning", "other", "any"):
            found.append(f"applies_to {self.applies_to!r} is not 'fine-tuning', 'other' or 'any'")
        if self.recommends is not None and self.recommends not in RECOMMENDATIONS:
            found.append(f"recommends {self.recommends!r} is not one of {', '.join(RECOMMENDATIONS)}")
        if (self.recommends is None) != (self.order is None):
            found.append("a check that recommends must set its decision order, and only such a check may")
        if not callable(self.run):
            found.append("run is not callable")
        for text in ("title", "rationale", "points_at"):
            if not isinstance(getattr(self, text), str) or not getattr(self, text).strip():
                found.append(f"{text} must be a non-blank string")
        return found


def messages(outcome: Any) -> list[str]:
    """A check's return value as a list of messages; anything else is a plugin bug."""
    if outcome is None:
        return []
    if isinstance(outcome, str):
        return [outcome]
    if isinstance(outcome, Iterable) and not isinstance(outcome, (bytes, Mapping)):
        items = list(outcome)
        if all(isinstance(item, str) for item in items):
            return items
    raise TypeError(f"expected None, a message or a list of messages, got {type(outcome).__name__}")
