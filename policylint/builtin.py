"""The built-in policy pack, registered through the same hook a third-party pack uses."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

import pluggy

hookimpl = pluggy.HookimplMarker("policylint")


def builtin_pack_path() -> Path:
    """The pack shipped inside the wheel, or ``policies/`` beside the package in a checkout."""
    shipped = Path(str(files("policylint"))) / "_builtin_policies"
    if shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parent.parent / "policies"


@hookimpl
def policylint_policy_packs() -> Sequence[Path]:
    return [builtin_pack_path()]
