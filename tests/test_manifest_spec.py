"""The generated table of the manifest format (policylint/_manifest_spec.py) is the models'.

``policylint check`` validates against data generated from the pydantic models, so that it
never imports pydantic; these tests keep the committed file current, refuse models the
validator could not reproduce, and keep the names that moved to :mod:`policylint.models`
importable from where they were. tests/test_validator_equivalence.py compares the answers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from policylint import manifest, manifest_spec
from policylint.models import Manifest
from policylint.schema import describe_model

REPO = Path(__file__).resolve().parent.parent
DESCRIBED = describe_model(Manifest)


def test_the_generated_table_is_current() -> None:
    committed = (REPO / "policylint" / "_manifest_spec.py").read_text(encoding="utf-8")
    if manifest_spec.generate() != committed:
        pytest.fail(f"policylint/_manifest_spec.py is stale: regenerate it with\n    {manifest_spec.REGENERATE}\nand commit the result")


def test_field_types_are_the_models() -> None:
    assert manifest._ALL_FIELDS == DESCRIBED
    assert list(manifest._ALL_FIELDS) == list(DESCRIBED)
    assert manifest.FIELDS == {p: t for p, t in DESCRIBED.items() if not p.startswith(("waivers", "ext"))}


def test_the_generator_refuses_what_the_validator_does_not_reproduce() -> None:
    class Patterned(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        rule: str = Field(pattern="^[A-Z]+$")

    class Lax(BaseModel):
        model_config = ConfigDict(extra="ignore", strict=True)
        rule: str

    for model in (Patterned, Lax):
        with pytest.raises(ValueError):
            manifest_spec._check(dict(model.__pydantic_core_schema__), {}, {})


def test_moved_names_still_import() -> None:
    """The models and value types moved to policylint.models; the old imports still work."""
    from policylint import models, schema
    from policylint.manifest import Approach, Waiver
    from policylint.schema import Count, Fraction, Text, Volume

    assert (Waiver, Approach, manifest.Manifest) == (models.Waiver, models.Approach, models.Manifest)
    assert (Count, Fraction, Text, Volume) == (models.Count, models.Fraction, models.Text, models.Volume)
    for module in (manifest, schema):
        with pytest.raises(AttributeError):
            module.NoSuchName  # noqa: B018
