"""The throughput floor: find every manifest under a folder, read and parse it, in one process.

    python benchmarks/parse_floor.py FOLDER

Globs ``FOLDER/**/mlproject.toml`` (``glob.glob``, recursive), reads each file and
``tomli.loads`` it: what any checker of a tree of manifests must do before its own work.
Prints how many manifests it parsed (the benchmark checks it finds the whole corpus).
"""

import glob
import os
import sys

import tomli

count = 0
for path in glob.glob(os.path.join(sys.argv[1], "**", "mlproject.toml"), recursive=True):
    with open(path, "rb") as manifest:
        tomli.loads(manifest.read().decode("utf-8"))
    count += 1
print(count)
