"""MAN001-MAN003: reading a manifest and checking it against format v1.

Every expected (rule, line, column, key, message fragment) is worked out by hand from the
input text (line numbers are written next to the lines that matter), following
spec/manifest.md and the "Clarifications" / "Manifest and waiver problems" sections of
spec/policies.md. Nothing here is copied from the implementation's output.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from policylint.builtin import builtin_pack_path
from policylint.engine import Engine, EngineOptions
from policylint.manifest import load_manifest, unreadable
from policylint.packs import load_pack
from policylint.schema import Count, Fraction, Text

SCENARIOS = Path(__file__).parent / "scenarios"

# The smallest valid manifest: only the required keys. Appended text starts on line 11.
MINIMAL = (
    "schema_version = 1\n"  # 1
    "\n"  # 2
    "[project]\n"  # 3
    'name = "invoice-extractor"\n'  # 4
    "\n"  # 5
    "[task]\n"  # 6
    'kind = "extraction"\n'  # 7
    "\n"  # 8
    "[proposal]\n"  # 9
    'approach = "prompting"\n'  # 10  (fine-tune would require reasons)
)
# The same with a fine-tune proposal, which must give its reasons (line 11).
FINE_TUNE = MINIMAL.replace('"prompting"', '"fine-tune"') + 'reasons = ["format-consistency"]\n'
# MINIMAL + "\n[table]\nkey = ..." puts the header on line 12 and its first key on line 13.


def with_tail(tail: str) -> str:
    return MINIMAL + tail


def waiver_block(rule: str = "FMT001", reason: str = "ramp", owner: str = "ml-team", expires: str = "2027-01-01") -> str:
    # Appended to MINIMAL: 11 blank, 12 [[waivers]], 13 rule, 14 reason, 15 owner, 16 expires.
    return f'\n[[waivers]]\nrule = "{rule}"\nreason = "{reason}"\nowner = "{owner}"\nexpires = {expires}\n'


@dataclass(frozen=True)
class Expect:
    rule: str
    line: int
    column: int
    key: str | None  # None: not checked (MAN001 has no key to name)
    fragment: str = ""  # must appear in the message (case-insensitive)
    absent: str = ""  # must NOT appear in the message (case-insensitive)


def check(raw: bytes, expected: list[Expect], ext_models=None) -> None:
    loaded = load_manifest("m.toml", raw, ext_models)
    got = loaded.findings
    shown = "\n".join(f"  {f.rule} {f.line}:{f.column} {f.key!r} {f.message}" for f in got)
    assert len(got) == len(expected), f"expected {len(expected)} findings, got:\n{shown}"
    remaining = list(got)
    for exp in expected:
        match = next(
            (
                f
                for f in remaining
                if f.rule == exp.rule
                and (f.line, f.column) == (exp.line, exp.column)
                and (exp.key is None or f.key == exp.key)
                and exp.fragment.lower() in f.message.lower()
                and not (exp.absent and exp.absent.lower() in f.message.lower())
            ),
            None,
        )
        assert match is not None, f"no finding matches {exp}; got:\n{shown}"
        remaining.remove(match)
    for f in got:
        assert f.severity == "error"
        assert f.rule in ("MAN001", "MAN002", "MAN003")


# =============================================================================== MAN001

MAN001_CASES = {
    # "[project" is 8 characters: the parser wants "]" at column 9 of line 2.
    "unclosed-table-header": (b"schema_version = 1\n[project\n", [Expect("MAN001", 2, 9, None, "TOML")]),
    # "x =" then end of line: the value is missing at column 4.
    "missing-value": (b"schema_version = 1\nx =\n", [Expect("MAN001", 2, 4, None, "TOML")]),
    # name = "x" y: the stray y is at column 12.
    "garbage-after-value": (b'schema_version = 1\nname = "x" y\n', [Expect("MAN001", 2, 12, None, "TOML")]),
    "garbage-after-value-crlf": (b'schema_version = 1\r\nname = "x" y\r\n', [Expect("MAN001", 2, 12, None, "TOML")]),
    # A BOM is not a column: "schema_version = 1 x" has the x at column 20.
    "bom-then-invalid": ("\ufeffschema_version = 1 x\n".encode(), [Expect("MAN001", 1, 20, None, "TOML")]),
    "bom-crlf-unclosed-header": (b"\xef\xbb\xbfschema_version = 1\r\n[project\r\n", [Expect("MAN001", 2, 9, None, "TOML")]),
    # Invalid TOML wins over a missing schema_version: it cannot even be read.
    "invalid-without-schema-version": (b"[project\n", [Expect("MAN001", 1, 9, None, "TOML")]),
    # Not UTF-8: "# caf" is 5 characters, the Latin-1 e-acute byte is at column 6 of line 2.
    "latin1-byte": (b"schema_version = 1\n# caf\xe9\n", [Expect("MAN001", 2, 6, None, "UTF-8")]),
    # UTF-16 starts with the byte FF: line 1, column 1.
    "utf16": ("schema_version = 1\n".encode("utf-16"), [Expect("MAN001", 1, 1, None, "UTF-8")]),
    # CRLF: line 3 is 'x = "' (5 chars) then the invalid sequence C3 28.
    "bad-sequence-crlf": (b'schema_version = 1\r\n\r\nx = "\xc3\x28"\r\n', [Expect("MAN001", 3, 6, None, "UTF-8")]),
    # A truncated 3-byte sequence (E2 82 then a quote).
    "truncated-sequence": (b'schema_version = 1\nx = "\xe2\x82"\n', [Expect("MAN001", 2, 6, None, "UTF-8")]),
}


@pytest.mark.parametrize("raw, expected", MAN001_CASES.values(), ids=MAN001_CASES.keys())
def test_man001(raw: bytes, expected: list[Expect]) -> None:
    check(raw, expected)


@pytest.mark.parametrize(("reason", "message"), [
    ("Permission denied", "the file cannot be read: Permission denied"),
    (None, "the file cannot be read (the operating system gave no reason)"),
    ("", "the file cannot be read (the operating system gave no reason)"),
])
def test_man001_for_a_file_that_cannot_be_read_says_why_or_that_no_reason_was_given(reason: str | None, message: str) -> None:
    [finding] = unreadable("a/mlproject.toml", reason).findings
    assert (finding.rule, finding.message, finding.line, finding.column) == ("MAN001", message, 1, 1)


def test_man001_bad_byte_after_bom_is_not_shifted_by_the_bom() -> None:
    """Spec: a BOM is accepted and positions are counted as if it were absent."""
    # "schema_version = " is 17 characters; the bad byte is at column 18.
    check(b"\xef\xbb\xbfschema_version = \xff\n", [Expect("MAN001", 1, 18, None, "UTF-8")])


def test_man001_bad_byte_column_counts_characters() -> None:
    """Columns count characters, as the parser's and every other position do."""
    # line 2: n a m e ' ' = ' ' " e-acute -> 9 characters, so the bad byte is at column 10.
    check('schema_version = 1\nname = "\u00e9'.encode() + b'\xff"\n', [Expect("MAN001", 2, 10, None, "UTF-8")])


# =============================================================================== MAN003

# Valid TOML that breaks format v1 in every way it can: must be ignored when the version is bad.
GARBAGE = (
    "\n[projct]\n"
    "nme = 5\n"
    "\n[evaluation.prompting]\n"
    "zero_shot = 85\n"
    "\n[volume]\n"
    "requests_per_day = -1\n"
    "requests_per_month = inf\n"
    "\n[ext.acme]\n"
    "x = 1\n"
)

MAN003_CASES = {
    "empty-file": (b"", [Expect("MAN003", 1, 1, "schema_version", "schema_version")]),
    "whitespace-and-comments-only": (b"  \n# nothing here\n\n", [Expect("MAN003", 1, 1, "schema_version")]),
    "bom-only": (b"\xef\xbb\xbf", [Expect("MAN003", 1, 1, "schema_version")]),
    "missing-with-garbage": (GARBAGE.encode(), [Expect("MAN003", 1, 1, "schema_version", "missing")]),
    "missing-rest-valid": (MINIMAL.replace("schema_version = 1\n", "# no version\n").encode(), [Expect("MAN003", 1, 1, "schema_version")]),
    # Only inside a table: the top-level key is still missing.
    "only-inside-a-table": (b"[project]\nschema_version = 1\nname = 'x'\n", [Expect("MAN003", 1, 1, "schema_version")]),
    "two": (("schema_version = 2\n" + GARBAGE).encode(), [Expect("MAN003", 1, 1, "schema_version", "2")]),
    "zero": (("schema_version = 0\n" + GARBAGE).encode(), [Expect("MAN003", 1, 1, "schema_version")]),
    "string-1": (('schema_version = "1"\n' + GARBAGE).encode(), [Expect("MAN003", 1, 1, "schema_version")]),
    "float-1.0": (("schema_version = 1.0\n" + GARBAGE).encode(), [Expect("MAN003", 1, 1, "schema_version")]),
    "true": (("schema_version = true\n" + GARBAGE).encode(), [Expect("MAN003", 1, 1, "schema_version")]),
    "array": (("schema_version = [1]\n" + GARBAGE).encode(), [Expect("MAN003", 1, 1, "schema_version")]),
    "huge-integer-2**70": (
        (f"schema_version = {2**70}\n" + GARBAGE).encode(),
        [Expect("MAN003", 1, 1, "schema_version")],
    ),
    # Found at its own line and column: comments and indentation before it.
    "positioned": (("# header\n\n  schema_version = 2\n" + GARBAGE).encode(), [Expect("MAN003", 3, 3, "schema_version")]),
    "positioned-crlf": (("# header\r\n\r\n  schema_version = 2\r\n").encode(), [Expect("MAN003", 3, 3, "schema_version")]),
    "positioned-bom": (("\ufeff  schema_version = 2\n" + GARBAGE).encode(), [Expect("MAN003", 1, 3, "schema_version")]),
    # The rest of the file is a perfectly fine manifest; the version alone is the problem.
    "two-rest-valid": (MINIMAL.replace("schema_version = 1", "schema_version = 2").encode(), [Expect("MAN003", 1, 1, "schema_version")]),
}


@pytest.mark.parametrize("raw, expected", MAN003_CASES.values(), ids=MAN003_CASES.keys())
def test_man003_is_the_only_finding(raw: bytes, expected: list[Expect]) -> None:
    check(raw, expected)


def test_man003_names_the_supported_version() -> None:
    (finding,) = load_manifest("m.toml", b"schema_version = 2\n").findings
    assert finding.rule == "MAN003"
    assert "1" in finding.message.replace("schema_version", "")  # "supported: 1"
    assert "support" in finding.message.lower()


# =============================================================================== MAN002

FRACTION_85 = "score 85 is not a fraction; did you mean 0.85?"  # the spec's own wording

MAN002_CASES: dict[str, tuple[str, list[Expect]]] = {
    # ---- unknown tables and keys: one finding each, at the table header or the key
    "unknown-table": (
        with_tail("\n[evalution]\nexamples = 5\nmetric = 'em'\n"),
        [Expect("MAN002", 12, 1, "evalution", "did you mean 'evaluation'")],
    ),
    "unknown-table-with-subtable": (
        with_tail("\n[evalution]\nexamples = 5\n\n[evalution.prompting]\nzero_shot = 0.5\n"),
        [Expect("MAN002", 12, 1, "evalution", "did you mean 'evaluation'")],
    ),
    "unknown-subtable": (
        with_tail("\n[evaluation.promptng]\nzero_shot = 0.5\nfew_shot = 0.6\n"),
        [Expect("MAN002", 12, 1, "evaluation.promptng", "did you mean 'prompting'")],
    ),
    "unknown-top-level-table-by-dotted-key": (
        MINIMAL.replace("schema_version = 1\n", "schema_version = 1\nevalution.prompting.zero_shot = 0.5\n"),
        [Expect("MAN002", 2, 1, "evalution", "did you mean 'evaluation'")],
    ),
    "unknown-top-level-key": (
        MINIMAL.replace("schema_version = 1\n", "schema_version = 1\ntitel = 'x'\n"),
        [Expect("MAN002", 2, 1, "titel")],
    ),
    "unknown-key": (
        with_tail("\n[evaluation]\nexamples = 5\nmetirc = 'em'\n"),
        [Expect("MAN002", 14, 1, "evaluation.metirc", "did you mean 'metric'")],
    ),
    "unknown-key-nested": (
        with_tail("\n[evaluation.prompting]\nzero_shoot = 0.5\n"),
        [Expect("MAN002", 13, 1, "evaluation.prompting.zero_shoot", "did you mean 'zero_shot'")],
    ),
    "unknown-key-indented-with-tab": (
        with_tail("\n[evaluation]\n\texampels = 5\n"),
        [Expect("MAN002", 13, 2, "evaluation.exampels", "did you mean 'examples'")],
    ),
    "unknown-key-in-proposal": (
        with_tail("reasosn = ['format-consistency']\n"),
        [Expect("MAN002", 11, 1, "proposal.reasosn", "did you mean 'reasons'")],
    ),
    # A typo in a waiver's key: the unknown key, and the required key it should have been.
    "unknown-key-in-waiver": (
        with_tail('\n[[waivers]]\nrul = "FMT001"\nreason = "r"\nowner = "o"\nexpires = 2027-01-01\n'),
        [
            Expect("MAN002", 13, 1, "waivers[0].rul", "did you mean 'rule'"),
            Expect("MAN002", 12, 1, "waivers[0].rule", "missing"),
        ],
    ),
    # ---- missing required keys: at the enclosing table; a missing table at 1:1
    "missing-project-name": (
        MINIMAL.replace('name = "invoice-extractor"', 'owner = "docs"'),
        [Expect("MAN002", 3, 1, "project.name", "missing")],
    ),
    "missing-task-kind": (
        MINIMAL.replace('kind = "extraction"', "narrow = true"),
        [Expect("MAN002", 6, 1, "task.kind", "missing")],
    ),
    "missing-proposal-approach": (
        MINIMAL.replace('approach = "prompting"', "reasons = []"),
        [Expect("MAN002", 9, 1, "proposal.approach", "missing")],
    ),
    "missing-task-table": (
        MINIMAL.replace('[task]\nkind = "extraction"\n', ""),
        [Expect("MAN002", 1, 1, "task", "missing")],
    ),
    "missing-table-after-comment": (
        "# comment\n" + MINIMAL.replace('[proposal]\napproach = "prompting"\n', ""),
        [Expect("MAN002", 1, 1, "proposal", "missing")],
    ),
    "missing-three-tables": (
        "schema_version = 1\n",
        [
            Expect("MAN002", 1, 1, "project", "missing"),
            Expect("MAN002", 1, 1, "task", "missing"),
            Expect("MAN002", 1, 1, "proposal", "missing"),
        ],
    ),
    # [project] only exists through the dotted key on line 3 (column 1): that is its position.
    "missing-name-table-from-dotted-key": (
        MINIMAL.replace('[project]\nname = "invoice-extractor"\n', 'project.owner = "docs"\n'),
        [Expect("MAN002", 3, 1, "project.name", "missing")],
    ),
    "missing-waiver-reason": (
        with_tail('\n[[waivers]]\nrule = "FMT001"\nowner = "o"\nexpires = 2027-01-01\n'),
        [Expect("MAN002", 12, 1, "waivers[0].reason", "missing")],
    ),
    # The second [[waivers]] header is on line 18 (12 header + 4 keys + blank = 17).
    "missing-owner-in-second-waiver": (
        with_tail(waiver_block() + '\n[[waivers]]\nrule = "DAT004"\nreason = "r"\nexpires = 2027-01-01\n'),
        [Expect("MAN002", 18, 1, "waivers[1].owner", "missing")],
    ),
    # ---- wrong types
    "count-as-float": (
        with_tail("\n[evaluation]\nexamples = 600.0\n"),
        [Expect("MAN002", 13, 1, "evaluation.examples", "600.0")],
    ),
    "count-as-bool": (
        with_tail("\n[evaluation]\nexamples = true\n"),
        [Expect("MAN002", 13, 1, "evaluation.examples", "true")],
    ),
    "count-as-string": (
        with_tail('\n[data]\nexamples = "4200"\n'),
        [Expect("MAN002", 13, 1, "data.examples", "4200")],
    ),
    "fraction-as-bool": (
        with_tail("\n[evaluation.prompting]\nzero_shot = true\n"),
        [Expect("MAN002", 13, 1, "evaluation.prompting.zero_shot", "true")],
    ),
    "volume-as-bool": (
        with_tail("\n[volume]\nrequests_per_day = false\n"),
        [Expect("MAN002", 13, 1, "volume.requests_per_day", "false")],
    ),
    "bool-as-number": (
        with_tail("\n[downstream]\nmachine_parsed = 1\n"),
        [Expect("MAN002", 13, 1, "downstream.machine_parsed")],
    ),
    "bool-as-string": (
        with_tail('\n[downstream]\nretry_logic = "yes"\n'),
        [Expect("MAN002", 13, 1, "downstream.retry_logic", "yes")],
    ),
    "enum-typo-with-suggestion": (
        with_tail('\n[downstream]\nfailure_impact = "data-corruptoin"\n'),
        [Expect("MAN002", 13, 1, "downstream.failure_impact", "did you mean 'data-corruption'")],
    ),
    "enum-typo-in-approach": (
        MINIMAL.replace('"prompting"', '"fine-tuning"'),
        [Expect("MAN002", 10, 1, "proposal.approach", "did you mean 'fine-tune'")],
    ),
    # reasons: "Required and non-empty when approach is fine-tune" (at [proposal] when absent).
    "fine-tune-without-reasons": (
        MINIMAL.replace('"prompting"', '"fine-tune"'),
        [Expect("MAN002", 9, 1, "proposal.reasons")],
    ),
    "fine-tune-with-empty-reasons": (
        MINIMAL.replace('"prompting"', '"fine-tune"') + "reasons = []\n",
        [Expect("MAN002", 11, 1, "proposal.reasons")],
    ),
    # A misspelt reasons key on a fine-tune proposal: the unknown key, and the required one.
    "fine-tune-with-misspelt-reasons": (
        MINIMAL.replace('"prompting"', '"fine-tune"') + "reasosn = ['format-consistency']\n",
        [
            Expect("MAN002", 11, 1, "proposal.reasosn", "did you mean 'reasons'"),
            Expect("MAN002", 9, 1, "proposal.reasons"),
        ],
    ),
    "enum-as-integer": (
        MINIMAL.replace('kind = "extraction"', "kind = 3"),
        [Expect("MAN002", 7, 1, "task.kind")],
    ),
    # One finding per bad element, each at the list's key (line 11).
    "list-elements-not-in-enum": (
        with_tail('reasons = ["format", "cost-latency", "knowlege"]\n'),
        [
            Expect("MAN002", 11, 1, "proposal.reasons", '"format"'),
            Expect("MAN002", 11, 1, "proposal.reasons", "did you mean 'knowledge'"),
        ],
    ),
    "list-same-bad-element-twice": (
        with_tail('reasons = ["speed", "format-consistency", "speed"]\n'),
        [
            Expect("MAN002", 11, 1, "proposal.reasons", "speed"),
            Expect("MAN002", 11, 1, "proposal.reasons", "speed"),
        ],
    ),
    "list-given-as-string": (
        with_tail('reasons = "format-consistency"\n'),
        [Expect("MAN002", 11, 1, "proposal.reasons")],
    ),
    "expires-as-date-time": (
        with_tail(waiver_block(expires="2027-01-01T00:00:00")),
        [Expect("MAN002", 16, 1, "waivers[0].expires", "2027-01-01T00:00:00")],
    ),
    "expires-as-offset-date-time": (
        with_tail(waiver_block(expires="2027-01-01T00:00:00Z")),
        [Expect("MAN002", 16, 1, "waivers[0].expires", "2027-01-01")],
    ),
    "expires-as-string": (
        with_tail(waiver_block(expires='"2027-01-01"')),
        [Expect("MAN002", 16, 1, "waivers[0].expires", "2027-01-01")],
    ),
    "expires-as-local-time": (
        with_tail(waiver_block(expires="07:30:00")),
        [Expect("MAN002", 16, 1, "waivers[0].expires")],
    ),
    "name-as-integer": (
        MINIMAL.replace('name = "invoice-extractor"', "name = 5"),
        [Expect("MAN002", 4, 1, "project.name")],
    ),
    "waivers-as-table": (
        with_tail('\n[waivers]\nrule = "FMT001"\n'),
        [Expect("MAN002", 12, 1, "waivers")],
    ),
    # ---- out of range
    "count-negative": (
        with_tail("\n[evaluation]\nexamples = -1\n"),
        [Expect("MAN002", 13, 1, "evaluation.examples", "-1")],
    ),
    "count-above-10**12": (
        with_tail("\n[data]\nexamples = 1_000_000_000_001\n"),
        [Expect("MAN002", 13, 1, "data.examples")],
    ),
    "count-beyond-64-bits": (
        with_tail(f"\n[data]\nexamples = {2**64}\n"),
        [Expect("MAN002", 13, 1, "data.examples")],
    ),
    "count-negative-beyond-64-bits": (
        with_tail(f"\n[data]\nexamples = -{2**70}\n"),
        [Expect("MAN002", 13, 1, "data.examples")],
    ),
    "count-inf": (
        with_tail("\n[data]\nexamples = inf\n"),
        [Expect("MAN002", 13, 1, "data.examples")],
    ),
    "fraction-1.5-suggests-0.015": (
        with_tail("\n[evaluation.prompting]\nzero_shot = 1.5\n"),
        [Expect("MAN002", 13, 1, "evaluation.prompting.zero_shot", "did you mean 0.015?")],
    ),
    "fraction-85-one-finding": (
        with_tail("\n[evaluation.prompting]\nzero_shot = 85\n"),
        [Expect("MAN002", 13, 1, "evaluation.prompting.zero_shot", FRACTION_85)],
    ),
    "fraction-100-suggests-1": (
        with_tail("\n[evaluation.prompting]\nzero_shot = 100\n"),
        [Expect("MAN002", 13, 1, "evaluation.prompting.zero_shot", "did you mean 1")],
    ),
    "fraction-97-in-proposal": (
        with_tail("target_quality = 97\n"),
        [Expect("MAN002", 11, 1, "proposal.target_quality", "did you mean 0.97?")],
    ),
    "fraction-150-no-suggestion": (
        with_tail("\n[evaluation.prompting]\nzero_shot = 150\n"),
        [Expect("MAN002", 13, 1, "evaluation.prompting.zero_shot", "150", absent="did you mean")],
    ),
    "fraction-100.5-no-suggestion": (
        with_tail("\n[evaluation.prompting]\nzero_shot = 100.5\n"),
        [Expect("MAN002", 13, 1, "evaluation.prompting.zero_shot", "100.5", absent="did you mean")],
    ),
    "fraction-negative": (
        with_tail("\n[distillation]\nteacher_quality = -0.1\n"),
        [Expect("MAN002", 13, 1, "distillation.teacher_quality", "-0.1", absent="did you mean")],
    ),
    "fraction-beyond-64-bits": (
        with_tail(f"\n[evaluation.prompting]\nzero_shot = {2**70}\n"),
        [Expect("MAN002", 13, 1, "evaluation.prompting.zero_shot", absent="did you mean")],
    ),
    "fraction-nan": (
        with_tail("\n[evaluation.prompting]\nzero_shot = nan\n"),
        [Expect("MAN002", 13, 1, "evaluation.prompting.zero_shot", "nan")],
    ),
    "fraction-inf": (
        with_tail("\n[evaluation.failures]\nmalformed_rate = +inf\n"),
        [Expect("MAN002", 13, 1, "evaluation.failures.malformed_rate", "inf")],
    ),
    "volume-inf": (
        with_tail("\n[volume]\nrequests_per_day = inf\n"),
        [Expect("MAN002", 13, 1, "volume.requests_per_day", "inf")],
    ),
    "volume-nan": (
        with_tail("\n[volume]\nrequests_per_month = -nan\n"),
        [Expect("MAN002", 13, 1, "volume.requests_per_month", "nan")],
    ),
    "volume-negative": (
        with_tail("\n[volume]\nrequests_per_day = -5.5\n"),
        [Expect("MAN002", 13, 1, "volume.requests_per_day", "-5.5")],
    ),
    "volume-above-10**12": (
        with_tail("\n[volume]\nrequests_per_month = 1.5e12\n"),
        [Expect("MAN002", 13, 1, "volume.requests_per_month")],
    ),
    "volume-beyond-64-bits": (
        with_tail(f"\n[volume]\nrequests_per_day = {2**70}\n"),
        [Expect("MAN002", 13, 1, "volume.requests_per_day")],
    ),
    "volume-far-beyond-float": (
        with_tail(f"\n[volume]\nrequests_per_day = {2**1100}\n"),
        [Expect("MAN002", 13, 1, "volume.requests_per_day")],
    ),
    # ---- blank required strings
    "blank-project-name": (
        MINIMAL.replace('name = "invoice-extractor"', 'name = "   "'),
        [Expect("MAN002", 4, 1, "project.name")],
    ),
    "empty-project-name": (
        MINIMAL.replace('name = "invoice-extractor"', 'name = ""'),
        [Expect("MAN002", 4, 1, "project.name")],
    ),
    "blank-waiver-reason-and-owner": (
        with_tail(waiver_block(reason="", owner=" \\t ")),
        [Expect("MAN002", 14, 1, "waivers[0].reason"), Expect("MAN002", 15, 1, "waivers[0].owner")],
    ),
    # ---- cross-field problems: one finding, at the key that causes it
    "both-volume-keys-day-first": (
        with_tail("\n[volume]\nrequests_per_day = 1_000\nrequests_per_month = 30_000\n"),
        [Expect("MAN002", 14, 1, "volume.requests_per_month")],
    ),
    "both-volume-keys-month-first": (
        with_tail("\n[volume]\nrequests_per_month = 30_000\nrequests_per_day = 1_000\n"),
        [Expect("MAN002", 14, 1, "volume.requests_per_day")],
    ),
    # 'volume = { requests_per_day = 1, ' is 33 characters: the second key starts at column 34.
    "both-volume-keys-inline": (
        MINIMAL.replace(
            "schema_version = 1\n", "schema_version = 1\nvolume = { requests_per_day = 1, requests_per_month = 30 }\n"
        ),
        [Expect("MAN002", 2, 34, "volume.requests_per_month")],
    ),
    "high-quality-above-examples": (
        with_tail("\n[data]\nexamples = 300\nhigh_quality = 301\n"),
        [Expect("MAN002", 14, 1, "data.high_quality")],
    ),
    "high-quality-above-examples-listed-first": (
        with_tail("\n[data]\nhigh_quality = 301\nexamples = 300\n"),
        [Expect("MAN002", 13, 1, "data.high_quality")],
    ),
    # ---- pack version 2's contradictions: each its own finding, at the key that contradicts
    "domain-examples-above-high-quality": (
        with_tail("\n[data]\nexamples = 900\nhigh_quality = 600\ndomain_examples = 601\n"),
        [Expect("MAN002", 15, 1, "data.domain_examples", "more than high_quality (600)")],
    ),
    "domain-examples-above-examples-when-high-quality-absent": (
        with_tail("\n[data]\nexamples = 600\ndomain_examples = 601\n"),
        [Expect("MAN002", 14, 1, "data.domain_examples", "more than examples (600)")],
    ),
    "domain-examples-and-high-quality-both-wrong": (
        with_tail("\n[data]\nexamples = 500\nhigh_quality = 600\ndomain_examples = 700\n"),
        [Expect("MAN002", 14, 1, "data.high_quality", "more than examples (500)"),
         Expect("MAN002", 15, 1, "data.domain_examples", "more than high_quality (600)")],
    ),
    "domain-examples-compared-only-when-valid": (
        with_tail("\n[data]\nexamples = 500\nhigh_quality = 'many'\ndomain_examples = 700\n"),
        [Expect("MAN002", 14, 1, "data.high_quality", "the string")],
    ),
    "source-none-with-examples": (
        with_tail("\n[data]\nexamples = 1\nsource = \"none\"\n"),
        [Expect("MAN002", 14, 1, "data.source", "examples = 1")],
    ),
    "reasoning-kind-with-reasoning-false": (
        MINIMAL.replace('kind = "extraction"\n', 'kind = "reasoning"\nreasoning = false\n'),
        [Expect("MAN002", 8, 1, "task.reasoning", 'kind = "reasoning"')],
    ),
    "reasoning-false-in-an-inline-table": (
        MINIMAL.replace('[task]\nkind = "extraction"\n', "").replace(
            "schema_version = 1\n", 'schema_version = 1\ntask = { kind = "reasoning", reasoning = false }\n'
        ),
        [Expect("MAN002", 2, 30, "task.reasoning", "contradicts")],
    ),
    # ---- extension tables
    "unclaimed-ext-table": (
        with_tail("\n[ext.acme]\nteam = 'payments'\ncost_center = 7\n"),
        [Expect("MAN002", 12, 1, "ext.acme", "acme")],
    ),
    "unclaimed-ext-table-by-dotted-key": (
        MINIMAL.replace("schema_version = 1\n", "schema_version = 1\n  ext.acme.team = 'payments'\n"),
        [Expect("MAN002", 2, 3, "ext.acme", "acme")],
    ),
}
# A table given as a string: top-level 'task = "x"' (line 2) replaces the [task] table.
MAN002_CASES["table-given-as-string"] = (
    MINIMAL.replace('[task]\nkind = "extraction"\n', "").replace(
        "schema_version = 1\n", 'schema_version = 1\ntask = "extraction"\n'
    ),
    [Expect("MAN002", 2, 1, "task")],
)


def _variants(cases: dict[str, tuple[str, list[Expect]]]):
    """Each case as written, with CRLF line ends, and behind a BOM: positions must not move."""
    for name, (text, expected) in cases.items():
        yield pytest.param(text.encode(), expected, id=f"{name}-lf")
        yield pytest.param(text.replace("\n", "\r\n").encode(), expected, id=f"{name}-crlf")
        yield pytest.param(("\ufeff" + text).encode(), expected, id=f"{name}-bom")


@pytest.mark.parametrize("raw, expected", list(_variants(MAN002_CASES)))
def test_man002(raw: bytes, expected: list[Expect]) -> None:
    check(raw, expected)


VALID_CASES = {
    "minimal": MINIMAL,
    "fraction-as-integer-1-and-0": with_tail("\n[evaluation.prompting]\nzero_shot = 1\nfew_shot = 0\nrole = 1.0\n"),
    "count-at-10**12": with_tail("\n[data]\nexamples = 1_000_000_000_000\nhigh_quality = 0\n"),
    "volume-at-10**12-float": with_tail("\n[volume]\nrequests_per_month = 1e12\n"),
    "volume-as-integer": with_tail("\n[volume]\nrequests_per_day = 240_000\n"),
    "volume-zero": with_tail("\n[volume]\nrequests_per_day = 0\n"),
    "high-quality-equal-to-examples": with_tail("\n[data]\nexamples = 300\nhigh_quality = 300\n"),
    "high-quality-without-examples": with_tail("\n[data]\nhigh_quality = 300\n"),
    "domain-examples-equal-to-high-quality": with_tail("\n[data]\nexamples = 900\nhigh_quality = 600\ndomain_examples = 600\n"),
    "domain-examples-without-examples": with_tail("\n[data]\ndomain_examples = 600\n"),
    "source-none-with-zero-examples": with_tail("\n[data]\nexamples = 0\nsource = 'none'\n"),
    "source-none-without-examples": with_tail("\n[data]\nsource = 'none'\n"),
    "reasoning-kind-with-reasoning-true": MINIMAL.replace('kind = "extraction"\n', 'kind = "reasoning"\nreasoning = true\n'),
    "reasoning-false-on-another-kind": MINIMAL.replace('kind = "extraction"\n', 'kind = "extraction"\nreasoning = false\n'),
    "failure-mode-absent-is-valid": with_tail("\n[evaluation.failures]\nmalformed_rate = 0.01\n"),
    "empty-optional-tables": with_tail("\n[evaluation]\n[volume]\n[downstream]\n[data]\n[distillation]\n"),
    "empty-reasons-and-duplicates": with_tail("reasons = ['format-consistency', 'format-consistency']\n"),
    "valid-waiver": with_tail(waiver_block()),
    "fine-tune-with-reasons": FINE_TUNE,
    "distill-without-reasons": MINIMAL.replace('"prompting"', '"distill"'),
    "distill-with-empty-reasons": MINIMAL.replace('"prompting"', '"distill"') + "reasons = []\n",
    "fine-tune-with-duplicate-reasons": FINE_TUNE.replace('["format-consistency"]', '["behavior", "behavior"]'),
    "empty-waiver-list": MINIMAL.replace("schema_version = 1\n", "schema_version = 1\nwaivers = []\n"),
    "optional-strings-may-be-empty": MINIMAL.replace('[project]\n', '[project]\nowner = ""\ndescription = ""\n'),
    "spec-complete-example": """schema_version = 1

[project]
name = "invoice-field-extractor"
owner = "docs-platform"

[task]
kind = "extraction"
narrow = true

[proposal]
approach = "fine-tune"
reasons = ["format-consistency"]
model = "gpt-4o-mini"
model_tier = "small"
target_quality = 0.97

[evaluation]
examples = 600
metric = "field-exact-match"

[evaluation.prompting]
zero_shot = 0.78
few_shot = 0.86
few_shot_examples = 8
format_constraints = 0.88
role = 0.88

[evaluation.failures]
mode = "format"
malformed_rate = 0.021
reproducible = true

[volume]
requests_per_day = 240_000

[downstream]
machine_parsed = true
failure_impact = "data-corruption"
retry_logic = true

[data]
examples = 4_200
high_quality = 3_900
source = "production-logs"
""",
}


@pytest.mark.parametrize("text", VALID_CASES.values(), ids=VALID_CASES.keys())
def test_valid_manifests_have_no_findings(text: str) -> None:
    for raw in (text.encode(), text.replace("\n", "\r\n").encode(), ("\ufeff" + text).encode()):
        loaded = load_manifest("m.toml", raw)
        assert loaded.findings == []
        assert loaded.data is not None


def test_absent_optional_keys_stay_absent() -> None:
    """Defaults are not written into the data: absent is never zero."""
    loaded = load_manifest("m.toml", MINIMAL.encode())
    assert loaded.findings == []
    assert loaded.data == {
        "schema_version": 1,
        "project": {"name": "invoice-extractor"},
        "task": {"kind": "extraction"},
        "proposal": {"approach": "prompting"},
    }


# --------------------------------------------------------------------- several problems at once

def test_findings_count_problems_as_a_user_would_fix_them() -> None:
    text = (
        "schema_version = 1\n"  # 1
        "\n"  # 2
        "[project]\n"  # 3
        'name = " "\n'  # 4   blank name                            -> 1
        "\n"  # 5
        "[task]\n"  # 6   kind missing                           -> 1 (at 6:1)
        "narrow = true\n"  # 7
        "\n"  # 8
        "[proposal]\n"  # 9
        'approach = "fine-tune"\n'  # 10
        'reasons = ["format", "cost-latency", "speed"]\n'  # 11  two bad elements -> 2
        "\n"  # 12
        "[evalution]\n"  # 13  unknown table with 3 keys            -> 1
        "examples = 600\n"  # 14
        "metric = 'em'\n"  # 15
        "zero_shot = 85\n"  # 16
        "\n"  # 17
        "[evaluation.prompting]\n"  # 18
        "zero_shot = 85\n"  # 19  percentage                           -> 1
        "\n"  # 20
        "[volume]\n"  # 21
        "requests_per_day = 80_000\n"  # 22
        "requests_per_month = 2_400_000\n"  # 23  both volume keys           -> 1
        "\n"  # 24
        "[data]\n"  # 25
        "examples = 100\n"  # 26
        "high_quality = 120\n"  # 27  more than examples                 -> 1
    )
    expected = [
        Expect("MAN002", 4, 1, "project.name"),
        Expect("MAN002", 6, 1, "task.kind", "missing"),
        Expect("MAN002", 11, 1, "proposal.reasons", '"format"'),
        Expect("MAN002", 11, 1, "proposal.reasons", '"speed"'),
        Expect("MAN002", 13, 1, "evalution", "did you mean 'evaluation'"),
        Expect("MAN002", 19, 1, "evaluation.prompting.zero_shot", FRACTION_85),
        Expect("MAN002", 23, 1, "volume.requests_per_month"),
        Expect("MAN002", 27, 1, "data.high_quality"),
    ]
    check(text.encode(), expected)


def test_cross_field_check_ignores_values_already_reported() -> None:
    """examples = -5 is one problem: high_quality is not compared with a value already reported."""
    check(
        with_tail("\n[data]\nexamples = -5\nhigh_quality = 3\n").encode(),
        [Expect("MAN002", 13, 1, "data.examples", "-5")],
    )


def test_scenario_13_invalid() -> None:
    # 13-invalid.toml: line 15 'zero_shot = 85', line 18 'requests_per_dya = 200_000'.
    raw = (SCENARIOS / "13-invalid.toml").read_bytes()
    check(
        raw,
        [
            Expect("MAN002", 15, 1, "evaluation.prompting.zero_shot", FRACTION_85),
            Expect("MAN002", 18, 1, "volume.requests_per_dya", "did you mean 'requests_per_day'"),
        ],
    )


# ------------------------------------------------------------------------ extension tables


class AcmeFields(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    team: Text
    budget: Count | None = None
    score: Fraction | None = None


def test_claimed_ext_table_is_accepted() -> None:
    check(with_tail("\n[ext.acme]\nteam = 'payments'\nbudget = 3\n").encode(), [], {"acme": AcmeFields})


def test_unclaimed_ext_table_names_the_installed_plugins_and_suggests() -> None:
    check(
        with_tail("\n[ext.acm]\nteam = 'payments'\n").encode(),
        [Expect("MAN002", 12, 1, "ext.acm", "did you mean 'acme'")],
        {"acme": AcmeFields},
    )


def test_claimed_ext_table_is_validated_with_the_same_rules() -> None:
    text = with_tail(
        "\n[ext.acme]\n"  # 12
        "teem = 'payments'\n"  # 13: unknown key, and team (required) is missing (at 12:1)
        "budget = 1.0\n"  # 14: a count written as a float
        "score = 85\n"  # 15: a percentage
    )
    check(
        text.encode(),
        [
            Expect("MAN002", 12, 1, "ext.acme.team", "missing"),
            Expect("MAN002", 13, 1, "ext.acme.teem", "did you mean 'team'"),
            Expect("MAN002", 14, 1, "ext.acme.budget", "1.0"),
            Expect("MAN002", 15, 1, "ext.acme.score", FRACTION_85),
        ],
        {"acme": AcmeFields},
    )


# ------------------------------------------------------------------ positions through awkward TOML

POSITION_CASES = {
    "dotted-key-at-top-level": (
        MINIMAL.replace("schema_version = 1\n", "schema_version = 1\nevaluation.prompting.zero_shot = 85\n"),
        2, 1,
    ),
    "dotted-key-quoted-parts-spaces-indent": (
        MINIMAL.replace("schema_version = 1\n", "schema_version = 1\n  \"evaluation\" . 'prompting'.zero_shot = 85\n"),
        2, 3,
    ),
    "dotted-key-inside-table": (with_tail("\n[evaluation]\nexamples = 600\nprompting.zero_shot = 85\n"), 14, 1),
    # 'prompting = { ' is 14 characters.
    "inline-table": (with_tail("\n[evaluation]\nprompting = { zero_shot = 85 }\n"), 13, 15),
    "inline-table-second-key": (with_tail("\n[evaluation]\nprompting = { few_shot = 0.5, zero_shot = 85 }\n"), 13, 31),
    "multi-line-inline-table": (
        with_tail(
            "\n[evaluation]\n"  # 12
            "prompting = {\n"  # 13
            "  # measured on the v2 set\n"  # 14
            "  few_shot = 0.8,\n"  # 15
            "  zero_shot = 85,\n"  # 16
            "}\n"  # 17
        ),
        16, 3,
    ),
    "quoted-key": (with_tail('\n[evaluation.prompting]\n"zero_shot" = 85\n'), 13, 1),
    "literal-quoted-key-indented": (with_tail("\n[evaluation.prompting]\n    'zero_shot' = 85\n"), 13, 5),
    "quoted-key-with-escape": (with_tail('\n[evaluation.prompting]\n"zero\\u005fshot" = 85\n'), 13, 1),
    "comments-before-key": (
        with_tail(
            "\n[evaluation.prompting]\n"  # 12
            "# zero_shot = 0.5 was the old run\n"  # 13
            "   # another comment\n"  # 14
            "few_shot = 0.8  # zero_shot = 0.1\n"  # 15
            "zero_shot = 85  # oops, a percentage\n"  # 16
        ),
        16, 1,
    ),
    "fake-header-inside-multi-line-string": (
        with_tail(
            "\n[evaluation]\n"  # 12
            'metric = """\n'  # 13
            "[evaluation.prompting]\n"  # 14
            "zero_shot = 0.5\n"  # 15
            '"""\n'  # 16
            "\n"  # 17
            "[evaluation.prompting]\n"  # 18
            "zero_shot = 85\n"  # 19
        ),
        19, 1,
    ),
    "table-header-with-spaces": (with_tail("\n[ evaluation . prompting ]\n\n\n  zero_shot = 85\n"), 15, 3),
}


@pytest.mark.parametrize(
    "raw, line, column",
    [
        pytest.param(variant(text), line, column, id=f"{name}-{label}")
        for name, (text, line, column) in POSITION_CASES.items()
        for label, variant in (
            ("lf", lambda t: t.encode()),
            ("crlf", lambda t: t.replace("\n", "\r\n").encode()),
            ("bom", lambda t: ("\ufeff" + t).encode()),
        )
    ],
)
def test_percentage_position_through_awkward_toml(raw: bytes, line: int, column: int) -> None:
    check(raw, [Expect("MAN002", line, column, "evaluation.prompting.zero_shot", FRACTION_85)])


def test_wrong_type_messages_have_no_dangling_space() -> None:
    """A table where an array of tables belongs: the message must not end in a dangling space."""
    loaded = load_manifest("m.toml", with_tail('\n[waivers]\nrule = "FMT001"\n').encode())
    (finding,) = loaded.findings
    assert finding.message == finding.message.rstrip()


# =============================================================================== through the engine

TODAY = datetime.date(2026, 12, 1)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine([load_pack(builtin_pack_path())], options=EngineOptions(today=TODAY, max_waiver_days=180))


# A fine-tune proposal that would fire FMT001 (no volume), FMT002 (no downstream), DAT001 (no data)
# and PRM001 (no checklist), plus an expired waiver that would be WVR001: none may be reported.
FIRING = FINE_TUNE + (
    "\n"  # 12
    "[[waivers]]\n"  # 13
    'rule = "FMT001"\n'  # 14
    'reason = "r"\n'  # 15
    'owner = "o"\n'  # 16
    "expires = 2020-01-01\n"  # 17
)


def test_engine_reports_the_policies_when_the_manifest_is_valid(engine: Engine) -> None:
    """Guard for the tests below: FIRING really does fire policies and a waiver problem."""
    result = engine.check("m.toml", FIRING.encode())
    rules = {f.rule for f in result.findings}
    assert {"FMT001", "DAT001", "WVR001"} <= rules
    assert result.decision.verdict == "fail"


@pytest.mark.parametrize(
    "text, expected, proposal",
    [
        pytest.param(
            FIRING.replace('reasons = ["format-consistency"]', 'reasons = ["format-consistency"]\ntarget_quality = 85'),
            [("MAN002", 12, 1, "proposal.target_quality")],
            "fine-tune",
            id="man002-proposal-as-read",
        ),
        pytest.param(
            FIRING.replace('reason = "r"', 'reason = ""'),
            [("MAN002", 15, 1, "waivers[0].reason")],
            "fine-tune",
            id="man002-in-waiver",
        ),
        pytest.param(
            FIRING.replace('approach = "fine-tune"', "approach = 5"),
            [("MAN002", 10, 1, "proposal.approach")],
            None,
            id="man002-approach-not-a-string",
        ),
        pytest.param(
            FIRING.replace("[project\n", "").replace("[project]", "[project"),
            [("MAN001", 3, 9, None)],
            None,
            id="man001-no-proposal",
        ),
        pytest.param(
            b"schema_version = 1\n# caf\xe9\n" + FIRING.encode(),
            [("MAN001", 2, 6, None)],
            None,
            id="man001-not-utf8",
        ),
    ],
)
def test_man_findings_stop_the_engine(engine: Engine, text, expected, proposal) -> None:
    raw = text if isinstance(text, bytes) else text.encode()
    result = engine.check("m.toml", raw)
    got = [(f.rule, f.line, f.column, f.key if expected[0][3] is not None else None) for f in result.findings]
    assert got == expected
    assert result.decision.recommendation is None
    assert result.decision.verdict == "fail"
    assert result.decision.proposal == proposal
    assert not any(f.waived for f in result.findings)


def test_man003_stops_the_engine(engine: Engine) -> None:
    result = engine.check("m.toml", FIRING.replace("schema_version = 1", "schema_version = 2").encode())
    assert [(f.rule, f.line, f.column) for f in result.findings] == [("MAN003", 1, 1)]
    assert result.decision.recommendation is None
    assert result.decision.verdict == "fail"
    # "proposal: null or as read"
    assert result.decision.proposal in (None, "fine-tune")


def test_scenario_13_through_the_engine(engine: Engine) -> None:
    result = engine.check("13-invalid.toml", (SCENARIOS / "13-invalid.toml").read_bytes())
    assert [(f.rule, f.line, f.column, f.key) for f in result.findings] == [
        ("MAN002", 15, 1, "evaluation.prompting.zero_shot"),
        ("MAN002", 18, 1, "volume.requests_per_dya"),
    ]
    assert (result.decision.proposal, result.decision.recommendation, result.decision.verdict) == (
        "fine-tune",
        None,
        "fail",
    )


def test_minimal_manifest_passes_validation_in_the_engine(engine: Engine) -> None:
    # A prompting proposal with only required keys: advisory rules have nothing to read
    # (extraction is not a reasoning task, no scores, nothing machine-parsed).
    result = engine.check("m.toml", MINIMAL.encode())
    assert result.findings == ()
    assert (result.decision.proposal, result.decision.recommendation, result.decision.verdict) == (
        "prompting",
        "prompting",
        "pass",
    )
    # The fine-tune version is valid too: only policy findings, no MAN.
    result = engine.check("m.toml", FINE_TUNE.encode())
    assert result.findings
    assert not any(f.rule.startswith("MAN") for f in result.findings)
    assert result.decision.recommendation is not None


# -------------------------------------------------------------- bounds and ordering (issue 11)


@pytest.mark.parametrize("invisible", ["\u200b", "\u2060", "\ufeff", "\u3164", " \u200b\u2060 ", "\u202e", "\u0301"])
def test_a_waiver_owner_made_of_invisible_characters_is_blank(invisible: str) -> None:
    raw = with_tail(waiver_block(owner=invisible)).encode()
    check(raw, [Expect("MAN002", 15, 1, "waivers[0].owner", "visible character")])


@pytest.mark.parametrize("owner", ["a", "\u200bml-team", "团队", "é"])
def test_a_visible_character_is_enough(owner: str) -> None:
    check(with_tail(waiver_block(owner=owner)).encode(), [])


def test_list_items_are_reported_in_number_order() -> None:
    reasons = ", ".join(["'behavior'"] * 8 + ["1", "2", "3"])  # items 9, 10, 11 are bad
    loaded = load_manifest("m.toml", with_tail(f"reasons = [{reasons}]\n").encode())
    assert [f.message.split(":")[1].strip() for f in loaded.findings] == ["item 9", "item 10", "item 11"]


def test_a_huge_list_is_cut_and_its_problems_counted_not_listed() -> None:
    items = ", ".join(["1"] * 50_000)
    loaded = load_manifest("m.toml", with_tail(f"reasons = [{items}]\n").encode())
    messages = [f.message for f in loaded.findings]
    assert messages[0] == "proposal.reasons: 50,000 items; a list holds at most 1,000 (only those were checked)"
    assert messages[-1] == "proposal.reasons: and 991 more problems at this key, not listed"
    assert len(messages) == 1 + 9 + 1 and all(f.line == 11 for f in loaded.findings)


def test_a_manifest_over_the_size_limit_is_man001() -> None:
    from policylint.manifest import MAX_MANIFEST_BYTES

    raw = MINIMAL.encode() + b"#" * MAX_MANIFEST_BYTES
    (finding,) = load_manifest("m.toml", raw).findings
    assert (finding.rule, finding.line, finding.column) == ("MAN001", 1, 1)
    assert "larger than 1,048,576 bytes" in finding.message
