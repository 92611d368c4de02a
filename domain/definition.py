"""A workflow definition: its trigger, steps and timing, checked and normalised.

The definition is plain data (dicts and lists of primitives) so it can be stored in events as is
and frozen into each published version and each execution.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.channels import parse_channel
from domain.errors import InvalidValue
from domain.scoring import MAX_SCORE, MIN_SCORE
from domain.timing import (
    BUSINESS_DAYS,
    MAX_DELAY_MINUTES,
    SMS_QUIET,
    WEEKDAYS,
    SendWindow,
    allowed_window,
    within_sms_hours,
)

REENTRY_MODES = ("never", "after_end", "after_days")
#: A lead registered with a score already at or above the threshold: start (a crossing) or not.
ON_REGISTRATION = ("start", "ignore")
#: What a version published before the choice existed does: registrations started nothing.
STORED_ON_REGISTRATION = "ignore"
TRIGGER_TYPES = ("immediate", "delayed")
#: Lead fields a trigger condition may test, and the operators each allows.
CONDITION_FIELDS = {"source": ("eq", "ne", "in"), "move_within_days": ("lte",),
                    "score": ("gte", "lte")}
PREFERENCE_OPERATORS = ("eq", "ne", "in", "gte", "lte")
STEP_CONDITIONS = ("previous_email_not_opened", "in_app_not_read", "score_at_least")
#: The channel of the earlier step a step condition looks at.
LOOKS_AT = {"previous_email_not_opened": "email", "in_app_not_read": "in_app"}
UNITS = {"minutes": 1, "hours": 60, "days": 1440}
#: The longest wait a re-entry after some days may ask for.
MAX_REENTRY_DAYS = 3650
#: A trigger's priority lies within -MAX_PRIORITY..MAX_PRIORITY.
MAX_PRIORITY = 1000


def _int(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(field, "must be a whole number")
    if not low <= value <= high:
        raise InvalidValue(field, f"must be within {low}..{high}")
    return value


def check_condition(raw: dict[str, Any], field: str) -> dict[str, Any]:
    name, op, value = raw.get("field"), raw.get("op"), raw.get("value")
    if not isinstance(name, str):
        raise InvalidValue(f"{field}.field", "must name a lead field")
    if name.startswith("preferences."):
        allowed: tuple[str, ...] = PREFERENCE_OPERATORS
    elif name in CONDITION_FIELDS:
        allowed = CONDITION_FIELDS[name]
    else:
        known = ", ".join([*CONDITION_FIELDS, "preferences.<key>"])
        raise InvalidValue(f"{field}.field", f"{name!r} is not a lead field; use one of {known}")
    if op not in allowed:
        raise InvalidValue(f"{field}.op", f"{op!r} is not allowed for {name}; use {allowed}")
    if op == "in" and not (isinstance(value, list) and value):
        raise InvalidValue(f"{field}.value", "must be a non-empty list for 'in'")
    if op in ("gte", "lte") and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise InvalidValue(f"{field}.value", f"must be a number for '{op}'")
    if value is None:
        raise InvalidValue(f"{field}.value", "is required")
    if name == "source":  # stored lower-case on the lead, so compared lower-case
        value = [str(v).strip().lower() for v in value] if op == "in" else str(value).lower()
    return {"field": name, "op": op, "value": value}


def check_step_condition(raw: dict[str, Any], field: str, index: int) -> dict[str, Any]:
    kind = raw.get("kind")
    if kind not in STEP_CONDITIONS:
        raise InvalidValue(f"{field}.kind", f"{kind!r} is not a step condition; "
                                            f"use one of {', '.join(STEP_CONDITIONS)}")
    if kind == "score_at_least":
        return {"kind": kind, "value": _int(raw.get("value"), f"{field}.value",
                                            MIN_SCORE, MAX_SCORE)}
    if index == 0:
        raise InvalidValue(f"{field}.kind", "the first step has no earlier message to look at")
    return {"kind": kind}


def client_id(raw: dict[str, Any], field: str) -> dict[str, str]:
    """The client's own ``id`` of a step or trigger, kept as given (trimmed); none: nothing."""
    value = raw.get("id")
    if value is None:
        return {}
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise InvalidValue(f"{field}.id", "must be a non-empty string of at most 100 characters")
    return {"id": value.strip()}


def in_sequence(steps: list[Any]) -> list[Any]:
    """The steps in the order of their ``sequence`` numbers (from 1, distinct), when they have
    them; as listed when none has. Only the order is kept: responses number steps from 1."""
    given = [s.get("sequence") if isinstance(s, dict) else None for s in steps]
    if all(g is None for g in given):
        return steps
    seen: dict[int, int] = {}
    for i, number in enumerate(given):
        field = f"steps[{i}].sequence"
        if number is None:
            raise InvalidValue(field, "give every step a sequence, or none")
        _int(number, field, 1, 10_000)
        if number in seen:
            raise InvalidValue(field, f"{number} is also the sequence of steps[{seen[number]}]")
        seen[number] = i
    return [steps[seen[number]] for number in sorted(seen)]


def distinct_ids(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    first: dict[str, int] = {}
    for i, step in enumerate(steps):
        if "id" in step and first.setdefault(step["id"], i) != i:
            raise InvalidValue(f"steps[{i}].id",
                               f"{step['id']!r} is also the id of steps[{first[step['id']]}]")
    return steps


def _template_id(value: Any, field: str) -> str | None:
    """A step's template: a template id, or None while the draft has none yet (a draft may
    lack it; publishing refuses it, see ``domain.problems``)."""
    if value is None:
        return None
    try:
        UUID(str(value))
    except ValueError:
        raise InvalidValue(field, "must be a template id") from None
    return str(value)


def check_step(raw: dict[str, Any], index: int) -> dict[str, Any]:
    field = f"steps[{index}]"
    channel = parse_channel(str(raw.get("channel")), f"{field}.channel")
    delay = _int(raw.get("delay_minutes"), f"{field}.delayMinutes", 0, MAX_DELAY_MINUTES)
    template_id = _template_id(raw.get("template_id"), f"{field}.templateId")
    conditions = [check_step_condition(c, f"{field}.conditions[{i}]", index)
                  for i, c in enumerate(raw.get("conditions") or [])]
    return {**client_id(raw, field), "channel": channel.value, "template_id": template_id,
            "delay_minutes": delay, "conditions": conditions}


def check_trigger(raw: dict[str, Any]) -> dict[str, Any]:
    field = "trigger"
    threshold = _int(raw.get("score_threshold"), f"{field}.scoreThreshold",
                     MIN_SCORE + 1, MAX_SCORE)
    kind = raw.get("trigger_type", "immediate")
    if kind not in TRIGGER_TYPES:
        raise InvalidValue(f"{field}.triggerType", f"use one of {', '.join(TRIGGER_TYPES)}")
    delay = 0
    if kind == "delayed":
        delay = _int(raw.get("delay_minutes"), f"{field}.delayMinutes", 1, MAX_DELAY_MINUTES)
    raw_reentry = raw.get("reentry") or {"mode": "after_end"}
    if not isinstance(raw_reentry, dict):
        raise InvalidValue(f"{field}.reentry", "must be {mode, days}")
    reentry = dict(raw_reentry)
    if reentry.get("mode") not in REENTRY_MODES:
        raise InvalidValue(f"{field}.reentry.mode", f"use one of {', '.join(REENTRY_MODES)}")
    days = None
    if reentry["mode"] == "after_days":
        days = _int(reentry.get("days"), f"{field}.reentry.days", 1, MAX_REENTRY_DAYS)
    hysteresis = _int(raw.get("hysteresis", 0), f"{field}.hysteresis", 0, threshold - 1)
    group = raw.get("exclusive_group")
    if group is not None and (not isinstance(group, str) or not group.strip()):
        raise InvalidValue(f"{field}.exclusiveGroup", "must be a non-empty name")
    return {
        **client_id(raw, field),
        "score_threshold": threshold, "trigger_type": kind, "delay_minutes": delay,
        "conditions": [check_condition(c, f"{field}.conditions[{i}]")
                       for i, c in enumerate(raw.get("conditions") or [])],
        "reentry": {"mode": reentry["mode"], "days": days},
        "hysteresis": hysteresis,
        "priority": _int(raw.get("priority", 0), f"{field}.priority", -MAX_PRIORITY,
                         MAX_PRIORITY),
        "exclusive_group": group.strip() if group else None,
        "on_registration": _on_registration(raw.get("on_registration", "start")),
    }


def _on_registration(value: Any) -> str:
    if value not in ON_REGISTRATION:
        raise InvalidValue("trigger.onRegistration", f"use one of {', '.join(ON_REGISTRATION)}")
    return str(value)


def check_windows(raw: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    windows = {}
    for channel_name, window in (raw or {}).items():
        field = f"sendWindows.{channel_name}"
        channel = parse_channel(channel_name, field)
        try:
            parsed = SendWindow.from_dict(window)
        except (KeyError, ValueError, TypeError, AttributeError) as e:
            raise InvalidValue(field, f"must be {{start: 'HH:MM', end: 'HH:MM', weekdays: "
                                      f"['mon', ...]}} with start before end ({e})") from None
        if channel.value == "sms" and not within_sms_hours(parsed):
            raise InvalidValue(field, f"must lie inside 08:00-21:00 ({SMS_QUIET})")
        windows[channel.value] = parsed.as_dict()
    return windows


def check_business_days(windows: dict[str, dict[str, Any]], business_days_only: bool) -> None:
    """Refuse a window that allows only weekend days in a business-days-only workflow."""
    for channel, window in windows.items() if business_days_only else ():
        days = {WEEKDAYS.index(d) for d in window["weekdays"]}
        if not days & BUSINESS_DAYS:
            raise InvalidValue(f"sendWindows.{channel}.weekdays",
                               f"allows only {', '.join(window['weekdays'])}, and "
                               "businessDaysOnly allows only mon-fri: nothing could be sent")


def check_step_references(steps: list[dict[str, Any]]) -> None:
    """Refuse a condition on an earlier message of a channel no earlier step uses."""
    for i, step in enumerate(steps):
        earlier = {s["channel"] for s in steps[:i]}
        for j, condition in enumerate(step["conditions"]):
            looks_at = LOOKS_AT.get(condition["kind"])
            if looks_at is not None and looks_at not in earlier:
                raise InvalidValue(f"steps[{i}].conditions[{j}].kind",
                                   f"no earlier step is {looks_at}: there is no earlier "
                                   f"{looks_at} message to look at")


def check_definition(raw: dict[str, Any]) -> dict[str, Any]:
    steps = raw.get("steps") or []
    if not isinstance(steps, list) or len(steps) > 50:
        raise InvalidValue("steps", "must be a list of at most 50 steps")
    checked: dict[str, Any] = {
        "trigger": check_trigger(raw.get("trigger") or {}),
        "steps": distinct_ids([check_step(s, i) for i, s in enumerate(in_sequence(steps))]),
        "send_windows": check_windows(raw.get("send_windows")),
        "business_days_only": bool(raw.get("business_days_only", False)),
    }
    check_step_references(checked["steps"])
    check_business_days(checked["send_windows"], checked["business_days_only"])
    return checked


def window_for(definition: dict[str, Any], channel: str) -> SendWindow | None:
    """The window a step on ``channel`` is sent in: the workflow's own, else the default."""
    from domain.timing import DEFAULT_WINDOWS

    own = definition.get("send_windows", {}).get(channel)
    window = allowed_window(channel, SendWindow.from_dict(own) if own
                            else DEFAULT_WINDOWS.get(channel))
    if definition.get("business_days_only"):
        if window is None:
            from datetime import time

            return SendWindow(time.min, time.max, BUSINESS_DAYS)  # as_dict: 00:00-24:00
        return SendWindow(window.start, window.end, window.weekdays & BUSINESS_DAYS
                          or BUSINESS_DAYS)
    return window


def execution_steps(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps an execution freezes: each with the send window it will be scheduled in."""
    steps = []
    for step in definition["steps"]:
        window = window_for(definition, step["channel"])
        steps.append({**step, "window": window.as_dict() if window else None})
    return steps
