"""What the API accepts at all: limits every request body keeps, so that whatever is accepted
can be stored by every store and processed by every follower.

Each check raises a ``ValidationError`` whose ``loc`` is the path of the offending value, so the
422 names the field (``body.preferences.rooms[0]``) and the reason."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

#: The whole request body, in bytes (FastAPI answers 413 beyond it).
MAX_BODY_BYTES = 256 * 1024
#: Nesting of objects and lists in a whole body.
MAX_BODY_DEPTH = 32
#: Integers a client written in JavaScript reads exactly; far inside every store's 64 bits.
MAX_SAFE_INTEGER = 2**53 - 1

Path = tuple[int | str, ...]


def refuse(path: Path, kind: str, message: str, value: Any = None) -> ValidationError:
    """A validation error at ``path`` (relative to the value being validated)."""
    error = PydanticCustomError(kind, message)
    return ValidationError.from_exception_data(
        "bounds", [InitErrorDetails(type=error, loc=path, input=value)])


def _walk(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any, int]]:
    """Every value inside ``value`` (keys too, as strings), with its path and depth; iterative,
    so no depth of nesting can exhaust the stack."""
    stack: list[tuple[Path, Any, int]] = [(path, value, 0)]
    while stack:
        at, item, depth = stack.pop()
        yield at, item, depth
        if isinstance(item, dict):
            for key, inner in item.items():
                yield (*at, key), key, depth + 1
                stack.append(((*at, key), inner, depth + 1))
        elif isinstance(item, list):
            stack.extend(((*at, i), inner, depth + 1) for i, inner in enumerate(item))


#: What no store can hold in a string: C0 controls but tab, newline and carriage return
#: (PostgreSQL refuses NUL), and lone surrogates (which UTF-8 cannot encode).
UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored everywhere, or None."""
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    code = ord(found.group())
    kind = "a lone surrogate" if code >= 0xD800 else "the control character"
    return f"contains {kind} U+{code:04X}"


def check_body(data: Any) -> Any:
    """Refuse, naming the path, any string of the raw input that no store can hold, and
    nesting deeper than ``MAX_BODY_DEPTH``."""
    for path, item, depth in _walk(data):
        if depth > MAX_BODY_DEPTH:
            raise refuse(path, "too_deep", f"nested deeper than {MAX_BODY_DEPTH} levels")
        if isinstance(item, str) and (problem := text_problem(item)):
            raise refuse(path, "unstorable_text", problem, item[:50])
    return data


def check_storable(text: str) -> str:
    """For a string outside a request body (a query parameter)."""
    if problem := text_problem(text):
        raise ValueError(problem)
    return text


def check_visible(text: str) -> str:
    """A name must show something: a letter, digit, punctuation or symbol."""
    if not any(unicodedata.category(c)[0] in "LNPS" for c in text):
        raise ValueError("must contain a visible character")
    return text


@dataclass(frozen=True)
class JsonBounds:
    """A free-form JSON value (a lead's preferences, a condition's value), bounded."""

    depth: int
    items: int
    string: int
    encoded: int

    def __call__(self, value: Any) -> Any:
        for path, item, depth in _walk(value):
            self._check(path, item, depth)
        size = len(orjson.dumps(value))
        if size > self.encoded:
            raise refuse((), "too_large", f"is {size} bytes as JSON; at most {self.encoded}")
        return value

    def _check(self, path: Path, item: Any, depth: int) -> None:
        if depth > self.depth:
            raise refuse(path, "too_deep", f"nested deeper than {self.depth} levels")
        if isinstance(item, dict | list) and len(item) > self.items:
            raise refuse(path, "too_long", f"has more than {self.items} items")
        if isinstance(item, str) and len(item) > self.string:
            raise refuse(path, "too_long", f"is longer than {self.string} characters")
        if isinstance(item, bool) or item is None or isinstance(item, str | dict | list):
            return
        if isinstance(item, int) and abs(item) > MAX_SAFE_INTEGER:
            raise refuse(path, "out_of_range",
                         f"integers are at most {MAX_SAFE_INTEGER} in magnitude", item)
        if isinstance(item, float) and not math.isfinite(item):
            raise refuse(path, "not_finite", "must be a finite number", str(item))
        if not isinstance(item, int | float):
            raise refuse(path, "not_json", "must be a JSON value")
