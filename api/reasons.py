"""Pydantic's refusals in plain words: the reason a refused field gets in the error shape.

Pydantic words a refusal for a programmer ("Input should be a valid integer", "String should
have at least 1 character", "Value error, ..."); a person reads the reason beside a field they
typed in, so each kind of refusal we know is said here from its ``ctx`` (``min_length``, ``le``,
``expected``...). The field's ``type`` stays pydantic's, for a client to switch on; a kind not
named here keeps pydantic's message."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Context = Mapping[str, Any]

#: The patterns the API's fields use (``api/schemas.py`` takes them from here)...
PHONE_PATTERN = r"^\+[1-9]\d{6,14}$"
TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"
END_PATTERN = r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$"
#: ... by what they ask for (a pattern means nothing to a person).
PATTERNS = {
    PHONE_PATTERN: "must be a phone number in international form, such as +14155550123",
    TIME_PATTERN: "must be a time of day such as 09:30",
    END_PATTERN: "must be a time of day such as 17:30, or 24:00",
}

DATE = "must be a date such as 2027-03-01"
DATETIME = "must be a date and time such as 2027-03-01T09:30:00Z"


def _number(value: Any) -> str:
    """``525600`` as is, ``2.0`` as ``2``, ``2.5`` as is."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _plural(n: Any, one: str, many: str) -> str:
    return f"{_number(n)} {one if n == 1 else many}"


def _short_text(ctx: Context) -> str:
    n = ctx.get("min_length", 1)
    if n == 1:
        return "must not be empty"
    return f"must be at least {_plural(n, 'character', 'characters')}"


def _short_list(ctx: Context) -> str:
    n = ctx.get("min_length", 1)
    if n == 1:
        return "choose at least one"
    return f"must have at least {_plural(n, 'item', 'items')}"


def _one_of(ctx: Context) -> str:
    """``"'email', 'sms' or 'in_app'"`` → ``must be one of: email, sms, in_app``."""
    expected = str(ctx.get("expected", ""))
    choices = [c.strip().strip("'") for c in re.split(r", | or ", expected) if c.strip()]
    return "must be one of: " + ", ".join(choices)


def _without(prefix: str) -> Callable[[Context, str], str]:
    def said(_: Context, message: str) -> str:
        return message.removeprefix(prefix) or message
    return said


def _fixed(text: str) -> Callable[[Context, str], str]:
    return lambda _ctx, _message: text


def _from(say: Callable[[Context], str]) -> Callable[[Context, str], str]:
    return lambda ctx, _message: say(ctx)


#: Each kind of refusal we word: ``(ctx, pydantic's message) → reason``.
REASONS: dict[str, Callable[[Context, str], str]] = {
    "missing": _fixed("is required"),
    "extra_forbidden": _fixed("is not a field of this request"),
    "string_too_short": _from(_short_text),
    "string_too_long": _from(lambda c: "must be at most "
                             + _plural(c.get("max_length"), "character", "characters")),
    "string_type": _fixed("must be text"),
    "string_pattern_mismatch": _from(lambda c: PATTERNS.get(str(c.get("pattern")),
                                                            "is not in the expected form")),
    "int_parsing": _fixed("must be a whole number"),
    "int_type": _fixed("must be a whole number"),
    "int_from_float": _fixed("must be a whole number"),
    "float_parsing": _fixed("must be a number"),
    "float_type": _fixed("must be a number"),
    "bool_parsing": _fixed("must be true or false"),
    "bool_type": _fixed("must be true or false"),
    "less_than_equal": _from(lambda c: f"must be at most {_number(c.get('le'))}"),
    "less_than": _from(lambda c: f"must be less than {_number(c.get('lt'))}"),
    "greater_than_equal": _from(lambda c: f"must be at least {_number(c.get('ge'))}"),
    "greater_than": _from(lambda c: f"must be more than {_number(c.get('gt'))}"),
    "too_short": _from(_short_list),
    "too_long": _from(lambda c: "must have at most "
                      + _plural(c.get("max_length"), "item", "items")),
    "list_type": _fixed("must be a list"),
    "dict_type": _fixed("must be an object"),
    "model_type": _fixed("must be an object"),
    "model_attributes_type": _fixed("must be an object"),
    "literal_error": _from(_one_of),
    "enum": _from(_one_of),
    "uuid_parsing": _fixed("must be an id (a UUID)"),
    "uuid_type": _fixed("must be an id (a UUID)"),
    "date_parsing": _fixed(DATE),
    "date_type": _fixed(DATE),
    "date_from_datetime_parsing": _fixed(DATE),
    "date_from_datetime_inexact": _fixed(DATE),
    "datetime_parsing": _fixed(DATETIME),
    "datetime_type": _fixed(DATETIME),
    "datetime_from_date_parsing": _fixed(DATETIME),
    "datetime_object_invalid": _fixed(DATETIME),
    "timezone_aware": _fixed("must say its time zone, such as 2027-03-01T09:30:00Z"),
    "json_invalid": _fixed("is not valid JSON"),
    "value_error": _without("Value error, "),
    "assertion_error": _without("Assertion failed, "),
}


def reason(error: Mapping[str, Any]) -> str:
    """The reason a person reads for one of pydantic's errors (``type``, ``msg``, ``ctx``)."""
    message = str(error.get("msg", ""))
    say = REASONS.get(str(error.get("type", "")))
    return say(error.get("ctx") or {}, message) if say else message
