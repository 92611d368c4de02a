"""The bounds every template render keeps, whatever the template says.

A render has a CPU budget (thread time, so a busy machine does not count against it) and a budget
of characters and items it may make; every value it makes is measured where it is made, before
it is made when one step could make a huge one (a power, a repetition, a format width, a
padding). Nothing is ever built first and refused after, so no single step of a render holds the
interpreter for long, and the budget is checked between steps. A render that goes over stops
with a ``RenderLimit`` saying which bound it met.

Only data can be printed or turned into text: strings, numbers, true/false, none, and lists or
mappings of them. Functions, methods, macros, ``loop`` and ``self`` can be called where a
template may call them, never printed: printing them would show Python's own descriptions.
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection, Mapping
from contextvars import ContextVar
from types import BuiltinFunctionType, BuiltinMethodType, FunctionType, MethodType
from typing import Any

from jinja2.exceptions import SecurityError
from jinja2.runtime import BlockReference, LoopContext, Macro, TemplateReference, Undefined

#: CPU time one render may use. The acceptance bound is 100 ms; this leaves the margin for the
#: last step taken before the budget is next checked.
CPU_SECONDS = 0.05
#: Characters and items in any one value a template makes (a string, a list, a mapping, counted
#: through nested containers, a shared one as often as it appears): the size of a whole message.
MAX_VALUE = 50_000
#: Items in any one list or mapping: a single step over them (a sort, a groupby) stays short.
MAX_ITEMS = 10_000
#: Characters and items one render may make in all (every value measured, every piece of
#: output), which bounds the memory a render can hold.
MAX_MADE = 1_000_000
#: The largest number a template may compute or print, in bits (about 77 decimal digits).
MAX_INT_BITS = 256
#: The largest width or precision in a format (``'%5s'``, ``'{:>5}'``).
MAX_WIDTH = 1_000
#: The most numbers ``range`` may give.
MAX_RANGE = 1_000
#: Work units (about a step each) between two looks at the CPU clock.
CHECK_UNITS = 500


class RenderLimit(SecurityError):
    """A render met one of the bounds; the message says which, in the agent's words."""


class Budget:
    """What one render has left: CPU time, and characters and items it may make."""

    __slots__ = ("deadline", "made", "next_check", "seconds", "units")

    def __init__(self, seconds: float = CPU_SECONDS) -> None:
        self.seconds = seconds
        self.deadline = time.thread_time() + seconds
        self.units = self.made = 0
        self.next_check = CHECK_UNITS

    def spend(self, units: int = 1) -> None:
        self.units += units
        if self.units >= self.next_check:
            self._look_at_the_clock()

    def make(self, size: int) -> None:
        """``size`` characters and items made (and the work of making them spent)."""
        self.made += size
        if self.made > MAX_MADE:
            raise RenderLimit(f"the template makes more than {MAX_MADE} characters and items "
                              "while it renders")
        self.units += size
        if self.units >= self.next_check:
            self._look_at_the_clock()

    def _look_at_the_clock(self) -> None:
        self.next_check = self.units + CHECK_UNITS
        if time.thread_time() > self.deadline:
            raise RenderLimit(f"the template needs more than {self.seconds * 1000:.0f} ms "
                              "of CPU time to render (a loop or a recursion too long?)")


class _Unmetered(Budget):
    """Outside a render (constants folded while compiling): values are still measured."""

    def spend(self, units: int = 1) -> None:
        pass

    def make(self, size: int) -> None:
        pass


# The default is never changed: an unmetered budget's methods do nothing
_CURRENT: ContextVar[Budget] = ContextVar("template_budget",
                                          default=_Unmetered())  # noqa: B039


#: The current render's budget (a function: ``current()``)
current = _CURRENT.get


def metered(budget: Budget) -> Any:
    """Make ``budget`` the current render's until the token returned is given to ``unmeter``."""
    return _CURRENT.set(budget)


def unmeter(token: Any) -> None:
    _CURRENT.reset(token)


# Measuring -----------------------------------------------------------------

_SCALARS: tuple[type, ...] = (bool, float, type(None), Undefined)
_SEQUENCES: tuple[type[Collection[Any]], ...] = (
    list, tuple, type({}.keys()), type({}.values()), type({}.items()))


def measure(value: Any, data_only: bool = True) -> int:
    """Characters and items in ``value``, through nested containers; refuses more than
    ``MAX_VALUE``, a number above ``MAX_INT_BITS``, and (``data_only``) anything but data."""
    if type(value) is str:
        return sized(len(value))
    total, stack = 0, [value]
    while stack:
        total += _weight(stack.pop(), stack, data_only)
        if total > MAX_VALUE:
            raise too_big()
    return total


def _weight(v: Any, stack: list[Any], data_only: bool) -> int:
    """The value's own weight; its items go on ``stack``."""
    if isinstance(v, str):
        return len(v)
    if isinstance(v, _SCALARS):
        return 1
    if isinstance(v, int):
        if v.bit_length() > MAX_INT_BITS:
            raise RenderLimit(f"a number would have more than {MAX_INT_BITS} bits")
        return v.bit_length() // 3 + 1
    if isinstance(v, range):
        return len(v)
    if isinstance(v, _SEQUENCES):
        stack.extend(_items(v))
        return len(v) + 1
    if isinstance(v, Mapping):
        stack.extend(_items(v.keys()))
        stack.extend(v.values())
        return len(v) + 1
    if data_only:
        raise not_data(v)
    return 1


def _items(container: Any) -> Any:
    if len(container) > MAX_ITEMS:
        raise RenderLimit(f"a list or mapping would have more than {MAX_ITEMS} items")
    return container


def sized(size: int) -> int:
    """``size``, if it is at most ``MAX_VALUE``."""
    if size > MAX_VALUE:
        raise too_big()
    return size


def too_big() -> RenderLimit:
    return RenderLimit(f"a value would be longer than {MAX_VALUE} characters or items")


def not_data(value: Any) -> RenderLimit:
    what = describe(value)
    call = ": call it" if isinstance(value, _CALLABLES) else ""
    return RenderLimit(f"{what} cannot be printed or used as text or data{call}")


_CALLABLES = (Macro, BuiltinMethodType, MethodType, FunctionType, BuiltinFunctionType)


def describe(value: Any) -> str:
    """What ``value`` is, in a template author's words (never its repr: that can carry a
    memory address)."""
    if isinstance(value, Macro):
        return f"the macro {value.name or 'caller'!r}"
    if isinstance(value, LoopContext):
        return "'loop'"
    if isinstance(value, TemplateReference | BlockReference):
        return "'self'"
    if isinstance(value, BuiltinMethodType | MethodType):
        return f"the method {value.__name__!r}"
    if isinstance(value, FunctionType | BuiltinFunctionType):
        return f"the function {getattr(value, '__name__', '?')!r}"
    if isinstance(value, type):
        return "a class"
    return f"a {type(value).__name__} object"


# Steps that could make a huge value: checked before they run -----------------

def check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 \
            and (abs(base).bit_length() - 1) * exponent > MAX_INT_BITS:
        raise RenderLimit(f"a number would have more than {MAX_INT_BITS} bits")


def check_repeat(left: Any, right: Any) -> None:
    """``'ab' * n``, ``[x] * n``, either way round."""
    seq, n = (left, right) if isinstance(right, int) else (right, left)
    if isinstance(n, int) and isinstance(seq, str | list | tuple) and n > 0:
        sized(measure(seq) * n)


def check_width(width: Any) -> None:
    """A padding width (``center``, ``ljust``, ``zfill``, ...) or a batch's size."""
    if isinstance(width, int) and width > MAX_VALUE:
        raise too_big()


def check_replace(s: Any, old: Any, new: Any, count: Any = -1) -> None:
    if isinstance(s, str) and isinstance(old, str) and isinstance(new, str):
        times = s.count(old)
        if isinstance(count, int) and count >= 0:
            times = min(times, count)
        sized(len(s) + times * (len(new) - len(old)))


def check_join(separator: Any, items: Any) -> None:
    if isinstance(separator, str) and hasattr(items, "__len__"):
        sized(measure(items) + len(separator) * max(len(items) - 1, 0))


_FLAGS = re.compile(r"[-+ #0]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?")


def check_printf(fmt: str, args: Any) -> None:
    """``fmt % args``: no ``*`` width, no width or precision above ``MAX_WIDTH``, and a result
    of at most ``MAX_VALUE`` characters."""
    positional = args if isinstance(args, tuple) else (args,)
    size, n = len(fmt), 0
    for key, width, precision in _printf_fields(fmt):
        if isinstance(args, Mapping) and key is not None:
            arg = args.get(key)
        else:
            arg = positional[n] if n < len(positional) else None
            n += 1
        size += width + precision + measure(arg)
    sized(size)


def _printf_fields(fmt: str) -> list[tuple[str | None, int, int]]:
    """Each conversion of a printf format: its mapping key, width and precision."""
    fields, at = [], fmt.find("%")
    while at != -1:
        at += 1
        if fmt.startswith("%", at):
            at = fmt.find("%", at + 1)
            continue
        key, at = _printf_key(fmt, at)
        spec = _FLAGS.match(fmt, at)
        assert spec is not None  # every part of the pattern may be empty
        width, precision = spec.group(1), spec.group(2) or ""
        if "*" in (width, precision):
            raise RenderLimit("a '*' width or precision is not allowed in a format")
        fields.append((key, _width(width), _width(precision)))
        at = fmt.find("%", spec.end() + 1)
    return fields


def _printf_key(fmt: str, at: int) -> tuple[str | None, int]:
    """A ``(key)`` at ``at`` (nested brackets as Python counts them) and where it ends."""
    if not fmt.startswith("(", at):
        return None, at
    depth, end = 0, at
    while end < len(fmt):
        depth += {"(": 1, ")": -1}.get(fmt[end], 0)
        end += 1
        if depth == 0:
            break
    return fmt[at + 1:end - 1], end


def _width(digits: str) -> int:
    if len(digits) > len(str(MAX_WIDTH)) or (digits and int(digits) > MAX_WIDTH):
        raise RenderLimit(f"a format width or precision above {MAX_WIDTH}")
    return int(digits or 0)


def check_format_spec(spec: str) -> None:
    """A ``str.format`` spec (``'>10'``, ``'.2f'``, ``'0{}'`` once filled in): every number in
    it at most ``MAX_WIDTH``."""
    for digits in re.findall(r"\d+", spec):
        _width(digits)


def bounded_range(*args: int) -> range:
    """``range``, at most ``MAX_RANGE`` numbers."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise RenderLimit(f"range() may give at most {MAX_RANGE} numbers")
    return numbers


bounded_range.__name__ = bounded_range.__qualname__ = "range"
