"""``python -m policylint``: the command line, without the current folder on the import path.

``-m`` puts the current folder first on ``sys.path`` (unless ``-P`` or ``-I``), and in CI that
folder is the repository under check: a ``*.dist-info`` folder or a module there would load as
an installed plugin, or stand in for one, and run its code. Only installed code may run, so the
entry goes before anything is imported (policylint itself already is: its modules load from it).
"""

import os
import sys


def _drop_current_folder(path: list[str]) -> None:
    if getattr(sys.flags, "safe_path", False) or sys.flags.isolated:  # -P, -I: -m added nothing
        return
    try:
        current = os.getcwd()
    except OSError:  # a folder that was removed: nothing of it can be imported either
        return
    if path and path[0] in ("", current):
        del path[0]


_drop_current_folder(sys.path)

from policylint.cli import main  # noqa: E402

main()
