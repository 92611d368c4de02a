"""The guarded steps a template takes: its filters, ``str.format``, loops, ``~``, the lists and
mappings it writes, its output; and the rewrite of a parsed template that routes it through
them. Each measures the data going through and spends from the render's budget."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from jinja2 import StrictUndefined, nodes, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedFormatter
from jinja2.visitor import NodeTransformer
from markupsafe import EscapeFormatter, Markup

from adapters.template_limits import (
    MAX_RANGE,
    MAX_VALUE,
    MAX_WIDTH,
    RenderLimit,
    check_format_spec,
    check_join,
    check_printf,
    check_replace,
    check_width,
    current,
    measure,
    too_big,
)

# Formatting ---------------------------------------------------------------

class _BoundedFormatter(SandboxedFormatter):
    """``str.format``: widths at most ``MAX_WIDTH``, only data formatted, and a result of at
    most ``MAX_VALUE`` characters however often a field repeats."""

    def __init__(self, env: Any, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self._length = 0

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        measure(value)
        return super().convert_field(value, conversion)

    def format_field(self, value: Any, format_spec: str) -> Any:
        check_format_spec(format_spec)
        current().spend(measure(value))
        out = super().format_field(value, format_spec)
        self._length += len(out)
        if self._length > MAX_VALUE:
            raise too_big()
        return out


class _BoundedEscapeFormatter(_BoundedFormatter, EscapeFormatter):
    pass


def format_method(env: Any, text: str, as_map: bool) -> Callable[..., str]:
    """The bounded stand-in for ``text.format`` (or ``format_map``)."""

    def bounded(*args: Any, **kwargs: Any) -> str:
        if as_map and (kwargs or len(args) != 1):
            raise TypeError("format_map() takes exactly one mapping")
        formatter = (_BoundedEscapeFormatter(env, escape=text.escape)
                     if isinstance(text, Markup) else _BoundedFormatter(env))
        if as_map:
            return type(text)(formatter.vformat(text, (), args[0]))
        return type(text)(formatter.vformat(text, args, kwargs))

    bounded.jinja_bounded = True  # type: ignore[attr-defined]
    return bounded


# Filters ------------------------------------------------------------------

class _Before:
    """Checks run before the filter of the same name, with the same arguments."""

    @staticmethod
    def center(value: Any, width: Any = 80) -> None:
        check_width(width)

    @staticmethod
    def indent(s: Any, width: Any = 4, first: Any = False, blank: Any = False) -> None:
        size = len(width) if isinstance(width, str) else width
        check_width(size)
        if isinstance(s, str) and isinstance(size, int):
            check_width(len(s) + (s.count("\n") + 2) * size)

    @staticmethod
    def replace(s: Any, old: Any, new: Any, count: Any = None) -> None:
        check_replace(s, old, new, -1 if count is None else count)

    @staticmethod
    def join(value: Any, d: Any = "", attribute: Any = None) -> None:
        check_join(str(d), value)

    @staticmethod
    def format(value: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(value, str):
            check_printf(value, kwargs or args)

    @staticmethod
    def batch(value: Any, linecount: Any, fill_with: Any = None) -> None:
        check_width(linecount)
        if fill_with is not None and isinstance(linecount, int):
            check_width(linecount * (measure(fill_with) + 1))

    @staticmethod
    def slice(value: Any, slices: Any, fill_with: Any = None) -> None:
        if isinstance(slices, int) and slices > MAX_RANGE:
            raise RenderLimit(f"slice makes at most {MAX_RANGE} slices")

    @staticmethod
    def wordwrap(s: Any, width: Any = 79, break_long_words: Any = True, wrapstring: Any = None,
                 break_on_hyphens: Any = True) -> None:
        if isinstance(s, str) and isinstance(width, int):
            breaks = 2 * len(s) // max(width, 1) + 1
            check_width(len(s) + breaks * len(wrapstring if isinstance(wrapstring, str) else "\n"))

    @staticmethod
    def round(value: Any, precision: Any = 0, method: Any = "common") -> None:
        if isinstance(precision, int) and abs(precision) > MAX_WIDTH:
            raise RenderLimit(f"round's precision may be at most {MAX_WIDTH}")

    @staticmethod
    def tojson(value: Any, indent: Any = None) -> None:
        if indent is not None:
            raise RenderLimit("tojson's indent is not available in templates")

    @staticmethod
    def sum(iterable: Any, attribute: Any = None, start: Any = 0) -> None:
        if isinstance(start, bool) or not isinstance(start, int | float):
            raise RenderLimit("sum adds numbers: its start must be a number")


def bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` with its data measured going in and coming out, and its ``_Before`` check."""
    skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0
    before = vars(_Before).get(name)

    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        budget = current()
        budget.spend(sum(measure(a) for a in (*args[skip:], *kwargs.values())))
        if before is not None:
            before(*args[skip:], **kwargs)
        result = func(*args, **kwargs)
        if isinstance(result, Iterator):
            result = _collected(result)
        budget.make(measure(result))
        return result

    return bounded


def _collected(items: Iterator[Any]) -> list[Any]:
    budget, out = current(), []
    for item in items:
        out.append(item)
        budget.spend()
        if len(out) > MAX_VALUE:
            raise too_big()
    return out


def _loop(iterable: Any) -> Any:
    """What a ``{% for %}`` goes through: each round spends from the budget."""
    return iterable if isinstance(iterable, StrictUndefined) else _rounds(iterable)


def _rounds(iterable: Any) -> Iterator[Any]:
    budget = current()
    for item in iterable:
        budget.spend()
        yield item


def _concat(parts: tuple[Any, ...]) -> str:
    """``a ~ b``: only data, and at most ``MAX_VALUE`` characters."""
    for part in parts:
        measure(part)
    out = "".join([str(p) for p in parts])
    current().make(measure(out))
    return out


def _made(value: Any) -> Any:
    """A list, tuple or mapping written in the template."""
    current().make(measure(value))
    return value


@pass_context
def _text(context: Context, text: str) -> str:
    """Template text inside a loop, macro or block: counted as output when it runs."""
    return text


@pass_context
def finalize(context: Context, value: Any) -> Any:
    """Everything printed: data only, counted against the budget."""
    current().make(len(value) if type(value) is str and len(value) <= MAX_VALUE
                   else measure(value))
    return value


def _filter(node: nodes.Node, name: str) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)


class Rewrite(NodeTransformer):
    """Rewrites a parsed template so that its loops, ``~``, written lists and mappings, and the
    text of its loops, macros and blocks go through the guards above."""

    def __init__(self) -> None:
        self.repeated = 0

    def _inside(self, node: nodes.Node) -> nodes.Node:
        self.repeated += 1
        try:
            return self.generic_visit(node)
        finally:
            self.repeated -= 1

    visit_Macro = visit_CallBlock = visit_FilterBlock = visit_AssignBlock = _inside

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self._inside(node)
        node.iter = _filter(node.iter, "_loop")
        return node

    def visit_TemplateData(self, node: nodes.TemplateData) -> nodes.Node:
        return _filter(nodes.Const(node.data, lineno=node.lineno), "_text") \
            if self.repeated else node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _filter(nodes.Tuple(node.nodes, "load", lineno=node.lineno), "_concat")

    def visit_List(self, node: nodes.Expr) -> nodes.Node:
        return _filter(self.generic_visit(node), "_made")

    visit_Dict = visit_List

    def visit_Tuple(self, node: nodes.Tuple) -> nodes.Node:
        self.generic_visit(node)
        return _filter(node, "_made") if node.ctx == "load" else node


#: The guards the rewrite puts in, by the filter name it gives them.
GUARDS: dict[str, Callable[..., Any]] = {"_loop": _loop, "_concat": _concat, "_made": _made,
                                          "_text": _text}
