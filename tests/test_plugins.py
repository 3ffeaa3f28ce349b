"""Plugins end to end, through the real command.

The example plugin (``plugins/policylint-governance``) is built into a wheel and installed,
with policylint's own wheel, into a throwaway virtualenv (never into the environment running
these tests: it would change every other test's results). Its own unit tests run there too.

Broken plugins are fake distributions written to disk (a ``*.dist-info`` folder with an
``entry_points.txt``, and the module) on ``PYTHONPATH`` of a ``python -m policylint`` run.
Each must stop the run with exit 2 and a one-line message that names it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
from conftest import REPO, SCENARIOS, TODAY, build_wheel, make_venv
from pydantic import BaseModel, ConfigDict

from policylint import __version__
from policylint.engine import Engine, EngineOptions
from policylint.packs import load_pack

PLUGIN = REPO / "plugins" / "policylint-governance"
VERSION_LINE = "governance (policylint-governance 0.1.0)"

# A fine-tuning proposal the built-in pack lets through (format at scale), whose best prompting
# score (0.86, on 10,000 examples) sits between the built-in quality bar (0.85) and the plugin's
# (0.88), so that which bar applies is visible in PRM002 once the case is general quality.
BASE = """\
schema_version = 1

[project]
name = "invoice-field-extractor"

[task]
kind = "extraction"
narrow = true

[proposal]
approach = "fine-tune"
reasons = ["format-consistency"]
model_tier = "small"

[evaluation]
examples = 10_000

[evaluation.prompting]
zero_shot = 0.78
few_shot = 0.86
few_shot_examples = 8
format_constraints = 0.86
role = 0.86

[evaluation.failures]
mode = "format"
malformed_rate = 0.021

[volume]
requests_per_day = 240_000

[downstream]
machine_parsed = true
failure_impact = "data-corruption"
retry_logic = true

[data]
examples = 4_200
"""
GOVERNED = '\n[ext.governance]\nrisk_tier = "medium"\nbudget_owner = "payments-ml"\n'


def manifest(tail: str = GOVERNED) -> str:
    return BASE + tail


def line_of(text: str, snippet: str) -> int:
    """1-based line of the first line that contains ``snippet``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if snippet in line)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


# =============================================================================================
# The example plugin, installed from its wheel
# =============================================================================================


@pytest.fixture(scope="module")
def governance_env(tmp_path_factory: pytest.TempPathFactory, policylint_wheel: Path) -> Path:
    """A virtualenv with policylint's wheel and the governance plugin's wheel installed."""
    work = tmp_path_factory.mktemp("governance")
    return make_venv(work / "venv", policylint_wheel, build_wheel(PLUGIN, work))


@pytest.fixture
def lint(governance_env: Path, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the virtualenv's ``policylint`` in ``tmp_path`` (no configuration above it)."""

    def run(*args: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("POLICYLINT_DEBUG", "PYTHONPATH")}
        return subprocess.run(
            [str(governance_env / "bin" / "policylint"), *args],
            capture_output=True, text=True, cwd=cwd, env=env, check=False,
        )

    return run


def test_plugin_and_policylint_are_installed_from_their_wheels(governance_env: Path, tmp_path: Path) -> None:
    code = "import policylint, policylint_governance; print(policylint.__file__); print(policylint_governance.__file__)"
    out = subprocess.run([str(governance_env / "bin" / "python"), "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, check=True).stdout.split()
    assert all(path.startswith(str(governance_env)) and "site-packages" in path for path in out)
    code = "from importlib.metadata import distribution as d; print(d('policylint-governance').read_text('direct_url.json'))"
    direct_url = subprocess.run([str(governance_env / "bin" / "python"), "-c", code], capture_output=True, text=True,
                                cwd=tmp_path, check=True).stdout
    assert '"editable": true' not in direct_url  # a wheel, not an editable install


def test_plugin_own_tests_pass_in_the_virtualenv(governance_env: Path, tmp_path: Path) -> None:
    """The plugin's unit tests are not under testpaths; this is how CI runs them.

    They run from a copy of the plugin's folder without its package, so they can only import
    the installed wheel (its pyproject.toml comes along: it holds their pytest settings).
    """
    plugin = tmp_path / PLUGIN.name
    shutil.copytree(PLUGIN, plugin, ignore=shutil.ignore_patterns("policylint_governance", "__pycache__", ".pytest_cache"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [str(governance_env / "bin" / "python"), "-m", "pytest", str(plugin / "tests"), "-q"],
        capture_output=True, text=True, cwd=tmp_path, env=env, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " passed" in proc.stdout and "failed" not in proc.stdout and "error" not in proc.stdout


# -- policylint plugins -------------------------------------------------------------------------


def test_plugins_lists_the_plugin_and_its_contributions(lint, governance_env: Path) -> None:
    proc = lint("plugins")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    start = lines.index(VERSION_LINE)
    pack = governance_env / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    assert lines[start : start + 7] == [
        VERSION_LINE,
        f"  pack governance ({pack / 'policylint_governance' / 'policies'}): GOV001, GOV002, GOV003",
        "  tables: ext.governance",
        "  checks: GOV100",
        "  formats: governance-csv",
        "  function is_review_id(): True when the text is a privacy review id such as PRV-2026-014.",
        "  params: quality_bar = 0.88",
    ]
    assert "policylint.builtin (policylint 0.1.0)" in lines


def test_plugins_json(lint) -> None:
    listing = json.loads(lint("plugins", "--format", "json").stdout)
    (governance,) = [p for p in listing["plugins"] if p["name"] == "governance"]
    assert {k: v for k, v in governance.items() if k != "packs"} == {
        "name": "governance", "distribution": "policylint-governance", "version": "0.1.0",
        "tables": ["ext.governance"], "checks": ["GOV100"],
        "functions": {"is_review_id": "True when the text is a privacy review id such as PRV-2026-014."},
        "formats": ["governance-csv"], "params": {"quality_bar": 0.88},
    }
    assert [(p["name"], p["rules"]) for p in governance["packs"]] == [("governance", ["GOV001", "GOV002", "GOV003"])]


def test_plugins_shows_each_function_docstring(lint) -> None:
    summary = "True when the text is a privacy review id such as PRV-2026-014."
    assert summary in lint("plugins").stdout
    assert summary in lint("plugins", "--format", "json").stdout


def test_plugins_honours_disable_plugin(lint) -> None:
    proc = lint("plugins", "--disable-plugin", "governance")
    assert proc.returncode == 0
    assert VERSION_LINE not in proc.stdout
    assert proc.stdout.splitlines()[-1] == "disabled: governance"


# -- [ext.governance] -----------------------------------------------------------------------------


def test_governed_manifest_passes(lint, tmp_path: Path) -> None:
    write(tmp_path / "mlproject.toml", manifest())
    proc = lint("check", "mlproject.toml")
    assert proc.stdout.splitlines() == [
        "mlproject.toml: proposal fine-tune -> recommend fine-tune: pass",
        "note: settings: params.quality_bar = 0.88 (plugin 'governance' (policylint-governance 0.1.0))",
        "1 manifest checked: 1 passed, 0 failed (0 errors, 0 warnings, 0 waived)",
    ]
    assert (proc.returncode, proc.stderr) == (0, "")


def test_ext_table_is_validated_at_each_key(lint, tmp_path: Path) -> None:
    text = manifest(
        "\n[ext.governance]\n"
        '  risk_tier = "hgh"\n'  # indented: the column is the key's
        '    budget_ownr = "payments-ml"\n'
        'personal_data = "yes"\n'
        "monthly_budget_usd = -1\n"
        'privacy_review = " "\n'
    )
    write(tmp_path / "mlproject.toml", text)
    proc = lint("check", "mlproject.toml")
    at = lambda key: line_of(text, key)
    assert proc.stdout.splitlines() == [
        (f"mlproject.toml:{at('risk_tier')}:3: MAN002 [error] ext.governance.risk_tier: "
        "expected one of 'low', 'medium', 'high', got \"hgh\" (did you mean 'high'?)"),
        (f"mlproject.toml:{at('budget_ownr')}:5: MAN002 [error] ext.governance.budget_ownr: "
        "unknown key (did you mean 'budget_owner'?)"),
        (f"mlproject.toml:{at('personal_data')}:1: MAN002 [error] ext.governance.personal_data: "
        'expected true or false, got the string "yes"'),
        (f"mlproject.toml:{at('monthly_budget_usd')}:1: MAN002 [error] ext.governance.monthly_budget_usd: "
        "expected a number from 0 to 10^12, got -1 (out of range)"),
        (f"mlproject.toml:{at('privacy_review')}:1: MAN002 [error] ext.governance.privacy_review: "
        "must contain a visible character (spaces and invisible characters do not count)"),
        "mlproject.toml: invalid manifest, not evaluated: fail (errors: MAN002)",
        "note: settings: params.quality_bar = 0.88 (plugin 'governance' (policylint-governance 0.1.0))",
        "1 manifest checked: 0 passed, 1 failed (5 errors, 0 warnings, 0 waived)",
    ]
    assert proc.returncode == 1


def test_ext_table_required_key_is_reported_at_the_table(lint, tmp_path: Path) -> None:
    text = manifest('\n[ext.governance]\nbudget_owner = "payments-ml"\n')
    write(tmp_path / "mlproject.toml", text)
    proc = lint("check", "mlproject.toml")
    assert proc.stdout.splitlines()[0] == (
        f"mlproject.toml:{line_of(text, '[ext.governance]')}:1: MAN002 [error] ext.governance.risk_tier: required key is missing"
    )
    assert proc.returncode == 1


def test_misspelt_ext_table_is_unclaimed_and_suggests_the_claimed_one(lint, tmp_path: Path) -> None:
    text = manifest('\n[ext.governanse]\nrisk_tier = "low"\n')
    write(tmp_path / "mlproject.toml", text)
    proc = lint("check", "mlproject.toml")
    assert proc.stdout.splitlines()[0] == (
        f"mlproject.toml:{line_of(text, '[ext.governanse]')}:1: MAN002 [error] ext.governanse: no loaded plugin claims "
        "this extension table (claimed: governance) (did you mean 'governance'?)"
    )


# -- the plugin's policies ------------------------------------------------------------------------


def check_json(lint, tmp_path: Path, text: str, *args: str) -> tuple[int, dict]:
    write(tmp_path / "mlproject.toml", text)
    proc = lint("check", "mlproject.toml", "--format", "json", "--today", TODAY.isoformat(), *args)
    assert proc.stderr == ""
    (result,) = json.loads(proc.stdout)["manifests"]
    return proc.returncode, result


def findings(result: dict) -> list[tuple[str, str, int]]:
    return [(f["rule"], f["severity"], f["line"]) for f in result["findings"]]


def test_gov001_fine_tuning_without_a_budget_owner_fails(lint, tmp_path: Path) -> None:
    text = manifest('\n[ext.governance]\nrisk_tier = "low"\n')
    code, result = check_json(lint, tmp_path, text)
    assert findings(result) == [("GOV001", "error", line_of(text, "[ext.governance]"))]
    assert result["decision"] == {"proposal": "fine-tune", "recommendation": "fine-tune", "verdict": "fail", "decided_by": None}
    assert code == 1


def test_gov001_applies_without_the_table_too(lint, tmp_path: Path) -> None:
    code, result = check_json(lint, tmp_path, manifest(""))
    assert [f["rule"] for f in result["findings"]] == ["GOV001"]
    assert code == 1


def test_gov002_personal_data_needs_a_review_id(lint, tmp_path: Path) -> None:
    text = manifest(GOVERNED + 'personal_data = true\nprivacy_review = "pending"\n')
    code, result = check_json(lint, tmp_path, text)
    assert findings(result) == [("GOV002", "error", line_of(text, "personal_data"))]
    assert "privacy_review is pending, not a review id" in result["findings"][0]["message"]
    assert code == 1
    code, result = check_json(lint, tmp_path, manifest(GOVERNED + 'personal_data = true\nprivacy_review = "PRV-2026-014"\n'))
    assert (code, result["findings"]) == (0, [])


def test_gov003_takes_part_in_the_decision(lint, tmp_path: Path) -> None:
    """First in the decision order among the firing rules, GOV003 sets the recommendation."""
    low_volume = BASE.replace("requests_per_day = 240_000", "requests_per_day = 1_000")
    # The built-in FMT001 alone (order 310) recommends error-handling ...
    code, result = check_json(lint, tmp_path, low_volume + GOVERNED)
    assert [f["rule"] for f in result["findings"]] == ["FMT001"]
    assert result["decision"]["recommendation"] == "error-handling"
    # ... and with GOV003 (order 150) firing as well, the plugin's rule decides.
    frontier = low_volume.replace('model_tier = "small"', 'model_tier = "frontier"')
    text = frontier + '\n[ext.governance]\nrisk_tier = "high"\nbudget_owner = "payments-ml"\n'
    code, result = check_json(lint, tmp_path, text)
    assert sorted(f["rule"] for f in result["findings"]) == ["FMT001", "GOV003"]
    gov003 = next(f for f in result["findings"] if f["rule"] == "GOV003")
    assert (gov003["recommends"], gov003["key"], gov003["line"]) == ("prompting", "proposal.model_tier", line_of(text, "model_tier"))
    assert result["decision"] == {"proposal": "fine-tune", "recommendation": "prompting", "verdict": "fail", "decided_by": "GOV003"}
    assert code == 1


def test_gov003_cannot_be_waived_but_gov001_can(lint, tmp_path: Path) -> None:
    waivers = "".join(
        f'\n[[waivers]]\nrule = "{rule}"\nreason = "board decision 2026-11"\nowner = "cto"\nexpires = 2027-01-31\n'
        for rule in ("GOV001", "GOV003")
    )
    text = BASE.replace('model_tier = "small"', 'model_tier = "frontier"') + waivers + '\n[ext.governance]\nrisk_tier = "high"\n'
    code, result = check_json(lint, tmp_path, text)
    by_rule = {f["rule"]: f for f in result["findings"]}
    assert by_rule["GOV001"]["waived"] is True
    assert by_rule["GOV003"]["waived"] is False
    assert "WVR003" in by_rule
    assert code == 1


def test_rule_ids_select_like_builtin_ones(lint, tmp_path: Path) -> None:
    text = manifest('\n[ext.governance]\nrisk_tier = "low"\n')
    write(tmp_path / "org.toml", 'ignore = ["GOV"]\n')  # GOV001 is an error: only the organisation turns it off
    code, result = check_json(lint, tmp_path, text, "--org-config", "org.toml")
    assert (code, result["findings"]) == (0, [])
    refused = lint("check", "mlproject.toml", "--ignore", "GOV")
    assert refused.returncode == 2 and "turning off GOV001 would loosen the gate" in refused.stderr


# -- the Python check ---------------------------------------------------------------------------------


def test_gov100_fires_over_budget_and_not_under(lint, tmp_path: Path) -> None:
    text = manifest(GOVERNED + "monthly_budget_usd = 3_000\n")
    code, result = check_json(lint, tmp_path, text)
    assert findings(result) == [("GOV100", "warning", line_of(text, "monthly_budget_usd"))]
    assert result["findings"][0]["message"].startswith(
        "estimated serving cost $3,600/month (7,200,000 requests/month at $0.50 per 1,000, small-tier price) "
        "exceeds the monthly budget of $3,000 by $600;"
    )
    assert (code, result["decision"]["verdict"]) == (0, "pass")  # a warning
    code, result = check_json(lint, tmp_path, text, "--fail-on", "warning")
    assert (code, result["decision"]["verdict"]) == (1, "fail")
    code, result = check_json(lint, tmp_path, manifest(GOVERNED + "monthly_budget_usd = 4_000\n"))
    assert (code, result["findings"]) == (0, [])


def test_gov100_reads_the_pack_parameters_and_severity_configuration(lint, tmp_path: Path) -> None:
    text = manifest(GOVERNED + "monthly_budget_usd = 3_000\n")
    # A lower price loosens GOV100 (stricter = "higher"): the organisation's configuration may.
    write(tmp_path / "org.toml", "[params]\nsmall_cost_per_1k_requests_usd = 0.4\n")
    code, result = check_json(lint, tmp_path, text, "--org-config", "org.toml")
    assert (code, result["findings"]) == (0, [])  # $2,880 fits
    code, result = check_json(lint, tmp_path, text, "--param", "small_cost_per_1k_requests_usd=0.6")
    assert findings(result) == [("GOV100", "warning", line_of(text, "monthly_budget_usd"))]  # a flag may tighten
    write(tmp_path / "policylint.toml", 'severity = { GOV100 = "error" }\n')
    code, result = check_json(lint, tmp_path, text)
    assert findings(result) == [("GOV100", "error", line_of(text, "monthly_budget_usd"))]
    assert code == 1


def test_rule_explains_the_plugin_rules(lint) -> None:
    policy = lint("rule", "GOV003")
    assert policy.returncode == 0
    assert policy.stdout.startswith("GOV003 (high-risk-frontier-fine-tuning): Frontier model fine-tuned in a high-risk system\n")
    assert "  waivable    no\n" in policy.stdout
    assert "(pack governance)" in policy.stdout
    check = lint("rule", "GOV100")
    assert "  fires when  a Python check\n" in check.stdout


# -- the parameter default -------------------------------------------------------------------------

GENERAL_QUALITY = BASE.replace('reasons = ["format-consistency"]', 'reasons = ["general-quality"]') + GOVERNED


def test_param_default_applies(lint, tmp_path: Path) -> None:
    """Best score 0.86: above the built-in bar (0.85), below the organisation's (0.88)."""
    code, result = check_json(lint, tmp_path, GENERAL_QUALITY)
    assert (code, result["findings"]) == (0, [])
    assert "params.quality_bar  0.88" in lint("rule", "PRM002").stdout


def test_param_flag_may_not_lower_the_plugin_default(lint, tmp_path: Path) -> None:
    """The plugin is the organisation's layer: a flag (or a repository file) may only tighten it."""
    write(tmp_path / "mlproject.toml", GENERAL_QUALITY)
    proc = lint("check", "mlproject.toml", "--param", "quality_bar=0.85")
    assert proc.returncode == 2
    assert proc.stderr == (
        "policylint: error: --param quality_bar=0.85: 0.85 would loosen 0.88 (set by plugin 'governance' "
        "(policylint-governance 0.1.0)); "
        "only the organisation configuration may loosen it\n"
    )
    raised = lint("check", "mlproject.toml", "--format", "json", "--param", "quality_bar=0.9")
    assert raised.returncode == 0  # 0.86 is below both bars: PRM002 stays quiet
    assert json.loads(raised.stdout)["settings"]["params"] == {"quality_bar": {"value": 0.9, "origin": "flag --param"}}


def test_organisation_config_may_lower_the_plugin_default(lint, tmp_path: Path) -> None:
    write(tmp_path / "org.toml", "params = { quality_bar = 0.85 }\n")
    code, result = check_json(lint, tmp_path, GENERAL_QUALITY, "--org-config", "org.toml")
    assert [f["rule"] for f in result["findings"]] == ["PRM002"]
    assert code == 1


# -- the report format --------------------------------------------------------------------------------


def test_governance_csv_format(lint, tmp_path: Path) -> None:
    text = manifest('\n[ext.governance]\nrisk_tier = "low"\n')
    write(tmp_path / "a" / "mlproject.toml", text)
    write(tmp_path / "b" / "mlproject.toml", manifest())
    proc = lint("check", "--format", "governance-csv", ".")
    assert proc.stdout.splitlines() == [
        "path,proposal,recommendation,verdict,rule,severity,line,column,waived,message",
        (f"a/mlproject.toml,fine-tune,fine-tune,fail,GOV001,error,{line_of(text, '[ext.governance]')},1,no,"
        "fine-tuning is proposed but no one is named to answer for its training and serving spend; "
        "set budget_owner in [ext.governance]"),
        "b/mlproject.toml,fine-tune,fine-tune,pass,,,,,,",
    ]
    assert proc.returncode == 1


# -- disabling it ---------------------------------------------------------------------------------------


def test_disabled_plugin_leaves_its_table_unclaimed(lint, tmp_path: Path) -> None:
    text = manifest(GOVERNED + 'personal_data = true\n')
    write(tmp_path / "mlproject.toml", text)
    write(tmp_path / "org.toml", 'disable-plugins = ["governance"]\n')
    proc = lint("check", "mlproject.toml", "--org-config", "org.toml")
    assert proc.stdout.splitlines() == [
        (f"mlproject.toml:{line_of(text, '[ext.governance]')}:1: MAN002 [error] ext.governance: "
        "no loaded plugin claims this extension table (claimed: none)"),
        "mlproject.toml: invalid manifest, not evaluated: fail (errors: MAN002)",
        "note: settings: disabled-plugins.governance (org config org.toml:1)",
        "1 manifest checked: 0 passed, 1 failed (1 error, 0 warnings, 0 waived)",
    ]
    assert proc.returncode == 1


def test_disabled_plugin_runs_no_governance_rule_and_restores_the_builtin_default(lint, tmp_path: Path) -> None:
    write(tmp_path / "org.toml", 'disable-plugins = ["governance"]\n')
    org = ("--org-config", "org.toml")
    code, result = check_json(lint, tmp_path, manifest(""), *org)  # no table: GOV001 would fire if loaded
    assert (code, result["findings"]) == (0, [])
    code, result = check_json(lint, tmp_path, GENERAL_QUALITY.replace(GOVERNED, ""), *org)
    assert [f["rule"] for f in result["findings"]] == ["PRM002"]  # the built-in 0.85 bar again
    unknown = lint("check", "mlproject.toml", "--select", "GOV", *org)
    assert unknown.returncode == 2
    assert "'GOV' matches no rule" in unknown.stderr


# =============================================================================================
# Broken plugins: fake distributions on PYTHONPATH
# =============================================================================================


@dataclass(frozen=True)
class Fake:
    """One installed plugin, as importlib.metadata finds it: dist-info plus its module."""

    source: str
    name: str = "acme"
    distribution: str = "acme-policylint"
    version: str = "1.0"
    files: dict[str, str] = field(default_factory=dict)  # more files beside the module

    @property
    def module(self) -> str:
        return f"{self.name}_plugin"

    def install(self, site: Path) -> None:
        info = site / f"{self.distribution.replace('-', '_')}-{self.version}.dist-info"
        write(info / "METADATA", f"Metadata-Version: 2.1\nName: {self.distribution}\nVersion: {self.version}\n")
        write(info / "entry_points.txt", f"[policylint]\n{self.name} = {self.module}\n")
        write(site / f"{self.module}.py", textwrap.dedent(self.source))
        for name, text in self.files.items():
            write(site / name, textwrap.dedent(text))


HEADER = "from pathlib import Path\nfrom policylint import hookimpl\nfrom policylint.checks import Check\n"
CHECK = 'Check(id="{id}", name="acme-check", title="t", severity="error", points_at="{points_at}", rationale="r", run={run}{extra})'


def check_source(run: str = "lambda ns, params: None", id: str = "ACME100", points_at: str = "proposal", extra: str = "") -> str:
    return HEADER + f"@hookimpl\ndef policylint_checks():\n    return [{CHECK.format(id=id, points_at=points_at, run=run, extra=extra)}]\n"


def hook(name: str, body: str) -> str:
    return HEADER + f"@hookimpl\ndef {name}():\n    {body}\n"


TABLE = HEADER + """\
from pydantic import BaseModel, ConfigDict
class AcmeTable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    team: str
@hookimpl
def policylint_manifest_tables():
    return {"acme": AcmeTable}
"""
OWN_PACK = hook("policylint_policy_packs", 'return [Path(__file__).parent / "acme_pack"]')
PACK_TOML = '[pack]\nname = "acme"\nversion = "1"\ndescription = "Acme policies."\n'
NAMED = "plugin 'acme' (acme-policylint 1.0)"


@dataclass(frozen=True)
class Case:
    fakes: tuple[Fake, ...]
    #: The whole error line after "policylint: error: "; {site} is the fakes' folder, {builtin}
    #: the built-in pack's. A message that ends in pluggy's own words is matched up to them.
    expected: str
    args: tuple[str, ...] = ()
    prefix_only: bool = False


def pack_files(**policies: str) -> dict[str, str]:
    return {"acme_pack/pack.toml": PACK_TOML, **{f"acme_pack/{rule}.toml": text for rule, text in policies.items()}}


CALLS_PER_UNIT = """\
    id = "ACME001"
    name = "acme-rule"
    title = "A rule that calls the plugin's function"
    severity = "error"
    applies_to = "any"
    points_at = "volume"
    when = "per_unit(volume.per_day) > 1"
    message = "m"
    rationale = "r"
    """
MALFORMED = f"{NAMED} returned malformed data from"
DEFINED_BY_BUILTIN = "in {builtin} (pack 'builtin', plugin 'policylint.builtin' (policylint {version}))"

CASES: dict[str, Case] = {
    # Import errors
    "import-error": Case(
        (Fake("import acme_costing_engine  # a dependency that is not installed\n"),),
        f"{NAMED} failed to load: ModuleNotFoundError: No module named 'acme_costing_engine'"),
    "module-raises-on-import": Case(
        (Fake("raise RuntimeError('licence server unreachable')\n"),),
        f"{NAMED} failed to load: RuntimeError: licence server unreachable"),
    # An exit from a plugin's code would end the run with the plugin's exit code: 0 for these
    "module-exits-on-import": Case(
        (Fake("import sys\nsys.exit(0)\n"),),
        f"{NAMED} failed to load: sys.exit(0) was called"),
    "hook-exits": Case(
        (Fake(hook("policylint_policy_packs", "raise SystemExit")),),
        f"{NAMED} raised in policylint_policy_packs: sys.exit() was called"),
    "check-exits-at-check-time": Case(
        (Fake(check_source(run="lambda ns, params: exit(0)")),),
        f"mlproject.toml: {NAMED}: check ACME100 failed: sys.exit(0) was called"),
    "format-exits-at-report-time": Case(
        (Fake(hook("policylint_report_formats", 'return {"acme": render}')
              + "def render(results, context, out):\n    raise SystemExit(0)\n"),),
        f"{NAMED}: report format 'acme' failed: sys.exit(0) was called", ("--format", "acme")),
    # Hooks that raise, and hooks pluggy refuses
    "hook-raises": Case(
        (Fake(hook("policylint_policy_packs", "raise RuntimeError('no pack today')")),),
        f"{NAMED} raised in policylint_policy_packs: RuntimeError: no pack today"),
    "unknown-hook": Case(
        (Fake(hook("policylint_nonexistent", "return 1")),),
        f"{NAMED} implements a hook policylint does not have: unknown hook 'policylint_nonexistent' in plugin ",
        prefix_only=True),
    "hookimpl-takes-an-unknown-argument": Case(
        (Fake(HEADER + "@hookimpl\ndef policylint_checks(config):\n    return []\n"),),
        f"{NAMED} cannot be registered: Plugin 'acme' for hook 'policylint_checks' hookimpl definition: "
        "policylint_checks(config) Argument(s) {{'config'}} are declared in the hookimpl but can not be found in the "
        "hookspec"),
    # Malformed answers
    "tables-returns-a-list": Case(
        (Fake(hook("policylint_manifest_tables", 'return ["acme"]')),),
        f"{MALFORMED} policylint_manifest_tables: expected a mapping of names, got list"),
    "table-model-allows-unknown-keys": Case(
        (Fake(TABLE.replace('extra="forbid"', 'extra="allow"')),),
        f"{MALFORMED} policylint_manifest_tables: extension table 'acme': the model must set extra='forbid'"),
    "table-is-not-a-model": Case(
        (Fake(hook("policylint_manifest_tables", 'return {"acme": dict}')),),
        f"{MALFORMED} policylint_manifest_tables: extension table 'acme': expected a pydantic model class, got "
        "<class 'dict'>"),
    "checks-returns-no-check": Case(
        (Fake(hook("policylint_checks", 'return [{"id": "ACME100"}]')),),
        f"{MALFORMED} policylint_checks: expected policylint.checks.Check objects, got dict"),
    "check-is-malformed": Case(
        (Fake(check_source(extra=', recommends="prompting"')),),
        f"{MALFORMED} policylint_checks: check 'ACME100': a check that recommends must set its decision order, "
        "and only such a check may"),
    "check-points-at-an-unknown-key": Case(
        (Fake(check_source(points_at="proposal.modle")),),
        f"{NAMED}: check ACME100: unknown manifest key 'proposal.modle' (did you mean 'proposal.model'?)"),
    "packs-names-a-missing-folder": Case(
        (Fake(hook("policylint_policy_packs", 'return [Path(__file__).parent / "no_such_pack"]')),),
        f"{MALFORMED} policylint_policy_packs: policy pack folder '{{site}}/no_such_pack' does not exist"),
    "param-defaults-returns-pairs": Case(
        (Fake(hook("policylint_param_defaults", 'return [("quality_bar", 0.9)]')),),
        f"{MALFORMED} policylint_param_defaults: expected a mapping of names, got list"),
    "param-default-unknown": Case(
        (Fake(hook("policylint_param_defaults", 'return {"quality_barr": 0.9}')),),
        f"{NAMED}: parameter default: unknown parameter 'quality_barr' (did you mean 'quality_bar'?)"),
    "param-default-wrong-type": Case(
        (Fake(hook("policylint_param_defaults", 'return {"quality_bar": 90}')),),
        f"{NAMED}: parameter default: parameter 'quality_bar' (fraction): score 90 is not a fraction; did you mean 0.9?"),
    "function-replaces-a-builtin": Case(
        (Fake(hook("policylint_condition_functions", 'return {"len": lambda x: 0}')),),
        f"{NAMED}: condition function 'len' is built in and cannot be replaced"),
    "format-is-not-callable": Case(
        (Fake(hook("policylint_report_formats", 'return {"acme": "text"}')),),
        f"{MALFORMED} policylint_report_formats: report format 'acme' is not callable"),
    # Rule ids and names that collide
    "pack-rule-id-collides-with-builtin": Case(
        (Fake(OWN_PACK, files=pack_files(RAG001=(REPO / "policies" / "RAG001.toml").read_text("utf-8"))),),
        f"rule id RAG001 is defined twice: in {{site}}/acme_pack/RAG001.toml (pack 'acme', {NAMED}) and "
        + DEFINED_BY_BUILTIN),
    "check-rule-id-collides-with-builtin": Case(
        (Fake(check_source(id="RAG001")),),
        f"rule id RAG001 is defined twice: {DEFINED_BY_BUILTIN} and as a check of {NAMED}"),
    "two-plugins-claim-one-table": Case(
        (Fake(TABLE), Fake(TABLE, name="globex", distribution="globex-policylint", version="2.3")),
        f"manifest table 'acme' is offered by both {NAMED} and plugin 'globex' (globex-policylint 2.3)"),
    "two-plugins-set-one-param": Case(
        (Fake(hook("policylint_param_defaults", 'return {"quality_bar": 0.9}')),
         Fake(hook("policylint_param_defaults", 'return {"quality_bar": 0.8}'), name="globex", distribution="globex-policylint")),
        f"parameter default 'quality_bar' is offered by both {NAMED} and plugin 'globex' (globex-policylint 1.0)"),
    # Plugin code that fails while manifests are checked or reported
    "check-raises-at-check-time": Case(
        (Fake(check_source(run="lambda ns, params: ns['ext.acme.team']")),),
        f"mlproject.toml: {NAMED}: check ACME100 failed: KeyError: 'ext.acme.team'"),
    "check-returns-a-number": Case(
        (Fake(check_source(run="lambda ns, params: 42")),),
        f"mlproject.toml: {NAMED}: check ACME100 failed: TypeError: expected None, a message or a list of messages, got int"),
    "function-raises-at-check-time": Case(
        (Fake(OWN_PACK + "@hookimpl\ndef policylint_condition_functions():\n    return {'per_unit': lambda x: 1 / 0}\n",
              files=pack_files(ACME001=CALLS_PER_UNIT)),),
        f"mlproject.toml: rule ACME001 ({{site}}/acme_pack/ACME001.toml): {NAMED}: condition function per_unit() failed: "
        "ZeroDivisionError: division by zero"),
    "format-raises-at-report-time": Case(
        (Fake(hook("policylint_report_formats", 'return {"acme": render}')
              + "def render(results, context, out):\n    list(results)\n    raise RuntimeError('disk full')\n"),),
        f"{NAMED}: report format 'acme' failed: RuntimeError: disk full", ("--format", "acme")),
}


def run_with(fakes: tuple[Fake, ...], tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    for fake in fakes:
        fake.install(site)
    manifest_path = write(tmp_path / "mlproject.toml", (SCENARIOS / "01-format-at-scale.toml").read_text("utf-8"))
    env = {**{k: v for k, v in os.environ.items() if k != "POLICYLINT_DEBUG"}, "PYTHONPATH": os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])])}
    command = args or ("check", manifest_path.name, "--today", TODAY.isoformat())
    return subprocess.run([sys.executable, "-m", "policylint", *command], capture_output=True, text=True,
                          cwd=tmp_path, env=env, check=False)


def test_the_scenario_passes_without_a_broken_plugin(tmp_path: Path) -> None:
    """The control: every failure below comes from the plugin, not the manifest."""
    proc = run_with((), tmp_path)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.endswith("1 manifest checked: 1 passed, 0 failed (0 errors, 0 warnings, 0 waived)\n")


def _subprocess_builtin_pack() -> Path:
    """The built-in pack as the policylint subprocesses see it: the installed copy under CI's
    non-editable install, the source tree's under an editable one (this process may differ)."""
    code = "from policylint.builtin import builtin_pack_path; print(builtin_pack_path())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/")
    return Path(out.stdout.strip())


@pytest.mark.parametrize("case", [pytest.param(case, id=name) for name, case in CASES.items()])
def test_broken_plugin_stops_the_run_naming_it(case: Case, tmp_path: Path) -> None:
    """Exit 2 and one line that names the plugin, its distribution and version, and what went wrong.

    Never a traceback, and nothing on standard output that could pass for a result.
    """
    proc = run_with(case.fakes, tmp_path, *(("check", "mlproject.toml", *case.args) if case.args else ()))
    assert proc.returncode == 2
    assert proc.stdout == ""
    expected = "policylint: error: " + case.expected.format(
        site=tmp_path / "site", builtin=_subprocess_builtin_pack() / "RAG001.toml", version=__version__)
    if case.prefix_only:
        assert proc.stderr.startswith(expected)
        assert proc.stderr.count("\n") == 1
    else:
        assert proc.stderr == expected + "\n"


def test_plugins_command_fails_on_a_plugin_that_cannot_load(tmp_path: Path) -> None:
    proc = run_with(CASES["import-error"].fakes, tmp_path, "plugins")
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"policylint: error: {NAMED} failed to load: ")


ORG_SETTINGS = hook("policylint_org_settings", 'return {"max-waiver-days": 60, "severity": {"DAT004": "error"}}')


def test_plugin_org_settings_are_the_organisation_layer(tmp_path: Path) -> None:
    """A platform team's plugin sets severities and waiver limits; repositories only tighten them."""
    fakes = (Fake(ORG_SETTINGS),)
    proc = run_with(fakes, tmp_path, "config", "--format", "json")
    assert (proc.returncode, proc.stderr) == (0, "")
    data = json.loads(proc.stdout)
    assert data["max-waiver-days"] == {"value": 60, "origin": NAMED}
    assert data["severity"]["DAT004"] == {"value": "error", "origin": NAMED}
    assert data["severity"]["DAT003"] == {"value": "warning", "origin": "built-in pack"}
    config = write(tmp_path / "policylint.toml", "max-waiver-days = 90\n")
    proc = run_with(fakes, tmp_path)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (
        f"policylint: error: {config.resolve()}:1:1: max-waiver-days: 90 would loosen 60 (set by {NAMED}); "
        "only the organisation configuration may loosen it\n"
    )
    write(tmp_path / "policylint.toml", "max-waiver-days = 30\n")
    assert run_with(fakes, tmp_path).returncode in (0, 1)


@pytest.mark.parametrize(("answer", "fragment"), [
    ('{"exclude": ["x"]}', "settings key 'exclude' cannot be set by a plugin"),
    ('{"max-waiver-days": "long"}', "settings max-waiver-days: "),
])
def test_plugin_org_settings_are_checked_like_a_file(tmp_path: Path, answer: str, fragment: str) -> None:
    proc = run_with((Fake(hook("policylint_org_settings", f"return {answer}")),), tmp_path)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith(f"policylint: error: {NAMED} returned malformed data from policylint_org_settings: {fragment}")


def test_disabling_a_broken_plugin_lets_the_run_go_on(tmp_path: Path) -> None:
    """A plugin that cannot even be imported can still be turned off by its entry-point name."""
    write(tmp_path / "org.toml", 'disable-plugins = ["acme"]\n')
    proc = run_with(CASES["import-error"].fakes, tmp_path, "check", "mlproject.toml", "--org-config", "org.toml")
    assert (proc.returncode, proc.stderr) == (0, "")


# =============================================================================================
# Extension tables' defaults (in-process: no plugin needs installing)
# =============================================================================================


class Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    tier: Literal["low", "medium", "high"] = "medium"
    reviewed: bool = False


def defaults_engine(tmp_path: Path) -> Engine:
    write(tmp_path / "pack" / "pack.toml", PACK_TOML)
    write(tmp_path / "pack" / "ACME001.toml", textwrap.dedent("""\
        id = "ACME001"
        name = "acme-unreviewed-medium"
        title = "A medium-tier project that has not been reviewed"
        severity = "error"
        applies_to = "any"
        points_at = "ext.acme"
        when = "ext.acme.tier == 'medium' and ext.acme.reviewed == false"
        message = "tier {ext.acme.tier}, reviewed {ext.acme.reviewed}"
        rationale = "r"
        """))
    return Engine([load_pack(tmp_path / "pack")], options=EngineOptions(today=TODAY), ext_models={"acme": Defaults})


def prompting_manifest(acme: str) -> bytes:
    return ('schema_version = 1\n[project]\nname = "x"\n[task]\nkind = "other"\n[proposal]\napproach = "prompting"\n'
            f"[ext.acme]\n{acme}").encode()


def test_ext_fields_written_out_reach_conditions(tmp_path: Path) -> None:
    result = defaults_engine(tmp_path).check("m.toml", prompting_manifest('tier = "medium"\nreviewed = false\n'))
    assert [(f.rule, f.message) for f in result.findings] == [("ACME001", "tier medium, reviewed false")]


def test_ext_field_defaults_reach_conditions(tmp_path: Path) -> None:
    """An omitted key reads as its model's default, as in the core tables (spec/manifest.md)."""
    result = defaults_engine(tmp_path).check("m.toml", prompting_manifest(""))
    assert [(f.rule, f.message) for f in result.findings] == [("ACME001", "tier medium, reviewed false")]
