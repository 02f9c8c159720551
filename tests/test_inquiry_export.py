"""``consent-api inquiries list`` and ``export``: what sales and support read."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from inquiry_support import post

from consent_api.cli import cli


@pytest.fixture
def database_url(backend_url: str) -> str:
    return backend_url


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "INQUIRY_RATE_LIMIT": "100 per minute"}


def run(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_csv_has_a_header_and_one_row_per_inquiry_with_formulas_neutralised(
    app: Flask, client: FlaskClient
) -> None:
    first = post(client, name='=HYPERLINK("http://evil.example")', message="@SUM(A1)").json
    second = post(client, "demo", organization="+Acme", role="-Boss", phone="555 123 4567").json
    table = list(csv.reader(io.StringIO(run(app, "inquiries", "export", "--format", "csv"))))
    header, *rows = table
    assert header[:4] == ["reference", "kind", "created_at", "policy_version"]
    assert header[-1] == "signature_valid"
    assert {"name", "email", "organization", "topic", "message", "role", "phone"} <= set(header)
    assert [row[0] for row in rows] == [first["reference"], second["reference"]]
    by_column = [dict(zip(header, row, strict=True)) for row in rows]
    assert by_column[0]["name"] == '\'=HYPERLINK("http://evil.example")'
    assert by_column[0]["message"] == "'@SUM(A1)"
    assert by_column[0]["role"] == ""
    assert by_column[1]["organization"] == "'+Acme"
    assert by_column[1]["role"] == "'-Boss"
    assert by_column[1]["phone"] == "555 123 4567"
    assert by_column[1]["signature_valid"] == "True"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Bob;=1+1;x"),
        ("name", "Bob,+1,x"),
        ("organization", "Acme|-2"),
        ("message", "Hi\t@SUM(A1)"),  # only the message may hold tabs and line breaks
        ("message", "Hi;\t=1\n=HYPERLINK(1)\r\n+x"),
    ],
)
def test_no_cell_starts_a_formula_however_an_import_splits_the_cells(
    app: Flask, client: FlaskClient, field: str, value: str
) -> None:
    assert post(client, **{field: value}).status_code == 201
    raw = run(app, "inquiries", "export", "--format", "csv")
    assert raw.startswith('"reference","kind",')  # every cell quoted
    header, row = list(csv.reader(io.StringIO(raw)))
    assert all(f'"{cell}"' in raw for cell in row)
    # What a spreadsheet splitting on ';', ',', '|', tabs or lines would see as cells:
    for cell in row:
        pieces = re.split(r"[;,|\t\r\n]", cell)
        assert not [piece for piece in pieces if piece[:1] in ("=", "+", "-", "@")], cell
    exported = dict(zip(header, row, strict=True))
    assert exported[field].replace("'", "") == value.replace("\r\n", "\n")  # only apostrophes


def test_json_export_and_list_filter_by_kind_and_date(app: Flask, client: FlaskClient) -> None:
    with time_machine.travel("2026-04-01T12:00:00Z"):
        old = post(client).json["reference"]
    new = post(client, "demo").json["reference"]
    exported = json.loads(run(app, "inquiries", "export", "--format", "json"))
    assert [row["reference"] for row in exported] == [old, new]
    assert exported[0]["email"] == "ada@example.com"
    assert (
        json.loads(run(app, "inquiries", "export", "--format", "json", "--kind", "demo"))[0][
            "reference"
        ]
        == new
    )
    listed = run(app, "inquiries", "list", "--until", "2026-04-02")
    assert old in listed and new not in listed
    assert "Ada Lovelace" in listed
    assert new in run(app, "inquiries", "list", "--since", "2026-04-02", "--kind", "demo")
