"""Benchmark SourceIndex.from_text against tomli.loads on the scenario manifests.

Usage: python benchmarks/positions_bench.py [ITERATIONS] [--against REV]

Reads the sample manifests ``tests/scenarios/*.toml`` (not ``expected.toml``, which
is no manifest) and prints the mean time per manifest, in µs, of
``SourceIndex.from_text`` and of ``tomli.loads``, and their ratio. Each figure is a
mean over ITERATIONS passes through all the files (default 2000); the run is done
three times and the fastest mean kept, which filters out the noise of other work on
the machine.

With ``--against REV`` it also times ``policylint/positions.py`` as it is in that git
revision (read with ``git show``), for a before/after comparison: for instance
``--against HEAD`` while the working tree holds a change.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import tomli

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policylint.positions import SourceIndex


def mean_us(func: Callable[[str], object], texts: list[str], iterations: int) -> float:
    """Fastest of three runs of the mean time per text, in µs."""
    for text in texts:  # warm up
        func(text)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(iterations):
            for text in texts:
                func(text)
        best = min(best, time.perf_counter() - start)
    return best / (iterations * len(texts)) * 1e6


def tomli_loads(text: str) -> object:
    try:
        return tomli.loads(text)
    except tomli.TOMLDecodeError:  # a scenario may be meant to be invalid
        return None


def positions_at(rev: str) -> types.ModuleType:
    """policylint/positions.py as it is in git revision ``rev``."""
    source = subprocess.run(
        ["git", "show", f"{rev}:policylint/positions.py"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    module = types.ModuleType(f"positions_at_{rev}")
    exec(compile(source, f"{rev}:policylint/positions.py", "exec"), module.__dict__)  # noqa: S102
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("iterations", nargs="?", type=int, default=2000)
    parser.add_argument("--against", metavar="REV", help="also time positions.py of this git revision")
    args = parser.parse_args()

    files = [path for path in sorted((ROOT / "tests" / "scenarios").glob("*.toml")) if path.name != "expected.toml"]
    texts = [path.read_text(encoding="utf-8") for path in files]
    size = sum(len(text) for text in texts) / len(texts)
    print(f"{len(texts)} manifests, {size:.0f} characters on average; {args.iterations} iterations, best of 3 runs")

    index_us = mean_us(SourceIndex.from_text, texts, args.iterations)
    tomli_us = mean_us(tomli_loads, texts, args.iterations)
    print(f"SourceIndex.from_text:  {index_us:8.2f} µs per manifest")
    print(f"tomli.loads:            {tomli_us:8.2f} µs per manifest")
    print(f"from_text / tomli.loads: {index_us / tomli_us:7.2f}")
    if args.against:
        before_us = mean_us(positions_at(args.against).SourceIndex.from_text, texts, args.iterations)
        print(f"from_text at {args.against}: {before_us:8.2f} µs per manifest ({before_us / index_us:.1f}x the time)")


if __name__ == "__main__":
    main()
