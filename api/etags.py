"""ETag and If-Match: a draft or a template is changed only by a client that read its current
version. The ETag is the aggregate's version, quoted (a strong validator: any change of the
aggregate changes it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Response


class IfMatchMissing(Exception):
    """A change that needs an If-Match header came without one (428; see ``api.errors``)."""


#: The ETag header a response documents.
ETAG: dict[int | str, dict[str, Any]] = {200: {"headers": {"ETag": {
    "description": "the resource's version: send it as If-Match to change it",
    "schema": {"type": "string"}}}}}


def etag(version: int) -> str:
    return f'"{version}"'


def tagged(response: Response, version: int) -> None:
    """Answer the version's ETag."""
    response.headers["ETag"] = etag(version)


def versions(if_match: str) -> frozenset[int] | None:
    """The versions an If-Match value names (None for ``*``: any). Weak or malformed tags name
    none, so they never match (If-Match compares strongly)."""
    if if_match.strip() == "*":
        return None
    tags = (t.strip() for t in if_match.split(","))
    return frozenset(int(t[1:-1]) for t in tags
                     if len(t) > 2 and t[0] == t[-1] == '"' and t[1:-1].isdigit()
                     and len(t) < 20)


def required_if_match(if_match: Annotated[str | None, Header(
        alias="If-Match", description="the ETag of the resource as last read")] = None
                      ) -> frozenset[int] | None:
    if if_match is None:
        raise IfMatchMissing()
    return versions(if_match)


#: The If-Match a change requires: the versions it may be made on (None: any).
IfMatch = Annotated[frozenset[int] | None, Depends(required_if_match)]
