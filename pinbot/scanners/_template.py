"""Whether a value is a template a tool fills in before use, not a reference as written."""

from __future__ import annotations

import re

__all__ = ["is_templated"]

# Jinja/Helm/Go templates, shell and Compose variables, GitLab `$[[ inputs.x ]]`,
# CircleCI `<< parameters.x >>`, ERB.
_TEMPLATE = re.compile(r"\{\{|\{%|\$\{|\$\(|\$\[\[|\$[A-Za-z_]|<<\s*[\w.]|<%")


def is_templated(text: str) -> bool:
    return _TEMPLATE.search(text) is not None
