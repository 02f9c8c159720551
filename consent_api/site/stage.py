"""The site staged for a builder that runs no MkDocs hooks (Zensical).

What the MkDocs hook (``overrides/hooks/site.py``) does in memory, this writes to disk: a copy of
``docs/`` with the generated pages added (policy in force, redlines, history, feed, retention
schedule), the policy's notices and the forms in their pages, and a configuration beside
``mkdocs.yml`` that points the builder at that copy and carries the values the templates read
(``extra.generated``), with every value plain (no YAML dates). After the builder, run
``consent_api.site.postbuild`` over its output.

``python -m consent_api.site.stage [--config mkdocs.yml]`` prints the configuration's path.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import markdown
import yaml

from consent_api.exc import ConfigError
from consent_api.site import banner, form_placement, policy_history, policy_pages, registry
from consent_api.site.retention_page import RETENTION, schedule_markdown

#: The staged docs and theme overrides, beside ``mkdocs.yml`` (git-ignored).
STAGING = ".build/docs"
THEME = ".build/overrides"
#: Overrides of Material 9.8's own markup that Zensical's theme does not need: its search
#: partial is another component, and it already names the dialog (what the override adds).
MATERIAL_ONLY = {"partials/search.html"}
#: The configuration for the other builder: in the project's root, which holds ``site/``.
CONFIG = ".build.yml"
_HEADING = re.compile(r"^# (.+)$", re.MULTILINE)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*\n", re.DOTALL)


def plain(value: Any) -> Any:
    """``value`` with dates as ``YYYY-MM-DD`` text: Zensical takes no YAML dates."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """A page's front matter and the Markdown after it."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}, text
    meta = yaml.safe_load(match.group(1) or "") or {}
    return dict(meta), text[match.end() :]


def with_front_matter(meta: dict[str, Any], body: str) -> str:
    if not meta:
        return body
    front = yaml.safe_dump(plain(meta), sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{front}---\n\n{body}"


def _renderer(config: dict[str, Any]) -> Any:
    extensions: list[str] = []
    configs: dict[str, Any] = {}
    for entry in config.get("markdown_extensions") or []:
        if isinstance(entry, dict):
            for name, options in entry.items():
                extensions.append(name)
                configs[name] = options or {}
        else:
            extensions.append(str(entry))

    def render(text: str) -> str:
        converter = markdown.Markdown(extensions=extensions, extension_configs=configs)
        html: str = converter.convert(text)
        return html

    return render


def _page(
    site: policy_pages.PolicySite, reg: registry.Registry, src_uri: str, text: str, render: Any
) -> str:
    meta, body = split_front_matter(text)
    body, added = policy_pages.page_markdown(site, src_uri, body)
    if "search" in added:
        added["search"] = {**(meta.get("search") or {}), **added["search"]}
    meta.update(added)
    version = site.version_at(src_uri)
    if version is not None:
        site.texts[version.id] = render(body)
    marked = policy_pages.redline_html(site, src_uri, render)
    if marked is not None:
        body = f"{body.rstrip()}\n\n{marked}\n"
    before, after = form_placement.around(
        meta, where=src_uri, url=policy_pages.page_url(src_uri), api_base=reg.api_base
    )
    if before:
        # The marker goes before the heading, where a builder would no longer find the title.
        heading = _HEADING.search(body)
        if heading and "title" not in meta:
            meta["title"] = heading.group(1).strip()
        body = f"{before}\n\n{body}"
    if after:
        body = f"{body.rstrip()}\n\n{after}\n"
    return with_front_matter(meta, body)


def _hooks_of(config: dict[str, Any], root: Path) -> Any:
    hooks = {(root / str(hook)).resolve() for hook in config.get("hooks") or []}
    theme_dir = (root / config["theme"]["custom_dir"]).resolve()
    skipped = {*hooks, *(hook.parent for hook in hooks), *(theme_dir / n for n in MATERIAL_ONLY)}

    def ignore(directory: str, names: list[str]) -> list[str]:
        here = Path(directory).resolve()
        return [n for n in names if here / n in skipped or n == "__pycache__"]

    return ignore


def stage(config_path: Path, today: dt.date | None = None) -> Path:
    """Write the staged docs and the builder's configuration; returns the configuration's path."""
    config_path = config_path.resolve()
    root = config_path.parent
    config = yaml.load(config_path.read_text(encoding="utf-8"), Loader=registry.Loader)
    extra = config.get("extra") or {}
    found = banner.problems(extra.get("consent"))
    if found:
        raise ConfigError("The cookie banner's configuration is wrong:\n  " + "\n  ".join(found))
    docs_dir = (root / config.get("docs_dir", "docs")).resolve()
    reg = registry.build(config_path, extra, docs_dir)
    today = today or policy_pages.build_date()
    site = policy_pages.policy_site(reg, today)
    render = _renderer(config)

    staged = root / STAGING
    if staged.exists():
        shutil.rmtree(staged)
    shutil.copytree(docs_dir, staged)
    sources = {
        path.relative_to(staged).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(staged.rglob("*.md"))
    }
    # Generated pages follow the docs' own, as in the MkDocs build: the redlines compare the
    # versions' pages rendered first.
    sources.update(policy_history.generated_pages(site))
    sources[RETENTION] = schedule_markdown(reg.retention, reg.mailbox_copies)
    for src_uri, text in sources.items():
        target = staged / src_uri
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_page(site, reg, src_uri, text, render), encoding="utf-8")
    (staged / policy_pages.FEED).write_bytes(
        policy_history.feed_xml(
            site,
            site_url=str(config.get("site_url") or ""),
            site_name=str(config["site_name"]),
            author=str(config.get("site_author") or ""),
        )
    )

    # The theme's overrides without the MkDocs hooks, which the builder would publish as files.
    theme = config.get("theme") or {}
    if theme.get("custom_dir"):
        staged_theme = root / THEME
        if staged_theme.exists():
            shutil.rmtree(staged_theme)
        shutil.copytree(root / theme["custom_dir"], staged_theme, ignore=_hooks_of(config, root))
        theme["custom_dir"] = THEME
    config.pop("hooks", None)
    config["docs_dir"] = STAGING
    # The hook keeps the versions' own pages out of the navigation; here the configuration does.
    hidden = [f"/{policy_pages.version_uri(v)}" for v in site.versions]
    hidden += [f"/{policy_pages.changes_uri(v)}" for v in site.versions if v is not site.versions[0]]
    config["not_in_nav"] = "\n".join([*(config.get("not_in_nav") or "").split(), *hidden]) + "\n"
    config["extra"] = {**plain(extra), banner.GENERATED: banner.template_values(reg, today)}
    out = root / CONFIG
    out.write_text(
        "# Generated by consent_api.site.stage from mkdocs.yml: edit that file, not this one.\n"
        + yaml.safe_dump(plain(config), sort_keys=False, allow_unicode=True, width=1000),
        encoding="utf-8",
    )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=Path("mkdocs.yml"))
    args = parser.parse_args(argv)
    try:
        print(stage(args.config))
    except ConfigError as error:
        raise SystemExit(f"stage: {error}") from error


if __name__ == "__main__":
    main()
