"""Jinja2 in a sandbox: templates agents write cannot reach Python, and unknown variables fail."""

from __future__ import annotations

import operator
from numbers import Number
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, UndefinedError, meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from application.errors import Invalid
from application.ports import TemplateRenderer
from domain.personalisation import sample_context

MAX_OUTPUT = 50_000
MAX_POWER = 64
CACHE_SIZE = 1000


class _Sandbox(ImmutableSandboxedEnvironment):
    """No mutation of the context, and no arithmetic that can build a huge value."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, Number) and abs(right) > MAX_POWER:  # type: ignore[arg-type]
                raise SecurityError(f"exponent above {MAX_POWER}")
            return operator.pow(left, right)
        if isinstance(left, int) and not isinstance(right, int):
            left, right = right, left
        if isinstance(left, (str, list, tuple)) and isinstance(right, int) \
                and len(left) * right > MAX_OUTPUT:
            raise SecurityError(f"repetition above {MAX_OUTPUT} items")
        return operator.mul(left, right)


class JinjaRenderer(TemplateRenderer):
    def __init__(self) -> None:
        self.env = _Sandbox(undefined=StrictUndefined, autoescape=False, trim_blocks=True,
                            lstrip_blocks=True, keep_trailing_newline=True)
        self._cache: dict[str, Template] = {}

    def _compiled(self, text: str) -> Template:
        """Compiling is most of a render's cost; templates repeat, so keep the compiled ones."""
        found = self._cache.get(text)
        if found is None:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            found = self._cache[text] = self.env.from_string(text)
        return found

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
            out = self._compiled(text).render(context)
        except UndefinedError as e:
            raise Invalid(field, f"undefined variable: {e.message}") from None
        except TemplateError as e:
            raise Invalid(field, f"cannot render: {e.message or e}") from None
        except Exception as e:
            raise Invalid(field, f"cannot render: {type(e).__name__}: {e}") from None
        if len(out) > MAX_OUTPUT:
            raise Invalid(field, f"renders to more than {MAX_OUTPUT} characters")
        return out
