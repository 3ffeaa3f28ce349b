"""A deterministic corpus of manifests: passing, failing, waived and invalid, in a nested tree."""

from __future__ import annotations

import random
import re
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parent.parent / "tests" / "scenarios"
SEED = 20261201


def templates() -> list[str]:
    return [p.read_text("utf-8") for p in sorted(SCENARIOS.glob("[0-9]*.toml"))]


def build(root: Path, count: int, seed: int = SEED) -> list[Path]:
    """Write ``count`` manifests under ``root`` (``team-NN/project-NNNNN/mlproject.toml``)."""
    rng = random.Random(seed)
    sources = templates()
    paths = []
    for index in range(count):
        text = rng.choice(sources)
        text = re.sub(r'(?m)^name = ".*"$', f'name = "project-{index:05d}"', text, count=1)
        # Nudge the counts so manifests differ (the decision may change; that is the point).
        text = re.sub(r"(?m)^examples = ([\d_]+)$", lambda m: f"examples = {int(m.group(1)) + rng.randint(-50, 50)}", text)
        path = root / f"team-{index % 40:02d}" / f"group-{index // 400:03d}" / f"project-{index:05d}" / "mlproject.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        paths.append(path)
    return paths
