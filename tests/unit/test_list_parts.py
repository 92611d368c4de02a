"""The lists' pure parts: cursors, the search's words and prefix ranges, and the reach."""

from __future__ import annotations

from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.access import ROLE_SCOPES, Principal
from application.errors import Invalid
from application.list_views import LeadFilter, Reach
from application.lists import check_leads, reach
from projections.lead_terms import after_prefix, search_words, terms_of
from projections.paging import BIGINT, decode, encode

KEYS = st.lists(st.one_of(st.integers(-BIGINT, BIGINT - 1),
                          st.text(st.characters(blacklist_categories=["Cs"],
                                                blacklist_characters="\x00"))),
                min_size=1, max_size=3)


@given(kind=st.sampled_from(["leads/score", "workflows"]), key=KEYS)
def test_a_cursor_gives_back_its_keys(kind: str, key: list[int | str]) -> None:
    types = [type(k) for k in key]
    assert decode(kind, encode(kind, key), types) == tuple(key)


@given(cursor=st.text(max_size=200))
def test_any_other_text_is_refused_as_a_cursor_naming_the_query_field(cursor: str) -> None:
    try:
        decode("leads/score", cursor, [int, int])
    except Invalid as e:
        assert (e.where, e.field) == ("query", "cursor")


@pytest.mark.parametrize("key", [[True, 1], [1.5, 1], [2 ** 63, 1], ["1", 1], [1]])
def test_a_cursor_with_keys_of_the_wrong_kind_or_size_is_refused(key: list[object]) -> None:
    with pytest.raises(Invalid):
        decode("leads/score", encode("leads/score", key), [int, int])  # type: ignore[arg-type]


def test_a_cursor_of_another_list_is_refused() -> None:
    with pytest.raises(Invalid):
        decode("leads/created", encode("leads/score", [5, 5]), [int, int])


TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=6)


@given(prefix=TEXT, text=TEXT)
def test_after_prefix_bounds_exactly_the_strings_that_start_with_the_prefix(
        prefix: str, text: str) -> None:
    upper = after_prefix(prefix)
    assert text.startswith(prefix) == (prefix <= text and (upper is None or text < upper))


def test_a_lead_is_found_by_the_start_of_each_word_of_its_name_and_email() -> None:
    terms = terms_of("Ana O'Neil-Costa", "Ana.ONeil+crm@Mail.Example.com")
    assert {"ana", "o'neil-costa", "o", "neil", "costa"} <= terms
    assert {"ana.oneil+crm@mail.example.com", "mail.example.com", "oneil", "crm", "mail",
            "example", "com"} <= terms
    assert terms_of("Élodie", None) == {"élodie"}
    assert search_words("  ÉLODIE  élodie li ") == ["élodie", "li"]


def test_an_agents_reach_is_their_own_and_a_wide_principals_what_it_asks() -> None:
    acme = uuid4()
    agent = Principal(brokerage_id=acme, role="agent", scopes=ROLE_SCOPES["agent"],
                      agent_id="ann")
    admin = Principal(brokerage_id=acme, role="admin", scopes=ROLE_SCOPES["admin"],
                      agent_id="ada")
    assert reach(agent) == reach(agent, "ann") == Reach(acme, "ann")
    assert reach(admin) == Reach(acme, None) and reach(admin, "bob") == Reach(acme, "bob")
    with pytest.raises(Invalid) as refused:
        reach(agent, "bob")
    assert (refused.value.where, refused.value.field) == ("query", "agentId")


@pytest.mark.parametrize(("wanted", "field"), [
    (LeadFilter(score_min=60, score_max=59), "scoreMin"),
    (LeadFilter(q=" \t "), "q"),
    (LeadFilter(q=" ".join("abcdefghi")), "q"),
])
def test_filters_that_cannot_match_are_refused(wanted: LeadFilter, field: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_leads(wanted)
    assert refused.value.field == field
    check_leads(LeadFilter(score_min=60, score_max=60, q=" ".join("abcdefgh")))
