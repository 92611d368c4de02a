"""The brokerage's accounts, for its admins."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.account_schemas import UserCreate, UserPublic
from api.auth import Admin
from api.deps import AppDep
from api.errors import AUTH, BODY, CHANGE

router = APIRouter(prefix="/api/users", tags=["users"], responses=AUTH)


@router.get("")
def list_users(who: Admin, app: AppDep) -> list[UserPublic]:
    return [UserPublic.model_validate(u) for u in app.users(who)]


@router.post("", status_code=status.HTTP_201_CREATED, responses=CHANGE | BODY)
def create_user(body: UserCreate, who: Admin, app: AppDep) -> UserPublic:
    """A new agent (or admin) of the admin's own brokerage, with a first password to hand
    over; 409 when the email already has an account."""
    return UserPublic.model_validate(app.create_user(
        brokerage_id=who.brokerage_id, email=body.email, name=body.name, role=body.role,
        password=body.password, by=who.actor))
