"""Manifest format v1: reading a file, and the MAN findings.

The format's contract is the pydantic models in :mod:`policylint.models` (still importable
from here, loaded on first use); checking a manifest does not import them, nor pydantic: it
walks a table generated from them (:mod:`policylint.validator`). Validation only decides
*whether* the manifest is well-formed and where it is not; the checked raw dictionary is what
the rest of the pipeline reads, with the defaults that depend on other keys applied in
:mod:`policylint.facts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from policylint import _manifest_spec, toml, validator
from policylint.findings import Finding
from policylint.positions import KeyPath, SourceIndex
from policylint.schema import ABSENT, FieldType, Problem, describe_model, did_you_mean, explain, explain_errors, is_number, keys_by_table, show
from policylint.validator import MAX_LIST_ITEMS

if TYPE_CHECKING:
    from pydantic import BaseModel

    from policylint.models import Approach as Approach
    from policylint.models import Data as Data
    from policylint.models import Distillation as Distillation
    from policylint.models import Downstream as Downstream
    from policylint.models import Evaluation as Evaluation
    from policylint.models import Failures as Failures
    from policylint.models import Manifest as Manifest
    from policylint.models import Project as Project
    from policylint.models import Prompting as Prompting
    from policylint.models import Proposal as Proposal
    from policylint.models import Reason as Reason
    from policylint.models import Task as Task
    from policylint.models import VolumeTable as VolumeTable
    from policylint.models import Waiver as Waiver
else:
    _MODELS = frozenset({
        "Approach", "Data", "Distillation", "Downstream", "Evaluation", "Failures", "Manifest", "Project",
        "Prompting", "Proposal", "Reason", "Task", "VolumeTable", "Waiver",
    })

    def __getattr__(name: str) -> Any:
        """The models, from :mod:`policylint.models` on first use (which imports pydantic):
        ``policylint.manifest.Manifest`` keeps working."""
        if name in _MODELS:
            from policylint import models

            return getattr(models, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


SUPPORTED_SCHEMA_VERSIONS = (1,)


def _field_type(spec: dict[str, Any]) -> FieldType:
    """A generated field type (its non-default parts) as a :class:`FieldType`."""
    item = spec.get("item")
    return FieldType(spec["kind"], spec.get("values", ()), None if item is None else _field_type(item), spec.get("default", ABSENT))


# Field types for error messages, including waivers (which policies never read): generated from
# the models as describe_model(Manifest) gives them.
_ALL_FIELDS: dict[str, FieldType] = {path: _field_type(spec) for path, spec in _manifest_spec.FIELD_TYPES.items()}
#: Every manifest field policies read, by dotted path (plugins describe their ``ext`` tables).
FIELDS: dict[str, FieldType] = {path: spec for path, spec in _ALL_FIELDS.items() if not path.startswith(("waivers", "ext"))}
#: Each table's keys, for the messages about unknown keys.
_KEYS_BY_TABLE = keys_by_table(_ALL_FIELDS)

# Rules of the format itself, documented like policies so `policylint rule MAN002` works.
MANIFEST_RULES = {
    "MAN001": ("invalid-toml", "The file is not valid TOML or not UTF-8 text."),
    "MAN002": ("invalid-manifest", "The manifest breaks format v1: unknown key, wrong type, value out of range, missing key."),
    "MAN003": ("unsupported-schema-version", "schema_version is missing or is not a supported version."),
}


@dataclass
class Source:
    """A manifest's text, with its key positions indexed only when a finding needs one."""

    path: str
    text: str
    _index: SourceIndex | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def index(self) -> SourceIndex:
        # Made at the first position asked for; a plain attribute, not functools.cached_property,
        # which takes a lock on every first access before Python 3.12 (0.5 us a failing manifest).
        index = self._index
        if index is None:
            index = self._index = SourceIndex.from_text(self.text)
        return index

    def finding(
        self,
        rule: str,
        name: str,
        severity: Literal["error", "warning"],
        message: str,
        key_path: KeyPath,
        *,
        recommends: str | None = None,
    ) -> Finding:
        """A finding located at ``key_path``, or its nearest enclosing key present."""
        line, column = self.index.locate(key_path)
        return Finding(rule, name, severity, message, dotted(key_path), line, column, recommends)


def dotted(key_path: KeyPath) -> str:
    """``("waivers", 0, "rule")`` -> ``waivers[0].rule``."""
    text = ""
    for part in key_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


@dataclass
class LoadedManifest:
    """A read manifest: its data when well-formed, else the MAN findings that say why not."""

    source: Source
    data: dict[str, Any] | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def proposal(self) -> str | None:
        """The approach as read, even from an invalid manifest (reports show it)."""
        if self.data is None:
            return None
        proposal = self.data.get("proposal")
        approach = proposal.get("approach") if isinstance(proposal, dict) else None
        return approach if isinstance(approach, str) else None


def decode(path: str, raw: bytes) -> tuple[Source | None, Finding | None]:
    """UTF-8 text without its byte-order mark, or the MAN001 finding that says why not."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        before = raw[line_start : exc.start].decode("utf-8", "replace").removeprefix("\ufeff")
        column = len(before) + 1  # in characters, a byte-order mark not counted
        message = f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        return None, Finding("MAN001", "invalid-toml", "error", message, "", line, column)
    if text.startswith("\ufeff"):
        text = text[1:]
    return Source(path, text), None


def unreadable(path: str, reason: str | None) -> LoadedManifest:
    """A file that exists but cannot be read: a MAN001 finding, and the run goes on."""
    said = f": {reason}" if reason else " (the operating system gave no reason)"
    finding = Finding("MAN001", "invalid-toml", "error", f"the file cannot be read{said}", "", 1, 1)
    return LoadedManifest(Source(path, ""), None, [finding])


#: Plugins' extension table models by name (pydantic models: plugins import pydantic).
ExtModels = Mapping[str, "type[BaseModel]"]


#: The largest manifest read (1 MiB): real manifests are a few KiB, and a bigger file is a
#: mistake or an attack whose validation would cost memory in proportion to its size.
MAX_MANIFEST_BYTES = 1 << 20
#: MAN002 findings kept per key and per manifest; the rest are counted in one closing finding.
MAX_FINDINGS_PER_KEY = 10
MAX_FINDINGS_PER_MANIFEST = 100


def too_large(path: str, size: int) -> LoadedManifest:
    """A file over :data:`MAX_MANIFEST_BYTES`: a MAN001 finding, and the run goes on."""
    message = f"the file is larger than {MAX_MANIFEST_BYTES:,} bytes, the limit for a manifest; is it the right file?"
    return LoadedManifest(Source(path, ""), None, [Finding("MAN001", "invalid-toml", "error", message, "", 1, 1)])


def load_manifest(path: str, raw: bytes, ext_models: ExtModels | None = None) -> LoadedManifest:
    """Read and check one manifest; never raises for anything the file contains."""
    return validated(parsed(decoded(path, raw)), ext_models)


# Loading in three stages, so that a run can take each over a batch of manifests before the
# next (runner.check_batch says why). A manifest refused by a stage is a LoadedManifest from
# there on, which the later stages pass on as it is.


def decoded(path: str, raw: bytes) -> Source | LoadedManifest:
    """The first stage: the file's text, or MAN001 (too large, not UTF-8)."""
    if len(raw) > MAX_MANIFEST_BYTES:
        return too_large(path, len(raw))
    source, problem = decode(path, raw)
    if source is None:
        assert problem is not None
        return LoadedManifest(Source(path, ""), None, [problem])
    return source


def parsed(state: Source | LoadedManifest) -> tuple[Source, dict[str, Any]] | LoadedManifest:
    """The second stage: the text and its tables, or MAN001 (not TOML)."""
    if type(state) is not Source:
        return cast(LoadedManifest, state)
    try:
        return state, toml.loads(state.text)
    except toml.TOMLError as exc:
        finding = Finding("MAN001", "invalid-toml", "error", f"invalid TOML: {exc.message}", "", exc.line, exc.column)
        return LoadedManifest(state, None, [finding])


def validated(state: tuple[Source, dict[str, Any]] | LoadedManifest, ext_models: ExtModels | None) -> LoadedManifest:
    """The last stage: the manifest with its MAN002 and MAN003 findings, if any."""
    if type(state) is not tuple:
        return cast(LoadedManifest, state)
    source, data = state
    version_problem = check_schema_version(source, data)
    if version_problem is not None:
        return LoadedManifest(source, data, [version_problem])
    return LoadedManifest(source, data, validate(source, data, ext_models or {}))


def check_schema_version(source: Source, data: dict[str, Any]) -> Finding | None:
    """MAN003 unless ``schema_version`` is exactly the integer 1."""
    version = data.get("schema_version")
    if type(version) is int and version in SUPPORTED_SCHEMA_VERSIONS:
        return None
    supported = ", ".join(str(v) for v in SUPPORTED_SCHEMA_VERSIONS)
    if "schema_version" not in data:
        message = f"schema_version is missing; add `schema_version = 1` (supported: {supported})"
        return Finding("MAN003", "unsupported-schema-version", "error", message, "schema_version", 1, 1)
    shown = show(version) or "a table or array"
    message = f"unsupported schema_version {shown}; supported versions: {supported} (an integer)"
    return source.finding("MAN003", "unsupported-schema-version", "error", message, ("schema_version",))


def man002(source: Source, key_path: KeyPath, message: str, *, at: KeyPath | None = None) -> Finding:
    """A format problem with ``key_path``, located there (or at ``at``, its enclosing table)."""
    where = key_path if at is None else at
    line, column = source.index.locate(where) if where else (1, 1)
    key = dotted(key_path)
    return Finding("MAN002", "invalid-manifest", "error", f"{key}: {message}", key, line, column)


def validate(source: Source, data: dict[str, Any], ext_models: ExtModels) -> list[Finding]:
    """MAN002 findings, one per problem as a user would fix it: each list over
    :data:`MAX_LIST_ITEMS` first (only that many items are checked), then the format's problems
    (:mod:`policylint.validator`, worded by :func:`explain_errors`), the problems between keys,
    and the ``ext`` tables' against the plugins' models."""
    if not validator.is_clean(data):
        errors, cuts = validator.full_check(data)
    elif "ext" not in data and _agree_between_keys(data):  # the usual manifest: nothing to report
        return []
    else:
        errors, cuts = [], []
    if not errors and not cuts:  # only the problems between keys to look for
        findings = _cross_field_problems(source, data, set())
        if "ext" in data:
            findings.extend(_ext_problems(source, data["ext"], ext_models))
        return _bounded(findings)
    findings = [
        man002(source, key_path, f"{length:,} items; a list holds at most {MAX_LIST_ITEMS:,} (only those were checked)")
        for key_path, length in cuts
    ]
    problems = [p for p in explain_errors(errors, _ALL_FIELDS, _KEYS_BY_TABLE) if p.key_path[:1] != ("ext",)]  # plugins' models check ext
    findings.extend(_findings(source, problems, ()))
    # The problems between keys read scalars and whether reasons is empty: a list cut to the
    # limit would read the same, so they are given the data itself.
    findings.extend(_cross_field_problems(source, data, {f.key for f in findings}))
    ext = data.get("ext")
    if any(key_path[:1] == ("ext",) for key_path, _ in cuts):
        ext = _cut_long_lists(ext)  # a plugin's model sees its lists cut to the limit, as reported
    findings.extend(_ext_problems(source, ext, ext_models))
    return _bounded(findings)


def _cut_long_lists(value: Any) -> Any:
    """``value`` with every list cut to :data:`MAX_LIST_ITEMS` (copied only where cut)."""
    if isinstance(value, dict):
        cut = {k: _cut_long_lists(v) for k, v in value.items()}
        return cut if any(cut[k] is not value[k] for k in value) else value
    if isinstance(value, list):
        items = [_cut_long_lists(item) for item in value[:MAX_LIST_ITEMS]]
        return items if len(items) != len(value) or any(a is not b for a, b in zip(items, value)) else value
    return value


def _bounded(findings: list[Finding]) -> list[Finding]:
    """At most :data:`MAX_FINDINGS_PER_KEY` findings per key and :data:`MAX_FINDINGS_PER_MANIFEST`
    in all, each cut counted in one "and N more" finding, so a file of a million bad list items
    costs a report of a page, not of megabytes."""
    if len(findings) <= MAX_FINDINGS_PER_KEY:
        return findings
    kept: list[Finding] = []
    dropped: dict[str, int] = {}
    first: dict[str, Finding] = {}
    per_key: dict[str, int] = {}
    for finding in findings:
        per_key[finding.key] = per_key.get(finding.key, 0) + 1
        if per_key[finding.key] <= MAX_FINDINGS_PER_KEY:
            kept.append(finding)
            first.setdefault(finding.key, finding)
        else:
            dropped[finding.key] = dropped.get(finding.key, 0) + 1
    for key, count in dropped.items():
        kept.append(first[key]._replace(message=f"{key}: and {count:,} more problems at this key, not listed"))
    if len(kept) > MAX_FINDINGS_PER_MANIFEST:
        rest = len(kept) - MAX_FINDINGS_PER_MANIFEST
        kept = kept[:MAX_FINDINGS_PER_MANIFEST]
        kept.append(Finding("MAN002", "invalid-manifest", "error", f"and {rest:,} more problems in this manifest, not listed", "", 1, 1))
    return kept


def _findings(source: Source, problems: list[Problem], prefix: KeyPath) -> list[Finding]:
    """Problems as MAN002 findings, their paths under ``prefix`` (an ext table's)."""
    return [
        man002(source, prefix + problem.key_path, problem.message, at=None if problem.at is None else prefix + problem.at)
        for problem in problems
    ]


def _number(table: Any, key: str) -> float | None:
    """A table's numeric value, or None when absent or not a number (already reported)."""
    value = table.get(key) if isinstance(table, dict) else None
    return value if is_number(value) else None


def _cross_field_problems(source: Source, data: dict[str, Any], reported: set[str]) -> list[Finding]:
    """Problems between keys, each reported once at the key that causes it.

    A key already reported on its own is left out: its value is not one to compare with.
    Each check starts with whether the keys it compares are there: most manifests that come here
    have none of these problems (a well-formed one comes only when :func:`_agree_between_keys`
    says it has one).
    """
    findings: list[Finding] = []
    volume = data.get("volume")
    if (
        isinstance(volume, dict) and "requests_per_day" in volume and "requests_per_month" in volume
        and _number(volume, "requests_per_day") is not None
        and _number(volume, "requests_per_month") is not None
        and not {"volume.requests_per_day", "volume.requests_per_month"} & reported
    ):
        keys = [("volume", "requests_per_day"), ("volume", "requests_per_month")]
        second = max(keys, key=lambda k: source.index.locate(k))
        message = "give requests_per_day or requests_per_month, not both"
        findings.append(man002(source, second, message))
    data_table = data.get("data")
    if isinstance(data_table, dict) and ("examples" in data_table or "domain_examples" in data_table):
        _data_problems(source, data_table, reported, findings)
    task = data.get("task")
    if isinstance(task, dict) and task.get("kind") == "reasoning" and task.get("reasoning") is False:
        message = 'false contradicts kind = "reasoning"; set reasoning = true or leave it out (it follows the kind)'
        findings.append(man002(source, ("task", "reasoning"), message))
    proposal = data.get("proposal")
    if isinstance(proposal, dict) and proposal.get("approach") == "fine-tune" and not proposal.get("reasons"):
        if "proposal.reasons" not in reported:
            message = 'required and non-empty when approach is "fine-tune": say which case it makes, e.g. ["format-consistency"]'
            at = ("proposal", "reasons") if "reasons" in proposal else ("proposal",)
            findings.append(man002(source, ("proposal", "reasons"), message, at=at))
    return findings


def _agree_between_keys(data: dict[str, Any]) -> bool:
    """Whether a manifest that :func:`validator.is_clean` accepts has none of the problems between
    keys: :func:`_cross_field_problems` finds nothing exactly when this says yes.

    It reads values known to be of their declared types (counts are integers, a volume table
    holds numbers under its two keys only), so it looks each up once and calls nothing: 0.4 us
    (0.9 with cold caches) where the checks cost 1.0 us (1.7), for nearly every manifest.
    ``tests/test_manifest_fast_paths.py`` holds the two to the same answer.
    """
    volume = data.get("volume")
    if volume is not None and len(volume) == 2:  # both rates
        return False
    task = data["task"]
    if task["kind"] == "reasoning" and task.get("reasoning") is False:
        return False
    proposal = data["proposal"]
    if proposal["approach"] == "fine-tune" and not proposal.get("reasons"):
        return False
    table = data.get("data")
    if table is None:
        return True
    examples = table.get("examples")
    high_quality = table.get("high_quality")
    if examples is not None and (high_quality is not None and high_quality > examples or examples > 0 and table.get("source") == "none"):
        return False
    domain_examples = table.get("domain_examples")
    if domain_examples is None:
        return True
    bound = examples if high_quality is None else high_quality  # domain examples are among the high-quality ones
    return bound is None or domain_examples <= bound


def _data_problems(source: Source, data_table: dict[str, Any], reported: set[str], findings: list[Finding]) -> None:
    """The [data] table's counts against each other and its source (each needs ``examples`` or
    ``domain_examples``)."""
    examples = _number(data_table, "examples")
    high_quality = _number(data_table, "high_quality") if "high_quality" in data_table else None
    examples_ok = examples is not None and "data.examples" not in reported
    high_quality_ok = high_quality is not None and "data.high_quality" not in reported
    if examples_ok and high_quality_ok and high_quality > examples:  # type: ignore[operator]
        message = f"high_quality ({high_quality:,}) is more than examples ({examples:,})"
        findings.append(man002(source, ("data", "high_quality"), message))
    domain_examples = _number(data_table, "domain_examples") if "domain_examples" in data_table else None
    if domain_examples is not None and "data.domain_examples" not in reported:
        # Domain examples are a subset of the high-quality ones (= examples when not declared).
        bound = ("high_quality", high_quality, high_quality_ok) if "high_quality" in data_table else ("examples", examples, examples_ok)  # type: ignore[operator]
        name, limit, ok = bound
        if ok and domain_examples > limit:  # type: ignore[operator]
            message = (
                f"domain_examples ({domain_examples:,}) is more than {name} ({limit:,}); "
                f"domain examples are counted among the high-quality examples"
            )
            findings.append(man002(source, ("data", "domain_examples"), message))
    if data_table.get("source") == "none" and examples_ok and examples > 0:  # type: ignore[operator]
        message = f'"none" contradicts examples = {examples:,}; say where the examples come from, or declare examples = 0'
        findings.append(man002(source, ("data", "source"), message))


def _ext_problems(source: Source, ext: Any, ext_models: ExtModels) -> list[Finding]:
    if ext is None:
        return []
    if not isinstance(ext, dict):
        return [man002(source, ("ext",), "expected a table of extension tables")]
    findings = []
    claimed = sorted(ext_models)
    for name, table in ext.items():
        model = ext_models.get(name)
        if model is None:
            plugins = ", ".join(claimed) if claimed else "none"
            message = f"no loaded plugin claims this extension table (claimed: {plugins}){did_you_mean(name, claimed)}"
            findings.append(man002(source, ("ext", name), message))
            continue
        from pydantic import ValidationError  # loaded already: the plugin's model is a pydantic one

        try:
            model.model_validate(table)
        except ValidationError as exc:
            findings.extend(_findings(source, explain(exc, describe_model(model)), ("ext", name)))
    return findings


def namespace_fields(ext_models: ExtModels | None = None) -> dict[str, FieldType]:
    """Manifest fields policies may read, extension tables' fields under ``ext.<name>.``."""
    fields = dict(FIELDS)
    for name, model in (ext_models or {}).items():
        fields[f"ext.{name}"] = FieldType("table")
        fields.update(describe_model(model, prefix=f"ext.{name}."))
    return fields


def ext_model_check(name: str, model: Any) -> None:
    """Plugins' extension models must forbid unknown keys, as the core tables do."""
    from pydantic import BaseModel

    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"extension table {name!r}: expected a pydantic model class, got {model!r}")
    if model.model_config.get("extra") != "forbid":
        raise TypeError(f"extension table {name!r}: the model must set extra='forbid'")


