"""Every body over MAX_CONTENT_LENGTH gets 413 and stores nothing, whatever its transfer
encoding; a chunked body within it is taken whole. Through the real server, chunked by hand."""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import LiveServer
from inquiry_support import CONTACT

from consent_api.config import DEFAULTS

LIMIT = DEFAULTS["MAX_CONTENT_LENGTH"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, built_site: Path) -> Iterator[LiveServer]:
    database = tmp_path_factory.mktemp("chunked") / "chunked.sqlite3"
    live = LiveServer(
        {
            "CONSENT_API_SITE_DIR": str(built_site),
            "CONSENT_API_DATABASE_URL": f"sqlite:///{database}",
            "CONSENT_API_FORM_TOKEN_MIN_SECONDS": "0",
            "CONSENT_API_INQUIRY_RATE_LIMIT": "1000 per minute",
        }
    )
    live.start()
    yield live
    live.stop()


def chunked_post(server: LiveServer, path: str, body: bytes, content_type: str) -> Any:
    """POST ``body`` in 1,000-byte chunks with no Content-Length: the status and the body."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    chunks = (body[start : start + 1000] for start in range(0, len(body), 1000))
    connection.request(
        "POST", path, body=chunks, headers={"Content-Type": content_type}, encode_chunked=True
    )
    response = connection.getresponse()
    answer = response.status, response.read()
    connection.close()
    return answer


def form_token(server: LiveServer) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/api/form-token")
    token: str = json.loads(connection.getresponse().read())["form_token"]
    connection.close()
    return token


def messages(server: LiveServer) -> list[str]:
    engine = sa.create_engine(server.env["CONSENT_API_DATABASE_URL"])
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT payload FROM records WHERE kind = 'contact'"))
        found = [json.loads(row[0])["message"] for row in rows]
    engine.dispose()
    return found


def form_body(server: LiveServer, message: str, token: str | None = None) -> bytes:
    fields = {**CONTACT, "form_token": token or form_token(server), "message": message}
    return urllib.parse.urlencode(fields).encode()


FORM = "application/x-www-form-urlencoded"


def test_a_chunked_form_post_over_the_limit_gets_413_and_stores_nothing(
    server: LiveServer,
) -> None:
    message = "予約" * 1496 + "確認"  # 2,994 characters: 27 KB form-encoded
    body = form_body(server, message)
    assert len(body) > LIMIT
    status, answer = chunked_post(server, "/api/contact", body, FORM)
    assert status == 413
    assert json.loads(answer)["error"]["code"] == "too_large"
    time.sleep(0.2)
    assert not any(stored.startswith("予約") for stored in messages(server))


def test_a_chunked_json_body_over_the_limit_gets_413_not_invalid_json(
    server: LiveServer,
) -> None:
    body = json.dumps({**CONTACT, "form_token": form_token(server), "message": "x" * LIMIT})
    status, answer = chunked_post(server, "/api/contact", body.encode(), "application/json")
    assert status == 413
    assert json.loads(answer)["error"]["code"] == "too_large"
    status, answer = chunked_post(server, "/api/consent", body.encode(), "application/json")
    assert (status, json.loads(answer)["error"]["code"]) == (413, "too_large")


def test_a_chunked_form_post_within_the_limit_is_stored_whole(server: LiveServer) -> None:
    message = "患者" * 800 + "end"  # 1,603 characters, 14 KB form-encoded: within the limit
    body = form_body(server, message)
    assert 1000 < len(body) <= LIMIT
    status, _ = chunked_post(server, "/api/contact", body, FORM)
    assert status == 303
    assert message in messages(server)


def test_a_body_of_exactly_the_limit_is_taken(server: LiveServer) -> None:
    token = form_token(server)  # one token: their lengths vary by a digit or two
    room = LIMIT - len(form_body(server, "", token))
    message = "予" * (room // 9) + "m" * (room % 9)  # 9 bytes form-encoded per "予"
    body = form_body(server, message, token)
    assert len(body) == LIMIT
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("POST", "/api/contact", body=body, headers={"Content-Type": FORM})
    status = connection.getresponse().status
    connection.close()
    assert status == 303
    assert message in messages(server)
