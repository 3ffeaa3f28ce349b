"""One configuration file (or the command line's flags) read into :class:`Settings`.

A file is ``policylint.toml`` or the ``[tool.policylint]`` table of a ``pyproject.toml``. For a
manifest, :func:`find_chain` finds every file from the repository root down to its folder.
Unknown keys and bad values exit 2, naming the file, line, column and key; every value read
carries its :class:`~policylint.config.model.Origin`. Configuration is data: nothing in it can
run code.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Annotated, Any

from policylint import toml
from policylint.config.model import Layer, Origin, Setting
from policylint.discovery import absolute
from policylint.discovery import parent as parent_of
from policylint.errors import ConfigError, UsageError, located
from policylint.files import not_a_file, read_bounded
from policylint.positions import KeyPath, SourceIndex
from policylint.schema import Kind, describe_model, explain

CONFIG_FILE = "policylint.toml"
PYPROJECT = "pyproject.toml"
#: The organisation's configuration file, set by a platform team in CI images and workflows.
ORG_ENV = "POLICYLINT_ORG_CONFIG"
TOOL = "policylint"
#: A configuration file (the repository's or the organisation's) is read only up to this size:
#: a repository must not be able to fill the gate's memory with its pyproject.toml.
MAX_CONFIG_FILE_BYTES = 1 << 20


@functools.cache
def config_model() -> type[Any]:
    """The pydantic model of a configuration file, built on first use.

    Most runs find no configuration file, and building a model costs about 10 ms at start-up,
    which a pre-commit hook pays on every commit.
    """
    from typing import Literal

    from pydantic import BaseModel, ConfigDict, Field

    rule_pattern = Annotated[str, Field(pattern=r"^[A-Z]{1,6}[0-9]{0,3}$"), Kind("rule-pattern")]
    rule_id = Annotated[str, Field(pattern=r"^[A-Z]{2,6}[0-9]{3}$"), Kind("rule-id")]
    waiver_days = Annotated[int, Field(ge=0, le=36_500), Kind("waiver-days")]
    pack_version = Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+)*$"), Kind("a pack version in quotes, such as \"2\" or \"2.1\"")]

    class ConfigModel(BaseModel):
        """The keys a configuration file may set (kebab-case, as ruff's)."""

        model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

        select: list[rule_pattern] | None = None  # type: ignore[valid-type]
        extend_select: list[rule_pattern] = Field(default=[], alias="extend-select")  # type: ignore[valid-type]
        ignore: list[rule_pattern] = []  # type: ignore[valid-type]
        fail_on: Literal["error", "warning"] = Field(default="error", alias="fail-on")
        severity: dict[str, Literal["error", "warning"]] = {}
        params: dict[str, Any] = {}  # checked against each parameter's declared type once packs load
        policy_paths: list[str] = Field(default=[], alias="policy-paths")
        exclude: list[str] = []
        max_waiver_days: waiver_days = Field(default=180, alias="max-waiver-days")  # type: ignore[valid-type]
        waiver_warn_days: waiver_days = Field(default=14, alias="waiver-warn-days")  # type: ignore[valid-type]
        disable_plugins: list[str] = Field(default=[], alias="disable-plugins")
        non_waivable: list[rule_id] = Field(default=[], alias="non-waivable")  # type: ignore[valid-type]
        #: Pack name -> the pack version adopted: rules newer than it run as preview warnings.
        pack_versions: dict[str, pack_version] = Field(default={}, alias="pack-versions")  # type: ignore[valid-type]
        #: The baseline file (relative to this file's folder); "" removes it (organisation only).
        baseline: str | None = None

    return ConfigModel


@dataclass(frozen=True)
class Settings:
    """What one layer (a file, or the flags) sets; ``None`` or empty: the layer leaves it alone."""

    path: Path | None = None
    select: Setting[tuple[str, ...]] | None = None
    extend_select: Setting[tuple[str, ...]] | None = None
    ignore: Setting[tuple[str, ...]] | None = None
    fail_on: Setting[str] | None = None
    severity: tuple[tuple[str, Setting[str]], ...] = ()
    params: tuple[tuple[str, Setting[Any]], ...] = ()
    policy_paths: tuple[Setting[Path], ...] = ()
    exclude: tuple[Setting[tuple[Path, str]], ...] = ()
    max_waiver_days: Setting[int] | None = None
    waiver_warn_days: Setting[int] | None = None
    disable_plugins: tuple[Setting[str], ...] = ()
    non_waivable: Setting[tuple[str, ...]] | None = None
    #: ``pack-versions``: pack name -> the version adopted (checked against the packs once they load).
    pack_versions: tuple[tuple[str, Setting[str]], ...] = ()
    #: ``baseline``: the baseline file, resolved against the file's folder; None in it: removed.
    baseline: Setting[Path | None] | None = None

    @property
    def root(self) -> Path:
        """The folder that relative paths and ``exclude`` globs are read from."""
        return self.path.parent if self.path else Path.cwd()


# ------------------------------------------------------------------------------- discovery


def config_in(folder: Path | str, files: Collection[str] | None = None) -> Path | None:
    """The folder's configuration file: ``policylint.toml``, else a ``pyproject.toml`` that has
    a ``[tool.policylint]`` table (a near miss of that name is an error, not silence).

    Asked once per folder of a run, so with plain strings: a ``Path`` is made only for a find.
    ``files``, when known, are the configuration names the folder holds as files (see
    :class:`Chains`), so that the file system need not be asked.
    """
    if files is not None and not files:  # the usual folder: none of them, nothing to ask
        return None
    base = os.fspath(folder)
    candidate = os.path.join(base, CONFIG_FILE)
    if CONFIG_FILE in files if files is not None else os.path.isfile(candidate):
        return Path(candidate)
    candidate = os.path.join(base, PYPROJECT)
    if (PYPROJECT in files if files is not None else os.path.isfile(candidate)) and _has_tool_table(Path(candidate)):
        return Path(candidate)
    return None


def _not_listed(folder: str) -> None:
    return None


def find_config(start: Path) -> Path | None:
    """The nearest configuration file at or above ``start``."""
    for folder in (start, *start.parents):
        found = config_in(folder)
        if found:
            return found
    return None


class Chains:
    """Which repository files apply to a manifest's folder, each folder looked at once per run.

    In a git work tree (the nearest folder above holding ``.git``), the files of every folder from
    its root down, outermost first; outside one, only the nearest file (configuration.md). A
    monorepo's manifests share their parents, so each answer builds on its parent folder's.
    """

    def __init__(self) -> None:
        self._git: dict[str, bool] = {}
        self._in_repo: dict[str, bool] = {}
        self._chains: dict[str, tuple[Path, ...]] = {}
        #: Which of ``.git`` and the configuration names a folder holds, as discovery's walk saw
        #: it (``discovery.Listing.names``), or None: ask the file system.
        self.listed: Callable[[str], Collection[str] | None] = _not_listed

    def of(self, folder: Path | str) -> tuple[Path, ...]:
        """The repository files for a manifest in ``folder``, outermost first.

        Only the folders above are remembered: a folder holds one manifest, so remembering the
        manifests' own folders would cost memory in proportion to the run and save nothing.
        """
        path = absolute(folder) if type(folder) is str else os.path.abspath(folder)
        parent = parent_of(path)
        names = self.listed(path)
        if ".git" in names if names is not None else os.path.exists(os.path.join(path, ".git")):
            return self._own(path, names)
        if parent != path and self._inside(parent):
            return self._chain(parent) + self._own(path, names)
        return self._own(path, names) or (self._nearest(parent) if parent != path else ())

    def _holds_git(self, path: str) -> bool:
        if path not in self._git:
            names = self.listed(path)
            self._git[path] = ".git" in names if names is not None else os.path.exists(os.path.join(path, ".git"))
        return self._git[path]

    def _inside(self, path: str) -> bool:
        if path not in self._in_repo:
            parent = os.path.dirname(path)
            self._in_repo[path] = self._holds_git(path) or (parent != path and self._inside(parent))
        return self._in_repo[path]

    def _own(self, path: str, names: Collection[str] | None) -> tuple[Path, ...]:
        """``path``'s own configuration file; ``names``: what ``self.listed`` says of it."""
        found = config_in(path, names)
        return (found,) if found else ()

    def _chain(self, path: str) -> tuple[Path, ...]:
        if path not in self._chains:
            parent = os.path.dirname(path)
            self._chains[path] = (() if self._holds_git(path) else self._chain(parent)) + self._own(path, self.listed(path))
        return self._chains[path]

    def _nearest(self, path: str) -> tuple[Path, ...]:
        key = "nearest:" + path
        if key not in self._chains:
            parent = os.path.dirname(path)
            self._chains[key] = self._own(path, self.listed(path)) or (self._nearest(parent) if parent != path else ())
        return self._chains[key]


def find_chain(folder: Path) -> tuple[Path, ...]:
    """The repository files for a manifest in ``folder``, outermost first (see :class:`Chains`)."""
    return Chains().of(folder)


def _has_tool_table(path: Path) -> bool:
    """Whether a pyproject.toml configures policylint; a near-miss name there is an error."""
    try:
        raw = read_bounded(path, MAX_CONFIG_FILE_BYTES, cut=True)
    except OSError:
        return False
    if len(raw) > MAX_CONFIG_FILE_BYTES:  # claimed when it may configure us: loading says it is too large
        return b"policylint" in raw
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    try:
        tool = toml.loads(text).get("tool", {})
    except toml.TOMLError:
        # claim it when it may configure us, so that loading reports the syntax error: the gate fails closed
        return "policylint" in text
    if not isinstance(tool, dict):
        return "policylint" in text
    if TOOL in tool:
        return True
    _check_near_miss(path, text, tool)
    return False


def _check_near_miss(path: Path, text: str, tool: dict[str, Any]) -> None:
    """``[tool.policylnt]`` would be silently skipped, and the gate with it."""
    for name in tool:
        folded = name.casefold().replace("-", "").replace("_", "")
        if _edits(folded, TOOL) > 2:  # pylint, poetry and friends are 4 or more away
            continue
        line, column = SourceIndex.from_text(text).locate(("tool", name))
        raise ConfigError(located(
            str(path), line, column, f"tool.{name}: not a policylint table (did you mean 'tool.{TOOL}'?); "
            f"rename it to [tool.{TOOL}] or policylint will not read it",
        ))


def _edits(a: str, b: str) -> int:
    """Levenshtein distance: how many one-letter edits turn ``a`` into ``b``."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def org_config_path(flag: str | None) -> Path | None:
    """The organisation's file: ``--org-config`` or ``POLICYLINT_ORG_CONFIG``, never two different ones.

    A platform team sets the variable in its CI images; a repository's own CI or pre-commit
    files must not be able to swap it by passing the flag.
    """
    env = os.environ.get(ORG_ENV) or None
    if flag is not None and env is not None:
        if not _same_file(Path(flag), Path(env)):
            raise UsageError(f"--org-config {flag} names a different file from {ORG_ENV}={env}; only one organisation configuration may apply")
    chosen = flag if flag is not None else env
    if chosen is None:
        return None
    what = "--org-config" if flag is not None else ORG_ENV
    if not Path(chosen).is_file():
        raise UsageError(f"{what}: {not_a_file(chosen)}: {chosen}")
    return Path(chosen)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


# --------------------------------------------------------------------------------- reading


def load_config(path: Path, layer: Layer = "repo") -> Settings:
    """Read and check one configuration file; ``layer`` is ``repo`` or ``org``."""
    try:
        text = read_bounded(path, MAX_CONFIG_FILE_BYTES).decode("utf-8").removeprefix("\ufeff")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc}") from None
    try:
        data = toml.loads(text)
    except toml.TOMLError as exc:
        raise ConfigError(located(str(path), exc.line, exc.column, f"invalid TOML: {exc.message}")) from None
    index = SourceIndex.from_text(text)
    pyproject = path.name == PYPROJECT
    prefix: KeyPath = ("tool", TOOL) if pyproject else ()
    if pyproject:
        tool = data.get("tool", {})
        table = tool.get(TOOL, {}) if isinstance(tool, dict) else None
        if isinstance(tool, dict) and TOOL not in tool:
            _check_near_miss(path, text, tool)
        if not isinstance(table, dict):
            line, column = index.locate(("tool", TOOL) if isinstance(tool, dict) else ("tool",))
            raise ConfigError(located(str(path), line, column, f"tool.{TOOL}: expected a table ([tool.{TOOL}])"))
    else:
        table = data
        tool = data.get("tool")
        if isinstance(tool, dict) and TOOL in tool:
            line, column = index.locate(("tool", TOOL))
            raise ConfigError(located(
                str(path), line, column,
                f"tool.{TOOL}: {path.name} is policylint's own file: drop the [tool.{TOOL}] header and keep its keys at the top level",
            ))
    from pydantic import ValidationError

    try:
        model = config_model().model_validate(table)
    except ValidationError as exc:
        problem = explain(exc, describe_model(config_model()))[0]
        line, column = index.locate(prefix + (problem.at if problem.at is not None else problem.key_path))
        dotted = ".".join(str(p) for p in (*prefix, *problem.key_path))
        raise ConfigError(located(str(path), line, column, f"{dotted}: {problem.message}")) from None

    def origin(*key_path: str | int) -> Origin:
        line, column = index.locate(prefix + key_path)
        label = f"{path}:{line}"
        dotted = ".".join(str(p) for p in (*prefix, *key_path))
        return Origin(layer, f"org config {label}" if layer == "org" else label, located(str(path), line, column, dotted))

    return settings_from(model, origin, path.parent, path)


def settings_from(model: Any, origin: Callable[..., Origin], base: Path, path: Path | None = None) -> Settings:
    """A checked configuration table as one layer; ``origin(*key_path)`` says where each key was set."""
    given = {config_model().model_fields[name].alias or name for name in model.model_fields_set}

    def setting(key: str, value: Any) -> Setting[Any] | None:
        return Setting(value, origin(key)) if key in given else None

    return Settings(
        path=path,
        select=setting("select", None if model.select is None else tuple(model.select)),
        extend_select=setting("extend-select", tuple(model.extend_select)),
        ignore=setting("ignore", tuple(model.ignore)),
        fail_on=setting("fail-on", model.fail_on),
        severity=tuple((rule, Setting(level, origin("severity", rule))) for rule, level in model.severity.items()),
        params=tuple((name, Setting(value, origin("params", name))) for name, value in model.params.items()),
        policy_paths=tuple(Setting(base / p, origin("policy-paths")) for p in model.policy_paths),
        exclude=tuple(Setting((base, glob), origin("exclude")) for glob in model.exclude),
        max_waiver_days=setting("max-waiver-days", model.max_waiver_days),
        waiver_warn_days=setting("waiver-warn-days", model.waiver_warn_days),
        disable_plugins=tuple(Setting(name, origin("disable-plugins")) for name in model.disable_plugins),
        non_waivable=setting("non-waivable", tuple(model.non_waivable)),
        pack_versions=tuple(
            (name, Setting(version, origin("pack-versions", name))) for name, version in model.pack_versions.items()
        ),
        baseline=setting("baseline", (base / model.baseline) if model.baseline else None),
    )


#: Keys a plugin's ``policylint_org_settings`` may set: paths and plugins have hooks of their own.
PLUGIN_KEYS = frozenset({"select", "extend-select", "ignore", "fail-on", "severity", "params", "max-waiver-days", "waiver-warn-days", "non-waivable"})


def plugin_settings(answer: Mapping[str, Any], describe: str) -> Settings:
    """A plugin's organisation settings (same keys as a file), checked like a file's."""
    from pydantic import ValidationError

    for key in answer:
        if key not in PLUGIN_KEYS:
            raise ValueError(f"settings key {key!r} cannot be set by a plugin (allowed: {', '.join(sorted(PLUGIN_KEYS))})")
    try:
        model = config_model().model_validate(dict(answer))
    except ValidationError as exc:
        problem = explain(exc, describe_model(config_model()))[0]
        raise ValueError(f"settings {'.'.join(map(str, problem.key_path))}: {problem.message}") from None

    def origin(*key_path: str | int) -> Origin:
        return Origin("plugin", describe, f"{describe}: settings {'.'.join(map(str, key_path))}")

    return settings_from(model, origin, Path.cwd())


# ----------------------------------------------------------------------------------- flags


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    """``--select A,B --select C`` -> ``("A", "B", "C")``."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def parse_param(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` with VALUE read as a TOML value (``0.9``, ``150_000``)."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise ConfigError(f"--param: expected NAME=VALUE, got {text!r}")
    if any(char in raw for char in "\r\n"):  # TOML would read the rest as more keys, dropped
        raise ConfigError(f"--param {name.strip()}: expected one value on one line, got {raw!r}")
    try:
        value = toml.loads(f"value = {raw.strip()}")["value"]
    except toml.TOMLError:
        raise ConfigError(f"--param {name.strip()}: {raw!r} is not a number") from None
    return name.strip(), value


def flag_settings(
    *,
    select: tuple[str, ...] = (),
    extend_select: tuple[str, ...] = (),
    ignore: tuple[str, ...] = (),
    fail_on: str | None = None,
    params: tuple[str, ...] = (),
    disable_plugins: tuple[str, ...] = (),
) -> Settings:
    """The command line as the last layer: tighten only, like a repository file."""

    def flag(name: str, locate: str | None = None) -> Origin:
        return Origin("flag", f"flag --{name}", locate or f"--{name}")

    def listed(name: str, values: tuple[str, ...]) -> Setting[tuple[str, ...]] | None:
        return Setting(_split(values), flag(name)) if values else None

    parsed = [(text, *parse_param(text)) for text in params]
    return Settings(
        select=listed("select", select),
        extend_select=listed("extend-select", extend_select),
        ignore=listed("ignore", ignore),
        fail_on=Setting(fail_on, flag("fail-on")) if fail_on else None,
        params=tuple((name, Setting(value, flag("param", f"--param {text}"))) for text, name, value in parsed),
        disable_plugins=tuple(Setting(name, flag("disable-plugin")) for name in disable_plugins),
    )
