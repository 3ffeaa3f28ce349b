"""Coverage-guided fuzzing of policylint with atheris (libFuzzer), one target per run.

    python fuzz/run.py TARGET [libFuzzer flags...]     # e.g. -max_total_time=600

Targets, each in-process, each with its contract (anything else is a crash):

- ``manifest``: the bytes as a manifest file: ``load_manifest(path, raw)`` returns a
  ``LoadedManifest`` (problems are MAN findings) and ``Engine(builtin pack).check(path, raw)``
  returns a result, for any bytes. Neither may raise.
- ``positions``: the bytes as UTF-8 text: ``SourceIndex.from_text(text)``, ``locate()`` and
  ``position()`` never raise. When tomli parses the text, the scan must also finish without
  the last-resort ``except`` in ``positions._scan`` having to swallow anything, and every key
  path of the parsed document (the paths ``tests/test_positions.py`` checks) has a position.
- ``expr``: the bytes as UTF-8 text: ``Compiler(fields, params).predicate(text)`` and
  ``.template(text)``, with fields ``{**FIELDS, **FACTS}`` and the built-in pack's parameter
  values, return or raise ``ExpressionError``; any other exception is a crash.
- ``eval``: as ``expr``, and a condition that compiles is then evaluated on the namespace of
  every valid scenario manifest; it must not raise (the issue's "anything that compiles
  evaluates without raising on any valid manifest"). Not one of the three required targets.

The inputs libFuzzer keeps go to a working corpus outside the checkout
(``$POLICYLINT_FUZZ_DIR``, default ``$TMPDIR/policylint-fuzz``: ``<target>/corpus``); the seed
corpus ``fuzz/corpus/<target>/`` is read, never written. Crash reproducers are written to
``<target>/crash-<sha1>`` there. Defaults added unless given: ``-timeout=10`` (seconds for one
input: a slower input is reported as a timeout, a finding too), ``-rss_limit_mb=2048`` and
``-dict=fuzz/<target>.dict`` (tokens; rebuilt with the seeds by ``fuzz/make_corpus.py``).

Crashes already recorded as regression tests (``tests/test_fuzz_regressions.py``) are listed
in ``KNOWN`` (``fuzz/targets.py``) and skipped, so a run goes on looking for new ones; remove
an entry once it is fixed. The targets themselves live in ``fuzz/targets.py`` (no atheris).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
REPO = FUZZ.parent
sys.path[:0] = [str(REPO), str(FUZZ)]

import atheris  # noqa: E402

with atheris.instrument_imports(include=["policylint", "tomli"]):
    import targets  # noqa: E402  (fuzz/targets.py, which imports policylint)

from targets import FUNCTIONS, KNOWN, TARGETS, signature  # noqa: E402


def manifest_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    """Half the time libFuzzer's byte mutations; else, for TOML, a structural edit."""
    if seed % 2:
        mutated = targets.structural_mutation(data, max_size, seed)
        if mutated is not None:
            return mutated
    return atheris.Mutate(data, max_size)


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] not in TARGETS:
        sys.exit(f"usage: python fuzz/run.py {{{'|'.join(TARGETS)}}} [libFuzzer flags]")
    target = argv[1]
    function = FUNCTIONS[target]
    known = {sig for sig in KNOWN if sig[0] == target}

    def test_one_input(data: bytes) -> None:
        try:
            function(data)
        except Exception as exc:
            if signature(target, exc) in known:
                return
            raise

    # Build the engine, compiler and namespaces before the first input (not counted as slow).
    targets.engine(), targets.compiler(), targets.valid_namespaces()

    work = Path(os.environ.get("POLICYLINT_FUZZ_DIR") or Path(tempfile.gettempdir()) / "policylint-fuzz") / target
    (work / "corpus").mkdir(parents=True, exist_ok=True)
    flags = [a for a in argv[2:] if a.startswith("-")]
    dirs = [a for a in argv[2:] if not a.startswith("-")]
    if not dirs:  # new inputs go to the first folder: the working corpus, not the seeds
        dirs = [str(work / "corpus"), str(FUZZ / "corpus" / ("expr" if target == "eval" else target))]
    defaults_ = {"-timeout": "10", "-rss_limit_mb": "2048", "-artifact_prefix": f"{work}/"}
    dictionary = FUZZ / f"{'expr' if target == 'eval' else target}.dict"
    if dictionary.exists():
        defaults_["-dict"] = str(dictionary)
    for flag, value in defaults_.items():
        if not any(a.startswith(flag + "=") for a in flags):
            flags.append(f"{flag}={value}")
    atheris.enabled_hooks.add("RegEx")
    atheris.enabled_hooks.add("str")
    mutator = manifest_mutator if target == "manifest" else None
    atheris.Setup([argv[0], *flags, *dirs], test_one_input, custom_mutator=mutator)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
