"""`followup users …` and `followup tokens …`: accounts made by an operator at a shell (the
first admin of a brokerage, a token for the scoring system). A refusal names the field and
exits 2; nothing is half made."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import typer

from adapters.bootstrap import Runtime
from application.access import SCOPE_TEXT
from application.errors import ApplicationError, Invalid, NotFound
from domain import ids
from domain.errors import DomainError

T = TypeVar("T")

users = typer.Typer(help="Accounts: brokerages' admins and agents.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens of a brokerage, for integrations.", no_args_is_help=True)

OPERATOR = "operator:cli"


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except (Invalid, DomainError) as e:
        typer.echo(f"error: {e.field}: {e.reason}", err=True)
        raise typer.Exit(2) from None
    except NotFound as e:
        typer.echo(f"error: {e.kind.lower()}: no {e.kind.lower()} {e.ident}", err=True)
        raise typer.Exit(2) from None
    except ApplicationError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None


def _with_runtime(make: Callable[[], Runtime], act: Callable[[Runtime], T]) -> T:
    runtime = make()
    try:
        with _refusals():
            return act(runtime)
    finally:
        runtime.stop()


def register(cli: typer.Typer, make_runtime: Callable[[], Runtime]) -> None:
    @users.command("create")
    def create_user(
        brokerage: Annotated[str, typer.Option(help="the brokerage's short name (made if new)")],
        email: Annotated[str, typer.Option()],
        role: Annotated[str, typer.Option(help="agent or admin")] = "agent",
        name: Annotated[str | None, typer.Option(help="defaults to the email's local part")]
        = None,
        brokerage_name: Annotated[str | None, typer.Option(help="for a new brokerage")] = None,
        agent_id: Annotated[str | None, typer.Option(
            help="the agent id the user's data carries: give an existing one to hand a "
                 "pre-accounts agent's leads and workflows to this account")] = None,
        password: Annotated[str, typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True,
            envvar="FOLLOWUP_NEW_PASSWORD", help="asked for when not given")] = "",
    ) -> None:
        """Make an account (the first admin of a brokerage, say)."""
        def act(rt: Runtime) -> str:
            brokerage_id = rt.app.open_brokerage(
                brokerage, brokerage_name or brokerage.replace("-", " ").title(), by=OPERATOR)
            user = rt.app.create_user(brokerage_id=brokerage_id, email=email,
                                      name=name or email.split("@")[0], role=role,
                                      password=password, agent_id=agent_id, by=OPERATOR)
            return f"{user.role} {user.email} of brokerage {brokerage} (user {user.id})"

        typer.echo(f"created {_with_runtime(make_runtime, act)}")

    @tokens.command("create")
    def create_token(
        brokerage: Annotated[str, typer.Option(help="the brokerage's short name")],
        name: Annotated[str, typer.Option(help="what it is for, e.g. scoring system")],
        scope: Annotated[list[str], typer.Option(
            help="repeat for each: " + ", ".join(s.value for s in SCOPE_TEXT))],
    ) -> None:
        """A token of the brokerage; printed once (only its digest is kept)."""
        def act(rt: Runtime) -> str:
            if ids.brokerage_id(brokerage) == ids.DEFAULT_BROKERAGE_ID:  # data from before
                rt.app.open_brokerage(brokerage, "Default brokerage", by=OPERATOR)
            issued = rt.app.issue_brokerage_token(ids.brokerage_id(brokerage), name=name,
                                                  scopes=scope, by=OPERATOR)
            return issued.token

        typer.echo(_with_runtime(make_runtime, act))

    cli.add_typer(users, name="users")
    cli.add_typer(tokens, name="tokens")
