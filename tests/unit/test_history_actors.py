"""How the lead's history names who acted (``projections.history_actors.who``)."""

from __future__ import annotations

from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections.history_actors import who

ANN_ID = "00000000-0000-4000-8000-00000000a770"
TOKEN_ID = "3f2a9c1e-0000-4000-8000-0000000070c1"
NAMES = {ANN_ID: "Ann Lee"}


@pytest.mark.parametrize(("actor", "name"), [
    (None, None),
    ("", None),
    (f"user:{ANN_ID}", "Ann Lee"),
    (f"token:{TOKEN_ID}", "API token 3f2a9c1e"),
    (f"user:{ANN_ID} via token:{TOKEN_ID}", "Ann Lee via API token 3f2a9c1e"),
    ("user:5b1d0000-0000-4000-8000-000000000000", "user 5b1d0000"),  # a user not (yet) known
])
def test_the_actor_reads_as_a_person_would_say_it(actor: str | None, name: str | None) -> None:
    assert who(actor, NAMES) == name


@given(st.text(max_size=200))
def test_any_text_an_event_holds_is_named_without_failing(actor: str) -> None:
    # Given whatever an event's ``by`` holds (a stored event is never rewritten)
    # When it is named, then there is a name for anything but nothing
    assert (who(actor, NAMES) is None) == (actor == "")


@given(st.sampled_from(["user", "token"]), st.uuids(), st.none() | st.uuids())
def test_a_name_never_shows_a_whole_id(kind: str, ident: UUID, via: UUID | None) -> None:
    # Given an actor of someone the history does not know by name
    actor = f"{kind}:{ident}" + (f" via token:{via}" if via and kind == "user" else "")
    # When it is named
    name = who(actor, NAMES)
    # Then it says what it is and the start of the ids, never a whole one
    assert name is not None and name.startswith("API token " if kind == "token" else "user ")
    assert str(ident) not in name and str(via) not in name
    assert str(ident)[:8] in name
