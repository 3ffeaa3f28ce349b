"""The pydantic models of manifest format v1: the contract of ``spec/manifest.md``.

They are the one declaration of the format: ``policylint schema`` (the JSON Schema),
``docs/manifest.md`` and plugins' ``[ext.<name>]`` models are built from them, and so is the
table :mod:`policylint._manifest_spec` that ``policylint check`` validates against, which is
generated from them (``python -m policylint.manifest_spec``) so that checking a manifest never
imports pydantic. Absent optional keys stay ``None`` (absent is never zero); the defaults that
depend on other keys are applied in :mod:`policylint.facts`.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from policylint.schema import MAX_QUANTITY, Kind, _non_blank

# The value types of the core tables (plugins use them in their [ext.<name>] models, through
# policylint.api). Kind names what error messages and conditions call them.
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), Kind("fraction")]
Count = Annotated[int, Field(ge=0, le=MAX_QUANTITY), Kind("count")]
Volume = Annotated[float, Field(ge=0, le=MAX_QUANTITY, allow_inf_nan=False), Kind("number")]
Text = Annotated[str, AfterValidator(_non_blank), Kind("text")]

Reason = Literal[
    "general-quality",
    "format-consistency",
    "domain-conventions",
    "cost-latency",
    "behavior",
    "knowledge",
    "hallucination",
]
Approach = Literal["prompting", "rag", "fine-tune", "distill", "collect-data", "error-handling"]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# Descriptions are the field reference (docs/manifest.md) and the JSON Schema editors show
# (policylint.schema_export): they say what a key means and what its absence means. They change
# nothing in validation.


class Project(_Table):
    """The use case the manifest is about."""

    name: Text = Field(description="The use case's name, as reports show it. Must contain a visible character.")
    owner: str | None = Field(None, description="The team or person who owns the use case.")
    description: str | None = Field(None, description="Free text about the use case.")


class Task(_Table):
    """What the model is asked to do."""

    kind: Literal["classification", "extraction", "generation", "summarization", "reasoning", "other"] = Field(
        description="What the model does with its input."
    )
    narrow: bool = Field(
        False, description="The task is specific and well defined: one input type, one output contract."
    )
    reasoning: bool | None = Field(  # default depends on kind: see facts
        None,
        description=(
            "The task needs multi-step reasoning. Absent: true when kind is \"reasoning\", else false. "
            "false together with kind = \"reasoning\" is a contradiction (MAN002)."
        ),
    )
    domain: Literal["general", "medical", "legal", "financial", "technical", "other"] = Field(
        "general", description="The subject domain of the inputs and outputs."
    )
    conventions: Literal["none", "moderate", "strict"] = Field(
        "none",
        description="How dense the domain's terminology is and how strict its writing conventions are.",
    )


class Proposal(_Table):
    """What the project proposes to do next, and why."""

    approach: Approach = Field(
        description=(
            "What the project proposes to do next. \"distill\" means fine-tuning a smaller model on "
            "data produced by a frontier model, to cut cost or latency."
        )
    )
    reasons: list[Reason] = Field(
        [],
        description=(
            "Why the approach is proposed. Required and non-empty when approach is \"fine-tune\"; "
            "for \"distill\" it may be omitted, as cost-latency is implied. Duplicates count once."
        ),
    )
    model: str | None = Field(None, description="The model to be tuned; for \"distill\", the student model.")
    model_tier: Literal["frontier", "small"] | None = Field(  # small for distill: see facts
        None,
        description="The size class of that model. Absent: \"small\" when approach is \"distill\", else not declared.",
    )
    target_quality: Fraction | None = Field(
        None, description="The score the project wants to reach, a fraction from 0 to 1."
    )


class Prompting(_Table):
    """One score per checklist step that was tried, each measured on the evaluation set."""

    zero_shot: Fraction | None = Field(
        None, description="Checklist step 1: the score zero-shot with a detailed system prompt. Absent: not tried."
    )
    few_shot: Fraction | None = Field(
        None, description="Checklist step 2: the score with few-shot examples in the prompt. Absent: not tried."
    )
    few_shot_examples: Count | None = Field(None, description="How many examples that few-shot prompt holds.")
    few_shot_variants: Count | None = Field(  # 1 when few_shot is present: see facts
        None,
        description=(
            "How many distinct, varied sets of few-shot examples were tried. "
            "Absent: 1 when few_shot is declared, else not declared."
        ),
    )
    chain_of_thought: Fraction | None = Field(
        None,
        description="Checklist step 3: the score with chain-of-thought prompting (owed by reasoning tasks). Absent: not tried.",
    )
    format_constraints: Fraction | None = Field(
        None,
        description="Checklist step 4: the score with explicit output format constraints. Absent: not tried.",
    )
    role: Fraction | None = Field(
        None, description="Checklist step 5: the score with role or persona prompting. Absent: not tried."
    )
    domain_prompt: Fraction | None = Field(
        None,
        description=(
            "The score with a domain glossary and style guide in the system prompt (the domain case; "
            "not one of the five checklist steps). Absent: not tried."
        ),
    )


class Failures(_Table):
    """What went wrong in evaluation."""

    mode: Literal[
        "none", "format", "knowledge-gap", "hallucination", "domain-conventions", "behavior", "reasoning"
    ] | None = Field(  # absent: not diagnosed (PRM005 for fine-tune and distill proposals)
        None,
        description=(
            "The dominant kind of failure seen in evaluation; \"none\" means the failures were looked at "
            "and no single kind dominates. Absent: not diagnosed, which fine-tune and distill proposals "
            "may not be (PRM005)."
        ),
    )
    malformed_rate: Fraction | None = Field(
        None, description="The share of responses that fail to parse as the required format, from 0 to 1."
    )
    reproducible: bool | None = Field(None, description="The dominant failure reproduces consistently.")


class Evaluation(_Table):
    """How the current prompting was measured."""

    examples: Count | None = Field(
        None, description="The size of the evaluation set every score in [evaluation.prompting] was measured on."
    )
    metric: str | None = Field(None, description="The evaluation metric, free text such as \"exact-match\".")
    prompting: Prompting | None = Field(
        None, description="The prompting checklist. A step that is absent was not tried."
    )
    failures: Failures | None = Field(None, description="What went wrong in evaluation.")


class VolumeTable(_Table):
    """One of the two keys, or neither (volume unknown); both at once is an error. A month is 30 days."""

    requests_per_day: Volume | None = Field(
        None, description="Expected production requests per day. Not together with requests_per_month."
    )
    requests_per_month: Volume | None = Field(
        None, description="Expected production requests per month (30 days). Not together with requests_per_day."
    )


class Downstream(_Table):
    """What consumes the model's outputs."""

    machine_parsed: bool = Field(False, description="The outputs are parsed by programs, not read by people.")
    failure_impact: Literal["none", "retried", "system-failure", "data-corruption"] = Field(
        "none", description="What a malformed output does downstream."
    )
    retry_logic: bool = Field(False, description="Outputs are validated and retried when invalid.")


class Data(_Table):
    """Training data available for fine-tuning."""

    examples: Count | None = Field(None, description="How many training examples are available for fine-tuning.")
    high_quality: Count | None = Field(  # = examples when absent: see facts
        None,
        description="How many of the examples are reviewed and high quality; at most examples. Absent: all of them.",
    )
    domain_examples: Count | None = Field(
        None,
        description=(
            "How many high-quality examples come from the target domain; at most high_quality "
            "(or examples when high_quality is absent)."
        ),
    )
    source: Literal["human-labeled", "frontier-generated", "production-logs", "mixed", "none"] | None = Field(
        None,
        description="Where the examples come from. \"none\" is a contradiction when examples is above 0 (MAN002).",
    )


class Distillation(_Table):
    """Teacher and student scores, read for distill proposals and cost-latency reasons."""

    teacher_model: str | None = Field(None, description="The frontier model the task was validated on.")
    teacher_quality: Fraction | None = Field(None, description="The frontier (teacher) model's score on the test set.")
    student_quality: Fraction | None = Field(
        None, description="The tuned smaller (student) model's score on the same test set."
    )
    max_quality_delta: Fraction | None = Field(  # params.max_quality_delta when absent
        None,
        description=(
            "The largest drop from teacher to student score the project accepts. Absent: the pack's "
            "max_quality_delta parameter; a value can only tighten that parameter, never loosen it."
        ),
    )


class Waiver(_Table):
    """Accepts the findings of one rule in this manifest, for a limited time, on someone's name."""

    rule: str = Field(description="The id of the rule whose findings are accepted, such as FMT001.")
    reason: Text = Field(description="Why the findings are accepted. Must contain a visible character.")
    owner: Text = Field(description="Who accepts them. Must contain a visible character.")
    expires: datetime.date = Field(
        description="The last day the waiver holds: a TOML local date such as 2027-03-31 (not a string or date-time)."
    )


class Manifest(_Table):
    """An ML project manifest, format version 1 (mlproject.toml)."""

    schema_version: Literal[1] = Field(description="The format version: the integer 1, the only version.")
    project: Project = Field(description="The use case the manifest is about.")
    task: Task = Field(description="What the model is asked to do.")
    proposal: Proposal = Field(description="What the project proposes to do next, and why.")
    evaluation: Evaluation | None = Field(None, description="How the current prompting was measured.")
    volume: VolumeTable | None = Field(None, description="Expected production traffic.")
    downstream: Downstream | None = Field(None, description="What consumes the model's outputs.")
    data: Data | None = Field(None, description="Training data available for fine-tuning.")
    distillation: Distillation | None = Field(
        None, description="Teacher and student scores, read for distill proposals and cost-latency reasons."
    )
    waivers: list[Waiver] = Field([], description="Waivers: each accepts one rule's findings until a date.")
    ext: dict[str, dict[str, Any]] | None = Field(
        None,
        description="Tables that plugins declare, one per claimed name; an unclaimed name is an error.",
    )
