"""manage.py send_tickets --event S [--all-unsent]: queue welcome emails (the tickets) of an event."""

from django.core.management.base import BaseCommand, CommandError

from events.models import Event
from participants.tickets.emails import queue_welcome_emails, unsent_participant_ids


class Command(BaseCommand):
    help = (
        "Queue welcome emails with tickets. By default to participants never emailed; with "
        "--all-unsent also to those whose earlier send failed. Bounced addresses are skipped. "
        "Last line: queued=N."
    )

    def add_arguments(self, parser):
        parser.add_argument("--event", required=True, help="event slug")
        parser.add_argument("--all-unsent", action="store_true", help="also participants whose earlier send failed")

    def handle(self, *args, **options):
        event = Event.objects.filter(slug=options["event"]).first()
        if event is None:
            raise CommandError(f"no event with slug {options['event']!r}")
        ids = unsent_participant_ids(event=event, include_failed=options["all_unsent"])
        queued = queue_welcome_emails(participant_ids=ids)
        self.stdout.write(f"queued={queued}")
