"""Manifest format v1 as data, generated from the models in policylint/models.py: do not edit.

Regenerate with ``python -m policylint.manifest_spec > policylint/_manifest_spec.py`` (a test fails
while it is stale). :mod:`policylint.validator` walks ``TABLES``; ``FIELD_TYPES`` is
:func:`policylint.schema.describe_model` of the root model, read by policies and messages.
"""

from typing import Any

#: The table validation starts at.
ROOT = 'Manifest'

#: Each table's keys in declaration order: (key, required, check); a check is
#: ("table", name), ("list", check), ("dict", check), ("literal", values), ("str",), ("text",),
#: ("bool",), ("date",), ("any",), ("int", ge, le) or ("float", ge, le, allow_inf_nan).
#: Every table is strict and forbids unknown keys.
TABLES: dict[str, tuple[tuple[str, bool, tuple[Any, ...]], ...]] = {
    'Project': (
        ('name', True, ('text',)),
        ('owner', False, ('str',)),
        ('description', False, ('str',)),
    ),
    'Task': (
        ('kind', True, ('literal', ('classification', 'extraction', 'generation', 'summarization', 'reasoning', 'other'))),
        ('narrow', False, ('bool',)),
        ('reasoning', False, ('bool',)),
        ('domain', False, ('literal', ('general', 'medical', 'legal', 'financial', 'technical', 'other'))),
        ('conventions', False, ('literal', ('none', 'moderate', 'strict'))),
    ),
    'Proposal': (
        ('approach', True, ('literal', ('prompting', 'rag', 'fine-tune', 'distill', 'collect-data', 'error-handling'))),
        ('reasons', False, ('list', ('literal', ('general-quality', 'format-consistency', 'domain-conventions', 'cost-latency', 'behavior', 'knowledge', 'hallucination')))),
        ('model', False, ('str',)),
        ('model_tier', False, ('literal', ('frontier', 'small'))),
        ('target_quality', False, ('float', 0, 1, False)),
    ),
    'Prompting': (
        ('zero_shot', False, ('float', 0, 1, False)),
        ('few_shot', False, ('float', 0, 1, False)),
        ('few_shot_examples', False, ('int', 0, 1000000000000)),
        ('few_shot_variants', False, ('int', 0, 1000000000000)),
        ('chain_of_thought', False, ('float', 0, 1, False)),
        ('format_constraints', False, ('float', 0, 1, False)),
        ('role', False, ('float', 0, 1, False)),
        ('domain_prompt', False, ('float', 0, 1, False)),
    ),
    'Failures': (
        ('mode', False, ('literal', ('none', 'format', 'knowledge-gap', 'hallucination', 'domain-conventions', 'behavior', 'reasoning'))),
        ('malformed_rate', False, ('float', 0, 1, False)),
        ('reproducible', False, ('bool',)),
    ),
    'Evaluation': (
        ('examples', False, ('int', 0, 1000000000000)),
        ('metric', False, ('str',)),
        ('prompting', False, ('table', 'Prompting')),
        ('failures', False, ('table', 'Failures')),
    ),
    'VolumeTable': (
        ('requests_per_day', False, ('float', 0, 1000000000000, False)),
        ('requests_per_month', False, ('float', 0, 1000000000000, False)),
    ),
    'Downstream': (
        ('machine_parsed', False, ('bool',)),
        ('failure_impact', False, ('literal', ('none', 'retried', 'system-failure', 'data-corruption'))),
        ('retry_logic', False, ('bool',)),
    ),
    'Data': (
        ('examples', False, ('int', 0, 1000000000000)),
        ('high_quality', False, ('int', 0, 1000000000000)),
        ('domain_examples', False, ('int', 0, 1000000000000)),
        ('source', False, ('literal', ('human-labeled', 'frontier-generated', 'production-logs', 'mixed', 'none'))),
    ),
    'Distillation': (
        ('teacher_model', False, ('str',)),
        ('teacher_quality', False, ('float', 0, 1, False)),
        ('student_quality', False, ('float', 0, 1, False)),
        ('max_quality_delta', False, ('float', 0, 1, False)),
    ),
    'Waiver': (
        ('rule', True, ('str',)),
        ('reason', True, ('text',)),
        ('owner', True, ('text',)),
        ('expires', True, ('date',)),
    ),
    'Manifest': (
        ('schema_version', True, ('literal', (1,))),
        ('project', True, ('table', 'Project')),
        ('task', True, ('table', 'Task')),
        ('proposal', True, ('table', 'Proposal')),
        ('evaluation', False, ('table', 'Evaluation')),
        ('volume', False, ('table', 'VolumeTable')),
        ('downstream', False, ('table', 'Downstream')),
        ('data', False, ('table', 'Data')),
        ('distillation', False, ('table', 'Distillation')),
        ('waivers', False, ('list', ('table', 'Waiver'))),
        ('ext', False, ('dict', ('dict', ('any',)))),
    ),
}

#: Every field by dotted path, tables included (a FieldType's non-default parts).
FIELD_TYPES: dict[str, dict[str, Any]] = {
    'schema_version': {'kind': 'integer'},
    'project': {'kind': 'table'},
    'project.name': {'kind': 'text'},
    'project.owner': {'kind': 'string'},
    'project.description': {'kind': 'string'},
    'task': {'kind': 'table'},
    'task.kind': {'kind': 'enum', 'values': ('classification', 'extraction', 'generation', 'summarization', 'reasoning', 'other')},
    'task.narrow': {'kind': 'bool', 'default': False},
    'task.reasoning': {'kind': 'bool'},
    'task.domain': {'kind': 'enum', 'values': ('general', 'medical', 'legal', 'financial', 'technical', 'other'), 'default': 'general'},
    'task.conventions': {'kind': 'enum', 'values': ('none', 'moderate', 'strict'), 'default': 'none'},
    'proposal': {'kind': 'table'},
    'proposal.approach': {'kind': 'enum', 'values': ('prompting', 'rag', 'fine-tune', 'distill', 'collect-data', 'error-handling')},
    'proposal.reasons': {'kind': 'list', 'item': {'kind': 'enum', 'values': ('general-quality', 'format-consistency', 'domain-conventions', 'cost-latency', 'behavior', 'knowledge', 'hallucination')}, 'default': []},
    'proposal.model': {'kind': 'string'},
    'proposal.model_tier': {'kind': 'enum', 'values': ('frontier', 'small')},
    'proposal.target_quality': {'kind': 'fraction'},
    'evaluation': {'kind': 'table'},
    'evaluation.examples': {'kind': 'count'},
    'evaluation.metric': {'kind': 'string'},
    'evaluation.prompting': {'kind': 'table'},
    'evaluation.prompting.zero_shot': {'kind': 'fraction'},
    'evaluation.prompting.few_shot': {'kind': 'fraction'},
    'evaluation.prompting.few_shot_examples': {'kind': 'count'},
    'evaluation.prompting.few_shot_variants': {'kind': 'count'},
    'evaluation.prompting.chain_of_thought': {'kind': 'fraction'},
    'evaluation.prompting.format_constraints': {'kind': 'fraction'},
    'evaluation.prompting.role': {'kind': 'fraction'},
    'evaluation.prompting.domain_prompt': {'kind': 'fraction'},
    'evaluation.failures': {'kind': 'table'},
    'evaluation.failures.mode': {'kind': 'enum', 'values': ('none', 'format', 'knowledge-gap', 'hallucination', 'domain-conventions', 'behavior', 'reasoning')},
    'evaluation.failures.malformed_rate': {'kind': 'fraction'},
    'evaluation.failures.reproducible': {'kind': 'bool'},
    'volume': {'kind': 'table'},
    'volume.requests_per_day': {'kind': 'number'},
    'volume.requests_per_month': {'kind': 'number'},
    'downstream': {'kind': 'table'},
    'downstream.machine_parsed': {'kind': 'bool', 'default': False},
    'downstream.failure_impact': {'kind': 'enum', 'values': ('none', 'retried', 'system-failure', 'data-corruption'), 'default': 'none'},
    'downstream.retry_logic': {'kind': 'bool', 'default': False},
    'data': {'kind': 'table'},
    'data.examples': {'kind': 'count'},
    'data.high_quality': {'kind': 'count'},
    'data.domain_examples': {'kind': 'count'},
    'data.source': {'kind': 'enum', 'values': ('human-labeled', 'frontier-generated', 'production-logs', 'mixed', 'none')},
    'distillation': {'kind': 'table'},
    'distillation.teacher_model': {'kind': 'string'},
    'distillation.teacher_quality': {'kind': 'fraction'},
    'distillation.student_quality': {'kind': 'fraction'},
    'distillation.max_quality_delta': {'kind': 'fraction'},
    'waivers': {'kind': 'list', 'item': {'kind': 'table'}, 'default': []},
    'waivers.rule': {'kind': 'string'},
    'waivers.reason': {'kind': 'text'},
    'waivers.owner': {'kind': 'text'},
    'waivers.expires': {'kind': 'date'},
    'ext': {'kind': 'table', 'item': {'kind': 'table', 'item': {'kind': 'any'}}},
}
