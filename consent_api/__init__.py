"""CareCaller's consent and inquiry records service."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the service: configuration, storage, the API blueprints and the static site."""
    # Imported here, not at the top: the site build imports this package's declarations
    # (policy, registry, forms) and should not pay for loading the service.
    from flask import Flask

    from . import (
        access_log,
        config,
        consent,
        cors,
        errors,
        form_pages,
        health,
        inquiries,
        openapi,
        outbox,
        ratelimit,
        registry,
        retention,
        security,
        static_site,
        storage,
    )

    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    config.load(app, test_config)
    errors.init_app(app)
    registry.init_app(app)
    storage.init_app(app)
    cors.init_app(app)
    app.register_blueprint(health.bp)
    consent.init_app(app)
    ratelimit.init_app(app)
    inquiries.init_app(app)
    outbox.init_app(app)
    form_pages.init_app(app)
    retention.init_app(app)
    app.register_blueprint(openapi.bp)
    security.init_app(app)
    static_site.init_app(app)
    security.trust_proxies(app)
    access_log.init_app(app)
    return app
