"""manage.py create_event --slug S --name N --starts ISO --ends ISO [--timezone TZ] [--organization NAME] [--status STATUS]"""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from events import services
from events.errors import DomainError
from events.models import Event


def parse_aware_datetime(value: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{option}: {value!r} is not an ISO 8601 date-time") from exc
    if parsed.tzinfo is None:
        raise CommandError(f"{option}: {value!r} needs a UTC offset, e.g. 2026-05-01T09:00:00+09:00")
    return parsed


class Command(BaseCommand):
    help = "Create an event with its signing key."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--starts", required=True, help="ISO 8601 with offset")
        parser.add_argument("--ends", required=True, help="ISO 8601 with offset")
        parser.add_argument("--timezone", default="Asia/Seoul")
        parser.add_argument("--organization", default="Default organization")
        parser.add_argument("--status", default=Event.Status.DRAFT, choices=Event.Status.values)

    def handle(self, *args, **options):
        starts_at = parse_aware_datetime(options["starts"], "--starts")
        ends_at = parse_aware_datetime(options["ends"], "--ends")
        organization = services.get_or_create_organization(name=options["organization"])
        try:
            event = services.create_event(
                organization=organization,
                slug=options["slug"],
                name=options["name"],
                starts_at=starts_at,
                ends_at=ends_at,
                timezone_name=options["timezone"],
                status=options["status"],
            )
        except DomainError as exc:
            raise CommandError(f"{exc.message} {exc.details}") from exc
        self.stdout.write(f"created event {event.slug} ({event.status}) in {organization.name}")
