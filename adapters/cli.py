"""The `followup` command: run the processes."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError

from adapters.bootstrap import Runtime
from adapters.cli_accounts import register as register_accounts
from adapters.settings import Settings

cli = typer.Typer(help="Event-sourced follow-up workflows for real-estate agents.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


def _runtime() -> Runtime:
    try:
        settings = Settings()
    except ValidationError as e:
        for error in e.errors():
            field = "FOLLOWUP_" + "_".join(str(p) for p in error["loc"]).upper()
            typer.echo(f"error: {field}: {error['msg']}", err=True)
        raise typer.Exit(2) from None
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return Runtime(settings)


def _serve_api(runtime: Runtime) -> None:
    from api.main import create_app

    s = runtime.settings
    uvicorn.run(create_app(runtime, node_modules=s.assets_dir), host=s.api_host,
                port=s.api_port, log_level="warning")


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def _needs_servers(runtime: Runtime, what: str) -> None:
    if runtime.settings.embedded or runtime.settings.redis_url is None:
        typer.echo(f"error: `followup {what}` runs as its own process only with "
                   "FOLLOWUP_DATABASE_URL and FOLLOWUP_REDIS_URL set; "
                   "use `followup run` for the embedded set-up", err=True)
        raise typer.Exit(2)


@cli.command()
def run(demo: Annotated[bool, typer.Option(help="load the demo into an empty log")] = False
        ) -> None:
    """Everything in one process: API, scheduler, sender worker and projections."""
    runtime = _runtime()
    sign_in = None
    if demo:
        from adapters.demo import load_demo

        sign_in = load_demo(runtime.app)
    runtime.start_projector()
    runtime.start_scheduler()
    runtime.start_worker()
    s = runtime.settings
    url = f"http://{s.api_host}:{s.api_port}"
    typer.echo(f"followup: the app on {url}/ and the API's documentation on {url}/docs "
               f"({'embedded, data in ' + str(s.data_dir) if s.embedded else 'PostgreSQL/Redis'})")
    if sign_in is not None:
        typer.echo(f"followup: demo sign-in: {sign_in.email} with the password "
                   f"{sign_in.password} (new at each start of the demo)")
    try:
        _serve_api(runtime)
    finally:
        runtime.stop()


@cli.command()
def api() -> None:
    """The HTTP API."""
    runtime = _runtime()
    try:
        _serve_api(runtime)
    finally:
        runtime.stop()


@cli.command()
def scheduler() -> None:
    """The trigger policy, the due-index feeder and the claim loop."""
    runtime = _runtime()
    _needs_servers(runtime, "scheduler")
    runtime.start_scheduler()
    _wait_for_signal()
    runtime.stop()


@cli.command()
def worker() -> None:
    """Dramatiq sender actors."""
    runtime = _runtime()
    _needs_servers(runtime, "worker")
    runtime.start_worker()
    _wait_for_signal()
    runtime.stop()


@cli.command()
def projector(rebuild: Annotated[bool, typer.Option(help="drop the read models first")] = False
              ) -> None:
    """The read models (lead history, messages, directory, due steps)."""
    runtime = _runtime()
    _needs_servers(runtime, "projector")
    if rebuild:
        for projection in runtime.read_models.members:
            projection.drop()
    runtime.start_projector()
    _wait_for_signal()
    runtime.stop()


register_accounts(cli, _runtime)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
