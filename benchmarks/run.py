"""Benchmarks of policylint against floors measured in the same run, on the same machine.

    python benchmarks/run.py [--quick] [--only SECTION[,SECTION...]] [--out benchmarks/out/results.json]

Sections (all by default): cold (one manifest, and --version/--help), venv (the cold check
in a virtualenv with 300 more distributions than a slim one), throughput (1 worker, three
corpus sizes), jobs (--jobs 2 against 1 worker), rss (peak RSS of the large corpus against
the small one, for every built-in report format). With the optional rtoml parser installed
(``pip install '.[fast]'``), the 10,000-manifest throughput and the jobs rows are measured
twice: as installed (", rtoml") and with tomli alone (", tomli": POLICYLINT_TOML=tomli).

Every figure is a ratio to a floor, so it holds on a noisy shared machine; see
docs/performance.md for the targets (issue 14) and what the floors are. Commands are run as
fresh processes, interleaved with their floor, several times; the table shows the median and
the spread (max - min) of wall time, and peak RSS from the kernel's accounting (os.wait4).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import build  # noqa: E402
from venvs import build_wheel, count_distributions, make_venv  # noqa: E402

PYTHON = sys.executable
# Bytecode caching as on a user's machine: with PYTHONDONTWRITEBYTECODE set (some CI images set
# it), every run would recompile policylint's modules but not the floor's installed ones.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
SECTIONS = ("cold", "venv", "throughput", "jobs", "rss")
FORMATS = ("text", "json", "sarif", "junit", "github", "gitlab", "markdown")
TODAY = ("--today", "2026-12-01")
FAKE_DISTRIBUTIONS = 300

#: issue 14's targets (ratio to the floor; the --jobs one is a speed-up, higher is better).
TARGETS = {"cold": 1.0, "venv": 1.02, "throughput": 1.6, "jobs": 1.8, "rss": 1.3, "version": 1.5}


def _fast_parser() -> str | None:
    """The optional parser manifests are read with in a large run (``policylint.toml``), if any."""
    proc = subprocess.run([PYTHON, "-c", "from policylint.toml import fast_parser; print(fast_parser() or '')"],
                          capture_output=True, text=True, check=True, env=ENV)
    return proc.stdout.strip() or None


FAST = _fast_parser()
#: How rows name the parser of their runs: "" with tomli alone installed.
PARSER = f", {FAST.split()[0]}" if FAST else ""


def tomli_only(command: list[str]) -> list[str]:
    """``command`` with the optional parser turned off (``POLICYLINT_TOML=tomli``)."""
    return ["env", "POLICYLINT_TOML=tomli", *command]


def policylint_command() -> list[str]:
    """The installed console script beside this interpreter, as a user runs it."""
    script = Path(PYTHON).parent / "policylint"
    return [str(script)] if script.exists() else [PYTHON, "-m", "policylint"]


@dataclass
class Measure:
    name: str
    median_s: float
    spread_s: float
    peak_rss_kb: int
    runs: int


def run_once(command: list[str], cwd: Path) -> float:
    """Wall time of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False, env=ENV)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed with exit {proc.returncode}: {proc.stderr.decode()}")
    return elapsed


def run_together(commands: list[list[str]], cwd: Path) -> float:
    """Wall time of fresh processes started at once, until the last one ends."""
    start = time.perf_counter()
    procs = [subprocess.Popen(c, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV) for c in commands]
    errors = [proc.communicate()[1] for proc in procs]
    elapsed = time.perf_counter() - start
    for command, proc, error in zip(commands, procs, errors):
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(command)} failed with exit {proc.returncode}: {error.decode()}")
    return elapsed


#: Discovery alone, timed inside the process (its start-up left out): the walk ``--jobs`` does
#: before it forks.
_WALK = (
    "import sys, time\n"
    "from policylint.discovery import discover\n"
    "start = time.perf_counter()\n"
    "found = len(discover([sys.argv[1]]))\n"
    "print(time.perf_counter() - start, found)\n"
)


def walk_alone(folder: Path, cwd: Path) -> float:
    """Seconds :func:`policylint.discovery.discover` takes to walk ``folder`` in a fresh process."""
    proc = subprocess.run([PYTHON, "-c", _WALK, str(folder)], cwd=cwd, capture_output=True, text=True, check=False,
                          env=ENV)
    if proc.returncode != 0:
        raise SystemExit(f"timing the walk of {folder} failed: {proc.stderr}")
    seconds, _ = proc.stdout.split()
    return float(seconds)


def peak_rss(command: list[str], cwd: Path) -> int:
    """Peak RSS (KiB) of one run, measured through a small launcher (see peak_rss.py)."""
    proc = subprocess.run(
        [PYTHON, str(HERE / "peak_rss.py"), *command], cwd=cwd, capture_output=True, text=True, check=False, env=ENV
    )
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed with exit {proc.returncode}: {proc.stderr}")
    return int(proc.stdout.strip().splitlines()[-1])


def measure(pairs: dict[str, list[str]], runs: int, cwd: Path) -> dict[str, Measure]:
    """Run every command ``runs`` times, interleaved, after one warm-up each; then its peak RSS."""
    samples: dict[str, list[float]] = {name: [] for name in pairs}
    for command in pairs.values():
        run_once(command, cwd)  # warm the file cache and the bytecode
    for _ in range(runs):
        for name, command in pairs.items():
            samples[name].append(run_once(command, cwd))
    return {
        name: Measure(name, statistics.median(values), max(values) - min(values), peak_rss(pairs[name], cwd), runs)
        for name, values in samples.items()
    }


def measure_paired(command: list[str], floor: list[str], runs: int,
                   cwd: Path) -> tuple[Measure, Measure, list[tuple[float, float]]]:
    """Like ``measure`` for two commands, run back to back in alternating order; also the
    pairs (command, floor) of wall time, for ratios that a machine's drifting speed (other
    tenants of a shared host) affects far less than it does two medians."""
    pairs = alternating(lambda: run_once(command, cwd), lambda: run_once(floor, cwd), runs)
    measures = []
    for values, argv in (([a for a, _ in pairs], command), ([b for _, b in pairs], floor)):
        measures.append(Measure(argv[0], statistics.median(values), max(values) - min(values), peak_rss(argv, cwd), runs))
    return measures[0], measures[1], pairs


def alternating(first: Callable[[], float], second: Callable[[], float], runs: int) -> list[tuple[float, float]]:
    """``runs`` pairs (first, second) of timings, back to back, the order switching each time,
    after one warm-up of each."""
    first()
    second()
    pairs = []
    for index in range(runs):
        if index % 2:
            b = second()
            a = first()
        else:
            a = first()
            b = second()
        pairs.append((a, b))
    return pairs


class Bench:
    """One benchmark run: its temporary folder, corpora (built when first needed) and rows."""

    def __init__(self, root: Path, quick: bool) -> None:
        self.root = root
        self.quick = quick
        self.tool = policylint_command()
        self.cold_runs = 5 if quick else 21
        self.venv_runs = 5 if quick else 31  # a 2% target: more pairs than the other cold figures
        self.bulk_runs = 1 if quick else 3
        self.jobs_runs = 1 if quick else 9
        self.sizes = (200, 1_000, 2_000) if quick else (1_000, 10_000, 50_000)
        self.rows: list[dict] = []
        self._corpora: dict[int, Path] = {}

    def corpus(self, size: int) -> Path:
        if size not in self._corpora:
            print(f"  building a corpus of {size:,} manifests ...", file=sys.stderr)
            build(self.root / f"c{size}", size)
            self._corpora[size] = self.root / f"c{size}"
        return self._corpora[size]

    def one(self) -> Path:
        """One manifest (the corpus's first: failing, as most checked in a hook are not)."""
        one = self.root / "one.toml"
        if not one.exists():
            build(self.root / "c1", 1)
            shutil.copy(self.root / "c1" / "team-00" / "group-000" / "project-00000" / "mlproject.toml", one)
        return one

    def check(self, folder: Path, *args: str) -> list[str]:
        return [*self.tool, "check", *TODAY, *args, str(folder)]

    def row(self, label: str, m: Measure, floor: Measure | None, target: float | None, count: int | None = None,
            **more: object) -> None:
        ratio = m.median_s / floor.median_s if floor else None
        entry = {**asdict(m), "label": label, "floor": floor.name if floor else None, "ratio": ratio, "target": target}
        if floor:
            entry["floor_median_s"] = floor.median_s
        if count:
            entry["manifests"] = count
            entry["manifests_per_s"] = count / m.median_s
            entry["rss_kb_per_manifest"] = m.peak_rss_kb / count
            if floor:
                entry["us_above_floor_per_manifest"] = (m.median_s - floor.median_s) / count * 1e6
        entry["meets_target"] = None if target is None or ratio is None else ratio <= target
        entry.update(more)
        self.rows.append(entry)

    # -- sections ---------------------------------------------------------------------------------

    def cold(self) -> None:
        self.one()
        cold = measure(
            {
                "check one.toml": self.check(Path("one.toml")),
                "floor.py": [PYTHON, str(HERE / "floor.py")],
                "--version": [*self.tool, "--version"],
                "--help": [*self.tool, "--help"],
                "import click": [PYTHON, "-c", "import click"],
            },
            self.cold_runs,
            self.root,
        )
        self.row("cold start, one manifest", cold["check one.toml"], cold["floor.py"], TARGETS["cold"])
        self.row("--version", cold["--version"], cold["import click"], TARGETS["version"])
        self.row("--help", cold["--help"], cold["import click"], TARGETS["version"])

    def venv(self) -> None:
        """The cold check in a virtualenv with 300 more distributions, against the slim one's."""
        self.one()
        work = self.root / "venvs"
        work.mkdir()
        print("  building the virtualenvs ...", file=sys.stderr)
        wheel = build_wheel(work)
        slim = make_venv(work / "slim", wheel)
        large = make_venv(work / "large", wheel, FAKE_DISTRIBUTIONS)
        counts = count_distributions(slim), count_distributions(large)
        args = ["check", *TODAY, "one.toml"]
        commands = {"slim venv": [str(slim), *args], "large venv": [str(large), *args]}
        m, floor, pairs = measure_paired(commands["large venv"], commands["slim venv"], self.venv_runs, self.root)
        diffs = [a - b for a, b in pairs]
        m.name, floor.name = "large venv", "slim venv"
        # A 2% target is a few milliseconds: the ratio is taken from the median of the paired
        # differences (each pair run back to back, in alternating order), which a change in the
        # machine's load during the run moves much less than it moves either median.
        above = statistics.median(diffs)
        self.row(f"cold start, {counts[1]} vs {counts[0]} distributions", m, floor, TARGETS["venv"],
                 distributions=list(counts), ms_above_floor=above * 1e3)
        entry = self.rows[-1]
        entry["ratio_of_medians"] = entry["ratio"]
        entry["ratio"] = 1 + above / floor.median_s
        entry["meets_target"] = entry["ratio"] <= TARGETS["venv"]


    def throughput(self) -> None:
        """One worker against the parse floor. At the target's size, the check and the floor run
        back to back in alternating order and the ratio is the median of the paired ratios (the
        ratio of the two medians is recorded too), as for ``--jobs``: a shared host's speed drifts
        by more than the target's margin between two medians of a few runs. With the optional
        rtoml parser installed, that size is measured again with tomli alone (the floor parses
        with tomli either way)."""
        for size in self.sizes:
            folder = self.corpus(size)
            self.verify_floor(folder, size)
            check = self.check(folder, "--format", "json", "-j", "1")
            floor = [PYTHON, str(HERE / "parse_floor.py"), str(folder)]
            if size != self.sizes[1]:
                result = measure({f"check {size} -j1": check, f"parse {size}": floor}, self.bulk_runs, self.root)
                self.row(f"throughput {size:,}, 1 worker{PARSER}", result[f"check {size} -j1"], result[f"parse {size}"],
                         None, size)
                continue
            variants: list[tuple[str, Callable[[list[str]], list[str]]]] = [(PARSER, list)]
            if FAST is not None:
                variants.append((", tomli", tomli_only))
            for label, wrap in variants:
                m, floor_m, pairs = measure_paired(wrap(check), floor, self.jobs_runs, self.root)
                m.name, floor_m.name = f"check {size} -j1{label}", f"parse {size}"
                self.row(f"throughput {size:,}, 1 worker{label}", m, floor_m, TARGETS["throughput"], size)
                entry = self.rows[-1]
                entry["ratio_of_medians"] = entry["ratio"]
                entry["ratio"] = statistics.median(a / b for a, b in pairs)
                entry["meets_target"] = entry["ratio"] <= TARGETS["throughput"]

    def verify_floor(self, folder: Path, size: int) -> None:
        """The floor must find the whole corpus (it globs for itself)."""
        out = subprocess.run([PYTHON, str(HERE / "parse_floor.py"), str(folder)], capture_output=True, text=True,
                             check=True, env=ENV).stdout
        if int(out) != size:
            raise SystemExit(f"parse_floor.py found {out.strip()} manifests in {folder}, not {size}")

    def jobs(self) -> None:
        """``-j 2`` against ``-j 1``, back to back in alternating order: the speed-up is the median
        of the paired ratios (the ratio of the two medians is recorded too)."""
        size = self.sizes[1]
        folder = self.corpus(size)
        variants: list[tuple[str, Callable[[list[str]], list[str]]]] = [(PARSER, list)]
        if FAST is not None:  # and again with tomli alone
            variants.append((", tomli", tomli_only))
        for label, wrap in variants:
            parallel, one_worker, pairs = measure_paired(
                wrap(self.check(folder, "--format", "json", "-j", "2")),
                wrap(self.check(folder, "--format", "json", "-j", "1")), self.jobs_runs, self.root,
            )
            speedup = statistics.median(b / a for a, b in pairs)
            self.rows.append({**asdict(parallel), "label": f"--jobs 2 on {size:,}{label}", "floor": "1 worker",
                              "floor_median_s": one_worker.median_s, "ratio": speedup,
                              "ratio_of_medians": one_worker.median_s / parallel.median_s, "target": TARGETS["jobs"],
                              "meets_target": speedup >= TARGETS["jobs"], "note": "speed-up (higher is better)"})
        self.ceiling(folder, size)
        self.amdahl(folder, size)

    def amdahl(self, folder: Path, size: int) -> None:
        """The most any two-worker ``--jobs`` can give here, by Amdahl's law: start-up (a
        ``-j 1`` check of an empty folder) and the walk (discovery alone, timed inside a fresh
        process) run in the parent before it forks; even if the rest of a ``-j 1`` run split
        evenly over two workers at no cost, the speed-up would be one run's time over the
        serial part plus half the rest. Medians of runs interleaved as the other rows'."""
        empty = self.root / "empty"
        empty.mkdir(exist_ok=True)
        startup = self.check(empty, "--format", "json", "-j", "1")
        whole = self.check(folder, "--format", "json", "-j", "1")
        run_once(startup, self.root)
        walk_alone(folder, self.root)
        samples: list[tuple[float, float, float]] = []
        for _ in range(self.jobs_runs):
            samples.append((run_once(startup, self.root), walk_alone(folder, self.root), run_once(whole, self.root)))
        start, walk, run = (statistics.median(values) for values in zip(*samples))
        serial = start + walk
        bound = run / (serial + (run - serial) / 2)
        serials = [a + b for a, b, _ in samples]
        self.rows.append({"label": f"Amdahl bound on {size:,}{PARSER}", "name": "bound", "median_s": serial,
                          "spread_s": max(serials) - min(serials), "runs": self.jobs_runs, "floor": "1 worker", "floor_median_s": run,
                          "ratio": bound, "target": None, "meets_target": None, "startup_s": start, "walk_s": walk,
                          "note": f"start-up {start * 1e3:.0f} ms + walk {walk * 1e3:.0f} ms before the fork, of a "
                                  f"{run * 1e3:,.0f} ms -j 1 run; {run / (start + (run - start) / 2):.2f}x if the walk "
                                  "ran beside the workers"})

    def ceiling(self, folder: Path, size: int) -> None:
        """What two processes can give on this machine: two ``-j 1`` checks started at once, each
        on half of the corpus's top folders, against one ``-j 1`` check of the whole, in pairs
        as above. Nothing is shared or sent between them and each pays its own start-up on its
        own core, so no two-process design of ``--jobs`` can beat this on the same host: it
        measures what the cores give when both are busy (shared caches and memory bandwidth,
        the host's other tenants), the bound the ``--jobs`` row is read against."""
        tops = sorted(str(path) for path in folder.iterdir())
        halves = [self.check_many(tops[: len(tops) // 2]), self.check_many(tops[len(tops) // 2 :])]
        whole = self.check(folder, "--format", "json", "-j", "1")
        pairs = alternating(lambda: run_together(halves, self.root), lambda: run_once(whole, self.root), self.jobs_runs)
        speedup = statistics.median(one / both for both, one in pairs)
        both_median, one_median = (statistics.median(values) for values in zip(*pairs))
        self.rows.append({"label": f"ceiling on {size:,}{PARSER}", "name": "two halves at once",
                          "median_s": both_median, "spread_s": max(b for b, _ in pairs) - min(b for b, _ in pairs),
                          "runs": self.jobs_runs, "floor": "1 worker", "floor_median_s": one_median, "ratio": speedup,
                          "ratio_of_medians": one_median / both_median, "target": None, "meets_target": None,
                          "note": "2 x -j 1 on halves at once: the speed-up two processes reach here (the bound of --jobs 2)"})

    def check_many(self, folders: list[str]) -> list[str]:
        return [*self.tool, "check", *TODAY, "--format", "json", "-j", "1", *folders]

    def rss(self) -> None:
        """Peak RSS of the large corpus against the small one, one run each (it is stable), per format."""
        small, large = self.sizes[0], self.sizes[-1]
        for output_format in FORMATS:
            kib = {size: peak_rss(self.check(self.corpus(size), "--format", output_format, "-j", "1"), self.root)
                   for size in (small, large)}
            ratio = kib[large] / kib[small]
            self.rows.append({"label": f"peak RSS {large:,} vs {small:,}, {output_format}", "ratio": ratio,
                              "target": TARGETS["rss"], "meets_target": ratio <= TARGETS["rss"],
                              "peak_rss_kb": kib[large], "floor": f"{kib[small]} KiB", "floor_peak_rss_kb": kib[small],
                              "format": output_format, "manifests": large, "floor_manifests": small})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer runs and smaller corpora (a smoke test)")
    parser.add_argument("--only", action="append", metavar="SECTION",
                        help=f"run only these sections ({', '.join(SECTIONS)}); repeat or separate with commas")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "results.json")
    args = parser.parse_args()
    chosen = [s for value in args.only or [",".join(SECTIONS)] for s in value.split(",") if s]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section {unknown[0]!r} (choose from {', '.join(SECTIONS)})")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="policylint-bench-") as tmp:
        bench = Bench(Path(tmp), args.quick)
        for section in SECTIONS:
            if section in chosen:
                print(f"{section} ...", file=sys.stderr)
                getattr(bench, section)()
    rows = bench.rows
    print_table(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"python": sys.version.split()[0], "cpus": os.cpu_count(), "quick": args.quick,
                                    "fast_parser": FAST,
                                    "sections": [s for s in SECTIONS if s in chosen], "rows": rows}, indent=2) + "\n")
    print(f"\nwritten to {args.out} ({time.perf_counter() - started:.0f} s)")


def print_table(rows: list[dict]) -> None:
    header = f"{'benchmark':40} {'median':>9} {'floor':>9} {'spread':>8} {'peak RSS':>10} {'ratio':>7} {'target':>7}  ok   extra"
    print(header)
    print("-" * len(header))
    for r in rows:
        median = f"{r['median_s'] * 1000:.0f} ms" if "median_s" in r else ""
        if "floor_median_s" in r:
            floor = f"{r['floor_median_s'] * 1000:.0f} ms"
        elif "floor_peak_rss_kb" in r:
            floor = f"{r['floor_peak_rss_kb'] / 1024:.1f} MiB"
        else:
            floor = r.get("floor") or ""
        spread = f"{r['spread_s'] * 1000:.0f} ms" if "spread_s" in r else ""
        rss = f"{r['peak_rss_kb'] / 1024:.1f} MiB" if r.get("peak_rss_kb") else ""
        ratio = f"{r['ratio']:.2f}x" if r.get("ratio") is not None else ""
        target = (">=" if r.get("note") else "<=") + f"{r['target']}x" if r.get("target") else ""
        ok = {True: "yes", False: "NO", None: ""}[r.get("meets_target")]
        extra = ""
        if "manifests_per_s" in r:
            extra = f"{r['manifests_per_s']:,.0f}/s, +{r.get('us_above_floor_per_manifest', 0):.0f} us/manifest over floor, " \
                    f"{r['rss_kb_per_manifest']:.2f} KiB/manifest"
        elif "ms_above_floor" in r:
            extra = f"{r['ms_above_floor']:+.1f} ms (median of paired differences; ratio of medians {r['ratio_of_medians']:.2f}x)"
        elif r.get("target") is None and "note" in r:
            extra = r["note"] + (f"; ratio of medians {r['ratio_of_medians']:.2f}x" if "ratio_of_medians" in r else "")
        elif "format" in r:
            growth = (r["peak_rss_kb"] - r["floor_peak_rss_kb"]) / (r["manifests"] - r["floor_manifests"])
            extra = f"{growth * 1024:+.0f} bytes per manifest"
        print(f"{r['label']:40} {median:>9} {floor:>9} {spread:>8} {rss:>10} {ratio:>7} {target:>7}  {ok:4} {extra}")


if __name__ == "__main__":
    main()
