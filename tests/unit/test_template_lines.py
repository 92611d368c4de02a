"""A mistake in a template is named with the line it is on (what the editor points at)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.templating import JinjaRenderer
from application.errors import Invalid

renderer = JinjaRenderer()
plain = st.lists(st.text(st.sampled_from("abc xyz,.!"), max_size=20), max_size=8)


def refused(text: str) -> Invalid:
    with pytest.raises(Invalid) as caught:
        renderer.check(text, "body")
    return caught.value


@given(before=plain, after=plain)
def test_a_syntax_error_is_on_the_line_it_is_written(before: list[str],
                                                     after: list[str]) -> None:
    text = "\n".join([*before, "Hi {{ lead.name }", *after])
    error = refused(text)
    assert error.line == len(before) + 1
    assert error.reason.startswith(f"template syntax error on line {len(before) + 1}:")


@given(before=plain)
def test_an_unknown_variable_names_its_first_line(before: list[str]) -> None:
    error = refused("\n".join([*before, "{{ lead.nmae }}", "{{ lead.nmae }}"]))
    assert error.line == len(before) + 1 and f"(line {len(before) + 1})" in error.reason


@pytest.mark.parametrize(("text", "line"), [
    ("one\ntwo\n{% include 'x' %}", 3),
    ("one\n{{ 1 // 0 }}", 2),
    ("{% for x in range(3) %}\n{{ lead.name.nope() }}\n{% endfor %}", 2),
])
def test_other_mistakes_carry_their_line(text: str, line: int) -> None:
    assert refused(text).line == line


def test_a_render_error_keeps_its_reason_as_a_send_records_it() -> None:
    error = refused("a\n{{ 1 // 0 }}")
    assert error.reason == "cannot render: ZeroDivisionError: integer division or modulo by zero"


@pytest.mark.parametrize(("text", "said"), [
    ("Hi\n{% if lead.timeline %}soon", "the {% if %} block is never closed: add {% endif %}"),
    ("{% for p in lead.preferences %}{{ p }}", "the {% for %} block is never closed: add "
                                               "{% endfor %}"),
    ("Hi {{ lead.name", "a {{ … }} is not closed: add }}"),
    ("Hi{% endif %}", "{% endif %} has no block of its own to close"),
    ("{% if a %}{% for y in lead.preferences %}{% endif %}",
     "{% endif %} comes while the {% for %} block inside it is open: add {% endfor %} first"),
])
def test_a_mistake_in_a_block_says_what_to_add_in_plain_words(text: str, said: str) -> None:
    error = refused(text)
    assert error.reason.split(": ", 1)[1] == said
    assert "Jinja" not in error.reason
