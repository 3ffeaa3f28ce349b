"""Checking a batch of manifests a stage at a time (runner.check_batch) gives what checking them
one at a time gives: the same results, and when a check raises, the same results before it
and the same error."""

from __future__ import annotations

import datetime
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policylint import manifest, runner
from policylint.builtin import builtin_pack_path
from policylint.engine import Engine, EngineOptions, RuleSet
from policylint.errors import PluginError, PolicylintError
from policylint.findings import ManifestResult
from policylint.manifest import MAX_MANIFEST_BYTES, load_manifest, unreadable
from policylint.packs import load_pack

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from corpus import build  # noqa: E402
from test_fuzz import fuzz, manifest_bytes  # noqa: E402

TODAY = datetime.date(2026, 12, 1)
SCENARIOS = Path(__file__).parent / "scenarios"

#: Files no corpus template gives: each refused by a different stage of loading.
ODD_FILES: dict[str, bytes] = {
    "not-utf8/mlproject.toml": b"schema_version = 1\n[project]\nname = \"caf\xe9\"\n",
    "not-toml/mlproject.toml": b"schema_version = 1\n[project\n",
    "no-version/mlproject.toml": b"[project]\nname = \"x\"\n",
    "too-large/mlproject.toml": b"# " + b"x" * MAX_MANIFEST_BYTES + b"\n",
    "with-bom/mlproject.toml": "\ufeff".encode() + (SCENARIOS / "01-format-at-scale.toml").read_bytes(),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Passing, failing, waived and invalid manifests, past the point where the engine
    generates its rules function (so batches run both the closures and the function)."""
    root = tmp_path_factory.mktemp("corpus")
    paths = [str(p) for p in build(root, RuleSet.GENERATE_AFTER * 2 + 50)]
    for name, data in ODD_FILES.items():
        (root / name).parent.mkdir(parents=True)
        (root / name).write_bytes(data)
        paths.insert(len(paths) // 3, str(root / name))
    paths.insert(7, str(root / "missing" / "mlproject.toml"))  # unreadable: read() says why
    return paths


def engines(count: int) -> list[Engine]:
    """Two configurations taking turns: the built-in defaults, and warnings failing the build."""
    pack = load_pack(builtin_pack_path())
    default = Engine([pack], options=EngineOptions(today=TODAY))
    strict = Engine([pack], options=EngineOptions(today=TODAY, fail_on="warning"))
    return [default if i % 5 else strict for i in range(count)]


def one_at_a_time(engines: list[Engine], paths: list[str], files: Any = None) -> list[ManifestResult]:
    """The reference: every stage of one manifest before the next (``files``: what reading
    each path gave, else each is read)."""
    results = []
    for engine, path, (raw, problem) in zip(engines, paths, files or map(runner.read, paths)):
        loaded = unreadable(path, problem) if raw is None else load_manifest(path, raw, engine.ext_models)
        results.append(engine.decide(loaded))
    return results


def test_a_batch_gives_each_manifest_what_checking_it_alone_gives(corpus: list[str]) -> None:
    expected = one_at_a_time(engines(len(corpus)), corpus)
    batch_engines = engines(len(corpus))  # fresh: their rules function is generated at the same point
    results, error = runner.check_batch(batch_engines, corpus, [runner.read(path) for path in corpus])
    assert error is None
    assert results == expected
    verdicts = {r.decision.verdict for r in results}
    rules = {f.rule for r in results for f in r.findings}
    assert verdicts == {"pass", "fail"} and {"MAN001", "MAN002", "MAN003", "FMT001"} <= rules  # it mixes outcomes
    assert any(f.waived for r in results for f in r.findings)
    assert all(batch_engines[0]._rules_functions.values())  # and reached the generated function


@fuzz(60)
@given(st.lists(st.one_of(manifest_bytes, st.none()), min_size=1, max_size=12))
def test_generated_manifests_in_a_batch_give_what_each_gives_alone(contents: list[bytes | None]) -> None:
    """Generated manifests (mutated tables, edited scenario texts, random bytes; None: a file
    that could not be read) checked as a batch and one at a time, by fresh engines each."""
    paths = [f"m{i}/mlproject.toml" for i in range(len(contents))]
    files = [(raw, None if raw is not None else "Permission denied") for raw in contents]
    expected = one_at_a_time(engines(len(paths)), paths, files)
    assert runner.check_batch(engines(len(paths)), paths, files) == (expected, None)


def test_the_run_checks_in_batches_that_give_the_same_results(corpus: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the run's own loop: batches end at BATCH_SIZE manifests, or once they hold
    BATCH_BYTES (the 1 MiB file ends its batch at once), and the results are those of one at a time."""
    sizes: list[int] = []
    check_batch = runner.check_batch

    def recording(engines: Any, paths: Any, files: Any) -> Any:
        sizes.append(len(paths))
        return check_batch(engines, paths, files)

    monkeypatch.setattr(runner, "check_batch", recording)
    monkeypatch.setattr(runner, "BATCH_SIZE", 50)
    engine_list = engines(len(corpus))
    engine_of = dict(zip(corpus, engine_list))
    results = list(runner.iter_checked(engine_of, corpus, jobs=1))
    assert results == one_at_a_time(engines(len(corpus)), corpus)
    large = corpus.index(next(p for p in corpus if p.endswith("too-large/mlproject.toml")))
    assert sum(sizes) == len(corpus) and max(sizes) == 50
    ends = [sum(sizes[: i + 1]) for i in range(len(sizes))]
    assert large + 1 in ends  # the batch ends with the file too large for it
    assert all(size == 50 for size, end in zip(sizes, ends) if end not in (large + 1, len(corpus)))


def test_excluded_manifests_are_left_out_of_batches(corpus: list[str]) -> None:
    engine = engines(1)[0]
    kept = corpus[::3]
    results = list(runner._checked(lambda path: engine if path in kept else None, corpus))
    assert [r.path for r in results] == kept


# -- errors: as if checked one at a time ----------------------------------------------------------


def paths_of(count: int) -> list[str]:
    return [str(path) for path in sorted(SCENARIOS.glob("*.toml"))[:count]]


def raising_for(name: str, at: set[str], calls: list[str], function: Any, error: type[BaseException] = ValueError) -> Any:
    """``function`` recording its calls (by the manifest's path), raising ``error`` for the paths in ``at``."""

    def wrapper(*args: Any) -> Any:
        path = next(_paths(args))
        calls.append(f"{name} {Path(path).name}")
        if path in at:
            raise error(f"{name} of {Path(path).name}")
        return function(*args)

    return wrapper


def _paths(args: tuple[Any, ...]) -> Iterator[str]:
    for arg in args:
        if isinstance(arg, str):
            yield arg
        elif isinstance(arg, manifest.Source):
            yield arg.path
        elif isinstance(arg, tuple) and arg and isinstance(arg[0], manifest.Source):
            yield arg[0].path
        elif isinstance(arg, manifest.LoadedManifest):
            yield arg.source.path


@pytest.mark.parametrize("early_error", [ValueError, KeyboardInterrupt, SystemExit])
def test_a_later_stage_failing_for_an_earlier_manifest_is_the_error(
    monkeypatch: pytest.MonkeyPatch, early_error: type[BaseException]
) -> None:
    """Validation fails for the sixth manifest, concluding for the third: one at a time, the
    third's error comes first, so it is the batch's; the sixth's later stages never run. Also
    when the sixth's is Ctrl-C or an exit, which are no Exception."""
    paths = paths_of(8)
    calls: list[str] = []
    third, sixth = Path(paths[2]).name, Path(paths[5]).name
    monkeypatch.setattr(manifest, "validated", raising_for("validated", {paths[5]}, calls, manifest.validated, early_error))
    monkeypatch.setattr(Engine, "evaluate", raising_for("evaluate", set(), calls, Engine.evaluate))
    monkeypatch.setattr(Engine, "conclude", raising_for("conclude", {paths[2]}, calls, Engine.conclude, PolicylintError))
    engine_list = engines(len(paths))
    results, error = runner.check_batch(engine_list, paths, [runner.read(path) for path in paths])
    assert isinstance(error, PolicylintError) and str(error) == f"conclude of {third}"
    assert [r.path for r in results] == paths[:2]
    assert f"validated {sixth}" in calls and f"evaluate {sixth}" not in calls  # stopped at the sixth
    assert f"conclude {Path(paths[3]).name}" not in calls  # and at the third
    assert results == one_at_a_time(engines(2), paths[:2])


def test_an_internal_error_is_noted_with_its_manifest_and_stops_the_run_there(monkeypatch: pytest.MonkeyPatch) -> None:
    paths = paths_of(6)
    monkeypatch.setattr(manifest, "parsed", raising_for("parsed", {paths[4]}, [], manifest.parsed))
    monkeypatch.setattr(runner, "BATCH_SIZE", 3)
    engine_list = engines(len(paths))
    checked = runner.iter_checked(dict(zip(paths, engine_list)), paths, jobs=1)
    assert [r.path for r in (next(checked) for _ in range(4))] == paths[:4]
    with pytest.raises(ValueError, match="parsed of") as raised:
        next(checked)
    if sys.version_info >= (3, 11):
        assert raised.value.__notes__ == [f"while checking {paths[4]}"]  # type: ignore[attr-defined]


def test_an_exit_while_checking_is_an_error_naming_the_manifest(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plugin's code calling sys.exit() must not end the run with its exit code (0 passes a
    gate that checked nothing after it): it is a PluginError, exit 2, naming the manifest."""
    paths = paths_of(4)
    monkeypatch.setattr(Engine, "evaluate", raising_for("evaluate", {paths[1]}, [], Engine.evaluate, SystemExit))
    results, error = runner.check_batch(engines(len(paths)), paths, [runner.read(path) for path in paths])
    assert [r.path for r in results] == paths[:1]
    assert isinstance(error, PluginError)
    assert str(error) == (
        f"{paths[1]}: sys.exit('evaluate of {Path(paths[1]).name}') was called while checking it (a plugin's "
        "check, table model or condition function must return or raise, never end the process)"
    )


def reading_fails(monkeypatch: pytest.MonkeyPatch, at: str, message: str) -> None:
    """runner.read raising a ValueError for the path ``at`` (as os.stat does for a NUL in a path)."""
    read = runner.read

    def failing(path: str, stdin: Any = None) -> Any:
        if path == at:
            raise ValueError(message)
        return read(path, stdin)

    monkeypatch.setattr(runner, "read", failing)


def test_an_error_reading_a_file_comes_after_the_results_before_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """read() turns what the file system says into a MAN001 finding; anything else it raises
    (here a ValueError) ends the run at that file, after the results of those before it."""
    paths = paths_of(6)
    reading_fails(monkeypatch, paths[3], "embedded null byte")
    engine = engines(1)[0]
    checked = runner._checked(lambda _path: engine, paths)
    assert [next(checked).path for _ in range(3)] == paths[:3]
    with pytest.raises(ValueError, match="embedded null byte"):
        next(checked)


def test_an_error_checking_an_earlier_manifest_comes_before_an_error_reading_a_later_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paths = paths_of(6)
    reading_fails(monkeypatch, paths[4], "reading")
    monkeypatch.setattr(Engine, "evaluate", raising_for("evaluate", {paths[1]}, [], Engine.evaluate))
    engine = engines(1)[0]
    with pytest.raises(ValueError, match="evaluate of"):
        list(runner._checked(lambda _path: engine, paths))
