"""The Jinja2 environment templates render in: a sandbox whose every step reports to the render's
budget (see ``template_limits`` and ``template_guards``), with only the filters, functions and
methods a message needs, and the lead's preferences open to any key."""

from __future__ import annotations

from collections.abc import Callable
from types import BuiltinMethodType, MethodType
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.exceptions import UndefinedError
from jinja2.runtime import BlockReference, Context, LoopContext, Macro, TemplateReference
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import missing

from adapters.template_guards import GUARDS, Rewrite, bounded_filter, finalize, format_method
from adapters.template_limits import (
    RenderLimit,
    bounded_range,
    check_join,
    check_power,
    check_printf,
    check_repeat,
    check_replace,
    check_width,
    current,
    describe,
    measure,
    sized,
)

DROPPED_FILTERS = frozenset({"attr", "pprint", "xmlattr"})
#: The methods a template may call, by the kind of value they belong to.
METHODS: tuple[tuple[type, frozenset[str]], ...] = (
    (str, frozenset({
        "capitalize", "casefold", "center", "count", "endswith", "find", "index", "isalnum",
        "isalpha", "isdecimal", "isdigit", "islower", "isnumeric", "isspace", "istitle",
        "isupper", "join", "ljust", "lower", "lstrip", "partition", "removeprefix",
        "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip",
        "split", "splitlines", "startswith", "strip", "striptags", "swapcase", "title",
        "unescape", "upper", "zfill"})),
    (dict, frozenset({"get", "items", "keys", "values"})),
    (list, frozenset({"count", "index"})),
    (tuple, frozenset({"count", "index"})),
    (LoopContext, frozenset({"cycle", "changed"})),
)
_PADDING = frozenset({"center", "ljust", "rjust", "zfill"})


# A lead's open mappings: any key may be asked for ---------------------------

class OpenMapping(dict[str, Any]):
    """A mapping whose keys vary from lead to lead (the preferences): a key a lead lacks is a
    missing value of that lead, not a mistake in the template."""

    __slots__ = ("_noun", "_prefix")
    _noun: str
    _prefix: str

    @classmethod
    def of(cls, data: dict[str, Any], noun: str, prefix: str = "") -> OpenMapping:
        opened = cls((k, cls.of(v, noun, f"{prefix}{k}.") if isinstance(v, dict) else v)
                     for k, v in data.items())
        opened._noun, opened._prefix = noun, prefix
        return opened


class MissingValueError(UndefinedError):
    """The template uses, without a default, a value this lead does not have."""


def _when_missing(answer: Callable[[Any], Any]) -> Any:
    """A special method that answers ``answer(self)`` for a missing value, and fails as a strict
    undefined does otherwise."""

    def special(self: LeadUndefined, *args: Any) -> Any:
        return answer(self) if self._missing else self._fail_with_undefined_error()

    return special


class LeadUndefined(StrictUndefined):
    """Strict, except for a key missing from an open mapping: that one is false in a condition,
    empty in a loop, unequal to anything, and has attributes that are missing too; printing it,
    or using it in text or arithmetic, raises ``MissingValueError``."""

    __slots__ = ()

    def __init__(self, hint: str | None = None, obj: Any = missing, name: str | None = None,
                 exc: type[UndefinedError] = UndefinedError) -> None:
        if hint is None and exc is UndefinedError and isinstance(obj, OpenMapping):
            exc = MissingValueError
        super().__init__(hint, obj, name, exc)

    @property
    def _undefined_message(self) -> str:
        obj = self._undefined_obj
        if self._missing and isinstance(obj, OpenMapping):
            return (f"the lead has no {obj._noun} '{obj._prefix}{self._undefined_name}' and the "
                    "template gives no default")
        return super()._undefined_message

    @property
    def _missing(self) -> bool:
        return self._undefined_exception is MissingValueError

    def __getattr__(self, name: str) -> Any:
        if name[:2] == "__" and name[-2:] == "__":
            raise AttributeError(name)
        return self if self._missing else self._fail_with_undefined_error()

    __bool__ = __contains__ = __eq__ = _when_missing(lambda _: False)
    __lt__ = __le__ = __gt__ = __ge__ = _when_missing(lambda _: False)
    __ne__ = _when_missing(lambda _: True)
    __iter__ = _when_missing(lambda _: iter(()))
    __len__ = _when_missing(lambda _: 0)
    __hash__ = _when_missing(id)
    __getitem__ = _when_missing(lambda self: self)


# The environment ------------------------------------------------------------

class Sandbox(ImmutableSandboxedEnvironment):
    """No mutation of the context, nothing reachable but data, a few functions and methods, and
    every operator, call, attribute, loop and output measured against the render's budget."""

    intercepted_binops = frozenset(["+", "-", "*", "/", "//", "%", "**"])

    def __init__(self) -> None:
        super().__init__(undefined=LeadUndefined, finalize=finalize, autoescape=False,
                         trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
        self.globals.clear()
        self.globals["range"] = bounded_range
        self.filters = {name: bounded_filter(name, f) for name, f in self.filters.items()
                        if name not in DROPPED_FILTERS}
        self.filters.update(GUARDS)

    def guarded(self, tree: nodes.Template) -> nodes.Template:
        """The parsed template, rewritten to report to the budget (see ``Rewrite``)."""
        guarded = Rewrite().visit(tree)
        guarded.set_environment(self)
        return guarded  # type: ignore[no-any-return]

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        budget = current()
        budget.spend(measure(left) + measure(right))
        if operator == "**":
            check_power(left, right)
        elif operator == "*":
            check_repeat(left, right)
        elif operator == "%" and isinstance(left, str):
            check_printf(left, right)
        result = self.binop_table[operator](left, right)
        budget.make(measure(result))
        return result

    def call(self, context: Context, obj: Any, /,  # type: ignore[override]
             *args: Any, **kwargs: Any) -> Any:
        budget = current()
        budget.spend(sized(_allowed_call(obj, args, kwargs)))  # the arguments, together
        result = context.call(obj, *args, **kwargs)
        budget.make(measure(result))
        return result

    def getattr(self, obj: Any, attribute: str) -> Any:
        current().spend()
        if type(obj) in _MAPPINGS and attribute not in _DICT_ATTRIBUTES:
            # What Jinja finds after looking for an attribute a mapping does not have, sooner
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        _refuse_self(obj)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        current().spend()
        _refuse_self(obj)
        if not isinstance(argument, slice):
            measure(argument)  # a key that is not data would be quoted in the error
            return super().getitem(obj, argument)
        result = super().getitem(obj, argument)
        current().make(measure(result))
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        if isinstance(value, MethodType | BuiltinMethodType) \
                and value.__name__ in ("format", "format_map") and isinstance(value.__self__, str):
            return format_method(self, value.__self__, value.__name__ == "format_map")
        return None


_MAPPINGS: frozenset[type[Any]] = frozenset((dict, OpenMapping))
_DICT_ATTRIBUTES = frozenset(dir(dict))


def _refuse_self(obj: Any) -> None:
    if isinstance(obj, TemplateReference | BlockReference):
        raise RenderLimit("'self' is not available in templates")


def _allowed_call(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """Refuse what a template may not call; the size of the arguments otherwise."""
    values = (*args, *kwargs.values())
    if isinstance(obj, Macro | LoopContext):
        return sum(measure(v, data_only=False) for v in values)
    units = sum(measure(v) for v in values)
    if obj is bounded_range or getattr(obj, "jinja_bounded", False):
        return units
    if isinstance(obj, BuiltinMethodType | MethodType):
        owner, name = obj.__self__, obj.__name__
        if any(isinstance(owner, kind) and name in names for kind, names in METHODS):
            _before_method(owner, name, args, kwargs)
            return units
    raise RenderLimit(f"{describe(obj)} cannot be called in a template")


def _before_method(owner: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if name in _PADDING:
        for v in (*args, *kwargs.values()):
            check_width(v)
    elif name == "replace" and isinstance(owner, str) and len(args) >= 2:
        check_replace(owner, args[0], args[1], args[2] if len(args) > 2
                      else kwargs.get("count", -1))
    elif name == "join" and isinstance(owner, str) and args:
        check_join(owner, args[0])

