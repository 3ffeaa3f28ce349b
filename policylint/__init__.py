"""policylint: a declarative policy-as-code linter for ML project manifests."""

from __future__ import annotations

from typing import Any

from policylint._version import __version__

__all__ = ["__version__", "hookimpl"]


def __getattr__(name: str) -> Any:
    # Lazy, so that `policylint --version` and `--help` do not import pluggy.
    if name == "hookimpl":
        import pluggy

        #: Decorates a plugin's hook implementations (see :mod:`policylint.hookspecs`).
        return pluggy.HookimplMarker("policylint")
    raise AttributeError(name)
