"""The admin site: apps in the order an organiser works through them, and where to start.

Installed through `config.apps.GatehouseAdminConfig.default_site`, so every `admin.site.register`
and `@admin.register` in the apps lands here unchanged.
"""

from dataclasses import dataclass

from django.apps import apps
from django.contrib import admin
from django.urls import reverse

# Set up an event, its gates and tablets, load participants, check them in, watch, connect.
APP_ORDER = ["events", "gates", "participants", "attendance", "analytics", "integrations", "auth"]
# Within an app, the thing made first comes first (alphabetical would put Devices before Gates).
MODEL_ORDER = {
    "events": ["Event", "Organization"],
    "gates": ["Gate", "Device"],
    "participants": ["Participant", "ImportJob"],
}


@dataclass(frozen=True)
class Step:
    title: str
    hint: str
    url: str | None  # None: the user may not do this step (shown, not linked)


def _position(order: list[str], key: str) -> tuple[int, str]:
    return (order.index(key) if key in order else len(order), key)


class GatehouseAdminSite(admin.AdminSite):
    site_header = "Gatehouse administration"
    site_title = "Gatehouse admin"

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        app_list.sort(key=lambda app: _position(APP_ORDER, app["app_label"]))
        for app in app_list:
            order = MODEL_ORDER.get(app["app_label"], [])
            app["models"].sort(key=lambda model: _position(order, model["object_name"]))
        return app_list

    def index(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "getting_started": self.getting_started(request)}
        return super().index(request, extra_context)

    def getting_started(self, request) -> list[Step]:
        """The first-event path, each step linked where this user may take it."""

        def if_may_add(model_label: str, url_name: str) -> str | None:
            model_admin = self._registry.get(apps.get_model(model_label))
            return reverse(url_name) if model_admin and model_admin.has_add_permission(request) else None

        return [
            Step(
                "Create an event",
                "its dates and times in its own time zone",
                if_may_add("events.Event", "admin:events_event_add"),
            ),
            Step("Add its gates", "entrances and exits, with their capacity", if_may_add("gates.Gate", "admin:gates_gate_add")),
            Step(
                "Register the gate tablets",
                "each gets an API key, shown once",
                if_may_add("gates.Device", "admin:gates_device_add"),
            ),
            Step(
                "Import participants",
                "a CSV or XLSX file, previewed before anything is saved",
                if_may_add("participants.Participant", "admin:participants_importjob_upload"),
            ),
            Step("Watch the live dashboard", "attendance, gate load and alerts as they happen", reverse("analytics:index")),
        ]
