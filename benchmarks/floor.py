"""The cold-start floor: what any pydantic-validating check must pay before its own work.

Imports click, pluggy and tomli, defines two small pydantic models (one nested in the other,
unknown keys forbidden) and validates one dict. pydantic builds its validators lazily, so a bare
``import pydantic`` is a floor no real check can reach; this is one it can.
"""

import click  # noqa: F401
import pluggy  # noqa: F401
import tomli
from pydantic import BaseModel, ConfigDict


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    score: float | None = None


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: int
    inner: Inner


Outer.model_validate(tomli.loads('schema_version = 1\n[inner]\nname = "x"\nscore = 0.5\n'))
