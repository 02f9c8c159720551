"""The ``consent-api`` command: Flask's CLI for this app, plus the service's own commands."""

from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, routes_command, shell_command

from consent_api import create_app, serve
from consent_api.analytics import report as analytics_report
from consent_api.exc import ConfigError, ConsentApiError, NotFound
from consent_api.inquiries import export as inquiry_export
from consent_api.outbox import cli as outbox
from consent_api.records import schema, storage
from consent_api.records import store as records
from consent_api.requests import cli as privacy_requests
from consent_api.requests import rights
from consent_api.retention import purge as retention
from consent_api.web import deploy_headers


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
cli.add_command(inquiry_export.cli)
cli.add_command(outbox.cli)
cli.add_command(deploy_headers.cli)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(min=1), help="Worker processes."
)
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(min=1),
    help="Threads per worker.",
)
def serve_command(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the built site and the API (waitress, in worker processes)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if workers > 1 and str(app.config["RATELIMIT_STORAGE_URI"]).startswith("memory://"):
        # Each process would count on its own: N workers would let N times the limit through.
        raise ConfigError(
            f"--workers {workers} with CONSENT_API_RATELIMIT_STORAGE_URI=memory:// would give "
            "each worker a limit of its own: serve with one worker (and more --threads), or "
            "share the limit (CONSENT_API_RATELIMIT_STORAGE_URI=redis://host:6379)"
        )
    click.echo(f"Serving the site and the API on http://{host}:{port}/ (Ctrl+C stops)")
    serve.run(app, host, port, workers, threads)


@cli.command("migrate")
def migrate_command() -> None:
    """Create or upgrade the database schema (safe to repeat, and to run on several hosts)."""
    with storage.transaction() as connection:
        applied = schema.migrate(connection)
    for migration in applied:
        click.echo(f"applied migration {migration.version}: {migration.name}")
    click.echo(f"database schema is at version {schema.LATEST}")


cli.add_command(migrate_command, "init-db")


@cli.command("verify")
def verify_command() -> None:
    """Check the signature of every stored record; exit status 1 if any fails."""
    result = records.verify_all()
    for record in result.failed:
        click.echo(
            f"FAILED {record.public_id} kind={record.kind} created_at="
            f"{records.isoformat(record.created_at)}: does not match its signature",
            err=True,
        )
    click.echo(f"{result.checked} records checked, {len(result.failed)} failed")
    if result.failed:
        raise click.ClickException(
            f"{len(result.failed)} records fail verification: they were changed outside the "
            "service, or were signed with a key that is no longer in SECRET_KEYS"
        )


@cli.command("show")
@click.argument("public_id")
def show_command(public_id: str) -> None:
    """Print the record with this public ID as JSON."""
    try:
        record = records.get(public_id)
    except NotFound as error:
        raise click.ClickException(f"{public_id}: {error.message}") from error
    click.echo(json.dumps(record.as_dict(), indent=2, ensure_ascii=False))


cli.add_command(retention.purge_command)
cli.add_command(retention.hold_command)
cli.add_command(retention.release_command)
cli.add_command(rights.export_command)
cli.add_command(rights.erase_command)
cli.add_command(privacy_requests.requests_group)
cli.add_command(analytics_report.report_command)


def main() -> None:
    """Entry point of the ``consent-api`` console script."""
    try:
        cli.main(prog_name="consent-api")
    except (ConfigError, ConsentApiError) as error:
        sys.exit(f"consent-api: {error}")
