"""Admin visibility, through the admin pages: members see their organization only; roles limit writes."""

import pytest
from django.urls import reverse

from attendance.models import Scan
from events.models import Event, Membership
from participants.models import Participant
from tests.factories import (
    EventFactory,
    GateFactory,
    MembershipFactory,
    OrganizationFactory,
    ParticipantFactory,
    ScanFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_organizations():
    org_a, org_b = OrganizationFactory(name="Alpha Events"), OrganizationFactory(name="Bravo Festivals")
    event_a = EventFactory(organization=org_a, name="Alpha Summit")
    event_b = EventFactory(organization=org_b, name="Bravo Festival")
    participant_a = ParticipantFactory(event=event_a, name="Alice Alpha")
    participant_b = ParticipantFactory(event=event_b, name="Bob Bravo")
    manager_a = UserFactory(username="manager-a")
    MembershipFactory(organization=org_a, user=manager_a, role=Membership.Role.MANAGER)
    return {
        "event_a": event_a,
        "event_b": event_b,
        "participant_a": participant_a,
        "participant_b": participant_b,
        "gate_b": GateFactory(event=event_b, code="bravo-gate"),
        "scan_b": ScanFactory(event=event_b, participant=participant_b),
        "manager_a": manager_a,
    }


def test_manager_sees_only_their_organizations_events(client, two_organizations):
    client.force_login(two_organizations["manager_a"])
    page = client.get(reverse("admin:events_event_changelist"))
    assert page.status_code == 200
    assert "Alpha Summit" in page.content.decode()
    assert "Bravo Festival" not in page.content.decode()


@pytest.mark.parametrize(
    ("url_name", "object_key"),
    [
        ("admin:events_event_change", "event_b"),
        ("admin:participants_participant_change", "participant_b"),
        ("admin:gates_gate_change", "gate_b"),
        ("admin:attendance_scan_change", "scan_b"),
    ],
)
def test_manager_cannot_open_another_organizations_objects(client, two_organizations, url_name, object_key):
    client.force_login(two_organizations["manager_a"])
    response = client.get(reverse(url_name, args=[two_organizations[object_key].pk]))
    # The admin answers "does not exist" by redirecting to the index: nothing is shown.
    assert response.status_code == 302
    assert "Bravo" not in client.get(response["Location"]).content.decode()


def test_manager_cannot_change_another_organizations_event_by_posting(client, two_organizations):
    client.force_login(two_organizations["manager_a"])
    event_b = two_organizations["event_b"]
    client.post(reverse("admin:events_event_change", args=[event_b.pk]), {"name": "Hijacked"})
    assert Event.objects.get(pk=event_b.pk).name == "Bravo Festival"


def test_manager_cannot_run_lifecycle_actions_on_another_organizations_event(client, two_organizations):
    client.force_login(two_organizations["manager_a"])
    event_b = two_organizations["event_b"]
    client.post(
        reverse("admin:events_event_changelist"),
        {"action": "mark_closed", "_selected_action": [event_b.pk, two_organizations["event_a"].pk]},
    )
    assert Event.objects.get(pk=event_b.pk).status == Event.Status.LIVE
    assert Event.objects.get(pk=two_organizations["event_a"].pk).status == Event.Status.CLOSED


def test_participant_search_shows_only_own_organization(client, two_organizations):
    client.force_login(two_organizations["manager_a"])
    page = client.get(reverse("admin:participants_participant_changelist"), {"q": "B"}).content.decode()
    assert "Bob Bravo" not in page
    page = client.get(reverse("admin:participants_participant_changelist")).content.decode()
    assert "Alice Alpha" in page


def test_participant_search_finds_a_printed_token(client, two_organizations):
    client.force_login(two_organizations["manager_a"])
    participant = two_organizations["participant_a"]
    printed = "-".join(participant.token[i : i + 5] for i in range(0, 30, 5)).lower()
    page = client.get(reverse("admin:participants_participant_changelist"), {"q": printed}).content.decode()
    assert "Alice Alpha" in page


def test_scan_list_is_read_only(client, two_organizations):
    client.force_login(UserFactory(username="root", is_superuser=True))
    scan = two_organizations["scan_b"]
    response = client.post(reverse("admin:attendance_scan_change", args=[scan.pk]), {"result": "rejected"})
    assert response.status_code == 403
    assert Scan.objects.get(pk=scan.pk).result == Scan.Result.ACCEPTED
    assert client.get(reverse("admin:attendance_scan_add")).status_code == 403


def test_viewer_can_read_but_not_change(client, two_organizations):
    viewer = UserFactory(username="viewer-a")
    MembershipFactory(organization=two_organizations["event_a"].organization, user=viewer, role=Membership.Role.VIEWER)
    client.force_login(viewer)
    participant = two_organizations["participant_a"]
    url = reverse("admin:participants_participant_change", args=[participant.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = client.post(
        url, {"name": "Changed", "email": participant.email, "status": "blocked", "event": participant.event_id}
    )
    assert response.status_code == 403
    assert Participant.objects.get(pk=participant.pk).name == "Alice Alpha"


def test_manager_can_change_own_participant(client, two_organizations):
    client.force_login(two_organizations["manager_a"])
    participant = two_organizations["participant_a"]
    page = client.get(reverse("admin:participants_participant_change", args=[participant.pk]))
    assert 'name="_save"' in page.content.decode()


def test_user_without_membership_sees_no_event_data(client, two_organizations):
    client.force_login(UserFactory(username="outsider"))
    page = client.get(reverse("admin:index")).content.decode()
    assert "Events" not in page or "Alpha Summit" not in page
    assert client.get(reverse("admin:events_event_changelist")).status_code == 403


def test_owner_opens_their_organization_and_sees_its_members(client, two_organizations):
    organization = two_organizations["event_a"].organization
    owner = UserFactory(username="owner-a")
    MembershipFactory(organization=organization, user=owner, role=Membership.Role.OWNER)
    client.force_login(owner)
    page = client.get(reverse("admin:events_organization_change", args=[organization.pk]))
    assert page.status_code == 200
    assert "manager-a" in page.content.decode()  # the membership inline, editable
    assert 'name="memberships-TOTAL_FORMS"' in page.content.decode()


def test_viewer_opens_their_organization_read_only(client, two_organizations):
    organization = two_organizations["event_a"].organization
    viewer = UserFactory(username="viewer-a")
    MembershipFactory(organization=organization, user=viewer, role=Membership.Role.VIEWER)
    client.force_login(viewer)
    page = client.get(reverse("admin:events_organization_change", args=[organization.pk]))
    assert page.status_code == 200
    assert "manager-a" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
