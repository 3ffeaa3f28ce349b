"""Configuration: who may change the gate, and where each setting in force comes from.

``files`` reads one file (or the flags) into a layer of :class:`Setting` values, ``layers``
applies them in order, tighten-only for a repository, and ``model`` holds the values, each with
its :class:`Origin`.
"""

from policylint.config.files import (
    CONFIG_FILE,
    ORG_ENV,
    PYPROJECT,
    Settings,
    find_chain,
    find_config,
    flag_settings,
    load_config,
    org_config_path,
    parse_param,
)
from policylint.config.model import BUILT_IN, InForce, Origin, Setting

__all__ = [
    "BUILT_IN",
    "CONFIG_FILE",
    "ORG_ENV",
    "PYPROJECT",
    "InForce",
    "Origin",
    "Setting",
    "Settings",
    "find_chain",
    "find_config",
    "flag_settings",
    "load_config",
    "org_config_path",
    "parse_param",
]
