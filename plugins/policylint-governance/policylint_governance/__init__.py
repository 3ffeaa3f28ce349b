"""policylint-governance: an organisation's own fields, policies, check and report for policylint.

policylint finds this package through the ``governance`` entry point in the ``policylint``
group (see ``pyproject.toml``), which names :mod:`policylint_governance.plugin`.
"""
