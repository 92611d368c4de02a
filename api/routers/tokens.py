"""API tokens for integrations (the scoring system, the CRM): made by a signed-in user, with
scopes no wider than their own; the secret is answered once and kept only as a digest."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from api.account_schemas import ScopePublic, TokenCreate, TokenIssued, TokenPublic
from api.auth import PrincipalDep, SignedIn
from api.deps import AppDep
from api.errors import AUTH, BODY, CHANGE, FOUND
from application.access import SCOPE_TEXT
from application.credentials import TokenRecord

router = APIRouter(prefix="/api/tokens", tags=["tokens"], responses=AUTH)


def _public(record: TokenRecord) -> dict[str, object]:
    return {"id": record.token_id, "name": record.name, "scopes": list(record.scopes),
            "user_id": record.user_id, "created_at": record.created_at,
            "created_by": record.created_by, "revoked_at": record.revoked_at}


@router.get("/scopes")
def list_scopes(who: PrincipalDep) -> list[ScopePublic]:
    return [ScopePublic(name=s.value, description=text) for s, text in SCOPE_TEXT.items()]


@router.get("")
def list_tokens(who: SignedIn, app: AppDep) -> list[TokenPublic]:
    """One's own tokens; an admin's view: every token of the brokerage. Newest first."""
    return [TokenPublic.model_validate(_public(t)) for t in app.tokens(who)]


@router.post("", status_code=status.HTTP_201_CREATED, responses=CHANGE | BODY)
def create_token(body: TokenCreate, who: SignedIn, app: AppDep) -> TokenIssued:
    issued = app.issue_token(who, name=body.name, scopes=list(body.scopes),
                             for_brokerage=body.for_brokerage)
    return TokenIssued.model_validate({**_public(issued.record), "token": issued.token})


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT, responses=FOUND)
def revoke_token(token_id: UUID, who: SignedIn, app: AppDep) -> None:
    app.revoke_token(who, token_id)
