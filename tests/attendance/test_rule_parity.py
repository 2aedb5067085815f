"""The check-in rules run on three paths: gatehouse_record_scan() in SQL (a single check-in on
Postgres), decide() through the ORM (a single check-in in the embedded SQLite mode, taken here on
Postgres with record_scan(portable=True)) and decide() over arrays (/batch). All three run over
the same generated cases through the public services, each in a savepoint rolled back
afterwards, and must answer, store and publish exactly the same."""

import dataclasses
import random
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from attendance.models import Scan
from attendance.services import ScanInput, record_batch, record_scan
from attendance.services.storage import SCAN_ROW_FIELDS
from gates.models import Gate
from integrations.outbox import OutboxEvent
from participants.tickets.qr import ticket_qr_text
from participants.tokens import format_token
from tests.factories import DeviceFactory, EventFactory, GateFactory, ParticipantFactory

pytestmark = pytest.mark.django_db

PATHS = {
    "single, in SQL": lambda device, scan: record_scan(device=device, scan=scan),
    "single, portable": lambda device, scan: record_scan(device=device, scan=scan, portable=True),
    "batch": lambda device, scan: record_batch(device=device, scans=[scan])[0],
}


@pytest.fixture
def world():
    now = timezone.now()
    event = EventFactory(starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=3), duplicate_window_seconds=300)
    gates = {
        "in": GateFactory(event=event, code="in", direction=Gate.Direction.ENTRY),
        "out": GateFactory(event=event, code="out", direction=Gate.Direction.EXIT),
        "both": GateFactory(event=event, code="both", direction=Gate.Direction.BOTH),
        "closed": GateFactory(event=event, code="closed", direction=Gate.Direction.BOTH, is_active=False),
    }
    devices = {
        "free": DeviceFactory(event=event),
        "bound-in": DeviceFactory(event=event, gate=gates["in"]),
        "bound-out": DeviceFactory(event=event, gate=gates["out"]),
    }
    return event, gates, devices


def generated_case(rng: random.Random, event, gates, devices, foreign):
    """A participant with a random accepted (and refused) history, and a random scan of them."""
    now = timezone.now()
    participant = ParticipantFactory(event=event, status=pick(rng, {"registered": 6, "active": 2, "cancelled": 1, "blocked": 1}))
    # Distinct times: with two accepted scans at the same instant "the latest" would be ambiguous.
    for seconds_ago in rng.sample([30, 200, 299, 300, 301, 900, 3000], rng.randrange(5)):
        result = rng.choice(["accepted", "accepted", "duplicate"])
        Scan.objects.create(
            event=event,
            participant=participant,
            gate=gates[rng.choice(["in", "out", "both"])],
            scanned_at=now - timedelta(seconds=seconds_ago),
            direction=rng.choice(["entry", "exit"]),
            result=result,
            reason="" if result == "accepted" else "duplicate_scan",
            method="qr_scan",
        )
    identify = pick(
        rng,
        {
            "id": 5,
            "token": 3,
            "both": 2,
            "qr": 2,
            "qr-and-id": 1,
            "bad-token": 1,
            "not-a-ticket": 1,
            "forged-qr": 1,
            "foreign-qr": 1,
            "unknown-id": 1,
            "mismatch": 1,
        },
    )
    other = ParticipantFactory(event=event)
    payload = ticket_qr_text(participant)
    participant_id, token = {
        "id": (participant.public_id, None),
        "token": (None, format_token(participant.token)),
        "both": (participant.public_id, participant.token.lower()),
        "qr": (None, payload),
        "qr-and-id": (participant.public_id, payload),
        "bad-token": (None, "NOT-A-TOKEN"),
        "not-a-ticket": (None, "GH1:not-a-token"),
        "forged-qr": (None, payload[:-40] + ("A" if payload[-40] != "A" else "B") + payload[-39:]),
        "foreign-qr": (None, ticket_qr_text(foreign)),
        "unknown-id": (uuid.uuid4(), None),
        "mismatch": (participant.public_id, other.token),
    }[identify]
    grace = timedelta(seconds=event.checkin_grace_seconds)
    scanned_at = pick(
        rng,
        {
            now: 6,
            now - timedelta(seconds=100): 2,
            now - timedelta(seconds=299): 2,
            now - timedelta(seconds=330): 1,  # an accepted scan 30 s ago is exactly one window later
            event.starts_at - grace: 1,
            event.starts_at - grace - timedelta(seconds=1): 1,
            event.ends_at + grace + timedelta(seconds=1): 1,
        },
    )
    scan = ScanInput(
        gate_code=pick(rng, {"in": 4, "out": 3, "both": 4, "closed": 1, "nowhere": 1}),
        scanned_at=scanned_at.astimezone(rng.choice([timezone.get_fixed_timezone(540), timezone.get_fixed_timezone(0)])),
        method=rng.choice(["qr_scan", "ble_auto", "manual"]),
        participant_id=participant_id,
        token=token,
        scan_id=uuid.uuid4(),
        direction=rng.choice([None, None, "entry", "exit"]),
        location=rng.choice([None, {"lat": 37.5, "lng": 127.0}]),
        device_info=rng.choice([None, {"model": "Tab S9"}]),
    )
    return devices[pick(rng, {"free": 8, "bound-in": 1, "bound-out": 1})], scan


def pick(rng: random.Random, weighted: dict):
    """Mostly valid choices, so that cases get past the early refusals to the later rules."""
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def run(path: str, device, scan: ScanInput):
    """What one path answers, stores and publishes for `scan`; undone afterwards."""
    savepoint = transaction.savepoint()
    try:
        outcome = PATHS[path](device, scan)
        answered = (outcome.scan_id, outcome.status, outcome.body, outcome.replayed)
        stored = list(
            # Every column but the arrival time, which differs between the runs.
            Scan.objects.filter(scan_id=scan.scan_id).values(*(f for f in SCAN_ROW_FIELDS if f != "received_at"))
        )
        published = [
            (row.event_id, row.organization_id, row.payload)
            for row in OutboxEvent.objects.filter(topic="attendance.recorded", payload__scanId=str(scan.scan_id))
        ]
        return answered, stored, published
    finally:
        transaction.savepoint_rollback(savepoint)


EVERY_VERDICT = {
    "accepted",
    "gate_not_found",
    "gate_not_allowed",
    "gate_inactive",
    "direction_not_allowed",
    "outside_event_window",
    "invalid_ticket",
    "participant_not_found",
    "participant_inactive",
    "duplicate_scan",
    "already_checked_in",
}


def run_everywhere(device, scan: ScanInput):
    """What every path answers, stores and publishes, once they are shown to agree."""
    first, *others = PATHS
    expected = run(first, device, scan)
    for path in others:
        assert run(path, device, scan) == expected, (path, scan)
    return expected


@pytest.mark.parametrize("seed", range(4))
def test_every_path_applies_the_same_rules_to_generated_cases(world, seed):
    event, gates, devices = world
    foreign = ParticipantFactory()  # another event's participant: their genuine ticket is foreign here
    rng = random.Random(seed)
    verdicts = set()
    for allow_multiple in (False, True):
        event.allow_multiple_checkins = allow_multiple
        event.save(update_fields=["allow_multiple_checkins"])
        for _ in range(120):
            device, scan = generated_case(rng, event, gates, devices, foreign)
            (_scan_id, status, body, _replayed), stored, _published = run_everywhere(device, scan)
            assert [row["response_status"] for row in stored] == [status]
            verdicts.add(body["error"]["code"] if status != 201 else f"accepted {body['direction']}")
    # Every rule is reached, and both directions are accepted: a seed that did not would prove little.
    assert {v.split()[0] for v in verdicts} == EVERY_VERDICT, verdicts
    assert {"accepted entry", "accepted exit"} <= verdicts


@pytest.mark.parametrize("change", ["same", "different"])
def test_every_path_answers_a_replay_the_same(world, change):
    event, gates, devices = world
    participant = ParticipantFactory(event=event)
    device = devices["free"]
    first = ScanInput(
        gate_code="in", scanned_at=timezone.now(), method="qr_scan", participant_id=participant.public_id, scan_id=uuid.uuid4()
    )
    record_scan(device=device, scan=first, portable=True)
    again = first if change == "same" else dataclasses.replace(first, method="manual")
    (_scan_id, status, body, replayed), stored, published = run_everywhere(device, again)
    if change == "same":
        assert (status, body["result"], replayed) == (201, "accepted", True)
    else:
        assert (status, body["error"]["code"], replayed) == (409, "idempotency_conflict", False)
    assert [row["method"] for row in stored] == ["qr_scan"]  # the first scan's row, alone and unchanged
    assert len(published) == 1  # the first scan's outbox row; a replay publishes nothing
