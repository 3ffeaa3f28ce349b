"""A run: find the manifests, check each with its own engine, in :func:`position` order."""

from __future__ import annotations

import fnmatch
import itertools
import os
import pickle
import signal
import traceback
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policylint import manifest
from policylint.config.model import InForce, Origin
from policylint.discovery import STDIN, PathList, absolute, in_order, parent, position
from policylint.engine import Engine
from policylint.errors import PluginError, PolicylintError, what_it_raised
from policylint.findings import ManifestResult
from policylint.files import FileRefused, open_for_writing, read_bounded
from policylint.manifest import MAX_MANIFEST_BYTES, LoadedManifest, Source, unreadable
from policylint.session import Session


class PerPath(Mapping[str, Any]):
    """A value per planned manifest (its engine, its configuration), in the plan's order.

    Each distinct value is stored once, with one small index per manifest: most runs have one
    configuration for every manifest, and a dict of 50,000 entries would weigh more than the
    run's streamed results. Looking a path up builds that dict only when values differ.
    """

    def __init__(self, paths: Sequence[str], values: list[Any], indexes: Sequence[int]) -> None:
        self._paths = paths
        self._values = values
        self._indexes = indexes
        self._by_path: dict[str, Any] | None = None

    def __getitem__(self, path: str) -> Any:
        if len(self._values) == 1:
            return self._values[0]
        if self._by_path is None:
            self._by_path = dict(self.items())
        return self._by_path[path]

    def __contains__(self, path: object) -> bool:
        return path in self._paths

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def values(self) -> Iterator[Any]:  # type: ignore[override]
        return (self._values[i] for i in self._indexes)

    def items(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]
        return zip(self._paths, self.values())


@dataclass(frozen=True)
class Plan:
    """Which manifests a run checks, each with its engine and the configuration in force."""

    paths: Sequence[str]
    engines: PerPath
    in_force: PerPath
    #: Manifests left out by an ``exclude`` glob, and where that glob was set (reports name them).
    excluded: list[tuple[str, Origin]] = field(default_factory=list)


def plan(session: Session, found: Sequence[str]) -> Plan:
    """Each manifest's configuration (its own chain of files), engine, and whether it is excluded.

    A pre-commit hook passes files: ``exclude`` applies to them as to those found in folders.
    Manifests are checked and reported in :func:`position` order, whatever order ``found`` has.
    When nothing is excluded, the plan's paths are ``found`` itself (no second list).
    """
    import array

    ordered = found if in_order(found) else PathList(sorted(found, key=position))
    kept: PathList | None = None  # made at the first manifest excluded
    states: list[InForce] = []
    number: dict[int, int] = {}  # id(state) -> its index in states
    indexes = array.array("I")
    excluded: list[tuple[str, Origin]] = []
    cwd = os.getcwd()
    for count, path in enumerate(ordered):
        state, origin = assign(session, path, cwd)
        if origin is not None:
            if kept is None:
                kept = PathList(itertools.islice(ordered, count))
            excluded.append((path, origin))
            continue
        if kept is not None:
            kept.append(path)
        if id(state) not in number:
            number[id(state)] = len(states)
            states.append(state)
        indexes.append(number[id(state)])
    paths = kept if kept is not None else ordered
    engines = [session.engine(state) for state in states]
    return Plan(paths, PerPath(paths, engines, indexes), PerPath(paths, states, indexes), excluded)


def assign(session: Session, path: str, cwd: str | None = None) -> tuple[InForce, Origin | None]:
    """The configuration in force for one manifest, and the ``exclude`` glob's origin if one
    leaves it out. The plan and ``--jobs`` workers both ask this, so they cannot disagree.
    ``cwd``: the current folder, from a caller that asks for many manifests."""
    if path == STDIN:
        return session.in_force(os.getcwd()), None
    full = absolute(path, cwd)
    state = session.in_force(parent(full))
    return state, None if not state.exclude else excluded_by(full, state)


def plan_and_check(
    session: Session, found: Sequence[str], stdin: Any = None, jobs: int | None = None
) -> tuple[Plan, Iterator[ManifestResult]]:
    """The run's plan, and its results as they come (see :func:`iter_checked`).

    With workers, they are forked first and resolve each manifest's configuration themselves
    (:func:`assign`, from the same files), so that planning runs beside checking instead of
    before it. The results are read only once the whole plan exists: a configuration error is
    the plan's, raised in order, whatever a worker met first.
    """
    ordered = found if in_order(found) else sorted(found, key=position)
    jobs = default_jobs(len(ordered)) if jobs is None else jobs
    if jobs <= 1 or len(ordered) < 3 or not _can_fork():  # not two files, standard input aside
        run = plan(session, ordered)
        return run, iter_checked(run.engines, run.paths, stdin, 1)
    files = [path for path in ordered if path != STDIN]  # the workers' chunks are made of them
    if files:  # compiled before forking, so the workers inherit it (most runs have one configuration)
        session.engine(assign(session, files[0])[0])

    cwd = os.getcwd()

    def engine_for(path: str) -> Engine | None:
        state, origin = assign(session, path, cwd)
        return None if origin is not None else session.engine(state)

    checked = _check_in_workers(engine_for, files, jobs)
    try:
        run = plan(session, ordered)
    except BaseException:
        checked.close()  # stop the workers
        raise
    if not run.paths or run.paths[0] != STDIN:  # standard input comes first, if at all
        return run, checked
    first = check_one(run.engines[STDIN], STDIN, stdin)  # standard input is read here, and comes first
    return run, _chain_results(first, checked)


def _chain_results(first: ManifestResult, rest: Iterator[ManifestResult]) -> Iterator[ManifestResult]:
    yield first
    yield from rest


def excluded_by(path: str, state: InForce) -> Origin | None:
    """Where the ``exclude`` glob that matches ``path`` was set (globs are relative to their file)."""
    absolute = os.path.abspath(path)
    for setting in state.exclude:
        base, glob = setting.value
        if _excluded(os.path.relpath(absolute, base), (glob,)):
            return setting.origin
    return None


def _excluded(relative: str, patterns: Sequence[str]) -> bool:
    """A glob matches the whole relative path or any one of its folders or its file name."""
    relative = relative.replace(os.sep, "/")
    parts = relative.split("/")
    return any(fnmatch.fnmatchcase(relative, p) or any(fnmatch.fnmatchcase(part, p) for part in parts) for p in patterns)


def read(path: str, stdin: Any = None) -> tuple[bytes | None, str | None]:
    """The file's bytes, or why it cannot be read: never more than a manifest may hold (one
    byte over, so the loader says the file is too large), never a device or a FIFO."""
    try:
        if path == STDIN:
            return stdin.read(MAX_MANIFEST_BYTES + 1), None
        return read_bounded(path, MAX_MANIFEST_BYTES, cut=True), None
    except FileRefused as exc:
        return None, str(exc)
    except OSError as exc:
        return None, exc.strerror or str(exc)


def check_one(engine: Engine, path: str, stdin: Any = None) -> ManifestResult:
    """One manifest's result; an error that stops the run names the manifest.

    The engine names the rule (and its policy file or plugin) itself; anything else that
    escapes (an internal bug, a MemoryError) gets a note with the manifest's path.
    """
    results, error = check_batch([engine], [path], [read(path, stdin)])
    if error is not None:
        raise error
    return results[0]


#: Manifests checked a stage at a time (see :func:`check_batch`): at most this many...
BATCH_SIZE = 64
#: ...and no more once they hold this many bytes (a batch of the largest manifests would hold
#: each one's text and tables at once).
BATCH_BYTES = 256 * 1024


def check_batch(
    engines: Sequence[Engine], paths: Sequence[str], files: Sequence[tuple[bytes | None, str | None]]
) -> tuple[list[ManifestResult], BaseException | None]:
    """:func:`check_one` of each path (``files``: what :func:`read` gave for it), with each
    stage of checking taken over the whole batch before the next.

    The same functions run on the same manifests in the same order, so every result is the
    same; what changes is that the code and tables of one stage (the parser, the validator,
    the rules) are still in the processor's caches for the next manifest, where running every
    stage on one manifest before the next evicted them: a run of 10,000 manifests takes about
    a fifth less time (docs/performance.md, round six). Returns the results up to the first
    manifest whose check raised, and that error (noted as :func:`check_one` notes it): what
    checking them one at a time would have given before stopping.
    """
    error: BaseException | None = None

    def stage(function: Callable[..., Any], *columns: Iterable[Any]) -> list[Any]:
        # Each manifest in order, up to the first that raises: later stages get only those before it.
        nonlocal error
        done: list[Any] = []
        try:
            for arguments in zip(*columns):
                done.append(function(*arguments))
        except BaseException as exc:  # Ctrl-C too: what one at a time raised first still comes first
            error = exc  # a later stage's error is of an earlier manifest: it replaces this one
        return done

    texts = stage(_decoded, paths, files)
    tables = stage(manifest.parsed, texts)
    loaded = stage(manifest.validated, tables, [engine.ext_models for engine in engines])
    evaluated = stage(Engine.evaluate, engines, loaded)
    results = stage(Engine.conclude, engines, loaded, evaluated)
    if isinstance(error, SystemExit):
        error = _exited(paths[len(results)], error)
    elif isinstance(error, Exception) and not isinstance(error, PolicylintError):
        _note(error, f"while checking {paths[len(results)]}")
    return results, error


def _exited(path: str, exc: SystemExit) -> PolicylintError:
    """``sys.exit()`` called while checking: nothing of policylint's does, and plugins' checks
    and condition functions name their plugin themselves, so a table model's validator did (or
    what it called). Ending the process there would give its exit code (0 for a bare
    ``sys.exit()``) to a run that has not checked everything: an error that names the manifest
    instead (exit 2)."""
    return PluginError(
        f"{path}: {what_it_raised(exc)} while checking it (a plugin's check, table model or condition "
        "function must return or raise, never end the process)"
    )


def _decoded(path: str, file: tuple[bytes | None, str | None]) -> Source | LoadedManifest:
    raw, problem = file
    return manifest.decoded(path, raw) if raw is not None else unreadable(path, problem)


def _checked(
    engine_of: Callable[[str], Engine | None], paths: Iterable[str], stdin: Any = None
) -> Generator[ManifestResult, None, None]:
    """:func:`check_one` of each path ``engine_of`` gives an engine for (None: left out by an
    ``exclude``), in order, a batch at a time (:func:`check_batch`); reading the files is the
    first stage, which makes the batch."""
    remaining = iter(paths)
    while True:
        batch: list[str] = []
        engines: list[Engine] = []
        files: list[tuple[bytes | None, str | None]] = []
        size = 0
        stopped: BaseException | None = None  # what stopped making the batch, raised after it
        exhausted = False
        try:
            for path in remaining:
                engine = engine_of(path)
                if engine is None:
                    continue
                file = read(path, stdin)
                batch.append(path)
                engines.append(engine)
                files.append(file)
                size += len(file[0] or b"")
                if len(batch) == BATCH_SIZE or size >= BATCH_BYTES:
                    break
            else:
                exhausted = True
        except BaseException as exc:  # raised after the checks of those before it, as one at a time
            stopped = exc
        results, error = check_batch(engines, batch, files)
        yield from results
        if error is not None:
            raise error
        if stopped is not None:
            raise stopped
        if exhausted:
            return


def _note(exc: BaseException, note: str) -> None:
    """``exc.add_note`` where there is one (Python 3.11+); the CLI's message shows the notes."""
    try:
        exc.add_note(note)  # type: ignore[attr-defined]
    except Exception:  # Python 3.10, or no memory left for the note
        pass


def check_paths(
    engines: Engine | Mapping[str, Engine], paths: Sequence[str], stdin: Any = None, jobs: int | None = None
) -> list[ManifestResult]:
    """Every result, in the order of ``paths`` (see :func:`iter_checked`)."""
    return list(iter_checked(engines, paths, stdin, jobs))


def iter_checked(
    engines: Engine | Mapping[str, Engine], paths: Sequence[str], stdin: Any = None, jobs: int | None = None
) -> Iterator[ManifestResult]:
    """Each result, in the order of ``paths``, as soon as it and those before it are checked.

    ``engines`` is one engine for every path, or each path's own (configuration is resolved per
    manifest). With more than one job, manifests are checked in worker processes, in chunks,
    and the results are put back in the order of ``paths``: the output is byte-identical to
    ``jobs=1``. A worker that dies ends the run with a :class:`WorkerDied` error naming the
    manifests it held; one whose check raises passes the error on, as if checked here.
    """
    engine_of: Callable[[str], Engine] = engines.__getitem__ if isinstance(engines, Mapping) else (lambda _path: engines)
    jobs = default_jobs(len(paths)) if jobs is None else jobs
    if jobs > 1 and len(paths) > 1 and _can_fork():
        files = [path for path in paths if path != STDIN]
        checked = _check_in_workers(engine_of, files, jobs)
        if STDIN not in paths:
            return checked
        from_stdin = check_one(engine_of(STDIN), STDIN, stdin)  # read here
        return (from_stdin if path == STDIN else next(checked) for path in paths)
    return _checked(engine_of, paths, stdin)


#: Below this many manifests, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 256
#: Never more worker processes than this, whatever ``--jobs`` asks (see :func:`worker_count`).
MAX_WORKERS = 64


def default_jobs(count: int) -> int:
    """One process for a handful of files (a pre-commit hook), every CPU for many."""
    if count < PARALLEL_THRESHOLD:
        return 1
    return _cpus()


def _cpus() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(jobs: int, manifests: int) -> int:
    """``--jobs N`` is a ceiling: ``min(N, manifests, 4 * CPUs, MAX_WORKERS)`` processes, and
    no more than there are chunks of manifests to hand out: ``-j 1500`` on five manifests
    forks none (one chunk is checked in this process), not 1,500."""
    return max(1, min(jobs, manifests, 4 * _cpus(), MAX_WORKERS))


class WorkerDied(PolicylintError):
    """A worker process ended without returning its manifests' results (killed, out of memory)."""


def _can_fork() -> bool:
    """Workers inherit the compiled engines by fork; its closures cannot be pickled for spawn.

    Where fork is not available (Windows), manifests are checked in this process.
    """
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


#: What a worker inherits by fork: each path's engine (None: left out), and the chunks.
_worker_engine: Callable[[str], Engine | None] | None = None
_worker_chunks: list[list[str]] = []


def _init_worker(engine_of: Callable[[str], Engine | None] | None, chunks: list[list[str]]) -> None:
    global _worker_engine, _worker_chunks
    _worker_engine = engine_of
    _worker_chunks = chunks


def _check_chunk(paths: list[str]) -> list[ManifestResult]:
    assert _worker_engine is not None
    return list(_checked(_worker_engine, paths))


def _worker(connection: Any) -> None:
    """Check the chunk whose index the parent sends, send back its results; ``None`` ends it.

    The results (or the error that stopped the chunk, with its traceback as text) go back as
    one pickled message, so a worker that dies mid-chunk is seen as a closed connection.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent stops the workers
    while True:
        try:
            index = connection.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if index is None:
            return
        try:
            message: Any = ("ok", _check_chunk(_worker_chunks[index]))
        except BaseException as exc:  # passed on to the parent, which stops the run
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            message = ("error", exc, text)
        try:
            data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an error that cannot be pickled: its text is enough
            error = PolicylintError(f"{type(message[1]).__name__}: {message[1]}") if message[0] == "error" else exc
            data = pickle.dumps(("error", error, message[-1] if message[0] == "error" else ""))
        try:
            connection.send_bytes(data)
        except OSError:  # the parent is gone
            return


class RemoteTraceback(Exception):
    """A worker's traceback, as the cause of the error it passed on (``POLICYLINT_DEBUG``)."""

    def __str__(self) -> str:
        return f"\n\n(in a worker process)\n{self.args[0]}"


def _check_in_workers(
    engine_of: Callable[[str], Engine | None], files: Sequence[str], jobs: int
) -> Generator[ManifestResult, None, None]:
    """Fork the workers now (they inherit ``engine_of``, each path's engine or None when an
    ``exclude`` leaves it out, with what it needs), keep each one
    :data:`PREFETCH` chunks ahead, and return the results, in order, as the chunks come back.

    Both the workers' connections and their process sentinels are watched: a worker that exits
    before answering ends the run, naming the manifests of the chunk it was checking. One pipe
    per worker and no helper threads, so forking is safe and nothing can wait forever on a
    worker that is gone. Chunks that come back early wait for those before them: with chunks of
    at most :data:`MAX_CHUNK` manifests, that is a few thousand results at most, whatever the
    size of the run. Closing the returned generator stops the workers.
    """
    import multiprocessing

    context = multiprocessing.get_context("fork")  # each worker inherits the compiled engines
    cap = worker_count(jobs, len(files))
    chunks = _chunks(files, cap)
    count = min(cap, len(chunks))
    if count < 2:  # one chunk: a worker would only add the cost of forking
        return _checked(engine_of, files)
    _init_worker(engine_of, chunks)
    workers: dict[Any, tuple[Any, deque[int]]] = {}  # connection -> (process, chunks sent, in order)
    pending = iter(range(len(chunks)))
    try:
        for _ in range(count):
            mine, theirs = context.Pipe()
            process = context.Process(target=_worker, args=(theirs,), daemon=True)
            process.start()
            theirs.close()
            workers[mine] = (process, deque())
            _send_next(mine, workers[mine], pending, chunks, 1)  # one each (count <= chunks), then more
        for _ in range(PREFETCH - 1):
            for connection, worker in workers.items():
                _send_next(connection, worker, pending, chunks, 1)
    except BaseException:
        _stop(workers, [])
        raise
    collecting = _collect(workers, pending, chunks)
    next(collecting)  # into its try: from here, closing it stops the workers even before a result
    return collecting


def _chunks(files: Sequence[str], workers: int) -> list[list[str]]:
    """The manifests in chunks that shrink as the run nears its end: each is a quarter of a
    worker's share of what is left, between :data:`MIN_CHUNK` and :data:`MAX_CHUNK`. Large
    chunks cost fewer round trips; small last ones keep a worker from finishing alone while
    the others wait (a chunk takes tens of milliseconds). A worker's next chunk already waits
    in its pipe when it finishes one, so smaller chunks cost no idle round trip."""
    chunks = []
    start = 0
    while start < len(files):
        size = min(max((len(files) - start) // (workers * 4), MIN_CHUNK), MAX_CHUNK)
        chunks.append(list(files[start : start + size]))
        start += size
    return chunks


def _collect(workers: dict[Any, tuple[Any, deque[int]]], pending: Iterator[int],
             chunks: list[list[str]]) -> Generator[ManifestResult, None, None]:
    """The workers' results in chunk order (see :func:`_check_in_workers`)."""
    from multiprocessing.connection import wait

    early: dict[int, list[ManifestResult]] = {}  # chunks back before those in front of them
    following = 0  # the next chunk to yield
    finished: list[Any] = []
    try:
        yield None  # type: ignore[misc]  # primed by _check_in_workers, never seen by a consumer
        while workers:
            ready = wait([*workers, *(process.sentinel for process, _ in workers.values())])
            for connection in [c for c in workers if c in ready or workers[c][0].sentinel in ready]:
                process, held = workers[connection]
                try:
                    data = connection.recv_bytes() if connection.poll() else None
                except (EOFError, OSError):
                    data = None
                if data is None:  # the process is gone, and the chunk it was checking with it
                    process.join(5)
                    raise WorkerDied(_died(process.exitcode, chunks[held[0]] if held else []))
                done = held.popleft()
                _send_next(connection, workers[connection], pending, chunks, 1)  # before unpickling
                if not held:
                    try:
                        connection.send(None)  # nothing left: the worker ends
                    except OSError:
                        pass
                    del workers[connection]
                    finished.append((connection, process))
                message = pickle.loads(data)
                if message[0] == "error":
                    exc = message[1]
                    exc.__cause__ = RemoteTraceback(message[2])
                    raise exc
                early[done] = message[1]
            while following in early:
                yield from early.pop(following)
                following += 1
    finally:
        _stop(workers, finished)


def _stop(workers: dict[Any, tuple[Any, Any]], finished: list[Any]) -> None:
    """Kill the workers still running (after an error, or a consumer gone), reap them all."""
    for connection, (process, _) in workers.items():
        process.kill()
        finished.append((connection, process))
    for connection, process in finished:
        process.join()
        connection.close()
    workers.clear()
    _init_worker(None, [])


#: Chunks a worker has in hand: the one it checks, and the next, already in its pipe.
PREFETCH = 2
#: Manifests per chunk, at least and at most (see :func:`_check_in_workers`).
MIN_CHUNK = 64
MAX_CHUNK = 256


def _send_next(connection: Any, worker: tuple[Any, Any], pending: Iterator[int], chunks: list[list[str]],
               count: int) -> None:
    """Hand a worker up to ``count`` more chunk indexes; a worker that is gone stops the run."""
    process, held = worker
    for _ in range(count):
        index = next(pending, None)
        if index is None:
            return
        held.append(index)
        try:
            connection.send(index)
        except OSError:  # gone: never a BrokenPipeError, which reads as stdout's
            process.join(5)
            raise WorkerDied(_died(process.exitcode, chunks[held[0]])) from None


def _died(exitcode: int | None, held: list[str]) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            how = f"was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            how = f"was killed by signal {-exitcode}"
    else:
        how = f"exited with status {exitcode}"
    if not held:
        return f"a worker process {how}; the run stops"
    shown = ", ".join(held[:5]) + (f" and {len(held) - 5:,} more" if len(held) > 5 else "")
    return f"a worker process {how} while checking {len(held):,} manifest(s), not checked: {shown}"


def settle(
    results: Iterable[ManifestResult],
    run: Plan,
    *,
    baseline: str | None = None,
    write_baseline: str | None = None,
    no_waivers: bool = False,
    tool_version: str = "",
    warn: Callable[[str], None] | None = None,
) -> tuple[Iterable[ManifestResult], dict[str, Any]]:
    """What ``check`` does with the results before reporting them: ``--no-waivers``, then
    ``--write-baseline``, then the baseline in force (``--baseline`` or the ``baseline`` key).

    Returns the results and the report context's extras (``baseline``, ``waivers_ignored``).
    A run with none of these costs one pass over the plan's configurations, nothing per finding.
    """
    extras: dict[str, Any] = {}
    if no_waivers:
        from policylint.baseline import without_waivers

        results = (without_waivers(r, run.engines[r.path].fail_on) for r in results)
        extras["waivers_ignored"] = True
    if write_baseline is not None:
        results = list(results)
        _write_baseline(results, run, Path(write_baseline), tool_version, warn)
    files = _baselines(run, baseline)
    if files:
        from policylint import baseline as baselines

        rules_of = {path: run.engines[path].rules for path in files}
        fail_on_of = {path: run.engines[path].fail_on for path in files}
        results, outcomes = baselines.apply(list(results), files, rules_of, fail_on_of)
        extras["baseline"] = tuple(outcomes)
    return results, extras


def baselines_in_force(run: Plan, flag: str | None) -> bool:
    """Whether any manifest of the run has a baseline (which needs every result at once)."""
    return bool(_baselines(run, flag))


def _baselines(run: Plan, flag: str | None) -> dict[str, Path]:
    """Each manifest's baseline file: ``--baseline``, else its configuration's ``baseline``.

    Once configuration sets one, ``--baseline`` may only name the same file (only the
    organisation may point it elsewhere).
    """
    from policylint.errors import ConfigError

    chosen: dict[str, Path] = {}
    by_state: dict[int, Path | None] = {}
    for path in run.paths:
        state = run.in_force[path]
        if id(state) not in by_state:
            configured = state.baseline.value
            if flag is not None:
                if configured is not None and os.path.abspath(configured) != os.path.abspath(flag):
                    raise ConfigError(
                        f"--baseline {flag}: pointing the baseline elsewhere would loosen the gate: the baseline in "
                        f"force is {configured} ({state.baseline.origin.set_by()}); only the organisation "
                        "configuration may point it elsewhere"
                    )
                configured = Path(flag)
            by_state[id(state)] = configured
        if by_state[id(state)] is not None:
            chosen[path] = by_state[id(state)]  # type: ignore[assignment]
    return chosen


def _write_baseline(results: Sequence[ManifestResult], run: Plan, file: Path, tool_version: str,
                    warn: Callable[[str], None] | None) -> None:
    """Record the failing findings of waivable rules in ``file``; say which were left out and why."""
    from policylint import baseline as baselines
    from policylint.errors import UsageError
    from policylint.wording import plural

    entries: list[baselines.Entry] = []
    left_out: list[str] = []
    versions: dict[str, str] = {}
    for engine in {id(e): e for e in run.engines.values()}.values():
        versions.update({pack.name: pack.version for pack in engine.packs})
    for result in results:
        engine = run.engines[result.path]
        found, skipped = baselines.entries_of(result, engine.rules, file, engine.fail_on)
        entries += found
        left_out += [
            f"{f.rule} in {result.path} ({'not waivable' if not getattr(engine.rules.get(f.rule), 'waivable', False) else 'not readable again'})"
            for f in skipped
        ]
    text = baselines.render(entries, versions, tool_version)
    try:
        with open_for_writing(file, encoding="utf-8") as out:  # as Path.write_text, never through a symlink
            out.write(text)
    except OSError as exc:
        raise UsageError(f"--write-baseline: cannot write {file}: {exc.strerror or exc}") from None
    if warn is not None:
        recorded = len({e.fingerprint for e in entries})
        warn(f"policylint: wrote {plural(recorded, 'finding')} to the baseline {file}")
        if left_out:
            warn(
                f"policylint: note: {plural(len(left_out), 'finding')} left out of the baseline: "
                + ", ".join(dict.fromkeys(left_out))
                + ": a rule no waiver may accept is never baselined either; fix these findings"
            )
