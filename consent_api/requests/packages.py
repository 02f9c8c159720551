"""An access request's package: stored when staff fulfil the request, downloaded once through
the signed link in the answer's email (``links.PACKAGE``, 7 days), then its body is deleted.

No data goes by email: the download is a ZIP of the records as JSON and a readable HTML
summary. The page the link opens asks for one click to download (``GET``), so a mail scanner
that follows links does not use up the one download.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from typing import Any

from flask import Blueprint, Flask
from sqlalchemy import Connection, delete, func, select, update
from werkzeug.wrappers import Response

from consent_api.exc import ApiError
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.records.schema import request_packages as table
from consent_api.requests import answers, links
from consent_api.requests.links import BadLink, LinkBody
from consent_api.retention import purge
from consent_api.web import bodies, openapi
from consent_api.web.openapi import ErrorBody

bp = Blueprint("privacy_request_packages", __name__, url_prefix="/api/privacy-requests")
DAYS = dt.timedelta(days=7)
USED = (
    "This download link has been used already: a copy is downloaded once. Make an access "
    "request again for a new copy."
)
GONE = "This copy is no longer kept: copies are deleted 7 days after we send the link."


def keep(connection: Connection, reference: str, listed: dict[str, Any]) -> None:
    """Store the package for ``reference`` in the caller's transaction (again: replaced)."""
    now = records.now()
    connection.execute(delete(table).where(table.c.reference == reference))
    connection.execute(
        table.insert(),
        {
            "reference": reference,
            "created_at": now,
            "expires_at": now + DAYS,
            "body": json.dumps(listed, ensure_ascii=False, sort_keys=True),
        },
    )


def _state(reference: str) -> Any:
    with storage.reading() as connection:
        return connection.execute(select(table).where(table.c.reference == reference)).first()


def _check(token: object) -> str:
    reference = links.read(links.PACKAGE, token)
    row = _state(reference)
    if row is None or row.expires_at <= records.now():
        raise BadLink(GONE, code="link_unknown", status=404)
    if row.body is None:
        raise BadLink(USED, code="link_used", status=409)
    return reference


def take(token: object) -> tuple[str, dict[str, Any]]:
    """The package a download link names, once: its body is deleted as it is read."""
    reference = _check(token)
    with storage.transaction() as connection:
        body = connection.scalar(select(table.c.body).where(table.c.reference == reference))
        # RETURNING would give the new value (none): the update's count says who took it.
        taken = connection.execute(
            update(table)
            .where(table.c.reference == reference, table.c.body.is_not(None))
            .values(body=None, downloaded_at=records.now())
        ).rowcount
    if body is None or not taken:
        raise BadLink(USED, code="link_used", status=409)
    return reference, json.loads(body)


def archive(reference: str, listed: dict[str, Any]) -> bytes:
    """The ZIP: ``records.json`` and ``summary.html``."""
    package = {"reference": reference, "generated_at": records.isoformat(records.now()), **listed}
    summary = answers.templates.get_template("summary.html").render(package=package)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive_file:
        archive_file.writestr("records.json", json.dumps(package, ensure_ascii=False, indent=2))
        archive_file.writestr("summary.html", summary)
    return buffer.getvalue()


def download_page(token: str) -> Response:
    """The page the answer's link opens: one button to download."""
    try:
        _check(token)
    except BadLink as error:
        return answers.problem(error)
    return answers.page(
        "download",
        token=token,
        action=f"{answers.api_base()}/privacy-requests/download",
        button="Download my information",
    )


def download() -> Response:
    """Download an access package with the token from the answer's link (once)."""
    data, plain = bodies.submitted()
    try:
        token = data.get("token") if plain else bodies.validate(LinkBody, data).token
        reference, listed = take(token)
    except ApiError as error:
        if not plain:
            raise
        return answers.problem(error)
    response = Response(archive(reference, listed), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="carecaller-{reference}.zip"'
    response.headers["Cache-Control"] = "no-store"
    return response


bp.add_url_rule(
    "/download",
    "download",
    answers.documented({200: None, **answers.BAD_LINK, 415: ErrorBody}, LinkBody)(download),
    methods=["POST"],
)
bp.add_url_rule(
    "/download/<token>", "download_page", answers.documented(answers.LINK_PAGE)(download_page)
)


def _expired(moment: dt.datetime) -> Any:
    return table.c.expires_at < moment


def _count(moment: dt.datetime) -> int:
    with storage.reading() as connection:
        count = connection.scalar(select(func.count()).select_from(table).where(_expired(moment)))
        return int(count or 0)


def _delete(moment: dt.datetime) -> int:
    with storage.transaction() as connection:
        return int(connection.execute(delete(table).where(_expired(moment))).rowcount)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    purge.register(app, "access packages", purge.Step(due=_count, delete=_delete))
    answers.document_pages(
        app,
        {
            ("post", "/api/privacy-requests/download"): (400, 404, 409, 410, 429, 503),
            ("get", "/api/privacy-requests/download/{token}"): (200, 400, 404, 409, 410),
        },
    )
    openapi.refine(app, _document_archive)


def _document_archive(spec: dict[str, Any]) -> None:
    answer = spec["paths"]["/api/privacy-requests/download"]["post"]["responses"]["200"]
    answer["content"] = {"application/zip": {"schema": {"type": "string", "format": "binary"}}}
