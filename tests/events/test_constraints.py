"""The database itself refuses what must never exist twice or out of order."""

import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError

from attendance.models import Scan
from participants.models import Participant
from tests.factories import EventFactory, GateFactory, ParticipantFactory, ScanFactory

pytestmark = pytest.mark.django_db


def test_same_email_in_one_event_with_different_case_is_refused():
    participant = ParticipantFactory(email="minsu.kim@example.com")
    with pytest.raises(IntegrityError):
        ParticipantFactory(event=participant.event, email="Minsu.KIM@Example.com")


def test_same_email_in_two_events_is_allowed():
    first = ParticipantFactory(email="minsu.kim@example.com")
    second = ParticipantFactory(email="minsu.kim@example.com")
    assert first.event_id != second.event_id
    assert Participant.objects.filter(email="minsu.kim@example.com").count() == 2


def test_duplicate_gate_code_in_one_event_is_refused():
    gate = GateFactory(code="main-entrance")
    with pytest.raises(IntegrityError):
        GateFactory(event=gate.event, code="main-entrance")


def test_same_gate_code_in_another_event_is_allowed():
    GateFactory(code="main-entrance")
    assert GateFactory(code="main-entrance").code == "main-entrance"


def test_duplicate_scan_id_is_refused():
    scan_id = uuid.uuid4()
    scan = ScanFactory(scan_id=scan_id)
    with pytest.raises(IntegrityError):
        ScanFactory(scan_id=scan_id, event=scan.event, participant=scan.participant, gate=scan.gate)


def test_refused_scan_must_carry_a_reason():
    with pytest.raises(IntegrityError):
        ScanFactory(result=Scan.Result.REJECTED, reason="")


def test_event_must_end_after_it_starts():
    event = EventFactory.build()
    with pytest.raises(IntegrityError):
        EventFactory(starts_at=event.starts_at, ends_at=event.starts_at - timedelta(minutes=1))


def test_tokens_are_unique_across_events():
    participant = ParticipantFactory()
    with pytest.raises(IntegrityError):
        ParticipantFactory(token=participant.token)


def test_external_id_is_unique_per_event_but_may_be_blank_many_times():
    event = EventFactory()
    ParticipantFactory(event=event, external_id="")
    ParticipantFactory(event=event, external_id="")
    ParticipantFactory(event=event, external_id="REG-1")
    with pytest.raises(IntegrityError):
        ParticipantFactory(event=event, external_id="REG-1")
