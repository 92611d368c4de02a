"""Jinja2 in a sandbox: templates agents write cannot reach Python, cannot hold the process (every
render is bounded in CPU time and memory: see ``template_limits``), and unknown variables fail.
A preference the lead lacks is a missing value, told apart from a mistake (``MissingValue``)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any, TypeVar

from jinja2 import Template, TemplateError, TemplateSyntaxError, UndefinedError, meta, nodes

from adapters.template_env import MissingValueError, OpenMapping, Sandbox
from adapters.template_limits import CPU_SECONDS, Budget, metered, unmeter
from application.errors import Invalid, MissingValue
from application.ports import TemplateRenderer
from domain.personalisation import OPEN_MAPPINGS, VARIABLES, sample_context

MAX_OUTPUT = 50_000
CACHE_SIZE = 1000
T = TypeVar("T")
_ADDRESS = re.compile(r" (?:object )?at 0x[0-9a-fA-F]+")


class JinjaRenderer(TemplateRenderer):
    def __init__(self, cpu_seconds: float = CPU_SECONDS) -> None:
        self.env = Sandbox()
        self.cpu_seconds = cpu_seconds
        self._cache: dict[str, Template] = {}

    def _compiled(self, text: str) -> Template:
        """Compiling is most of a render's cost; templates repeat, so keep the compiled ones."""
        found = self._cache.get(text)
        if found is None:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            found = self._cache[text] = self._metered(
                lambda: self.env.from_string(self.env.guarded(self.env.parse(text))))
        return found

    def _metered(self, work: Callable[[], T]) -> T:
        """Run ``work`` on a fresh budget (compiling runs filters on constants, ahead)."""
        token = metered(Budget(self.cpu_seconds))
        try:
            return work()
        finally:
            unmeter(token)

    def check(self, text: str, field: str) -> None:
        """Refuse bad syntax, unknown variables, and a template that cannot render for the
        sample lead. A preference the sample lacks is no mistake: any key may be used."""
        try:
            parsed = self.env.parse(text)
            # compiles, so finds unknown filters; and runs filters on constants
            names = self._metered(lambda: meta.find_undeclared_variables(parsed))
        except TemplateSyntaxError as e:
            raise _syntax(field, e) from None
        except TemplateError as e:
            raise Invalid(field, f"template syntax error: {e.message}") from None
        except RecursionError:
            raise Invalid(field, "template syntax error: nested too deeply") from None
        other = next(parsed.find_all((nodes.Extends, nodes.Include, nodes.Import,
                                      nodes.FromImport)), None)
        if other is not None:
            raise Invalid(field, f"line {other.lineno}: a template cannot extend, include or "
                                 "import another", line=other.lineno)
        unknown = _unknown_fields(parsed) | {n: _first_use(parsed, n) for n in names - _roots()}
        if unknown:
            line = min(unknown.values())
            raise Invalid(field, f"unknown variable(s): {', '.join(sorted(unknown))} (line "
                                 f"{line}); the variables are {', '.join(VARIABLES)}", line=line)
        with contextlib.suppress(MissingValue):  # a preference the sample lead lacks
            self.render(text, sample_context(), field)

    def render(self, text: str, context: dict[str, Any], field: str = "template") -> str:
        template = self._template(text, field)
        try:
            out = self._metered(lambda: template.render(_opened(context)))
        except MissingValueError as e:
            raise MissingValue(field, e.message or "a value is missing",
                               line=_line_of(e)) from None
        except UndefinedError as e:
            raise _at(field, f"undefined variable: {_clean(e.message)}", e) from None
        except TemplateError as e:
            raise _at(field, f"cannot render: {_clean(e.message or str(e))}", e) from None
        except Exception as e:
            raise _at(field, f"cannot render: {type(e).__name__}: {_clean(str(e))}", e) from None
        if len(out) > MAX_OUTPUT:
            raise Invalid(field, f"renders to more than {MAX_OUTPUT} characters")
        return out

    def _template(self, text: str, field: str) -> Template:
        try:
            return self._compiled(text)
        except TemplateSyntaxError as e:
            raise _syntax(field, e) from None
        except TemplateError as e:
            raise Invalid(field, f"template syntax error: {_clean(e.message or str(e))}") from None
        except (RecursionError, SyntaxError):
            raise Invalid(field, "template syntax error: nested too deeply") from None


def _syntax(field: str, e: TemplateSyntaxError) -> Invalid:
    return Invalid(field, f"template syntax error on line {e.lineno}: "
                          f"{_plain(_clean(e.message))}", line=e.lineno)


_UNCLOSED = re.compile(r"Unexpected end of template\. Jinja was looking for the following "
                       r"tags: .*The innermost block that needs to be closed is '(\w+)'\.")
_NESTING = re.compile(r"Encountered unknown tag '(\w+)'\. You probably made a nesting "
                      r"mistake\..*The innermost block that needs to be closed is '(\w+)'\.")
_STRAY = re.compile(r"Encountered unknown tag '(end\w+)'\.")


def _plain(message: str) -> str:
    """Jinja's messages about blocks, said as what to add (others are Jinja's own)."""
    if found := _UNCLOSED.fullmatch(message):
        return f"the {{% {found[1]} %}} block is never closed: add {{% end{found[1]} %}}"
    if found := _NESTING.fullmatch(message):
        return (f"{{% {found[1]} %}} comes while the {{% {found[2]} %}} block inside it is "
                f"open: add {{% end{found[2]} %}} first")
    if found := _STRAY.fullmatch(message):
        return f"{{% {found[1]} %}} has no block of its own to close"
    if message == "unexpected end of template, expected 'end of print statement'.":
        return "a {{ … }} is not closed: add }}"
    return message


def _at(field: str, reason: str, e: BaseException) -> Invalid:
    """A render's error, with the line of the template it happened on when that is known
    (as ``line`` only: the reason is also what a failed send records, and reads as before)."""
    return Invalid(field, reason, line=_line_of(e))


def _line_of(e: BaseException) -> int | None:
    """The template's line in the traceback (Jinja rewrites its frames to name the
    template's own lines, under the file name ``<template>``), the innermost one."""
    line, tb = None, e.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _first_use(parsed: nodes.Template, name: str) -> int:
    return min((n.lineno for n in parsed.find_all(nodes.Name) if n.name == name), default=1)


def _clean(message: str | None) -> str:
    """An error's message without memory addresses (Python puts them in some descriptions)."""
    return _ADDRESS.sub("", message or "")


def _roots() -> set[str]:
    return {name.split(".")[0] for name in VARIABLES}


def _unknown_fields(parsed: nodes.Template) -> dict[str, int]:
    """``lead.nmae``-like uses of a variable's fields that ``VARIABLES`` does not list (a
    variable the template assigns itself is its own business), each with its first line."""
    own = {n.name for n in parsed.find_all(nodes.Name) if n.ctx in ("store", "param")}
    unknown: dict[str, int] = {}
    node: Any
    for node in parsed.find_all((nodes.Getattr, nodes.Getitem)):
        root = node.node
        if not isinstance(root, nodes.Name) or root.name not in _roots() - own:
            continue
        key = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
        path = f"{root.name}.{key}"
        if isinstance(key, str) and not any(v == path or v.startswith(path + ".")
                                            for v in VARIABLES):
            unknown[path] = min(unknown.get(path, node.lineno), node.lineno)
    return unknown


def _opened(context: dict[str, Any]) -> dict[str, Any]:
    """The context with its open mappings (a lead's preferences) marked as such."""
    for path, noun in OPEN_MAPPINGS.items():
        context = _open(context, path, noun)
    return context


def _open(context: dict[str, Any], path: tuple[str, ...], noun: str) -> dict[str, Any]:
    inner = context.get(path[0])
    if not isinstance(inner, dict):
        return context
    opened = _open(inner, path[1:], noun) if len(path) > 1 else OpenMapping.of(inner, noun)
    return {**context, path[0]: opened}
