"""Safe upgrades (issue 13, item 5): a policy records the pack version that introduced it
(``since``); a rule newer than the version adopted in ``pack-versions`` runs as a warning marked
preview, never failing the verdict nor setting the recommendation; ``policylint upgrade`` shows
what a version adds and adopts it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, SCENARIOS

from policylint.commands.upgrade import Unsafe, edited
from policylint.errors import PackError
from policylint.builtin import builtin_pack_path
from policylint.packs import load_pack

NEW_IN_2 = ["BEH003", "DAT005", "FMT005", "PRM005"]
UNDIAGNOSED = SCENARIOS / "15-failures-undiagnosed.toml"


def run(*args: str, cwd: Path, org: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "POLICYLINT_ORG_CONFIG"}
    if org is not None:
        env["POLICYLINT_ORG_CONFIG"] = str(org)
    return subprocess.run([sys.executable, "-m", "policylint", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, check=False)


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A git work tree holding the PRM005-only manifest, and an org config pinning version 1."""
    root = tmp_path.resolve() / "repo"
    (root / ".git").mkdir(parents=True)
    shutil.copy(UNDIAGNOSED, root / "mlproject.toml")
    (tmp_path / "org.toml").write_text('pack-versions = { builtin = "1" }\n', "utf-8")
    return root


def org(repo: Path) -> Path:
    return repo.parent / "org.toml"


# ------------------------------------------------------------------------------------ since


def test_builtin_pack_marks_the_rules_new_in_version_2() -> None:
    pack = load_pack(builtin_pack_path())
    assert sorted(p.id for p in pack.policies if p.since == "2") == NEW_IN_2
    assert {p.since for p in pack.policies if p.id not in NEW_IN_2} == {"1"}
    for policy in pack.policies:  # every built-in policy says it, none relies on the default
        assert f'\nsince = "{policy.since}"\n' in policy.text


def _pack(tmp_path: Path, since_line: str, version: str = "2") -> Path:
    folder = tmp_path / "pack"
    folder.mkdir()
    (folder / "pack.toml").write_text(f'[pack]\nname = "acme"\nversion = "{version}"\ndescription = "d"\n', "utf-8")
    (folder / "ACM001.toml").write_text(
        'id = "ACM001"\nname = "acme-rule"\ntitle = "t"\nseverity = "error"\napplies_to = "any"\n'
        f'{since_line}points_at = "proposal.approach"\nwhen = "false"\nmessage = "m"\nrationale = "r"\n', "utf-8")
    return folder


def test_since_defaults_to_the_packs_own_version(tmp_path: Path) -> None:
    assert load_pack(_pack(tmp_path, "", "3")).policies[0].since == "3"


@pytest.mark.parametrize(("line", "message"), [
    ("since = 2\n", 'ACM001.toml:6:1: since: expected a pack version such as "1" or "2.1", got the integer 2'),
    ('since = "v2"\n', 'ACM001.toml:6:1: since: expected a pack version such as "1" or "2.1", got "v2"'),
    ('since = "3"\n', "ACM001.toml:6:1: since: '3' is newer than the pack's own version '2'"),
])
def test_since_errors_are_located(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(PackError) as caught:
        load_pack(_pack(tmp_path, line))
    assert str(caught.value).endswith(message), str(caught.value)


# ---------------------------------------------------------------------------- preview rules


def test_a_rule_newer_than_the_adopted_version_is_a_preview_warning(repo: Path) -> None:
    proc = run("check", "--format", "json", "mlproject.toml", cwd=repo, org=org(repo))
    assert (proc.returncode, proc.stderr) == (0, "")
    data = json.loads(proc.stdout)
    [manifest] = data["manifests"]
    assert manifest["decision"]["verdict"] == "pass"
    assert manifest["decision"]["decided_by"] is None  # a preview rule never sets the recommendation
    assert manifest["decision"]["recommendation"] == "fine-tune"
    [finding] = manifest["findings"]
    assert (finding["rule"], finding["severity"], finding["preview"]) == ("PRM005", "warning", True)
    assert data["settings"]["pack-versions"]["builtin"]["value"] == "1"
    text = run("check", "mlproject.toml", cwd=repo, org=org(repo)).stdout
    assert "PRM005 [warning, preview]" in text
    sarif = json.loads(run("check", "--format", "sarif", "mlproject.toml", cwd=repo, org=org(repo)).stdout)
    assert sarif["runs"][0]["results"][0]["properties"]["preview"] is True
    markdown = run("check", "--format", "markdown", "mlproject.toml", cwd=repo, org=org(repo)).stdout
    assert "(warning, preview)" in markdown


def test_fail_on_warning_still_does_not_fail_on_a_preview_rule(repo: Path) -> None:
    proc = run("check", "--fail-on", "warning", "mlproject.toml", cwd=repo, org=org(repo))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_adopting_version_2_makes_it_fail(repo: Path) -> None:
    (repo / "policylint.toml").write_text('pack-versions = { builtin = "2" }\n', "utf-8")
    proc = run("check", "--format", "json", "mlproject.toml", cwd=repo, org=org(repo))
    assert proc.returncode == 1, proc.stderr
    [manifest] = json.loads(proc.stdout)["manifests"]
    assert manifest["decision"]["decided_by"] == "PRM005"
    assert "preview" not in manifest["findings"][0]


def test_no_pin_means_the_whole_current_pack(repo: Path) -> None:
    proc = run("check", "--format", "json", "mlproject.toml", cwd=repo)
    assert proc.returncode == 1
    assert "preview" not in proc.stdout and "settings" not in json.loads(proc.stdout)


def test_a_repository_file_cannot_pin_an_older_version(repo: Path) -> None:
    (repo / "policylint.toml").write_text('# ours\npack-versions = { builtin = "1" }\n', "utf-8")
    proc = run("check", "mlproject.toml", cwd=repo)
    assert proc.returncode == 2
    assert f"{repo / 'policylint.toml'}:2:19: pack-versions.builtin: pinning pack 'builtin' to version '1' would loosen version '2'" in proc.stderr
    assert "only the organisation configuration may pin an older pack version" in proc.stderr


def test_unknown_pack_in_pack_versions_says_did_you_mean(repo: Path) -> None:
    (repo / "policylint.toml").write_text('pack-versions = { bultin = "2" }\n', "utf-8")
    proc = run("check", "mlproject.toml", cwd=repo)
    assert proc.returncode == 2
    assert ":1:19: pack-versions.bultin: unknown pack 'bultin' (did you mean 'builtin'?)" in proc.stderr


@pytest.mark.parametrize(("value", "message"), [
    ("2", 'pack-versions.builtin: expected a pack version in quotes, such as "2" or "2.1", got the integer 2'),
    ('"9"', "pack-versions.builtin: pack 'builtin' has no version '9': the newest loaded is '2'"),
])
def test_bad_pack_versions_values_are_located(repo: Path, value: str, message: str) -> None:
    (repo / "policylint.toml").write_text(f"pack-versions = {{ builtin = {value} }}\n", "utf-8")
    proc = run("check", "mlproject.toml", cwd=repo)
    assert proc.returncode == 2
    assert f"policylint.toml:1:19: {message}" in proc.stderr


def test_rules_flags_preview_rules(repo: Path) -> None:
    records = json.loads(run("rules", "--format", "json", cwd=repo, org=org(repo)).stdout)
    assert sorted(r["id"] for r in records if r["preview"]) == NEW_IN_2
    assert {r["since"] for r in records if r["id"] in NEW_IN_2} == {"2"}
    assert "(preview" in run("rules", cwd=repo, org=org(repo)).stdout


# ---------------------------------------------------------------------------------- upgrade


def test_upgrade_lists_what_version_2_adds_and_write_adopts_it(repo: Path) -> None:
    proc = run("upgrade", "--format", "json", cwd=repo, org=org(repo))
    assert proc.returncode == 0, proc.stderr
    [pack] = json.loads(proc.stdout)["packs"]
    assert (pack["adopted"], pack["to"]) == ("1", "2")
    assert [a["id"] for a in pack["adds"]] == NEW_IN_2
    assert all(a["title"] and a["severity"] == "error" for a in pack["adds"])
    text = run("upgrade", cwd=repo, org=org(repo)).stdout
    assert "version 2 adds 4 rules" in text and "PRM005  error" in text

    proc = run("upgrade", "--write", cwd=repo, org=org(repo))
    assert proc.returncode == 0, proc.stderr
    assert 'pack-versions = { builtin = "2" }' in (repo / "policylint.toml").read_text("utf-8")
    again = json.loads(run("upgrade", "--format", "json", cwd=repo, org=org(repo)).stdout)
    assert again["packs"][0]["adds"] == [] and again["packs"][0]["adopted"] == "2"
    assert "nothing to adopt" in run("upgrade", cwd=repo, org=org(repo)).stdout
    assert run("check", "mlproject.toml", cwd=repo, org=org(repo)).returncode == 1


def test_upgrade_to_an_older_version_than_in_force_is_refused(repo: Path) -> None:
    proc = run("upgrade", "--to", "1", cwd=repo)
    assert proc.returncode == 2
    assert "upgrade only moves forward" in proc.stderr


def test_upgrade_write_refuses_a_layout_it_cannot_edit(repo: Path) -> None:
    config = repo / "policylint.toml"
    config.write_text('pack-versions.builtin = "1"\n', "utf-8")
    proc = run("upgrade", "--write", cwd=repo, org=org(repo))
    assert proc.returncode == 2
    assert "cannot safely edit the file" in proc.stderr
    assert 'pack-versions = { builtin = "2" }' in proc.stderr  # the line to add instead
    assert config.read_text("utf-8") == 'pack-versions.builtin = "1"\n'


@pytest.mark.parametrize(("pyproject", "before", "after"), [
    (False, "# top\nfail-on = \"warning\"  # strict\n\n[params]\nquality_bar = 0.9\n",
     "# top\nfail-on = \"warning\"  # strict\npack-versions = { builtin = \"2\" }\n\n[params]\nquality_bar = 0.9\n"),
    (False, "fail-on = \"warning\"\n", "fail-on = \"warning\"\npack-versions = { builtin = \"2\" }\n"),
    (False, "pack-versions = { builtin = \"1\", acme = \"3\" }  # pinned\n",
     "pack-versions = { builtin = \"2\", acme = \"3\" }  # pinned\n"),
    (False, "[pack-versions]\n# the built-in pack\nbuiltin = \"1\"  # old\n\n[params]\nquality_bar = 0.9\n",
     "[pack-versions]\n# the built-in pack\nbuiltin = \"2\"  # old\n\n[params]\nquality_bar = 0.9\n"),
    (False, "[pack-versions]\nacme = \"1\"\n", "[pack-versions]\nacme = \"1\"\nbuiltin = \"2\"\n"),
    (True, "[project]\nname = \"x\"\n\n[tool.policylint]\nfail-on = \"warning\"\n",
     "[project]\nname = \"x\"\n\n[tool.policylint]\npack-versions = { builtin = \"2\" }\nfail-on = \"warning\"\n"),
    (False, "fail-on = \"warning\"\r\n", "fail-on = \"warning\"\r\npack-versions = { builtin = \"2\" }\r\n"),
])
def test_write_edits_keep_comments_and_layout(pyproject: bool, before: str, after: str) -> None:
    assert edited(before, pyproject, {"builtin": "2"}) == after


@pytest.mark.parametrize("before", [
    'pack-versions.builtin = "1"\n',
    'pack-versions = {\n  builtin = "1" }\n',  # invalid before TOML 1.1, and a multi-line table either way
    "not toml = = \n",
])
def test_write_refuses_layouts_it_does_not_edit(before: str) -> None:
    with pytest.raises(Unsafe):
        edited(before, False, {"builtin": "2"})


def test_docs_describe_safe_upgrades() -> None:
    ci = (REPO / "docs" / "ci.md").read_text("utf-8")
    assert "| `pack-versions` |" in ci
    upgrades = (REPO / "docs" / "upgrades.md").read_text("utf-8")
    for word in ("since", "pack-versions", "preview", "policylint upgrade", "--write"):
        assert word in upgrades


def test_an_organisation_pack_uses_the_same_key(repo: Path) -> None:
    pack = repo.parent / "acme"
    pack.mkdir()
    (pack / "pack.toml").write_text('[pack]\nname = "acme"\nversion = "2"\ndescription = "Ours."\n', "utf-8")
    for rule_id, since in (("ACM001", "1"), ("ACM002", "2")):
        (pack / f"{rule_id}.toml").write_text(
            f'id = "{rule_id}"\nname = "acme-{rule_id[-1]}"\ntitle = "Acme {rule_id}"\nseverity = "error"\n'
            f'applies_to = "any"\nsince = "{since}"\npoints_at = "project.name"\nwhen = "true"\nmessage = "m"\nrationale = "r"\n',
            "utf-8")
    org(repo).write_text('policy-paths = ["acme"]\npack-versions = { acme = "1" }\n', "utf-8")
    proc = run("check", "--format", "json", "mlproject.toml", cwd=repo, org=org(repo))
    found = {f["rule"]: f for f in json.loads(proc.stdout)["manifests"][0]["findings"]}
    assert (found["ACM001"]["severity"], found["ACM001"].get("preview")) == ("error", None)
    assert (found["ACM002"]["severity"], found["ACM002"]["preview"]) == ("warning", True)
    listed = json.loads(run("upgrade", "--pack", "acme", "--format", "json", cwd=repo, org=org(repo)).stdout)
    assert [a["id"] for a in listed["packs"][0]["adds"]] == ["ACM002"]
