"""Manifest format v1 as data, generated from the models in policylint/models.py: do not edit.

Regenerate with ``python -m policylint.manifest_spec > policylint/_manifest_spec.py`` (a test fails
while it is stale). :mod:`policylint.validator` walks ``TABLES``; ``FIELD_TYPES`` is
:func:`policylint.schema.describe_model` of the root model, read by policies and messages.
"""

from collections.abc import Callable
from datetime import date
from typing import Any

from policylint.schema import has_visible

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


# ------------------------------------------------------------------------------ the fast path
# policylint.validator.is_clean: whether a manifest is well-formed with no list over the limit,
# exactly as the walk of TABLES judges values of the types TOML gives. A literal's values are
# compared by equality (a list tested against a set raises TypeError, which is_clean catches).

_TASK_KIND = frozenset(('classification', 'extraction', 'generation', 'summarization', 'reasoning', 'other'))
_TASK_DOMAIN = frozenset(('general', 'medical', 'legal', 'financial', 'technical', 'other'))
_TASK_CONVENTIONS = frozenset(('none', 'moderate', 'strict'))
_PROPOSAL_APPROACH = frozenset(('prompting', 'rag', 'fine-tune', 'distill', 'collect-data', 'error-handling'))
_PROPOSAL_REASONS = frozenset(('general-quality', 'format-consistency', 'domain-conventions', 'cost-latency', 'behavior', 'knowledge', 'hallucination'))
_PROPOSAL_MODEL_TIER = frozenset(('frontier', 'small'))
_FAILURES_MODE = frozenset(('none', 'format', 'knowledge-gap', 'hallucination', 'domain-conventions', 'behavior', 'reasoning'))
_DOWNSTREAM_FAILURE_IMPACT = frozenset(('none', 'retried', 'system-failure', 'data-corruption'))
_DATA_SOURCE = frozenset(('human-labeled', 'frontier-generated', 'production-logs', 'mixed', 'none'))
_MANIFEST_SCHEMA_VERSION = frozenset((1,))


def _clean_any(value: Any) -> bool:
    if type(value) is list:
        return len(value) <= 1000 and all(map(_clean_any, value))
    if type(value) is dict:
        return all(map(_clean_any, value.values()))
    return True


def _clean_Project(value: Any) -> bool:
    if type(value) is not dict or 'name' not in value:
        return False
    for key, item in value.items():
        if key == 'name':
            if not (type(item) is str and has_visible(item)):
                return False
        elif key == 'owner':
            if not (type(item) is str):
                return False
        elif key == 'description':
            if not (type(item) is str):
                return False
        else:
            return False
    return True


def _clean_Task(value: Any) -> bool:
    if type(value) is not dict or 'kind' not in value:
        return False
    for key, item in value.items():
        if key == 'kind':
            if not (type(item) is str and item in _TASK_KIND):
                return False
        elif key == 'narrow':
            if not (item is True or item is False):
                return False
        elif key == 'reasoning':
            if not (item is True or item is False):
                return False
        elif key == 'domain':
            if not (type(item) is str and item in _TASK_DOMAIN):
                return False
        elif key == 'conventions':
            if not (type(item) is str and item in _TASK_CONVENTIONS):
                return False
        else:
            return False
    return True


def _clean_Proposal(value: Any) -> bool:
    if type(value) is not dict or 'approach' not in value:
        return False
    for key, item in value.items():
        if key == 'approach':
            if not (type(item) is str and item in _PROPOSAL_APPROACH):
                return False
        elif key == 'reasons':
            if not (type(item) is list and len(item) <= 1000 and _PROPOSAL_REASONS.issuperset(item)):
                return False
        elif key == 'model':
            if not (type(item) is str):
                return False
        elif key == 'model_tier':
            if not (type(item) is str and item in _PROPOSAL_MODEL_TIER):
                return False
        elif key == 'target_quality':
            if not ((type(item) is float or type(item) is int) and 0 <= item <= 1):
                return False
        else:
            return False
    return True


def _clean_Prompting(value: Any) -> bool:
    if type(value) is not dict:
        return False
    for key, item in value.items():
        if key == 'zero_shot':
            if not ((type(item) is float or type(item) is int) and 0 <= item <= 1):
                return False
        elif key == 'few_shot':
            if not ((type(item) is float or type(item) is int) and 0 <= item <= 1):
                return False
        elif key == 'few_shot_examples':
            if not (type(item) is int and 0 <= item <= 1000000000000):
                return False
        elif key == 'few_shot_variants':
            if not (type(item) is int and 0 <= item <= 1000000000000):
                return False
        elif key == 'chain_of_thought':
            if not ((type(item) is float or type(item) is int) and 0 <= item <= 1):
                return False
        elif key == 'format_constraints':
            if not ((type(item) is float or type(item) is int) and 0 <= item <= 1):
                return False
        elif key == 'role':
            if not ((type(item) is float or type(item) is int) and 0 <= item <= 1):
                return False
        elif key == 'domain_prompt':
            if not ((type(item) is float or type(item) is int) and 0 <= item <= 1):
                return False
        else:
            return False
    return True


def _clean_Failures(value: Any) -> bool:
    if type(value) is not dict:
        return False
    for key, item in value.items():
        if key == 'mode':
            if not (type(item) is str and item in _FAILURES_MODE):
                return False
        elif key == 'malformed_rate':
            if not ((type(item) is float or type(item) is int) and 0 <= item <= 1):
                return False
        elif key == 'reproducible':
            if not (item is True or item is False):
                return False
        else:
            return False
    return True


def _clean_Evaluation(value: Any) -> bool:
    if type(value) is not dict:
        return False
    for key, item in value.items():
        if key == 'examples':
            if not (type(item) is int and 0 <= item <= 1000000000000):
                return False
        elif key == 'metric':
            if not (type(item) is str):
                return False
        elif key == 'prompting':
            if not _clean_Prompting(item):
                return False
        elif key == 'failures':
            if not _clean_Failures(item):
                return False
        else:
            return False
    return True


def _clean_VolumeTable(value: Any) -> bool:
    if type(value) is not dict:
        return False
    for key, item in value.items():
        if key == 'requests_per_day':
            if not ((type(item) is float or type(item) is int) and 0 <= item <= 1000000000000):
                return False
        elif key == 'requests_per_month':
            if not ((type(item) is float or type(item) is int) and 0 <= item <= 1000000000000):
                return False
        else:
            return False
    return True


def _clean_Downstream(value: Any) -> bool:
    if type(value) is not dict:
        return False
    for key, item in value.items():
        if key == 'machine_parsed':
            if not (item is True or item is False):
                return False
        elif key == 'failure_impact':
            if not (type(item) is str and item in _DOWNSTREAM_FAILURE_IMPACT):
                return False
        elif key == 'retry_logic':
            if not (item is True or item is False):
                return False
        else:
            return False
    return True


def _clean_Data(value: Any) -> bool:
    if type(value) is not dict:
        return False
    for key, item in value.items():
        if key == 'examples':
            if not (type(item) is int and 0 <= item <= 1000000000000):
                return False
        elif key == 'high_quality':
            if not (type(item) is int and 0 <= item <= 1000000000000):
                return False
        elif key == 'domain_examples':
            if not (type(item) is int and 0 <= item <= 1000000000000):
                return False
        elif key == 'source':
            if not (type(item) is str and item in _DATA_SOURCE):
                return False
        else:
            return False
    return True


def _clean_Distillation(value: Any) -> bool:
    if type(value) is not dict:
        return False
    for key, item in value.items():
        if key == 'teacher_model':
            if not (type(item) is str):
                return False
        elif key == 'teacher_quality':
            if not ((type(item) is float or type(item) is int) and 0 <= item <= 1):
                return False
        elif key == 'student_quality':
            if not ((type(item) is float or type(item) is int) and 0 <= item <= 1):
                return False
        elif key == 'max_quality_delta':
            if not ((type(item) is float or type(item) is int) and 0 <= item <= 1):
                return False
        else:
            return False
    return True


def _clean_Waiver(value: Any) -> bool:
    if type(value) is not dict or 'rule' not in value or 'reason' not in value or 'owner' not in value or 'expires' not in value:
        return False
    for key, item in value.items():
        if key == 'rule':
            if not (type(item) is str):
                return False
        elif key == 'reason':
            if not (type(item) is str and has_visible(item)):
                return False
        elif key == 'owner':
            if not (type(item) is str and has_visible(item)):
                return False
        elif key == 'expires':
            if not (type(item) is date):
                return False
        else:
            return False
    return True


def _clean_Manifest_ext_value(value: Any) -> bool:
    return (type(value) is dict and all(map(_clean_any, value.values())))


def _clean_Manifest(value: Any) -> bool:
    if type(value) is not dict or 'schema_version' not in value or 'project' not in value or 'task' not in value or 'proposal' not in value:
        return False
    for key, item in value.items():
        if key == 'schema_version':
            if not (type(item) is not list and type(item) is not dict and item in _MANIFEST_SCHEMA_VERSION):
                return False
        elif key == 'project':
            if not _clean_Project(item):
                return False
        elif key == 'task':
            if not _clean_Task(item):
                return False
        elif key == 'proposal':
            if not _clean_Proposal(item):
                return False
        elif key == 'evaluation':
            if not _clean_Evaluation(item):
                return False
        elif key == 'volume':
            if not _clean_VolumeTable(item):
                return False
        elif key == 'downstream':
            if not _clean_Downstream(item):
                return False
        elif key == 'data':
            if not _clean_Data(item):
                return False
        elif key == 'distillation':
            if not _clean_Distillation(item):
                return False
        elif key == 'waivers':
            if not (type(item) is list and len(item) <= 1000 and all(map(_clean_Waiver, item))):
                return False
        elif key == 'ext':
            if not (type(item) is dict and all(map(_clean_Manifest_ext_value, item.values()))):
                return False
        else:
            return False
    return True


is_clean: Callable[[Any], bool] = _clean_Manifest
