"""manage.py seed_demo: a demo event happening now, with gates, ~500 participants and some scans.

Safe to run again: an existing demo event is reused (and moved to today if it has ended).
"""

import random
import uuid
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from faker import Faker

from attendance.models import Scan
from attendance.services import MAX_BATCH_SIZE, ScanInput, record_batch
from events import services as event_services
from events.models import Event
from gates import services as gate_services
from gates.models import Gate
from participants.models import Participant

DEMO_SLUG = "demo-conference"
DEMO_GATES = [
    ("main-entrance", "Main entrance", Gate.Direction.ENTRY, 40),
    ("east-entrance", "East entrance", Gate.Direction.ENTRY, 25),
    ("vip-lounge", "VIP lounge", Gate.Direction.BOTH, 10),
    ("main-exit", "Main exit", Gate.Direction.EXIT, 40),
]


class Command(BaseCommand):
    help = "Create (or refresh) a demo event happening now, with gates, participants and scans."

    def add_arguments(self, parser):
        parser.add_argument("--participants", type=int, default=500)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, **options):
        now = timezone.now()
        event = Event.objects.filter(slug=DEMO_SLUG).first()
        if event is not None:
            if event.ends_at < now:
                Event.objects.filter(pk=event.pk).update(starts_at=now - timedelta(hours=2), ends_at=now + timedelta(hours=6))
            self.stdout.write(f"demo event {DEMO_SLUG} already exists; reusing it")
            return
        with transaction.atomic():
            rng = random.Random(options["seed"])  # noqa: S311 - reproducible demo data, not secrets
            event = self._create(now=now, count=options["participants"], rng=rng)
        self.stdout.write(
            f"created demo event {event.slug}: {event.gates.count()} gates, "
            f"{event.participants.count()} participants, {event.scans.count()} scans"
        )

    def _create(self, *, now, count: int, rng: random.Random) -> Event:
        organization = event_services.get_or_create_organization(name="Gatehouse Demo")
        event = event_services.create_event(
            organization=organization,
            slug=DEMO_SLUG,
            name="Seoul Tech Conference (demo)",
            starts_at=now - timedelta(hours=2),
            ends_at=now + timedelta(hours=6),
            timezone_name="Asia/Seoul",
            venue="COEX Hall B, Seoul",
            status=Event.Status.LIVE,
            token_prefix="DEMO",  # noqa: S106 - a printed prefix, not a secret
        )
        gates = [
            gate_services.create_gate(event=event, code=code, name=name, direction=direction, capacity_per_minute=capacity)
            for code, name, direction, capacity in DEMO_GATES
        ]
        korean, latin = Faker("ko_KR"), Faker(["en_US", "es_ES", "fr_FR", "de_DE"])
        korean.seed_instance(rng.random())
        latin.seed_instance(rng.random())
        participants = []
        for number in range(count):
            fake = korean if number % 3 else latin
            participants.append(
                Participant(
                    event=event,
                    name=fake.name()[:100],
                    email=f"guest{number:04d}@example.com",
                    phone=f"+8210{rng.randrange(10**7, 10**8)}",
                    organization=fake.company()[:200],
                    department=rng.choice(["Engineering", "Sales", "Research", "개발팀", "기획팀", "Design"]),
                    position=rng.choice(["Engineer", "Manager", "Director", "사원", "대리", "과장"]),
                    region=rng.choice(["Seoul", "Busan", "Incheon", "Daegu", "Abroad"]),
                    external_id=f"REG-{number:05d}",
                )
            )
        Participant.objects.bulk_create(participants)
        device, _key = gate_services.create_device(event=event, name="Demo tablet")
        entry_gates = [gate for gate in gates if gate.direction != Gate.Direction.EXIT]
        exit_gate = next(gate for gate in gates if gate.direction == Gate.Direction.EXIT)
        scans = []
        for participant in rng.sample(participants, k=int(count * 0.4)):
            entered_at = event.starts_at + timedelta(seconds=rng.randrange(0, 7200))
            gate = rng.choice(entry_gates)
            method = rng.choice([Scan.Method.QR_SCAN] * 8 + [Scan.Method.BLE_AUTO, Scan.Method.MANUAL])
            visit = [(gate, entered_at, method)]
            if rng.random() < 0.1:  # scanned twice at the gate: a duplicate
                visit.append((gate, entered_at + timedelta(seconds=20), method))
            if rng.random() < 0.15:  # left again
                visit.append((exit_gate, min(entered_at + timedelta(minutes=rng.randrange(10, 90)), now), Scan.Method.QR_SCAN))
            scans += [
                ScanInput(
                    participant_id=participant.public_id,
                    gate_code=at_gate.code,
                    scanned_at=at,
                    method=how,
                    scan_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                )
                for at_gate, at, how in visit
            ]
        # Through the gate API's own service, as a tablet's offline backlog would arrive.
        scans.sort(key=lambda scan: scan.scanned_at)
        for start in range(0, len(scans), MAX_BATCH_SIZE):
            record_batch(device=device, scans=scans[start : start + MAX_BATCH_SIZE])
        return event
