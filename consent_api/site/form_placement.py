"""Where the contact and demo-request forms go: a page names its form in front matter
(``inquiry_form: contact``) and gets it after its text; a thank-you page
(``inquiry_thanks: contact``) gets the spot where the service shows a privacy request's
reference. The service serves these pages again with a fresh form token, so a form's page must
be where ``forms`` says it is: the build fails otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from consent_api.exc import ConfigError
from consent_api.site.form_markup import REFERENCE_MARKER, render_form
from consent_api.site.forms import ALL_FORMS, Form


def _form(meta: Mapping[str, Any], key: str, expected_url: str, where: str, url: str) -> Form | None:
    kind = meta.get(key)
    if kind is None:
        return None
    form = ALL_FORMS.get(str(kind))
    if form is None:
        raise ConfigError(f"{where}: {key}: {kind!r} is not one of {sorted(ALL_FORMS)}")
    expected = getattr(form, expected_url)
    if url != expected:
        raise ConfigError(
            f"{where}: the {form.kind} form's {expected_url} must be at /{expected} "
            f"(consent_api.site.forms says so), not /{url}"
        )
    return form


def around(meta: Mapping[str, Any], *, where: str, url: str, api_base: str) -> tuple[str, str]:
    """What goes before and after a page's content: ``("", form)``, ``(marker, "")`` or
    nothing. ``where`` names the source file in errors; ``url`` is the page's URL."""
    form = _form(meta, "inquiry_form", "page", where, url)
    if form is not None:
        return "", render_form(form, api_base=api_base)
    if _form(meta, "inquiry_thanks", "thanks", where, url) is not None:
        return REFERENCE_MARKER, ""
    return "", ""
