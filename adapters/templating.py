"""Jinja2 in a sandbox: templates agents write cannot reach Python, and unknown variables fail."""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined, TemplateError, UndefinedError, meta
from jinja2.sandbox import SandboxedEnvironment

from application.errors import Invalid
from application.ports import TemplateRenderer
from domain.personalisation import sample_context

MAX_OUTPUT = 50_000


class JinjaRenderer(TemplateRenderer):
    def __init__(self) -> None:
        self.env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False,
                                        trim_blocks=True, lstrip_blocks=True)

    def check(self, text: str, field: str) -> None:
        try:
            parsed = self.env.parse(text)
        except TemplateError as e:
            raise Invalid(field, f"template syntax error: {e.message}") from None
        unknown = meta.find_undeclared_variables(parsed) - set(sample_context())
        if unknown:
            raise Invalid(field, f"unknown variable(s): {', '.join(sorted(unknown))}")
        self.render(text, sample_context(), field)

    def render(self, text: str, context: dict[str, Any], field: str = "template") -> str:
        try:
            out = self.env.from_string(text).render(context)
        except UndefinedError as e:
            raise Invalid(field, f"undefined variable: {e.message}") from None
        except TemplateError as e:
            raise Invalid(field, f"cannot render: {e.message or e}") from None
        except Exception as e:
            raise Invalid(field, f"cannot render: {type(e).__name__}: {e}") from None
        if len(out) > MAX_OUTPUT:
            raise Invalid(field, f"renders to more than {MAX_OUTPUT} characters")
        return out
