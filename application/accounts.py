"""Account use cases: brokerages, users, sign-in and sessions, API tokens.

Passwords are hashed (argon2, by the composition root's hasher) and kept with token and
session digests in the credential store, never in the log. A failed sign-in says the same
whether or not the email has an account, and takes about as long."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from application.access import (
    INTEGRATION,
    ROLE_SCOPES,
    Principal,
    RateLimited,
    Scope,
    SignInRefused,
)
from application.core import Core
from application.credentials import (
    TOKEN_PREFIX,
    Credentials,
    PasswordHasher,
    SessionRecord,
    TokenRecord,
    digest,
    new_secret,
)
from application.errors import Invalid, NotAllowed, NotFound
from domain import ids
from domain.account import Brokerage, Role, User, check_email

MIN_PASSWORD = 10
MAX_PASSWORD = 1000
SESSION_HOURS = 12


@dataclass(frozen=True)
class UserView:
    id: UUID
    brokerage_id: UUID
    email: str
    name: str
    role: str
    agent_id: str
    active: bool

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(id=user.id, brokerage_id=user.brokerage_id, email=user.email, name=user.name,
                   role=user.role, agent_id=user.agent_id, active=user.active)


@dataclass(frozen=True)
class SignedIn:
    secret: str  # the session cookie's value: given once, kept only as a digest
    csrf: str
    user: UserView
    expires_at: datetime


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once, kept only as a digest
    record: TokenRecord


def check_password(password: str, field: str = "password") -> str:
    if len(password) < MIN_PASSWORD:
        raise Invalid(field, f"must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise Invalid(field, f"must be at most {MAX_PASSWORD} characters")
    return password


class AccountUseCases(Core):
    # The parts outside the log ---------------------------------------------

    @property
    def _store(self) -> Credentials:
        assert self.credentials is not None, "the composition root sets the credential store"
        return self.credentials

    @property
    def _hasher(self) -> PasswordHasher:
        assert self.passwords is not None, "the composition root sets the password hasher"
        return self.passwords

    # Brokerages and users --------------------------------------------------

    def open_brokerage(self, slug: str, name: str, by: str | None = None) -> UUID:
        """The brokerage of that short name, opened if new (opening it again is a no-op)."""
        brokerage_id = ids.brokerage_id(slug)
        if not self.exists(brokerage_id):
            self.save(Brokerage.open(brokerage_id=brokerage_id, slug=slug, name=name, by=by))
        return brokerage_id

    def brokerage(self, brokerage_id: UUID) -> Brokerage:
        return self.load(Brokerage, brokerage_id)

    def create_user(self, *, brokerage_id: UUID, email: str, name: str, role: str,
                    password: str, agent_id: str | None = None,
                    by: str | None = None) -> UserView:
        """A new account in the brokerage; one email has one account in all of followup."""
        user_id = ids.user_id(check_email(email))
        hashed = self._hasher.hash(check_password(password))

        def command() -> UserView:
            brokerage = self.load(Brokerage, brokerage_id)
            if self.exists(user_id):
                raise NotAllowed("email", "an account with this email already exists")
            user = User.register(user_id=user_id, brokerage_id=brokerage_id, email=email,
                                 name=name, role=role, agent_id=agent_id, by=by)
            brokerage.add(user_id, user.agent_id, Role(user.role))
            user.password_set(self.clock.now(), by)
            self._store.set_password(user_id, hashed)
            self.save(brokerage, user)
            return UserView.of(user)

        return self.retrying(command)

    def users(self, principal: Principal) -> list[UserView]:
        """The brokerage's accounts (an admin's view)."""
        members = self.load(Brokerage, principal.brokerage_id).members
        found = self.load_many(User, [UUID(u) for u in members])
        return [UserView.of(u) for u in found.values()]

    def user(self, user_id: UUID) -> UserView:
        return UserView.of(self.load(User, user_id))

    # Signing in ------------------------------------------------------------

    def sign_in(self, email: str, password: str, address: str) -> SignedIn:
        """A new session for the account, or ``SignInRefused`` (or ``RateLimited``)."""
        normal = email.strip().lower()
        keys = [f"account:{normal}", f"address:{address}"]
        limiter = self.sign_in_limiter
        wait = limiter.blocked(keys) if limiter else None
        if wait is not None:
            raise RateLimited(wait)
        user = self._matching(normal, password)
        if user is None:
            if limiter:
                limiter.failed(keys)
            raise SignInRefused("the email or the password is wrong")
        if limiter:
            limiter.clear(keys[0])
        return self._start_session(user)

    def _matching(self, email: str, password: str) -> User | None:
        try:
            user: User | None = self.load(User, ids.user_id(email))
        except (NotFound, ValueError):
            user = None
        hashed = self._store.password(user.id) if user else None
        # Verify even without an account, so a wrong email takes as long as a wrong password.
        ok = self._hasher.verify(password[:MAX_PASSWORD], hashed or self._decoy())
        return user if ok and hashed and user and user.active else None

    def _decoy(self) -> str:
        if getattr(self, "_decoy_hash", None) is None:
            self._decoy_hash = self._hasher.hash(new_secret())
        return self._decoy_hash

    def _start_session(self, user: User) -> SignedIn:
        secret, now = new_secret(), self.clock.now()
        record = SessionRecord(user_id=user.id, csrf=new_secret(), created_at=now,
                               expires_at=now + timedelta(hours=SESSION_HOURS))
        self._store.add_session(digest(secret), record)
        return SignedIn(secret=secret, csrf=record.csrf, user=UserView.of(user),
                        expires_at=record.expires_at)

    def session_principal(self, secret: str) -> Principal | None:
        """The signed-in user of this session cookie, if it is current."""
        record = self._store.session(digest(secret))
        if record is None or record.expires_at <= self.clock.now():
            return None
        user = self._active(record.user_id)
        if user is None:
            return None
        return Principal(brokerage_id=user.brokerage_id, role=user.role,
                         scopes=ROLE_SCOPES[user.role], user_id=user.id,
                         agent_id=user.agent_id, csrf=record.csrf)

    def _active(self, user_id: UUID) -> User | None:
        try:
            user = self.load(User, user_id)
        except NotFound:
            return None
        return user if user.active else None

    def sign_out(self, principal: Principal, secret: str) -> None:
        if principal.user_id is not None:
            self._store.drop_sessions(principal.user_id, only=digest(secret))

    def change_password(self, principal: Principal, current: str, new: str,
                        session_secret: str | None = None) -> None:
        """Change one's own password; every other session of the account ends."""
        if principal.user_id is None:
            raise NotAllowed("password", "a token has no password")
        user = self.load(User, principal.user_id)
        hashed = self._store.password(user.id)
        if not hashed or not self._hasher.verify(current[:MAX_PASSWORD], hashed):
            raise Invalid("currentPassword", "is wrong: it is not this account's password")
        if new == current:
            raise Invalid("newPassword", "must differ from the current password")
        self.set_password(user.id, new, by=principal.actor, field="newPassword")
        keep = digest(session_secret) if session_secret else None
        self._store.drop_sessions(user.id, keep=keep)

    def set_password(self, user_id: UUID, password: str, *, by: str | None,
                     field: str = "password") -> None:
        hashed = self._hasher.hash(check_password(password, field))

        def command() -> None:
            user = self.load(User, user_id)
            user.password_set(self.clock.now(), by)
            self._store.set_password(user_id, hashed)
            self.save(user)

        self.retrying(command)

    # API tokens ------------------------------------------------------------

    def issue_token(self, principal: Principal, *, name: str, scopes: list[str],
                    for_brokerage: bool = False) -> IssuedToken:
        """A token acting as the principal's user (or, from an admin, for the brokerage), with
        no scope the principal lacks. Its secret is answered once and kept as a digest."""
        if not name.strip() or len(name) > 100:
            raise Invalid("name", "must be 1 to 100 characters")
        wanted = _scopes(scopes, principal)
        if for_brokerage and not principal.is_admin:
            raise NotAllowed("forBrokerage", "only an admin issues tokens of the brokerage")
        if principal.user_id is None or principal.token_id is not None:
            raise NotAllowed("token", "tokens are issued by a signed-in user")
        return self._issue(principal.brokerage_id, None if for_brokerage else principal.user_id,
                           name, wanted, principal.actor)

    def issue_brokerage_token(self, brokerage_id: UUID, *, name: str, scopes: list[str],
                              by: str) -> IssuedToken:
        """A token of the brokerage, made by an operator (``followup tokens create``)."""
        if not name.strip() or len(name) > 100:
            raise Invalid("name", "must be 1 to 100 characters")
        self.load(Brokerage, brokerage_id)
        everything = Principal(brokerage_id=brokerage_id, role=INTEGRATION,
                               scopes=frozenset(Scope))
        return self._issue(brokerage_id, None, name, _scopes(scopes, everything), by)

    def _issue(self, brokerage_id: UUID, user_id: UUID | None, name: str,
               scopes: tuple[str, ...], by: str) -> IssuedToken:
        record = TokenRecord(token_id=uuid4(), brokerage_id=brokerage_id, user_id=user_id,
                             name=name.strip(), scopes=scopes, created_at=self.clock.now(),
                             created_by=by)
        secret = new_secret(TOKEN_PREFIX)
        self._store.add_token(digest(secret), record)
        return IssuedToken(token=secret, record=record)

    def tokens(self, principal: Principal) -> list[TokenRecord]:
        """An admin's view: every token of the brokerage; anyone else's: their own."""
        mine = None if principal.is_admin else principal.user_id
        return list(self._store.tokens(principal.brokerage_id, mine))

    def revoke_token(self, principal: Principal, token_id: UUID) -> None:
        if not any(t.token_id == token_id for t in self.tokens(principal)):
            raise NotFound("Token", token_id)
        self._store.revoke_token(token_id, self.clock.now())

    def token_principal(self, secret: str) -> Principal | None:
        record = self._store.token(digest(secret)) if secret.startswith(TOKEN_PREFIX) else None
        if record is None or record.revoked_at is not None:
            return None
        if record.user_id is None:
            return Principal(brokerage_id=record.brokerage_id, role=INTEGRATION,
                             scopes=frozenset(record.scopes), token_id=record.token_id)
        user = self._active(record.user_id)
        if user is None:
            return None
        return Principal(brokerage_id=user.brokerage_id, role=user.role,
                         scopes=frozenset(record.scopes) & ROLE_SCOPES[user.role],
                         user_id=user.id, agent_id=user.agent_id, token_id=record.token_id)


def _scopes(scopes: list[str], principal: Principal) -> tuple[str, ...]:
    if not scopes:
        raise Invalid("scopes", "name at least one scope")
    known = {s.value for s in Scope}
    for i, scope in enumerate(scopes):
        if scope not in known:
            raise Invalid(f"scopes[{i}]", f"{scope!r} is not a scope; use one of "
                          f"{', '.join(sorted(known))}")
        if scope not in principal.scopes:
            raise Invalid(f"scopes[{i}]", f"{scope!r} is more than you may do yourself")
    return tuple(sorted(set(scopes)))

