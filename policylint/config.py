"""Configuration: ``[tool.policylint]`` in ``pyproject.toml``, or a ``policylint.toml``.

Found by searching upward from the working directory (in each folder ``policylint.toml`` first,
then a ``pyproject.toml`` that has a ``[tool.policylint]`` table); ``--config PATH`` names one.
Unknown keys and bad values exit 2, naming the file, line, column and key. Configuration is
data: nothing in it can run code.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from policylint import toml
from policylint.errors import ConfigError, located
from policylint.positions import KeyPath, SourceIndex
from policylint.schema import Kind, describe_model, explain

CONFIG_FILE = "policylint.toml"
PYPROJECT = "pyproject.toml"

@functools.cache
def config_model() -> type[Any]:
    """The pydantic model of a configuration file, built on first use.

    Most runs find no configuration file, and building a model costs about 10 ms at start-up,
    which a pre-commit hook pays on every commit.
    """
    from pydantic import BaseModel, ConfigDict, Field

    rule_pattern = Annotated[str, Field(pattern=r"^[A-Z]{1,6}[0-9]{0,3}$"), Kind("rule-pattern")]
    waiver_days = Annotated[int, Field(ge=0, le=36_500), Kind("waiver-days")]

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
        disable_plugins: list[str] = Field(default=[], alias="disable-plugins")

    return ConfigModel


@dataclass(frozen=True)
class Settings:
    """Configuration merged with command-line flags; ``origins`` says where each value came from."""

    path: Path | None = None
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: Literal["error", "warning"] = "error"
    severity: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    policy_paths: tuple[Path, ...] = ()
    exclude: tuple[str, ...] = ()
    max_waiver_days: int = 180
    disable_plugins: tuple[str, ...] = ()
    origins: dict[str, str] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        """The folder that relative paths and ``exclude`` globs are read from."""
        return self.path.parent if self.path else Path.cwd()


def find_config(start: Path) -> Path | None:
    """The nearest configuration file at or above ``start``."""
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
        candidate = folder / PYPROJECT
        if candidate.is_file() and _has_tool_table(candidate):
            return candidate
    return None


def _has_tool_table(path: Path) -> bool:
    """Whether a pyproject.toml configures policylint."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if "policylint" not in text:
        return False
    try:
        tool = toml.loads(text).get("tool", {})
    except toml.TOMLError:
        return True  # claim it, so that loading reports the syntax error: the gate fails closed
    return isinstance(tool, dict) and "policylint" in tool


def load_config(path: Path) -> Settings:
    """Read and check one configuration file."""
    try:
        text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc}") from None
    try:
        data = toml.loads(text)
    except toml.TOMLError as exc:
        raise ConfigError(located(str(path), exc.line, exc.column, f"invalid TOML: {exc.message}")) from None
    prefix: KeyPath = ("tool", "policylint") if path.name == PYPROJECT else ()
    tool = data.get("tool", {}) if prefix else {}
    table = (tool.get("policylint", {}) if isinstance(tool, dict) else None) if prefix else data
    if not isinstance(table, dict):
        line, column = SourceIndex.from_text(text).locate(("tool", "policylint") if isinstance(tool, dict) else ("tool",))
        raise ConfigError(located(str(path), line, column, "tool.policylint: expected a table ([tool.policylint])"))
    index = SourceIndex.from_text(text)

    def where(key_path: KeyPath) -> str:
        line, column = index.locate(prefix + key_path)
        return located(str(path), line, column, ".".join(str(p) for p in (*prefix, *key_path)))

    from pydantic import ValidationError

    try:
        model = config_model().model_validate(table)
    except ValidationError as exc:
        problem = explain(exc, describe_model(config_model()))[0]
        problem_message = problem.message
        line, column = index.locate(prefix + (problem.at if problem.at is not None else problem.key_path))
        dotted = ".".join(str(p) for p in (*prefix, *problem.key_path))
        raise ConfigError(located(str(path), line, column, f"{dotted}: {problem_message}")) from None

    origins = {key: where((key,)) for key in ("select", "extend-select", "ignore")}
    origins.update({f"params.{name}": where(("params", name)) for name in model.params})
    origins.update({f"severity.{rule}": where(("severity", rule)) for rule in model.severity})
    origins.update({f"policy-paths.{path.parent / p}": where(("policy-paths",)) for p in model.policy_paths})
    origins.update({f"disable-plugins.{name}": where(("disable-plugins",)) for name in model.disable_plugins})
    return Settings(
        path=path,
        select=None if model.select is None else tuple(model.select),
        extend_select=tuple(model.extend_select),
        ignore=tuple(model.ignore),
        fail_on=model.fail_on,
        severity=dict(model.severity),
        params=dict(model.params),
        policy_paths=tuple(path.parent / p for p in model.policy_paths),
        exclude=tuple(model.exclude),
        max_waiver_days=model.max_waiver_days,
        disable_plugins=tuple(model.disable_plugins),
        origins=origins,
    )


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    """``--select A,B --select C`` -> ``("A", "B", "C")``."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def parse_param(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` with VALUE read as a TOML value (``0.9``, ``150_000``)."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise ConfigError(f"--param: expected NAME=VALUE, got {text!r}")
    try:
        value = toml.loads(f"value = {raw.strip()}")["value"]
    except toml.TOMLError:
        raise ConfigError(f"--param {name.strip()}: {raw!r} is not a number") from None
    return name.strip(), value


def with_flags(
    settings: Settings,
    *,
    select: tuple[str, ...] = (),
    extend_select: tuple[str, ...] = (),
    ignore: tuple[str, ...] = (),
    fail_on: str | None = None,
    params: tuple[str, ...] = (),
    disable_plugins: tuple[str, ...] = (),
) -> Settings:
    """Command-line flags over the file: ``--select`` replaces, the other lists extend."""
    origins = dict(settings.origins)
    chosen = settings.select
    if select:
        chosen = _split(select)
        origins["select"] = "--select"
    if extend_select:
        origins["extend-select"] = "--extend-select"
    if ignore:
        origins["ignore"] = "--ignore" if not settings.ignore else f"{origins.get('ignore')} or --ignore"
    values = dict(settings.params)
    for name in disable_plugins:
        origins[f"disable-plugins.{name}"] = "--disable-plugin"
    for text in params:
        name, value = parse_param(text)
        values[name] = value
        origins[f"params.{name}"] = f"--param {text}"
    return Settings(
        path=settings.path,
        select=chosen,
        extend_select=(*settings.extend_select, *_split(extend_select)),
        ignore=(*settings.ignore, *_split(ignore)),
        fail_on=fail_on or settings.fail_on,  # type: ignore[arg-type]
        severity=settings.severity,
        params=values,
        policy_paths=settings.policy_paths,
        exclude=settings.exclude,
        max_waiver_days=settings.max_waiver_days,
        disable_plugins=(*settings.disable_plugins, *disable_plugins),
        origins=origins,
    )
