"""Commands beyond ``check``, one module each (pre-commit's ``commands/`` shape).

Each module defines click commands and a ``COMMANDS`` tuple of them; :func:`register` adds every
module's commands to the group, so adding a command is adding a module. Modules import click
only at the top (``--help`` and ``--version`` stay fast); their work imports what it needs.
"""

from __future__ import annotations

import importlib
import pkgutil

import click


def register(group: click.Group) -> None:
    """Add the commands of every module in this package to ``group``, in module name order."""
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        for command in importlib.import_module(f"{__name__}.{module}").COMMANDS:
            group.add_command(command)


# A command module imports its helpers from policylint.cli, which registers the commands at its
# end: importing one directly (a test, the docs generator) must load cli first.
import policylint.cli  # noqa: E402, F401
