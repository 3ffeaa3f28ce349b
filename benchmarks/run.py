"""Benchmarks of policylint against floors measured in the same run, on the same machine.

    python benchmarks/run.py [--quick] [--out benchmarks/out/results.json]

Every figure is a ratio to a floor, so it holds on a noisy shared machine; see
docs/performance.md for the targets and what the floors are. Commands are run as fresh
processes, interleaved with their floor, several times; the table shows the median and the
spread (max - min) of wall time, and peak RSS from the kernel's accounting (os.wait4).
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
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import build  # noqa: E402

PYTHON = sys.executable
# Bytecode caching as on a user's machine: with PYTHONDONTWRITEBYTECODE set (some CI images set
# it), every run would recompile policylint's modules but not the floor's installed ones.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


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


def peak_rss(command: list[str], cwd: Path) -> int:
    """Peak RSS (KiB) of one run, measured through a small launcher (see peak_rss.py)."""
    proc = subprocess.run(
        [PYTHON, str(HERE / "peak_rss.py"), *command], cwd=cwd, capture_output=True, text=True, check=False, env=ENV
    )
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
        name: Measure(
            name,
            statistics.median(values),
            max(values) - min(values),
            peak_rss(pairs[name], cwd),
            runs,
        )
        for name, values in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer runs and smaller corpora (a smoke test)")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "results.json")
    args = parser.parse_args()
    cold_runs = 5 if args.quick else 21
    bulk_runs = 1 if args.quick else 3
    sizes = (200, 1_000, 2_000) if args.quick else (1_000, 10_000, 50_000)
    small, mid, large = sizes
    tool = policylint_command()
    rows: list[dict] = []

    def row(label: str, m: Measure, floor: Measure | None, target: float | None, count: int | None = None) -> None:
        ratio = m.median_s / floor.median_s if floor else None
        entry = {**asdict(m), "label": label, "floor": floor.name if floor else None, "ratio": ratio, "target": target}
        if count:
            entry["manifests"] = count
            entry["manifests_per_s"] = count / m.median_s
            entry["rss_kb_per_manifest"] = m.peak_rss_kb / count
            if floor:
                entry["us_above_floor_per_manifest"] = (m.median_s - floor.median_s) / count * 1e6
        entry["meets_target"] = None if target is None or ratio is None else ratio <= target
        rows.append(entry)

    with tempfile.TemporaryDirectory(prefix="policylint-bench-") as tmp:
        root = Path(tmp)
        print(f"building corpora {sizes} ...", file=sys.stderr)
        corpora = {}
        for size in sizes:
            paths = build(root / f"c{size}", size)
            listing = root / f"c{size}.txt"
            listing.write_text("\n".join(str(p) for p in paths), "utf-8")
            corpora[size] = (root / f"c{size}", listing)
        one = corpora[small][0] / "team-00" / "group-000" / "project-00000" / "mlproject.toml"
        shutil.copy(one, root / "one.toml")

        print("cold start ...", file=sys.stderr)
        cold = measure(
            {
                "check one.toml": [*tool, "check", "--today", "2026-12-01", "one.toml"],
                "floor.py": [PYTHON, str(HERE / "floor.py")],
                "--version": [*tool, "--version"],
                "--help": [*tool, "--help"],
                "import click": [PYTHON, "-c", "import click"],
            },
            cold_runs,
            root,
        )
        row("cold start, one manifest", cold["check one.toml"], cold["floor.py"], 1.3)
        row("--version", cold["--version"], cold["import click"], 1.5)
        row("--help", cold["--help"], cold["import click"], 1.5)

        print("throughput and scaling ...", file=sys.stderr)
        for size in sizes:
            folder, listing = corpora[size]
            result = measure(
                {
                    f"check {size} -j1": [*tool, "check", "--format", "json", "--today", "2026-12-01", "-j", "1", str(folder)],
                    f"parse {size}": [PYTHON, str(HERE / "parse_floor.py"), str(listing)],
                },
                bulk_runs,
                root,
            )
            target = 2.5 if size == mid else None
            row(f"throughput {size:,}, 1 worker", result[f"check {size} -j1"], result[f"parse {size}"], target, size)
            if size == small:
                small_rss = result[f"check {size} -j1"].peak_rss_kb
            if size == mid:
                one_worker = result[f"check {size} -j1"]

        print("parallel ...", file=sys.stderr)
        folder, _ = corpora[mid]
        parallel = measure(
            {"check -j2": [*tool, "check", "--format", "json", "--today", "2026-12-01", "-j", "2", str(folder)]},
            bulk_runs,
            root,
        )["check -j2"]
        speedup = one_worker.median_s / parallel.median_s
        rows.append({**asdict(parallel), "label": f"--jobs 2 on {mid:,}", "floor": "1 worker", "ratio": speedup,
                     "target": 1.7, "meets_target": speedup >= 1.7, "note": "speed-up (higher is better)"})

        large_rss = next(r["peak_rss_kb"] for r in rows if r.get("manifests") == large)
        rss_ratio = large_rss / small_rss
        rows.append({"label": f"peak RSS {large:,} vs {small:,}", "ratio": rss_ratio, "target": 2.0,
                     "meets_target": rss_ratio <= 2.0, "peak_rss_kb": large_rss, "floor": f"{small_rss} KiB"})

    print_table(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"python": sys.version.split()[0], "cpus": os.cpu_count(), "rows": rows}, indent=2) + "\n")
    print(f"\nwritten to {args.out}")


def print_table(rows: list[dict]) -> None:
    header = f"{'benchmark':34} {'median':>9} {'spread':>8} {'peak RSS':>10} {'ratio':>7} {'target':>7}  ok   extra"
    print(header)
    print("-" * len(header))
    for r in rows:
        median = f"{r['median_s'] * 1000:.0f} ms" if "median_s" in r else ""
        spread = f"{r['spread_s'] * 1000:.0f} ms" if "spread_s" in r else ""
        rss = f"{r['peak_rss_kb'] / 1024:.1f} MiB" if r.get("peak_rss_kb") else ""
        ratio = f"{r['ratio']:.2f}x" if r.get("ratio") is not None else ""
        target = (">=" if r.get("note") else "<=") + f"{r['target']}x" if r.get("target") else ""
        ok = {True: "yes", False: "NO", None: ""}[r.get("meets_target")]
        extra = ""
        if "manifests_per_s" in r:
            extra = f"{r['manifests_per_s']:,.0f}/s, +{r.get('us_above_floor_per_manifest', 0):.0f} us/manifest over floor, " \
                    f"{r['rss_kb_per_manifest']:.2f} KiB/manifest"
        print(f"{r['label']:34} {median:>9} {spread:>8} {rss:>10} {ratio:>7} {target:>7}  {ok:4} {extra}")


if __name__ == "__main__":
    main()
