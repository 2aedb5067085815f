"""The admin's front page: where a new organiser starts, and the apps in the order of the work."""

import re

import pytest
from django.urls import reverse

from events.models import Membership
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

WORKFLOW = ["events", "gates", "participants", "attendance", "analytics", "integrations", "auth"]


def _index(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_index_lists_the_apps_in_workflow_order(client):
    page = _index(client, UserFactory(is_superuser=True))
    assert re.findall(r'<div class="app-(\w+) module', page) == WORKFLOW


def test_within_an_app_the_thing_made_first_comes_first(client):
    page = _index(client, UserFactory(is_superuser=True))
    assert page.index('class="model-gate') < page.index('class="model-device')
    assert page.index('class="model-event"') < page.index('class="model-organization"')


def test_the_getting_started_panel_links_each_step_in_order(client):
    page = _index(client, UserFactory(is_superuser=True))
    panel = page[page.index('id="getting-started"') : page.index("</ol>")]
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', panel)
    assert links == [
        (reverse("admin:events_event_add"), "Create an event"),
        (reverse("admin:gates_gate_add"), "Add its gates"),
        (reverse("admin:gates_device_add"), "Register the gate tablets"),
        (reverse("admin:participants_importjob_upload"), "Import participants"),
        ("/dashboard/", "Watch the live dashboard"),
    ]
    assert panel.index("Getting started") < panel.index("Create an event")


def test_a_viewer_sees_the_steps_but_only_the_dashboard_is_a_link(client):
    viewer = MembershipFactory(role=Membership.Role.VIEWER).user
    page = _index(client, viewer)
    panel = page[page.index('id="getting-started"') : page.index("</ol>")]
    assert "Create an event" in panel and "Import participants" in panel
    assert re.findall(r'<a href="([^"]+)">', panel) == ["/dashboard/"]


def test_the_sidebar_on_other_pages_keeps_the_same_order(client):
    client.force_login(UserFactory(is_superuser=True))
    page = client.get(reverse("admin:events_event_changelist")).content.decode()
    sidebar = page[page.index('id="nav-sidebar"') :]
    assert re.findall(r'<div class="app-(\w+) module', sidebar) == WORKFLOW
