"""manage.py rebuild_stats --event S: recompute live statistics from stored scans."""

from django.core.management.base import BaseCommand, CommandError

from analytics import services
from events.models import Event


class Command(BaseCommand):
    help = "Recompute an event's live statistics (counters, presence, hourly) from its stored scans."

    def add_arguments(self, parser):
        parser.add_argument("--event", required=True, help="The event's slug.")

    def handle(self, *args, **options):
        event = Event.objects.filter(slug=options["event"]).first()
        if event is None:
            raise CommandError(f"No event with slug {options['event']!r}.")
        result = services.rebuild_event_stats(event=event)
        self.stdout.write(f"scans={result.scans} checked_in={result.checked_in} inside_now={result.inside_now}")
