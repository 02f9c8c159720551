"""deploy/: nginx in front of the running service, and systemd units that systemd accepts."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import re
import shlex
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BIN, ROOT, LiveServer, free_port
from consentkit import consent_body
from headers import HASHED_ASSET, PATHS, fetch_headers, resolve, wrong

from consent_api import create_app
from consent_api.config import DEFAULTS
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.requests import log
from consent_api.site import registry
from consent_api.site.forms import ALL_FORMS, Form

DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def nginx_conf(tmp: Path, site: Path, port: int, upstream: int) -> Path:
    """deploy/nginx/carecaller.conf with this test's paths and ports, in a minimal nginx.conf."""
    site_conf = (DEPLOY / "nginx" / "carecaller.conf").read_text(encoding="utf-8")
    site_conf = (
        site_conf.replace("listen 80;", f"listen 127.0.0.1:{port};")
        .replace("/srv/carecaller/site", str(site))
        .replace("127.0.0.1:8000", f"127.0.0.1:{upstream}")
        .replace(
            "/etc/nginx/snippets/carecaller-headers.conf",
            str(DEPLOY / "nginx" / "carecaller-headers.conf"),
        )
    )
    (tmp / "site.conf").write_text(site_conf, encoding="utf-8")
    user = "user root;" if os.geteuid() == 0 else ""
    main = f"""
{user}
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
"""
    path = tmp / "nginx.conf"
    path.write_text(main, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def proxy(
    tmp_path_factory: pytest.TempPathFactory, built_site: Path, site_server: LiveServer
) -> Iterator[str]:
    """nginx in front of the shared server, once for the module: no test here changes either."""
    if not Path(NGINX).exists():
        pytest.fail("nginx is missing: install it with 'apt-get install nginx-light' (as root)")
    port = free_port()
    conf = nginx_conf(tmp_path_factory.mktemp("nginx"), built_site, port, site_server.port)
    check = subprocess.run([NGINX, "-t", "-c", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([NGINX, "-c", str(conf)], stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/").close()
            break
        except OSError:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_nginx_serves_pages_with_csp_and_security_headers(proxy: str, built_site: Path) -> None:
    with urllib.request.urlopen(proxy + "/platform/") as response:
        assert response.status == 200
        assert b"Platform" in response.read()
        headers = response.headers
    policy = (built_site / "csp.txt").read_text(encoding="utf-8").strip()
    assert headers["Content-Security-Policy"] == policy
    assert wrong(headers.get) == {}
    assert headers["Server"] == "nginx"


@pytest.mark.parametrize("path", [*PATHS, HASHED_ASSET])
def test_nginx_sends_every_security_header_on_every_sort_of_answer(
    proxy: str, built_site: Path, path: str
) -> None:
    # Pages and files from nginx's snippet, the form pages and the API from the service.
    headers = fetch_headers(proxy + resolve(path, built_site))
    assert wrong(headers.get) == {}, path
    assert headers.get_all("X-Frame-Options") == ["DENY"], "sent once, not by both"


def test_nginx_hides_the_build_header_files_and_serves_the_404_page(proxy: str) -> None:
    for path in ("/csp.txt", "/_headers", "/nginx-csp.conf", "/no-such-page/"):
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(proxy + path)
        assert caught.value.code == 404, path
    assert b"md-content" in caught.value.read()


def test_nginx_proxies_the_api(proxy: str) -> None:
    with urllib.request.urlopen(proxy + "/api/health") as response:
        assert json.load(response) == {"status": "ok", "database": "ok"}
        assert response.headers["Cache-Control"] == "no-store"


def form_token(proxy: str) -> str:
    with urllib.request.urlopen(proxy + "/contact/") as response:
        page = response.read().decode()
        assert response.headers["Cache-Control"] == "no-store"
    token = re.search(r'name="form_token" value="([^"]+)"', page)
    assert token is not None  # only the service can have put a token there
    return token.group(1)


@pytest.mark.parametrize("form", ALL_FORMS.values(), ids=list(ALL_FORMS))
def test_nginx_sends_every_form_page_to_the_service_for_a_fresh_token(
    proxy: str, form: Form
) -> None:
    with urllib.request.urlopen(f"{proxy}/{form.page}") as response:
        page = response.read().decode()
        assert response.headers["Cache-Control"] == "no-store"
    # Only the service puts a token into the page: the built file has none.
    assert re.search(r'name="form_token" value="[^"]+"', page), form.page


def test_nginx_sends_form_pages_and_plain_form_posts_to_the_service(proxy: str) -> None:
    body = urllib.parse.urlencode({"form_token": form_token(proxy), "name": "Ada"}).encode()
    request = urllib.request.Request(proxy + "/api/contact", data=body, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:  # the form page itself, 422
        urllib.request.urlopen(request)
    assert refused.value.code == 422
    assert refused.value.headers["Location"] is None
    assert 'value="Ada"' in refused.value.read().decode()


def test_a_long_cjk_message_with_a_bad_email_comes_back_through_nginx(proxy: str) -> None:
    # Carried in a redirect's URL, this overflowed nginx's proxy header buffer (502).
    message = "予約の確認をお願いします。" * 115 + "以上"
    fields = {"form_token": form_token(proxy), "name": "山田 花子", "email": "hanako@"}
    body = urllib.parse.urlencode({**fields, "topic": "general", "message": message}).encode()
    request = urllib.request.Request(proxy + "/api/contact", data=body, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)
    assert refused.value.code == 422
    page = refused.value.read().decode()
    assert f">{message}</textarea>" in page  # the input is kept, whatever the refusal


UNITS = [
    "consent-api.service",
    "consent-api-purge.service",
    "consent-api-purge.timer",
    "consent-api-requests-overdue.service",
    "consent-api-requests-overdue.timer",
]


def test_every_shipped_unit_is_checked() -> None:
    assert sorted(path.name for path in (DEPLOY / "systemd").iterdir()) == sorted(UNITS)


@pytest.mark.parametrize("unit", UNITS)
def test_systemd_units_are_valid(unit: str, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is missing: install the 'systemd' package")
    for name in UNITS:
        shutil.copy(DEPLOY / "systemd" / name, tmp_path / name)
    result = subprocess.run(
        [analyze, "verify", "--man=no", "--recursive-errors=no", str(tmp_path / unit)],
        capture_output=True,
        text=True,
    )
    problems = [
        line
        for line in result.stderr.splitlines()
        # Paths of the target host (its venv, its env file, its user) do not exist here.
        if "/srv/carecaller" not in line and "/etc/carecaller" not in line
    ]
    assert problems == [], result.stderr


def unit_service(tmp_path: Path, built_site: Path) -> LiveServer:
    """consent-api.service's ExecStart and Environment, as systemd would start it here."""
    unit = (DEPLOY / "systemd" / "consent-api.service").read_text(encoding="utf-8")
    lines = [line.split("=", 1) for line in unit.splitlines() if "=" in line]
    environment = dict(value.split("=", 1) for key, value in lines if key == "Environment")
    command = shlex.split(next(value for key, value in lines if key == "ExecStart"))
    args = command[command.index("serve") + 1 :]
    port = args.index("--port")
    del args[port : port + 2]  # the test's own port instead
    environment.update(
        {
            "CONSENT_API_ENV": "production",
            "CONSENT_API_SECRET_KEYS": "deploy-test-key",
            "CONSENT_API_SITE_DIR": str(built_site),
            "CONSENT_API_DATABASE_URL": f"sqlite:///{tmp_path / 'unit.sqlite3'}",
        }
    )
    return LiveServer(environment, options=args)


def test_the_shipped_unit_keeps_the_inquiry_rate_limit(tmp_path: Path, built_site: Path) -> None:
    # Several workers counting in memory each let the whole limit through (7 of 20 got by).
    server = unit_service(tmp_path, built_site)
    server.start()
    try:
        statuses = []
        for _ in range(20):
            request = urllib.request.Request(
                server.url + "/api/contact",
                data=b"{}",
                headers={"Content-Type": "application/json"},
            )
            try:
                urllib.request.urlopen(request).close()
            except urllib.error.HTTPError as answer:
                statuses.append(answer.code)
    finally:
        server.stop()
    limit = int(DEFAULTS["INQUIRY_RATE_LIMIT"].split()[0])
    assert len([status for status in statuses if status != 429]) == limit


def test_serve_refuses_several_workers_that_would_each_count_the_limit(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSENT_API_")}
    env.update({"CONSENT_API_ENV": "development", "CONSENT_API_SITE_DIR": ""})
    env["CONSENT_API_DATABASE_URL"] = f"sqlite:///{tmp_path / 'workers.sqlite3'}"
    result = subprocess.run(
        [str(BIN / "consent-api"), "serve", "--port", str(free_port()), "--workers", "2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert "CONSENT_API_RATELIMIT_STORAGE_URI" in result.stderr


def test_nginx_sends_the_prebuilt_gzip_copies(proxy: str) -> None:
    request = urllib.request.Request(proxy + "/platform/", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert b"Platform" in gzip.decompress(response.read())


def test_a_consent_post_through_nginx_is_recorded_and_its_receipt_verifies(proxy: str) -> None:
    body = consent_body(registry.load(ROOT / "mkdocs.yml"), accept=True)
    request = urllib.request.Request(
        proxy + "/api/consent",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Sec-GPC": "1"},
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 201
        receipt = json.load(response)["receipt"]
    with urllib.request.urlopen(f"{proxy}/api/consent/{receipt}") as response:
        shown = json.load(response)
    assert shown["choices"] == body["choices"]
    assert shown["gpc"] is True  # the Sec-GPC header crossed the proxy


def test_the_unit_runs_the_embedded_server_with_options_it_accepts() -> None:
    unit = (DEPLOY / "systemd" / "consent-api.service").read_text(encoding="utf-8")
    settings = dict(
        line.split("=", 1) for line in unit.splitlines() if "=" in line and line[0] != "#"
    )
    command = settings["ExecStart"].split()
    assert command[:2] == ["/srv/carecaller/.venv/bin/consent-api", "serve"]
    shown = subprocess.run(
        [str(BIN / "consent-api"), "serve", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for option in (word for word in command[2:] if word.startswith("--")):
        assert option in shown, option
    # The supervisor stops its workers itself: systemd must signal it alone first.
    assert settings["KillMode"] == "mixed"


def test_the_overdue_timer_fails_while_a_request_is_past_due(tmp_path: Path) -> None:
    # The unit's own ExecStart, on a database holding one request received 46 days ago.
    unit = (DEPLOY / "systemd" / "consent-api-requests-overdue.service").read_text("utf-8")
    command = shlex.split(
        next(line.split("=", 1)[1] for line in unit.splitlines() if line.startswith("ExecStart="))
    )
    command[0] = str(BIN / Path(command[0]).name)
    environment = {
        **os.environ,
        "CONSENT_API_SECRET_KEYS": "deploy-test-key",
        "CONSENT_API_DATABASE_URL": f"sqlite:///{tmp_path / 'overdue.sqlite3'}",
    }
    quiet = subprocess.run(command, env=environment, capture_output=True, text=True)
    assert (quiet.returncode, quiet.stdout.strip()) == (0, "no privacy request is overdue")

    app = create_app(
        {
            "SECRET_KEYS": ["deploy-test-key"],
            "DATABASE_URL": environment["CONSENT_API_DATABASE_URL"],
        }
    )
    with app.app_context(), storage.transaction() as connection:
        received = records.now() - dt.timedelta(days=46)
        log.add(
            connection,
            reference="late-request",
            request_type="access",
            method="web",
            received_at=received,
            status=log.VERIFIED,
        )
    storage.dispose(app)

    late = subprocess.run(command, env=environment, capture_output=True, text=True)
    assert late.returncode == 1
    assert "late-request" in late.stdout and "OVERDUE by" in late.stdout
    assert "1 privacy request(s) past their due date" in late.stderr
