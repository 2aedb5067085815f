"""Where a new organiser starts: `/` and the index of live dashboards at `/dashboard/`."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model

from events.models import Event, Membership
from tests.factories import EventFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    ours = EventFactory(
        slug="ours-live", name="Our Summit", starts_at=datetime(2026, 5, 1, 0, 0, tzinfo=UTC), timezone="Asia/Seoul"
    )
    draft = EventFactory(slug="ours-draft", name="Our Draft Day", organization=ours.organization, status=Event.Status.DRAFT)
    theirs = EventFactory(slug="theirs", name="Their Expo")
    return ours, draft, theirs


def member_of(event, role=Membership.Role.VIEWER):
    return MembershipFactory(organization=event.organization, role=role).user


def test_anonymous_visitors_get_a_sign_in_link_and_no_events(client, events):
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="/admin/login/?next=/"' in page
    for event in events:
        assert event.name not in page
    assert "/dashboard/" not in page


def test_a_member_starts_at_the_admin_their_dashboards_and_the_api_docs(client, events):
    ours, draft, theirs = events
    client.force_login(member_of(ours))
    page = client.get("/").content.decode()
    for link in ('href="/admin/"', 'href="/dashboard/"', 'href="/api/docs/"'):
        assert link in page
    assert 'href="/dashboard/events/ours-live/"' in page
    assert 'href="/dashboard/events/ours-draft/"' in page
    assert theirs.name not in page and "/dashboard/events/theirs/" not in page
    assert "/admin/login/" not in page


def test_the_dashboard_index_lists_the_members_events_with_status_and_local_start(client, events):
    ours, draft, theirs = events
    client.force_login(member_of(ours))
    response = client.get("/dashboard/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="/dashboard/events/ours-live/"' in page and 'href="/dashboard/events/ours-draft/"' in page
    assert "Live" in page and "Draft" in page
    # 00:00 UTC is 09:00 in Seoul, named as events/local_time.py names it.
    assert "2026-05-01 09:00 KST" in page
    assert theirs.name not in page and "/dashboard/events/theirs/" not in page
    # Live events first.
    assert page.index("Our Summit") < page.index("Our Draft Day")


def test_a_user_of_no_organization_sees_no_events(client, events):
    client.force_login(UserFactory())
    page = client.get("/dashboard/").content.decode()
    assert "/dashboard/events/" not in page
    assert 'id="no-events"' in page
    assert "/dashboard/events/" not in client.get("/").content.decode()


def test_a_superuser_sees_every_event(client, events):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw-for-tests-only"))
    for path in ("/", "/dashboard/"):
        page = client.get(path).content.decode()
        for event in events:
            assert f'href="/dashboard/events/{event.slug}/"' in page, path


def test_anonymous_visitors_of_the_dashboard_index_are_sent_to_sign_in(client, events):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/dashboard/"
