"""manage.py create_device_key --event S --name N [--gate C]; the key alone on the last line."""

from django.core.management.base import BaseCommand, CommandError

from events.models import Event
from gates import services
from gates.models import Gate


class Command(BaseCommand):
    help = "Create a gate-device API key. The key is printed once, alone on the last line; only its hash is stored."

    def add_arguments(self, parser):
        parser.add_argument("--event", required=True, help="event slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--gate", default=None, help="gate code to bind the device to")

    def handle(self, *args, **options):
        event = Event.objects.filter(slug=options["event"]).first()
        if event is None:
            raise CommandError(f"no event with slug {options['event']!r}")
        gate = None
        if options["gate"]:
            gate = Gate.objects.filter(event=event, code=options["gate"]).first()
            if gate is None:
                raise CommandError(f"no gate {options['gate']!r} in event {event.slug}")
        device, key = services.create_device(event=event, name=options["name"], gate=gate)
        self.stdout.write(f"created device {device.name} for {event.slug}" + (f" at gate {gate.code}" if gate else ""))
        self.stdout.write(key)
