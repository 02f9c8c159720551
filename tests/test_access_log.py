"""The access log line is written once the response is over, not when the app returns."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from consent_api.requests import links
from consent_api.web import access_log


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(record.getMessage()))


@pytest.fixture
def logged() -> Iterator[list[dict[str, object]]]:
    handler = Lines()
    access_log.logger.addHandler(handler)
    yield handler.lines
    access_log.logger.removeHandler(handler)


def test_the_line_is_written_when_the_body_has_been_sent(
    client: FlaskClient, logged: list[dict[str, object]]
) -> None:
    response = client.get("/platform/?ref=someone", buffered=False)
    assert logged == []  # the app has returned, but no byte of the body has been sent yet
    assert b"Platform" in response.get_data()
    response.close()
    assert [{k: v for k, v in line.items() if k != "ms"} for line in logged] == [
        {"method": "GET", "path": "/platform/", "status": 200}
    ]


@pytest.mark.parametrize("page", ["confirm", "download"])
def test_a_privacy_request_link_is_logged_without_its_token(
    app: Flask, client: FlaskClient, logged: list[dict[str, object]], page: str
) -> None:
    # The token names a person's request: the line says which page, never which request.
    with app.app_context():
        token = links.make(links.VERIFY if page == "confirm" else links.PACKAGE, "R" * 22)
    client.get(f"/api/privacy-requests/{page}/{token}").close()
    client.post(f"/api/privacy-requests/{page}", data={"token": token}).close()
    client.post(f"/api/privacy-requests/{page}", json={"token": token}).close()
    assert [(line["method"], line["path"]) for line in logged] == [
        ("GET", f"/api/privacy-requests/{page}/<link>"),
        ("POST", f"/api/privacy-requests/{page}"),
        ("POST", f"/api/privacy-requests/{page}"),
    ]
    assert token not in json.dumps(logged)
    assert "R" * 22 not in json.dumps(logged)
