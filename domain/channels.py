"""Channels a step can use."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    IN_APP = "in_app"


def parse_channel(value: str, field: str = "channel") -> Channel:
    from domain.errors import InvalidValue

    try:
        return Channel(value)
    except ValueError:
        allowed = ", ".join(c.value for c in Channel)
        raise InvalidValue(field, f"{value!r} is not a channel; use one of {allowed}") from None
