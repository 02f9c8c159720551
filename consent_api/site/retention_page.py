"""The published retention schedule, ``/legal/retention/``, from ``extra.retention``, with the
line about staff-mailbox copies of inquiries from ``extra.notifications``.

The service's purge reads the same numbers through ``registry``, so the schedule a reader sees
and the deletion the code performs cannot disagree.
"""

from __future__ import annotations

from consent_api.site.registry import MailboxCopies, Retention

RETENTION = "legal/retention.md"


def schedule_markdown(periods: dict[str, Retention], mailbox: MailboxCopies | None) -> str:
    """The schedule page's Markdown, front matter included."""
    rows = "\n".join(
        f"| {period.label} | {period.days} days | {period.extended_by or 'Never extended.'} |"
        for period in periods.values()
    )
    # The copies the sales notifications leave in staff mailboxes: beside the schedule, from
    # the same configuration, because the service's purge cannot reach them.
    if mailbox is not None:
        rows += f"\n| {mailbox.label} | {mailbox.kept} | {mailbox.note} |"
    return (
        "---\ntitle: Retention schedule\n"
        "description: How long the CareCaller website keeps each kind of record it stores.\n"
        "---\n\n"
        "# Retention schedule\n\n"
        "How long this website keeps each kind of record it stores, counted from the day the "
        "record is made, and what extends that period. When the period ends the record is "
        "deleted. The service that deletes the records reads these same periods.\n\n"
        "| Record | Deleted after | What extends the period |\n"
        "| --- | --- | --- |\n"
        f"{rows}\n\n"
        "The [Privacy Policy](privacy/index.md) describes how CareCaller handles information.\n"
    )
