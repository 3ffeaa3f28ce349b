"""Policy unit tests as data (policylint.packtest): the cases the packs ship, and the runner.

The built-in pack's cases (``policies/tests/``) and the example plugin's
(``plugins/policylint-governance/.../policies/tests/``) must pass and cover every policy both
ways. The runner itself is tested on copies of the built-in pack and on a small pack written to
``tmp_path``: a wrong expectation is a failed case with its differences, an unexercised policy
is flagged, a mistake in a case file is a located error.
"""

from __future__ import annotations

import importlib
import json
import shutil
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli
from conftest import REPO, build_wheel

from policylint.builtin import builtin_pack_path
from policylint.errors import ConfigError, PackError
from policylint.packs import load_pack
from policylint.packtest import (
    CaseFileError,
    PackTestReport,
    format_report,
    host_engine_factory,
    run_pack_tests,
    to_toml,
)
from policylint.plugins import PluginHost, PluginInfo, create_host

PLUGIN = REPO / "plugins" / "policylint-governance"
GOVERNANCE_PACK = PLUGIN / "policylint_governance" / "policies"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), "utf-8")
    return path


@pytest.fixture
def governance_host(monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginHost]:
    """The built-in plugins and the example plugin, imported from the checkout (not installed)."""
    monkeypatch.syspath_prepend(str(PLUGIN))
    plugin = importlib.import_module("policylint_governance.plugin")
    host = create_host(entry_points=False)
    host.manager.register(plugin, name="governance")
    host.info["governance"] = PluginInfo("governance", "policylint-governance", "0.1.0")
    yield host
    for name in [m for m in sys.modules if m.split(".")[0] == "policylint_governance"]:
        del sys.modules[name]


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    """A working copy of the built-in pack and its cases."""
    return Path(shutil.copytree(builtin_pack_path(), tmp_path / "policies"))


# =============================================================================================
# The shipped cases
# =============================================================================================


def test_builtin_pack_cases_pass_with_full_coverage() -> None:
    report = run_pack_tests([builtin_pack_path()])
    assert [r.case.where + " " + "; ".join(r.problems) for r in report.failed] == []
    assert len(report.cases) >= 62
    assert [e.rule for e in report.coverage] == sorted(p.id for p in load_pack(builtin_pack_path()).policies)
    assert len(report.coverage) == 31
    assert report.uncovered == ()
    assert report.coverage_percent == 100.0
    assert format_report(report).splitlines()[-1] == (
        f"{len(report.cases)} cases: {len(report.cases)} passed, 0 failed; coverage 100.0% (62 of 62: each policy firing and silent)"
    )


def test_governance_pack_cases_pass_with_full_coverage(governance_host: PluginHost) -> None:
    report = run_pack_tests([GOVERNANCE_PACK], engine_factory=host_engine_factory(governance_host))
    assert [r.case.where + " " + "; ".join(r.problems) for r in report.failed] == []
    assert [e.rule for e in report.coverage] == ["GOV001", "GOV002", "GOV003"]
    assert report.coverage_percent == 100.0


def test_governance_pack_needs_its_plugin() -> None:
    """Without the plugin, its pack reads a table nobody declared: a located pack error."""
    with pytest.raises(PackError, match=r"GOV001\.toml:9:17: when: unknown field 'ext\.governance\.budget_owner'"):
        run_pack_tests([GOVERNANCE_PACK])


def test_other_plugins_stay_out_of_a_packs_cases(governance_host: PluginHost) -> None:
    """The governance plugin raises the quality bar to 0.88 and adds GOV001 to every fine-tune:
    the built-in pack's cases (written for 0.85, expecting verdicts) still pass beside it."""
    report = run_pack_tests([builtin_pack_path()], engine_factory=host_engine_factory(governance_host))
    assert report.passed and report.coverage_percent == 100.0


def test_both_packs_in_one_run(governance_host: PluginHost) -> None:
    report = run_pack_tests(
        [GOVERNANCE_PACK, builtin_pack_path(), builtin_pack_path()], engine_factory=host_engine_factory(governance_host)
    )
    assert [name for name, _ in report.packs] == ["governance", "builtin"]  # order given, a repeat runs once
    assert report.passed and len(report.coverage) == 34 and report.coverage_percent == 100.0


def test_case_files_are_not_policies() -> None:
    """load_pack reads the top of the folder only: tests/*.toml are never taken for policies."""
    for folder, count in ((builtin_pack_path(), 31), (GOVERNANCE_PACK, 3)):
        assert any((folder / "tests").glob("*.toml"))
        pack = load_pack(folder)
        assert len(pack.policies) == count
        assert all(Path(p.file).parent == folder for p in pack.policies)


def test_base_manifests_check_cleanly(engine) -> None:  # type: ignore[no-untyped-def]
    """The shared bases are ordinary manifests that pass every rule."""
    for path in sorted((builtin_pack_path() / "tests" / "manifests").glob("*.toml")):
        result = engine.check(str(path), path.read_bytes())
        assert (result.findings, result.decision.verdict) == ((), "pass"), path


def test_case_folders_ship_in_the_wheels(tmp_path: Path) -> None:
    pytest.importorskip("hatchling", reason="the wheels are built offline with hatchling (in the test extras)")
    for project, folder, case in (
        (REPO, "policylint/_builtin_policies/tests", "format.toml"),
        (PLUGIN, "policylint_governance/policies/tests", "governance.toml"),
    ):
        wheel = build_wheel(project, tmp_path / project.name)
        names = zipfile.ZipFile(wheel).namelist()
        assert f"{folder}/{case}" in names, (wheel.name, [n for n in names if "polic" in n][:20])
        if project is REPO:
            assert f"{folder}/manifests/fine-tune.toml" in names


# =============================================================================================
# Failures and coverage
# =============================================================================================


def test_a_wrong_expectation_is_a_failed_case_with_its_differences(pack_copy: Path) -> None:
    cases = pack_copy / "tests" / "format.toml"
    text = cases.read_text("utf-8")
    quiet = 'manifest = { volume = { requests_per_day = 100_001 } }\nfires = []\n'
    assert text.count(quiet) == 1
    cases.write_text(text.replace(quiet, quiet.replace("fires = []", 'fires = ["FMT001"]\nrecommendation = "error-handling"')), "utf-8")
    line = text.splitlines().index('name = "FMT001 stays silent at 100,001 requests a day"')  # the [[case]] line above it

    report = run_pack_tests([pack_copy])

    assert not report.passed
    (failed,) = report.failed
    assert failed.case.where == f"{cases}:{line}:1"
    assert failed.problems == (
        "fires: expected [FMT001], got []",
        "  missing FMT001: did not fire",
        "recommendation: expected 'error-handling', got 'fine-tune' (no rule decided; the proposal stands)",
    )
    text_report = format_report(report, verbose=False).splitlines()
    assert text_report[:4] == [
        f"{cases}:{line}:1: FAIL FMT001 stays silent at 100,001 requests a day",
        "    fires: expected [FMT001], got []",
        "      missing FMT001: did not fire",
        "    recommendation: expected 'error-handling', got 'fine-tune' (no rule decided; the proposal stands)",
    ]
    assert text_report[-1].endswith("105 passed, 1 failed; coverage 100.0% (62 of 62: each policy firing and silent)")
    # The failed case no longer counts: the other FMT001 silent cases keep the coverage whole.
    entry = next(e for e in report.coverage if e.rule == "FMT001")
    assert not any("100,001 requests a day" in ref for ref in entry.silent_in)


def test_an_unexpected_rule_shows_its_message(pack_copy: Path) -> None:
    write(pack_copy / "tests" / "zz.toml", """\
        base = "manifests/fine-tune.toml"

        [[case]]
        name = "says nothing fires"
        manifest = { downstream = { retry_logic = false } }
        fires = []
        verdict = "fail"
    """)
    report = run_pack_tests([pack_copy])
    (failed,) = report.failed
    assert failed.case.where == f"{pack_copy / 'tests' / 'zz.toml'}:3:1"
    assert failed.problems[0] == "fires: expected [], got [FMT004]"
    assert failed.problems[1].startswith("  unexpected FMT004: ")
    assert failed.problems[2] == "verdict: expected 'fail', got 'pass'"


def test_an_unexercised_policy_is_flagged(pack_copy: Path) -> None:
    """A new policy no case makes fire. The cases' exact ``fires`` lists still show it silent
    wherever it is evaluated, which is the half of its coverage it gets."""
    fmt001 = (pack_copy / "FMT001.toml").read_text("utf-8")
    extra = fmt001.replace('id = "FMT001"', 'id = "FMT009"').replace(
        'name = "format-volume-too-low"', 'name = "format-volume-beyond-capacity"'
    ).replace("order = 310\n", "").replace('recommends = "error-handling"\n', "")
    when = "'format-consistency' in reasons and volume.per_day > 10_000_000"
    extra = "\n".join(f"when = {when!r}" if line.startswith("when = ") else line for line in extra.splitlines())
    (pack_copy / "FMT009.toml").write_text(extra.split("[[messages]]")[0], "utf-8")

    report = run_pack_tests([pack_copy])

    assert report.passed
    (entry,) = report.uncovered
    assert (entry.rule, entry.gaps()) == ("FMT009", ["no case makes it fire"])
    assert entry.silent_in and not entry.fires_in
    assert report.coverage_percent == pytest.approx(100 * 63 / 64)
    lines = format_report(report, verbose=False).splitlines()
    assert lines == [
        f"pack 'builtin' ({pack_copy}): {len(report.cases)} cases, coverage 63/64 (98.4%)",
        "    FMT009: no case makes it fire",
        f"{len(report.cases)} cases: {len(report.cases)} passed, 0 failed; coverage 98.4% (63 of 64: each policy firing and silent)",
    ]


def test_a_policy_shown_only_firing_is_half_covered(tmp_path: Path) -> None:
    pack = acme_pack(tmp_path, """\
        [[case]]
        name = "fires above the limit"
        manifest = { volume = { requests_per_day = 100_001 } }
        fires = ["ACM001"]
    """)
    report = run_pack_tests([pack])
    assert report.passed
    (entry,) = report.uncovered
    assert entry.gaps() == ["no case keeps it silent"]
    assert report.coverage_percent == 50.0
    assert report.to_dict()["packs"] == [
        {"name": "acme", "path": str(pack), "cases": 1, "failed": 0, "coverage": {"covered": 1, "total": 2, "percent": 50.0}}
    ]


# =============================================================================================
# A small pack of one's own: parameters, includes/silent, the JSON form
# =============================================================================================

ACME_BASE = """\
    [base]
    schema_version = 1
    project = { name = "acme-case" }
    task = { kind = "extraction" }
    proposal = { approach = "fine-tune", reasons = ["general-quality"], model_tier = "small" }
    volume = { requests_per_day = 50_000 }
"""


def acme_pack(tmp_path: Path, cases: str) -> Path:
    """A pack beside the built-in one: ACM001 fires above ``acme_max_per_day`` requests a day."""
    folder = tmp_path / "acme"
    write(folder / "pack.toml", """\
        [pack]
        name = "acme"
        version = "1"
        description = "Acme's own gates."

        [params.acme_max_per_day]
        type = "integer"
        default = 100_000
        source = "organisation"
        stricter = "lower"
        description = "The most requests a day Acme serves from a tuned model."
    """)
    write(folder / "ACM001.toml", """\
        id = "ACM001"
        name = "volume-over-acme-limit"
        title = "More traffic than Acme serves from a tuned model"
        severity = "error"
        applies_to = "fine-tuning"
        points_at = "volume"
        when = "volume.per_day > params.acme_max_per_day"
        message = "{volume.per_day} requests/day is above {params.acme_max_per_day}"
        rationale = "Capacity."
    """)
    write(folder / "tests" / "acme.toml", ACME_BASE + "\n" + textwrap.dedent(cases))
    return folder


def test_params_move_a_boundary(tmp_path: Path) -> None:
    pack = acme_pack(tmp_path, """\
        [[case]]
        name = "silent at the default limit"
        manifest = { volume = { requests_per_day = 100_000 } }
        fires = []

        [[case]]
        name = "fires one above it"
        manifest = { volume = { requests_per_day = 100_001 } }
        fires = ["ACM001"]

        [[case]]
        name = "silent one above it once the limit is raised"
        params = { acme_max_per_day = 100_001 }
        manifest = { volume = { requests_per_day = 100_001 } }
        fires = []

        [[case]]
        name = "fires at the default's value once the limit is lowered"
        params = { acme_max_per_day = 99_999 }
        manifest = { volume = { requests_per_day = 100_000 } }
        fires = ["ACM001"]
    """)
    report = run_pack_tests([pack])
    assert [(r.case.name, r.fired, r.passed) for r in report.cases] == [
        ("silent at the default limit", (), True),
        ("fires one above it", ("ACM001",), True),
        ("silent one above it once the limit is raised", (), True),
        ("fires at the default's value once the limit is lowered", ("ACM001",), True),
    ]
    assert report.coverage_percent == 100.0


def test_a_file_level_param_applies_to_every_case(tmp_path: Path) -> None:
    pack = acme_pack(tmp_path, """\
        [params]
        acme_max_per_day = 10

        [[case]]
        name = "the base's 50,000 is above 10"
        fires = ["ACM001"]

        [[case]]
        name = "a case's own value wins"
        params = { acme_max_per_day = 50_000 }
        fires = []
    """)
    assert run_pack_tests([pack]).passed


def test_an_unknown_param_is_located_in_the_case_file(tmp_path: Path) -> None:
    pack = acme_pack(tmp_path, """\
        [[case]]
        name = "typo"
        params = { acme_max_per_dya = 1 }
        fires = []
    """)
    with pytest.raises(ConfigError) as caught:
        run_pack_tests([pack])
    assert str(caught.value) == (
        f"{pack / 'tests' / 'acme.toml'}:10:12: case[1].params.acme_max_per_dya: unknown parameter 'acme_max_per_dya'"
        " (did you mean 'acme_max_per_day'?)"
    )


def test_includes_and_silent(tmp_path: Path) -> None:
    pack = acme_pack(tmp_path, """\
        [[case]]
        name = "includes: other rules may fire too"
        manifest = { volume = { requests_per_day = 200_000 } }
        includes = ["ACM001"]

        [[case]]
        name = "silent: these do not fire"
        silent = ["ACM001"]

        [[case]]
        name = "silent but fires"
        manifest = { volume = { requests_per_day = 200_000 } }
        silent = ["ACM001"]

        [[case]]
        name = "silent on a proposal it does not apply to"
        manifest = { proposal = { approach = "prompting" } }
        silent = ["ACM001"]
    """)
    report = run_pack_tests([pack])
    assert [r.passed for r in report.cases] == [True, True, False, False]
    assert report.cases[2].problems[:2] == (
        "silent: expected [ACM001] silent, got [ACM001]",
        "  unexpected ACM001: 200,000 requests/day is above 100,000",
    )
    assert report.cases[3].problems == (
        "silent: ACM001 is not evaluated for a 'prompting' proposal, so the case cannot show it silent",
    )
    (entry,) = report.coverage
    assert [ref.split(" ", 1)[1] for ref in (*entry.fires_in, *entry.silent_in)] == [
        "includes: other rules may fire too", "silent: these do not fire",
    ]


def test_an_invalid_merged_manifest_fails_the_case(tmp_path: Path) -> None:
    pack = acme_pack(tmp_path, """\
        [[case]]
        name = "both volume keys"
        manifest = { volume = { requests_per_month = 10 } }
        fires = []
    """)
    (result,) = run_pack_tests([pack]).cases
    assert not result.passed
    assert result.problems[0].startswith("the case's manifest is invalid: MAN002 volume")


def test_the_json_form_is_stable(tmp_path: Path) -> None:
    pack = acme_pack(tmp_path, """\
        [[case]]
        name = "fires"
        manifest = { volume = { requests_per_day = 200_000 } }
        fires = ["ACM001"]
        verdict = "fail"
    """)
    first, second = run_pack_tests([pack]), run_pack_tests([pack])
    data = first.to_dict()
    assert json.dumps(data, sort_keys=True) == json.dumps(second.to_dict(), sort_keys=True)
    assert data["cases"] == [{
        "pack": "acme", "file": str(pack / "tests" / "acme.toml"), "line": 8, "column": 1, "name": "fires",
        "passed": True, "expected": {"fires": ["ACM001"], "verdict": "fail"},
        # the base scores no prompting step: the built-in PRM001 decides
        "got": {"fires": ["ACM001"], "recommendation": "prompting", "verdict": "fail", "decided_by": "PRM001"},
        "problems": [],
    }]
    assert data["summary"] == {"cases": 1, "passed": 1, "failed": 0, "policies": 1, "uncovered": 1, "coverage_percent": 50.0}


def test_a_pack_without_cases_is_wholly_uncovered(tmp_path: Path) -> None:
    pack = acme_pack(tmp_path, "")
    (pack / "tests" / "acme.toml").unlink()
    report = run_pack_tests([pack])
    assert (report.cases, report.coverage_percent, isinstance(report, PackTestReport)) == ((), 0.0, True)


# =============================================================================================
# Mistakes in case files: located, with a suggestion where one helps
# =============================================================================================

CASE_FILE_ERRORS = [
    pytest.param('[[case]]\nname = "x"\nfires = []\nrecomendation = "rag"\n',
                 "4:1: case[1].recomendation: unknown key (did you mean 'recommendation'?)", id="unknown-key"),
    pytest.param('bse = "x.toml"\n[[case]]\nname = "x"\nfires = []\n',
                 "1:1: bse: unknown key (did you mean 'base'?)", id="unknown-top-level-key"),
    pytest.param('[[case]]\nname = "x"\nfires = ["ACM01"]\n',
                 "3:1: case[1].fires: 'ACM01' is not a policy of pack 'acme' (did you mean 'ACM001'?)", id="unknown-rule"),
    pytest.param('[[case]]\nname = "x"\nfires = ["FMT001"]\n',
                 "3:1: case[1].fires: 'FMT001' is not a policy of pack 'acme'", id="rule-of-another-pack"),
    pytest.param('[[case]]\nname = "x"\nfires = ["ACM001", "ACM001"]\n',
                 "3:1: case[1].fires: ACM001 is named twice", id="twice"),
    pytest.param('[[case]]\nname = "x"\n',
                 "1:1: case[1]: say which rules fire: fires = [...] (exactly; [] for none), or includes = [...] and/or silent = [...]",
                 id="no-expectation"),
    pytest.param('[[case]]\nname = "x"\nfires = []\nsilent = ["ACM001"]\n',
                 "3:1: case[1].fires: names every rule of the pack that fires; use it alone, or includes and silent instead",
                 id="fires-and-silent"),
    pytest.param('[[case]]\nname = "x"\nfires = []\nverdict = "passed"\n',
                 "4:1: case[1].verdict: expected one of 'pass', 'fail', got \"passed\" (did you mean 'pass'?)", id="bad-verdict"),
    pytest.param('[[case]]\nname = "x"\nfires = []\ndecided_by = "nobody"\n',
                 "4:1: case[1].decided_by: expected a rule id, or 'none' when no rule sets the recommendation, got \"nobody\"",
                 id="bad-decided-by"),
    pytest.param('base = { volume = { requests_per_day = 1 } }\n[[case]]\nname = "x"\nfires = []\nunset = ["volume.requests_per_dya"]\n',
                 "5:1: case[1].unset[1]: 'volume.requests_per_dya' is not in the base manifest "
                 "(did you mean 'volume.requests_per_day'?)", id="unset-unknown"),
    pytest.param('[[case]]\nname = "x"\nfires = []\n[[case]]\nname = "x"\nfires = []\n',
                 "5:1: case[2].name: 'x' is already the name of case 1", id="duplicate-name"),
    pytest.param('[[case]]\nname = "x"\nfires = []\ntoday = 2026-12-01T10:00:00\n',
                 "4:1: case[1].today: expected a date such as 2026-12-01, got a date-time", id="datetime-not-date"),
    pytest.param('[[case]]\nname = "x"\nfires = []\nmanifest = "volume = 1"\n',
                 "4:1: case[1].manifest: expected a table, got the string \"volume = 1\"", id="manifest-not-a-table"),
    pytest.param('[[case]]\nname = "x"\nfires = [\n', "4:1: invalid TOML", id="bad-toml"),
    pytest.param('base = "missing.toml"\n[[case]]\nname = "x"\nfires = []\n',
                 "1:1: base: no such file", id="missing-base"),
    pytest.param('schema_version = 1\n[project]\nname = "a manifest"\n',
                 "1:1: this looks like a manifest, not a case file", id="a-manifest-in-tests"),
    pytest.param('name = "x"\n', "1:1: name: unknown key", id="no-case"),
]


@pytest.mark.parametrize(("text", "message"), CASE_FILE_ERRORS)
def test_case_file_errors_are_located(tmp_path: Path, text: str, message: str) -> None:
    pack = acme_pack(tmp_path, "")
    (pack / "tests" / "acme.toml").write_text(text, "utf-8")
    with pytest.raises(CaseFileError) as caught:
        run_pack_tests([pack])
    assert str(caught.value).startswith(f"{pack / 'tests' / 'acme.toml'}:{message}")
    assert "\n" not in str(caught.value)


def test_an_unknown_decided_by_rule_is_located(tmp_path: Path) -> None:
    pack = acme_pack(tmp_path, """\
        [[case]]
        name = "x"
        fires = []
        decided_by = "FMT011"
    """)
    with pytest.raises(CaseFileError, match=r"acme\.toml:11:1: case\[1\]\.decided_by: unknown rule 'FMT011' \(did you mean 'FMT001'\?\)"):
        run_pack_tests([pack])


# =============================================================================================
# Manifests written back as TOML
# =============================================================================================


def test_to_toml_round_trips() -> None:
    import datetime

    data = {
        "schema_version": 1,
        "project": {"name": 'quote " and \\ and é and \x7f', "description": "line\nbreak"},
        "evaluation": {"examples": 10, "prompting": {"few_shot": 0.8, "role": 1e-05}, "failures": {"mode": "none"}},
        "odd key": {"x.y": [1, 2.5, True, "s", {"a": 1}]},
        "waivers": [{"rule": "FMT001", "expires": datetime.date(2027, 1, 1), "nested": {"k": "v"}}, {"rule": "DAT001"}],
    }
    assert tomli.loads(to_toml(data)) == data
