"""The operator commands of DESIGN.md, called as scripts call them."""

import pytest
from django.core.management import CommandError, call_command

from attendance.models import Scan
from events.models import Event
from gates.api_keys import hash_api_key
from gates.models import Device, Gate
from participants.models import Participant
from tests.factories import EventFactory, GateFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_event_creates_it_with_a_signing_key():
    run(
        "create_event",
        "--slug",
        "tech-conference-2024",
        "--name",
        "Tech Conference",
        "--starts",
        "2024-05-01T09:00:00+09:00",
        "--ends",
        "2024-05-01T18:00:00+09:00",
        "--timezone",
        "Asia/Seoul",
        "--organization",
        "Tech Org",
        "--status",
        "published",
    )
    event = Event.objects.get(slug="tech-conference-2024")
    assert event.status == Event.Status.PUBLISHED
    assert event.organization.name == "Tech Org"
    assert len(bytes(event.signing_public_key)) == 32


def test_create_event_refuses_a_naive_date():
    with pytest.raises(CommandError, match="--starts"):
        run(
            "create_event", "--slug", "x", "--name", "X", "--starts", "2024-05-01T09:00:00", "--ends", "2024-05-01T18:00:00+09:00"
        )
    assert not Event.objects.filter(slug="x").exists()


def test_create_event_refuses_an_end_before_the_start():
    with pytest.raises(CommandError, match="ends_at"):
        run(
            "create_event",
            "--slug",
            "x",
            "--name",
            "X",
            "--starts",
            "2024-05-01T09:00:00+09:00",
            "--ends",
            "2024-05-01T08:00:00+09:00",
        )
    assert not Event.objects.filter(slug="x").exists()


def test_create_gate():
    event = EventFactory(slug="fest")
    run("create_gate", "--event", "fest", "--code", "north", "--name", "North gate", "--direction", "both", "--capacity", "12")
    gate = Gate.objects.get(event=event, code="north")
    assert (gate.name, gate.direction, gate.capacity_per_minute) == ("North gate", "both", 12)


def test_create_gate_refuses_a_duplicate_code():
    gate = GateFactory(code="north")
    with pytest.raises(CommandError, match="code"):
        run("create_gate", "--event", gate.event.slug, "--code", "north")
    assert Gate.objects.filter(event=gate.event).count() == 1


def test_create_device_key_prints_the_key_alone_on_the_last_line_and_stores_only_its_hash():
    gate = GateFactory(code="north")
    output = run("create_device_key", "--event", gate.event.slug, "--name", "Tablet 1", "--gate", "north")
    key = output.strip().splitlines()[-1]
    device = Device.objects.get(name="Tablet 1")
    assert device.gate == gate
    assert device.key_hash == hash_api_key(key)
    stored = [str(value) for value in Device.objects.filter(pk=device.pk).values().get().values()]
    assert key not in stored


def test_create_device_key_for_unknown_gate_fails():
    event = EventFactory()
    with pytest.raises(CommandError, match="no gate"):
        run("create_device_key", "--event", event.slug, "--name", "Tablet", "--gate", "nowhere")
    assert not Device.objects.exists()


def test_seed_demo_creates_an_event_happening_now_and_is_safe_to_rerun():
    run("seed_demo", "--participants", "120")
    event = Event.objects.get(slug="demo-conference")
    from django.utils import timezone

    assert event.starts_at <= timezone.now() <= event.ends_at
    assert event.gates.count() >= 3
    assert Participant.objects.filter(event=event).count() == 120
    names = list(Participant.objects.filter(event=event).values_list("name", flat=True))
    assert any("\uac00" <= ch <= "\ud7a3" for name in names for ch in name), "some Korean names"
    assert any(name.isascii() for name in names), "some Latin names"
    scans = Scan.objects.filter(event=event).count()
    assert scans > 0
    output = run("seed_demo", "--participants", "120")
    assert "reusing" in output
    assert Participant.objects.filter(event=event).count() == 120
    assert Scan.objects.filter(event=event).count() == scans
