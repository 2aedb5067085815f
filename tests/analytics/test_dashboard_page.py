"""The dashboard page: login required, members only, data escaped, linked from the event's admin page."""

import pytest
from django.test import Client

from tests.factories import EventFactory, GateFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def test_the_dashboard_asks_anonymous_visitors_to_log_in():
    event = EventFactory()
    response = Client().get(f"/dashboard/events/{event.slug}/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_dashboard_is_not_found_for_other_organizations():
    event = EventFactory()
    client = Client()
    client.force_login(MembershipFactory(organization=EventFactory().organization).user)
    assert client.get(f"/dashboard/events/{event.slug}/").status_code == 404


def test_gate_names_reach_the_page_only_as_escaped_json():
    event = EventFactory(name="Gala <script>alert(1)</script>")
    GateFactory(event=event, name="</script><script>alert(2)</script>")
    client = Client()
    client.force_login(MembershipFactory(organization=event.organization).user)
    html = client.get(f"/dashboard/events/{event.slug}/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "</script><script>alert(2)" not in html
    assert "\\u003C/script\\u003E\\u003Cscript\\u003Ealert(2)" in html
    assert "/static/vendor/chartjs/chart.umd.min.js" in html


def test_the_event_admin_page_links_to_the_dashboard():
    event = EventFactory()
    client = Client()
    client.force_login(MembershipFactory(organization=event.organization).user)
    html = client.get(f"/admin/events/event/{event.pk}/change/").content.decode()
    assert f'href="/dashboard/events/{event.slug}/"' in html
