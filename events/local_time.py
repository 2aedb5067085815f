"""Times as an organiser reads them: in the event's own time zone, with the zone named.

The database and the API speak UTC; a person planning an event in Seoul thinks in Seoul time.
Every admin page that shows a time of an event (its start, a scan, a participant's check-in)
formats it here, so the same instant never reads two ways on two pages.
"""

from datetime import UTC, datetime

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html

from events.models import Event

FORMAT = "%Y-%m-%d %H:%M"


def event_local_time(value: datetime | None, event: Event) -> str:
    """`2026-05-01 09:00 KST` in the event's zone ("" for no time)."""
    if value is None:
        return ""
    local = timezone.localtime(value, event.tzinfo)
    return f"{local.strftime(FORMAT)} {local.tzname()}"


def utc_time(value: datetime | None) -> str:
    """`2026-05-01 00:00 UTC` ("" for no time)."""
    if value is None:
        return ""
    return f"{value.astimezone(UTC).strftime(FORMAT)} UTC"


def event_local_time_html(value: datetime | None, event: Event):
    """The event-local time for an admin cell, with the UTC instant as its tooltip."""
    if value is None:
        return "–"
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', value.isoformat(), utc_time(value), event_local_time(value, event)
    )


def _own_event(obj):
    return obj.event


def event_time_column(field: str, description: str, *, event_of=_own_event):
    """An admin column or read-only field showing `field` of a row in its event's time, sortable.

    Assign it in a ModelAdmin or inline (`scanned = event_time_column("scanned_at", "Scanned at")`)
    and name that attribute in `list_display` or `readonly_fields`. `event_of` finds the row's
    event (the row itself on the event admin).
    """

    @admin.display(description=description, ordering=field)
    def column(obj):
        return event_local_time_html(getattr(obj, field), event_of(obj))

    column.__name__ = field
    return staticmethod(column)
