"""The ``consent-api`` command: Flask's CLI for this app, plus the service's own commands."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, routes_command, shell_command

from . import create_app, serve
from .exc import ConfigError


class ServiceGroup(FlaskGroup):
    """Flask's group without app discovery: every command is registered here, so ``--help``
    works anywhere, even where the service's configuration would refuse to start."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return click.Group.get_command(self, ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return click.Group.list_commands(self, ctx)


cli = ServiceGroup(
    name="consent-api",
    create_app=lambda: create_app(),
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    help="CareCaller's consent and inquiry records service.",
)
# Flask's own options pick another app or a .env file; this command serves one app only.
cli.params = [param for param in cli.params if param.name not in {"app", "env_file", "debug"}]
cli.add_command(shell_command)
cli.add_command(routes_command)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, help="Worker processes.")
@click.option("--threads", default=4, show_default=True, help="Threads per worker.")
def serve_command(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the built site and the API with gunicorn."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"Serving the site and the API on http://{host}:{port}/ (Ctrl+C stops)")
    serve.run(app, host, port, workers, threads)


def main() -> None:
    """Entry point of the ``consent-api`` console script."""
    try:
        cli.main(prog_name="consent-api")
    except ConfigError as error:
        sys.exit(f"consent-api: {error}")
