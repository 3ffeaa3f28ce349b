"""Regression tests for the coverage-guided fuzz harness (``fuzz/``, see ``docs/fuzzing.md``).

The harness needs atheris, which CI does not install; these tests do not. They run the same
target functions (``fuzz/targets.py``) on:

- the seed corpus ``fuzz/corpus/<target>/``: every seed meets its target's contract, so a
  change that breaks one is caught here before anyone fuzzes;
- every crash a fuzzing run found, minimised, one test each: a strict ``xfail`` naming the
  exception and where it is raised until the package is fixed, then a plain test.

Runs so far (each target at least 600 s; figures in issue 11's note): no crash, timeout or
out-of-memory in ``manifest``, ``positions``, ``expr`` or ``eval``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
import tomli

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"


def _load_targets() -> ModuleType:
    spec = importlib.util.spec_from_file_location("policylint_fuzz_targets", FUZZ / "targets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


targets = _load_targets()


def seeds(target: str) -> list[Path]:
    return sorted((FUZZ / "corpus" / ("expr" if target == "eval" else target)).iterdir())


@pytest.mark.parametrize("target", targets.TARGETS)
def test_seed_corpus_meets_the_contract(target: str) -> None:
    found = seeds(target)
    assert found, f"fuzz/corpus/{target} is empty: run python fuzz/make_corpus.py"
    for seed in found:
        targets.FUNCTIONS[target](seed.read_bytes())


def test_structural_mutation_keeps_toml() -> None:
    """The manifest target's custom mutator writes TOML that tomli reads back."""
    written = 0
    for seed in seeds("manifest"):
        for n in range(20):
            out = targets.structural_mutation(seed.read_bytes(), 1 << 20, n)
            if out is not None:
                tomli.loads(out.decode("utf-8"))
                targets.fuzz_manifest(out)
                written += 1
    assert written > 100


class _Compiler:
    """Stands in for the compiler: raises what it is told to."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def predicate(self, text: str) -> None:
        raise self.exc

    template = predicate


def test_expr_contract_expects_only_expression_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(targets, "compiler", lambda: _Compiler(targets.ExpressionError("refused")))
    targets.fuzz_expr(b"a or")  # the language's own error: expected
    monkeypatch.setattr(targets, "compiler", lambda: _Compiler(KeyError("Is")))
    with pytest.raises(KeyError):
        targets.fuzz_expr(b"a is 3")  # anything else: a crash


def test_positions_contract_sees_what_the_scan_swallows(monkeypatch: pytest.MonkeyPatch) -> None:
    """``_scan`` keeps what it indexed when the scan raises; the target reports the exception."""

    def broken(src: str, found: dict) -> None:
        raise IndexError("scan")

    monkeypatch.setattr(targets.positions, "_run", broken)
    with pytest.raises(IndexError):
        targets.fuzz_positions(b"a = 1\n")


def test_crash_signature_names_the_innermost_policylint_frame() -> None:
    try:
        targets.SourceIndex.locate(None, None)  # type: ignore[arg-type]
    except Exception as exc:
        target, kind, where = targets.signature("positions", exc)
    assert (target, kind, where) == ("positions", "TypeError", "policylint/positions.py:_as_path")


# ----------------------------------------------------------------------------- crashes found
#
# One test per crash: its minimised input, the target, and (while unfixed) a strict xfail
# naming the exception and the function that raises it. None so far.
