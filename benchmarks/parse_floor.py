"""The throughput floor: read and parse every manifest listed in a file, in one process."""

import sys

import tomli

with open(sys.argv[1], encoding="utf-8") as listing:
    for path in listing.read().splitlines():
        with open(path, "rb") as manifest:
            tomli.loads(manifest.read().decode("utf-8"))
