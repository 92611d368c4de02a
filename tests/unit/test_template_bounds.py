"""Template bounds: no template holds the process, builds a huge value or prints a Python object,
and the templates a message needs still render as Jinja renders them."""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.templating import MAX_OUTPUT, JinjaRenderer
from application.errors import Invalid
from domain.lead import Lead
from domain.personalisation import context_for

FIXTURES = Path(__file__).parents[1] / "fixtures"
#: The acceptance bound on one template's CPU time (the render's own budget is 50 ms)
CPU_BOUND_SECONDS = 0.1
#: The acceptance bound on the memory one refused template may take, at its peak
MEMORY_BOUND_BYTES = 4 * 2**20


def corpus(name: str) -> list[str]:
    lines = (FIXTURES / name).read_text().splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


DOS = corpus("template_dos.txt")
LEAKS = corpus("template_leaks.txt")


def ana() -> dict[str, object]:
    return context_for(Lead.register(
        lead_id=uuid4(), agent_id="agent-7", name="Ana Lima", email=None, phone=None,
        timezone="UTC", timeline="soon",
        preferences={"property_type": "condo", "area": "Uptown", "max_price": 450000}))


@contextmanager
def cpu_time() -> Iterator[Callable[[], float]]:
    """This thread's CPU seconds inside the block (not wall time: a busy machine does not count
    against it; nor does a collection of the whole process's garbage, held off meanwhile)."""
    gc.disable()
    started = time.thread_time()
    ended: list[float] = []
    try:
        yield lambda: ended[0] - started
    finally:
        ended.append(time.thread_time())
        gc.enable()


def test_the_corpus_holds_the_known_payloads() -> None:
    assert len(DOS) >= 28 and len(LEAKS) >= 4


@pytest.mark.parametrize("text", DOS)
def test_a_denial_of_service_template_is_refused_within_100_ms_of_cpu(text: str) -> None:
    with cpu_time() as seconds, pytest.raises(Invalid) as refused:
        JinjaRenderer().check(text, "body")
    assert seconds() < CPU_BOUND_SECONDS
    assert refused.value.field == "body"


@pytest.mark.parametrize("text", DOS)
def test_a_denial_of_service_template_takes_at_most_a_few_mb(text: str) -> None:
    renderer = JinjaRenderer()
    tracemalloc.start()
    try:
        with pytest.raises(Invalid):
            renderer.check(text, "body")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_BOUND_BYTES


@pytest.mark.parametrize("text", LEAKS)
def test_a_template_printing_a_python_object_is_refused_without_its_address(text: str) -> None:
    with pytest.raises(Invalid) as refused:
        JinjaRenderer().check(text, "body")
    assert "0x" not in refused.value.reason


def test_a_function_cannot_be_printed_but_can_be_called() -> None:
    renderer = JinjaRenderer()
    with pytest.raises(Invalid) as refused:
        renderer.render("{{ lead.name.upper }}", ana())
    assert refused.value.reason == ("cannot render: the method 'upper' cannot be printed or "
                                    "used as text or data: call it")
    assert renderer.render("{{ lead.name.upper() }}", ana()) == "ANA LIMA"


@pytest.mark.parametrize(("text", "expected"), [
    ("{{ '%-6s|' % 'ab' }}{{ '{:>5}'.format(3) }}{{ '%.2f' % 2.5 }}", "ab    |    32.50"),
    ("{{ '{:,}'.format(lead.preferences.max_price) }}", "450,000"),
    ("{{ lead.preferences.max_price|filesizeformat }}", "450.0 kB"),
    ("{{ '%(first_name)s in %(timeline)s'|format(**lead) }}", "Ana in soon"),
    ("{{ 2 ** 64 }} {{ 7 // 2 }} {{ 7 % 3 }} {{ -(3 - 5) }} {{ 1 / 4 }}",
     "18446744073709551616 3 1 2 0.25"),
    ("{{ 'ab' * 3 ~ '!' }}{{ [0] * 2 + [1] }}", "ababab![0, 0, 1]"),
    ("{{ lead.first_name.center(9, '*') }}|{{ lead.first_name|center(7) }}",
     "***Ana***|  Ana  "),
    ("{{ lead.name|replace('Lima', 'L.')|upper }} {{ lead.name.split()|last }}", "ANA L. Lima"),
    ("{{ 'a\nb'|indent(2) }} {{ 'one two three'|wordwrap(7) }}", "a\n  b one two\nthree"),
    ("{{ range(3)|join(', ') }} {{ [3, 1, 2]|sort|list }} {{ range(5)|batch(2)|list }}",
     "0, 1, 2 [1, 2, 3] [[0, 1], [2, 3], [4]]"),
    ("{{ [1, 2]|map('string')|list }} {{ [1, 2]|map('string')|join }}", "['1', '2'] 12"),
    ("{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.cycle('+', '-') }}{{ x }}"
     "{% endfor %}", "1+a2-b3+c"),
    ("{% macro hi(n) %}Hi {{ n }}{% endmacro %}{{ hi(lead.first_name) }}", "Hi Ana"),
    ("{% set s %}x{{ lead.first_name }}{% endset %}{{ s }}{% filter upper %}y{% endfilter %}",
     "xAnaY"),
    ("{{ lead.preferences|dictsort|first|join('=') }} {{ lead.preferences.items()|length }}",
     "area=Uptown 3"),
    ("{{ lead|tojson }}", '{"first_name": "Ana", "name": "Ana Lima", "preferences": '
                          '{"area": "Uptown", "max_price": 450000, "property_type": "condo"}, '
                          '"timeline": "soon"}'),
])
def test_messages_render_as_jinja_renders_them(text: str, expected: str) -> None:
    assert JinjaRenderer().render(text, ana()) == expected


def test_a_render_that_goes_over_its_budget_stops_saying_so() -> None:
    loops = ("{% for i in range(1000) %}{% for j in range(1000) %}{{ j }}{% endfor %}"
             "{% endfor %}")
    with pytest.raises(Invalid) as refused:
        JinjaRenderer().render(loops, ana(), "body")
    assert refused.value.field == "body"
    assert refused.value.reason == ("cannot render: the template needs more than 50 ms of "
                                    "CPU time to render (a loop or a recursion too long?)")


# Whatever a template is built from, it renders or is refused, within the bounds -------------

RENDERER = JinjaRenderer()
ATOMS = st.sampled_from(["'ab'", "lead.name", "7", "9 ** 64", "[1, 'x']", "range(10)",
                         "'%5s'", "''", "'{0}{0}'", "lead.preferences", "'a\\nb'"])
NUMBERS = st.sampled_from(["2", "64", "1000", "40000", "99999999", "-1"])
OPERATORS = st.sampled_from(["*", "~", "+", "**", "%", "//"])
FILTERS = st.sampled_from([
    "center({n})", "indent({n}, true)", "wordwrap(1, wrapstring={e})", "join({e})",
    "replace('', {e})", "format({e})", "batch({n}, {e})", "slice({n})", "list", "string",
    "tojson", "sum(start=0)", "round({n}, 'floor')", "truncate({n})", "unique", "sort",
    "urlize", "title", "int", "map('string')", "first", "length"])
METHODS = st.sampled_from(["center({n})", "ljust({n})", "zfill({n})", "replace('', {e})",
                           "join({e})", "format({e}, {e})", "split()", "upper()"])


def _expressions(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    operand = st.one_of(inner, NUMBERS)
    return st.one_of(
        st.tuples(inner, OPERATORS, operand).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(inner, FILTERS, operand, NUMBERS).map(
            lambda t: f"({t[0]}|{t[1].format(e=t[2], n=t[3])})"),
        st.tuples(inner, METHODS, operand, NUMBERS).map(
            lambda t: f"({t[0]}).{t[1].format(e=t[2], n=t[3])}"))


EXPRESSIONS = st.recursive(ATOMS, _expressions, max_leaves=8)
SHAPES = st.sampled_from(["{{ %s }}", "{%% for i in range(1000) %%}{{ %s }}{%% endfor %%}",
                          "{%% macro m(n) %%}{{ %s }}{{ m(n - 1) if n }}{%% endmacro %%}"
                          "{{ m(900) }}"])


@settings(max_examples=150, deadline=None)
@given(expression=EXPRESSIONS, shape=SHAPES)
def test_any_template_renders_or_is_refused_within_the_bounds(expression: str,
                                                                shape: str) -> None:
    with cpu_time() as seconds:
        try:
            out = RENDERER.render(shape % expression, ana())
        except Invalid:
            out = ""
    assert seconds() < CPU_BOUND_SECONDS
    assert len(out) <= MAX_OUTPUT
