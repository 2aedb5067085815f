"""manage.py create_gate --event S --code C [--name N] [--direction entry|exit|both] [--capacity PER_MINUTE]"""

from django.core.management.base import BaseCommand, CommandError

from events.errors import DomainError
from events.models import Event
from gates import services
from gates.models import Gate


class Command(BaseCommand):
    help = "Create a gate in an event."

    def add_arguments(self, parser):
        parser.add_argument("--event", required=True, help="event slug")
        parser.add_argument("--code", required=True)
        parser.add_argument("--name", default="")
        parser.add_argument("--direction", default=Gate.Direction.ENTRY, choices=Gate.Direction.values)
        parser.add_argument("--capacity", type=int, default=None, help="scans per minute")

    def handle(self, *args, **options):
        event = Event.objects.filter(slug=options["event"]).first()
        if event is None:
            raise CommandError(f"no event with slug {options['event']!r}")
        if options["capacity"] is not None and options["capacity"] <= 0:
            raise CommandError("--capacity must be a positive number of scans per minute")
        try:
            gate = services.create_gate(
                event=event,
                code=options["code"],
                name=options["name"],
                direction=options["direction"],
                capacity_per_minute=options["capacity"],
            )
        except DomainError as exc:
            raise CommandError(f"{exc.message} {exc.details}") from exc
        self.stdout.write(f"created gate {gate.code} ({gate.direction}, {gate.capacity_per_minute}/min) in {event.slug}")
