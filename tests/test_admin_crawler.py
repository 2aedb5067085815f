"""Every admin page opens for every role without a server error.

The crawler walks `admin.site._registry`, so an admin registered tomorrow is covered the day it
lands: its changelist, add, change, history and delete pages and its own extra URLs (get_urls),
opened by a superuser, each organisation role, and a manager of another organisation.
"""

import inspect

import factory
import pytest
from django.contrib import admin
from django.test import Client
from django.urls import NoReverseMatch, reverse

from events.access import OrganizationScopedAdmin
from events.models import Membership
from tests import factories
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

STANDARD_VIEWS = ("changelist", "add", "change", "history", "delete")
OBJECT_VIEWS = ("change", "history", "delete")
# What a page may answer: shown, sent elsewhere (e.g. "does not exist" → index), or refused.
ANSWERS = {200, 302, 403}
# Django answers an app index with no model the user may see with a plain 404.
APP_INDEX_ANSWERS = {200, 404}
# Extra URLs may be POST-only (405) or not apply to this object (404).
EXTRA_ANSWERS = ANSWERS | {404, 405}
MEMBER_ROLES = [role.value for role in Membership.Role]


def _factories_by_model() -> dict:
    return {
        cls._meta.model: cls
        for _, cls in inspect.getmembers(factories, inspect.isclass)
        if issubclass(cls, factory.django.DjangoModelFactory) and cls._meta.model is not None
    }


def _registered():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _organization_id(model_admin, obj) -> int | None:
    """The organisation that owns obj, by the admin's own declared `organization_field` path."""
    if not isinstance(model_admin, OrganizationScopedAdmin):
        return None
    value = obj
    for part in model_admin.organization_field.split("__"):
        value = getattr(value, part)
    return value


def _extra_urls(model_admin, obj) -> list[str]:
    """The admin's own URLs beyond Django's standard five, with the object's pk where one is taken."""
    opts = model_admin.model._meta
    standard = {f"{opts.app_label}_{opts.model_name}_{view}" for view in STANDARD_VIEWS}
    urls = []
    for pattern in model_admin.get_urls():
        if not pattern.name or pattern.name in standard:
            continue
        converters = getattr(pattern.pattern, "converters", {})
        try:
            urls.append(reverse(f"admin:{pattern.name}", kwargs=dict.fromkeys(converters, obj.pk)))
        except NoReverseMatch:
            continue
    return urls


def _users(organization_id: int | None) -> dict:
    """One user per way of meeting the admin; members belong to the object's organisation."""
    home = organization_id or OrganizationFactory().pk
    users = {"superuser": UserFactory(is_superuser=True)}
    for role in MEMBER_ROLES:
        users[role] = MembershipFactory(organization_id=home, role=role).user
    users["other organisation's manager"] = MembershipFactory(role=Membership.Role.MANAGER).user
    return users


def _problem(who: str, url: str, response, allowed: set[int]) -> str | None:
    exc = getattr(response, "exc_info", None)
    if response.status_code not in allowed:
        detail = f": {exc[0].__name__}: {exc[1]}" if exc else ""
        return f"{who} GET {url} → {response.status_code}{detail}"
    if response.status_code == 404 and b"Traceback" in response.content:
        return f"{who} GET {url} → 404 with a traceback"
    return None


@pytest.mark.parametrize(("model", "model_admin"), [pytest.param(*item, id=item[0]._meta.label) for item in _registered()])
def test_every_admin_page_answers_every_role_without_a_server_error(model, model_admin):
    model_factory = _factories_by_model().get(model)
    assert model_factory is not None, (
        f"{model._meta.label} is registered in the admin but has no factory: add "
        f"{model.__name__}Factory to tests/factories.py so the admin crawler can open its pages."
    )
    obj = model_factory()
    organization_id = _organization_id(model_admin, obj)
    opts = model._meta
    object_urls = [reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk]) for view in OBJECT_VIEWS]
    list_urls = [
        reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        reverse(f"admin:{opts.app_label}_{opts.model_name}_add"),
        reverse("admin:index"),
    ]
    app_index_url = reverse("admin:app_list", args=[opts.app_label])
    extra_urls = _extra_urls(model_admin, obj)

    problems = []
    for who, user in _users(organization_id).items():
        client = Client(raise_request_exception=False)
        client.force_login(user)
        for url in list_urls + object_urls:
            problems.append(_problem(who, url, client.get(url), ANSWERS))
        problems.append(_problem(who, app_index_url, client.get(app_index_url), APP_INDEX_ANSWERS))
        for url in extra_urls:
            problems.append(_problem(who, url, client.get(url), EXTRA_ANSWERS))
        if who == "superuser":
            # Someone must be able to open what exists: a 302 here would hide a broken lookup.
            for url in object_urls[:1] + list_urls[:1]:
                status = client.get(url).status_code
                problems.append(None if status == 200 else f"superuser GET {url} → {status}, expected 200")
        if who == "other organisation's manager" and organization_id is not None:
            for url in object_urls:
                status = client.get(url).status_code
                problems.append(None if status != 200 else f"{who} GET {url} → 200: another organisation's object shown")

    problems = [problem for problem in problems if problem]
    assert not problems, f"{opts.label} admin:\n" + "\n".join(problems)


def test_every_registered_admin_is_crawled():
    """A guard on the crawler itself: it found the admins we know of (it reads the registry)."""
    labels = {model._meta.label for model, _ in _registered()}
    assert {"events.Organization", "events.Event", "gates.Gate", "attendance.Scan", "auth.User"} <= labels
