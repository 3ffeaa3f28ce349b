"""Entry-point discovery without importlib.metadata (``policylint.plugins._entry_points``).

The reader lists each ``sys.path`` folder once and reads only the ``entry_points.txt`` files
there are; it must find what ``importlib.metadata.entry_points(group="policylint")`` finds.
Fake site folders (``tmp_path`` on a monkeypatched ``sys.path``) cover the layouts, and every
such test also compares with importlib.metadata on the same path; the last tests compare on
real environments: this one, and a virtualenv with the governance plugin installed from its
wheel.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from conftest import REPO

from policylint import plugins
from policylint.errors import PluginError
from policylint.plugins import EntryPoint, _entry_points

PLUGIN = REPO / "plugins" / "policylint-governance"


def reference() -> list[tuple[str, str, str, str]]:
    """importlib.metadata's answer on the current ``sys.path``: (name, value, distribution, version)."""
    found = importlib.metadata.entry_points(group="policylint")
    return sorted(((ep.name, ep.value, ep.dist.name, ep.dist.version) for ep in found), key=lambda row: row[0])


def found() -> list[tuple[str, str, str, str]]:
    return [tuple(ep) for ep in _entry_points()]


def dist_info(site: Path, folder: str, name: str, version: str, entry_points: str | None, metadata: str = "METADATA") -> Path:
    """A distribution's metadata folder: ``name-version.dist-info`` (or ``.egg-info``)."""
    info = site / folder
    info.mkdir(parents=True)
    (info / metadata).write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: s\n\nBody: not a header\n")
    if entry_points is not None:
        (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    return info


@pytest.fixture
def on_path(monkeypatch: pytest.MonkeyPatch):
    """Put folders on ``sys.path`` (and nothing else); the reader must not fall back."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("fell back to importlib.metadata")

    monkeypatch.setattr(plugins, "_entry_points_from_metadata", refuse)

    def put(*folders: Path | str) -> None:
        monkeypatch.setattr(sys, "path", [str(folder) for folder in folders])

    return put


def test_dist_info_with_comments_extras_and_other_groups(tmp_path: Path, on_path) -> None:
    dist_info(tmp_path, "acme_policylint-1.2.dist-info", "acme-policylint", "1.2", """\
        [console_scripts]
        acme = acme_cli:main
        # a comment
        [policylint]
        # the plugins
          acme = acme_plugin

        costs = acme_costs.hooks:Plugin.instance [fast, small]
        [policylint.extra]
        not_ours = nothing:here
        [pytest11]
        also = not_ours
        """)
    on_path(tmp_path)
    assert found() == [
        ("acme", "acme_plugin", "acme-policylint", "1.2"),
        ("costs", "acme_costs.hooks:Plugin.instance [fast, small]", "acme-policylint", "1.2"),
    ]
    assert found() == reference()


def test_sorted_by_name_across_distributions_and_folders(tmp_path: Path, on_path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    dist_info(first, "zed-1.0.dist-info", "zed", "1.0", "[policylint]\nzeta = zed_plugin\nalpha = zed_alpha\n")
    dist_info(second, "abc-2.0.dist-info", "abc", "2.0", "[policylint]\nbeta = abc_plugin\n")
    dist_info(second, "nothing-1.0.dist-info", "nothing", "1.0", None)  # no entry points at all
    on_path(first, second)
    assert [ep.name for ep in _entry_points()] == ["alpha", "beta", "zeta"]
    assert found() == reference()


def test_a_large_entry_points_file_is_read_whole(tmp_path: Path, on_path) -> None:
    scripts = "".join(f"tool-{n} = big.cli:main_{n}\n" for n in range(5_000))  # well over one 64 KiB read
    dist_info(tmp_path, "big-1.0.dist-info", "big", "1.0", f"[console_scripts]\n{scripts}[policylint]\nbig = big.plugin\n")
    on_path(tmp_path)
    assert (tmp_path / "big-1.0.dist-info" / "entry_points.txt").stat().st_size > 2 * 65536
    assert found() == [("big", "big.plugin", "big", "1.0")] == reference()


def test_egg_info_folder_takes_name_and_version_from_pkg_info(tmp_path: Path, on_path) -> None:
    dist_info(tmp_path, "Old_Plugin.egg-info", "Old-Plugin", "0.9", "[policylint]\nold = old_plugin:hooks\n", "PKG-INFO")
    (tmp_path / "ancient.egg-info").write_text("Metadata-Version: 1.0\nName: ancient\nVersion: 0.1\n")  # a file: no entry points
    on_path(tmp_path)
    assert found() == [("old", "old_plugin:hooks", "Old-Plugin", "0.9")]
    assert found() == reference()


def test_the_first_distribution_of_a_name_on_sys_path_wins(tmp_path: Path, on_path) -> None:
    """As importlib.metadata decides: by normalized name (case, ``-``, ``_`` and ``.`` alike)."""
    user, system = tmp_path / "user", tmp_path / "system"
    dist_info(user, "acme_policylint-2.0.dist-info", "acme-policylint", "2.0", "[policylint]\nacme = acme_v2\n")
    dist_info(system, "Acme.Policylint-1.0.dist-info", "Acme.Policylint", "1.0",
              "[policylint]\nacme = acme_v1\nonly_in_v1 = acme_v1.extra\n")
    on_path(user, system)
    assert found() == [("acme", "acme_v2", "acme-policylint", "2.0")]
    assert found() == reference()


def test_a_shadowing_distribution_without_entry_points_hides_the_later_ones(tmp_path: Path, on_path) -> None:
    user, system = tmp_path / "user", tmp_path / "system"
    dist_info(user, "acme_policylint-2.0.dist-info", "acme-policylint", "2.0", None)
    dist_info(system, "acme_policylint-1.0.dist-info", "acme-policylint", "1.0", "[policylint]\nacme = acme_v1\n")
    on_path(user, system)
    assert found() == [] == reference()


def test_bad_lines_elsewhere_are_not_read(tmp_path: Path, on_path) -> None:
    """importlib.metadata raises on a line without ``=`` in any group of any distribution; the
    reader only parses files with a ``[policylint]`` section, and only that section's lines."""
    dist_info(tmp_path, "sloppy-1.0.dist-info", "sloppy", "1.0", "[console_scripts]\nno equals sign here\n")
    dist_info(tmp_path, "mixed-1.0.dist-info", "mixed", "1.0", "[weird]\n???\n[policylint]\nmixed = mixed_plugin\n")
    on_path(tmp_path)
    assert found() == [("mixed", "mixed_plugin", "mixed", "1.0")]
    with pytest.raises(TypeError):
        reference()


@pytest.mark.parametrize("line", ["acme_plugin", "= acme_plugin", "[policylint"])
def test_a_bad_line_in_the_policylint_section_names_the_distribution(tmp_path: Path, on_path, line: str) -> None:
    info = dist_info(tmp_path, "acme_policylint-1.0.dist-info", "acme-policylint", "1.0", f"[policylint]\nok = fine\n\n{line}\n")
    on_path(tmp_path)
    with pytest.raises(PluginError) as raised:
        _entry_points()
    assert str(raised.value) == (
        f"acme-policylint 1.0: malformed entry point in {info / 'entry_points.txt'}, line 4: {line!r}"
        " (expected 'name = module:attribute')"
    )


def test_an_entry_points_file_that_is_not_utf8_names_the_distribution(tmp_path: Path, on_path) -> None:
    info = dist_info(tmp_path, "acme-1.0.dist-info", "acme", "1.0", None)
    (info / "entry_points.txt").write_bytes(b"[policylint]\nacme = \xff\n")
    on_path(tmp_path)
    with pytest.raises(PluginError, match=r"^acme 1.0: cannot read .*entry_points.txt: 'utf-8' codec"):
        _entry_points()


def test_name_and_version_from_the_folder_without_metadata(tmp_path: Path, on_path) -> None:
    info = tmp_path / "bare_dist-3.1.dist-info"
    info.mkdir()
    (info / "entry_points.txt").write_text("[policylint]\nbare = bare_plugin\n")
    on_path(tmp_path)
    assert found() == [("bare", "bare_plugin", "bare_dist", "3.1")]


def test_empty_path_entry_is_the_working_folder_and_missing_ones_are_skipped(
    tmp_path: Path, on_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist_info(tmp_path, "here-1.0.dist-info", "here", "1.0", "[policylint]\nhere = here_plugin\n")
    monkeypatch.chdir(tmp_path)
    on_path("", tmp_path / "missing", tmp_path / "here-1.0.dist-info" / "METADATA")  # a file: not a zip either
    monkeypatch.setattr(plugins, "_entry_points_from_metadata", lambda path, seen: [])  # the file is handed over
    assert found() == [("here", "here_plugin", "here", "1.0")]


def test_an_unzipped_egg_on_sys_path(tmp_path: Path, on_path) -> None:
    egg = tmp_path / "eggy-1.0-py3.11.egg"
    dist_info(egg, "EGG-INFO", "eggy", "1.0", "[policylint]\neggy = eggy.plugin\n", "PKG-INFO")
    on_path(egg)
    assert found() == [("eggy", "eggy.plugin", "eggy", "1.0")]
    assert found() == reference()


def test_zipped_entries_are_read_by_importlib_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A zipped egg (or any zip on sys.path) is handed to importlib.metadata, for that entry only;
    the first distribution of a name still wins across folders and zips."""
    egg = tmp_path / "zipped-1.0-py3.11.egg"
    with zipfile.ZipFile(egg, "w") as archive:
        archive.writestr("EGG-INFO/PKG-INFO", "Metadata-Version: 1.1\nName: zipped\nVersion: 1.0\n")
        archive.writestr("EGG-INFO/entry_points.txt", "[policylint]\nzipped = zipped.plugin\n")
        archive.writestr("zipped/__init__.py", "")
    wheel = tmp_path / "inzip.zip"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("inzip-2.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: inzip\nVersion: 2.0\n")
        archive.writestr("inzip-2.0.dist-info/entry_points.txt", "[policylint]\ninzip = inzip:plugin\n")
        archive.writestr("shadowed-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: shadowed\nVersion: 1.0\n")
        archive.writestr("shadowed-1.0.dist-info/entry_points.txt", "[policylint]\nfrom_zip = nope\n")
    folder = tmp_path / "folder"
    dist_info(folder, "shadowed-2.0.dist-info", "shadowed", "2.0", "[policylint]\nfrom_folder = yes\n")
    monkeypatch.setattr(sys, "path", [str(folder), str(egg), str(wheel)])
    assert found() == [
        ("from_folder", "yes", "shadowed", "2.0"),
        ("inzip", "inzip:plugin", "inzip", "2.0"),
        ("zipped", "zipped.plugin", "zipped", "1.0"),
    ]
    assert found() == reference()


def test_a_meta_path_finder_with_distributions_of_its_own_hands_over_the_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Bundled(importlib.metadata.DistributionFinder):
        def find_spec(self, *args: object) -> None:
            return None

        def find_distributions(self, context=importlib.metadata.DistributionFinder.Context()):  # type: ignore[no-untyped-def]
            if context.name in (None, "bundled"):
                yield importlib.metadata.PathDistribution(tmp_path / "bundle" / "bundled-1.0.dist-info")

    dist_info(tmp_path / "bundle", "bundled-1.0.dist-info", "bundled", "1.0", "[policylint]\nbundled = bundled_plugin\n")
    monkeypatch.setattr(sys, "path", [])
    monkeypatch.setattr(sys, "meta_path", [Bundled(), *sys.meta_path])
    assert found() == [("bundled", "bundled_plugin", "bundled", "1.0")] == reference()


# -- loading ------------------------------------------------------------------------------------


def test_load_a_module_an_attribute_path_and_with_extras(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ep_fixture_pkg").mkdir()
    (tmp_path / "ep_fixture_pkg" / "__init__.py").write_text("")
    (tmp_path / "ep_fixture_pkg" / "hooks.py").write_text("class Plugin:\n    instance = 'the instance'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    point = EntryPoint("x", "ep_fixture_pkg.hooks", "d", "1")
    assert point.load().__name__ == "ep_fixture_pkg.hooks"
    assert point._replace(value="ep_fixture_pkg.hooks:Plugin.instance").load() == "the instance"
    assert point._replace(value="ep_fixture_pkg.hooks : Plugin.instance [fast]").load() == "the instance"
    for value in ("ep_fixture_pkg.hooks:Missing", "not_a_module_anywhere_xyz"):
        assert type(_raised(point._replace(value=value))) is type(_raised_by_importlib(value))


@pytest.mark.parametrize("value", ["", "a b", "mod:attr:more", "mod:"])
def test_load_a_malformed_value(value: str) -> None:
    with pytest.raises(ValueError, match="malformed entry point"):
        EntryPoint("x", value, "d", "1").load()


def _raised(point: EntryPoint) -> Exception:
    try:
        point.load()
    except Exception as exc:  # noqa: BLE001 - the type is the point
        return exc
    raise AssertionError("loaded")


def _raised_by_importlib(value: str) -> Exception:
    try:
        importlib.metadata.EntryPoint("x", value, "policylint").load()
    except Exception as exc:  # noqa: BLE001
        return exc
    raise AssertionError("loaded")


# -- real environments ----------------------------------------------------------------------------


def test_same_as_importlib_metadata_in_this_environment() -> None:
    assert found() == reference()


def test_discovery_does_not_import_importlib_metadata() -> None:
    code = (
        "import sys\nbefore = 'importlib.metadata' in sys.modules\n"
        "from policylint.plugins import _entry_points\n_entry_points()\n"
        "print(before, 'importlib.metadata' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[1] == out[0], "discovery imported importlib.metadata"


COMPARE = """
import importlib.metadata, json
from policylint.plugins import _entry_points
ours = [list(ep) for ep in _entry_points()]
theirs = sorted(([ep.name, ep.value, ep.dist.name, ep.dist.version]
                 for ep in importlib.metadata.entry_points(group="policylint")), key=lambda row: row[0])
print(json.dumps({"ours": ours, "theirs": theirs}))
"""


def test_same_as_importlib_metadata_with_the_governance_plugin_installed(governance_env: Path, tmp_path: Path) -> None:
    """The example plugin installed from its wheel, beside every distribution of this environment."""
    proc = subprocess.run([str(governance_env / "bin" / "python"), "-c", COMPARE], capture_output=True, text=True,
                          cwd=tmp_path, check=True)
    answer = json.loads(proc.stdout)
    assert answer["ours"] == answer["theirs"] == [["governance", "policylint_governance.plugin", "policylint-governance", "0.1.0"]]


@pytest.fixture(scope="module")
def governance_env(tmp_path_factory: pytest.TempPathFactory, policylint_wheel: Path) -> Path:
    from conftest import build_wheel, make_venv

    work = tmp_path_factory.mktemp("governance-entry-points")
    return make_venv(work / "venv", policylint_wheel, build_wheel(PLUGIN, work))
