"""Organiser admin for gates and devices; gate and device inlines on the event page."""

from django.contrib import admin, messages

from events.access import OrganizationScopedAdmin, OrganizationScopedInline
from events.admin import register_event_inline
from events.local_time import event_time_column
from gates import services
from gates.models import Device, Gate


class GateInline(OrganizationScopedInline, admin.TabularInline):
    # What an organiser sets for every gate while building the event, in columns that fit a
    # laptop screen; location and beacons are per-gate details on the gate's own page.
    model = Gate
    extra = 0
    fields = ["code", "name", "direction", "capacity_per_minute", "is_active"]
    show_change_link = True


class DeviceInline(OrganizationScopedInline, admin.TabularInline):
    """Listed here; created on the Device page, which shows the new key once."""

    model = Device
    extra = 0
    fields = ["name", "gate", "key_prefix", "is_active", "last_seen"]
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("event", "gate")  # the zone and gate name of each row

    last_seen = event_time_column("last_seen_at", "Last seen")

    def has_add_permission(self, request, obj=None):
        return False


register_event_inline(DeviceInline)
register_event_inline(GateInline)


@admin.register(Gate)
class GateAdmin(OrganizationScopedAdmin):
    list_display = ["code", "name", "event", "direction", "capacity_per_minute", "is_active"]
    list_filter = ["direction", "is_active", ("event", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["code", "name", "location"]
    list_select_related = ["event"]


@admin.register(Device)
class DeviceAdmin(OrganizationScopedAdmin):
    list_display = ["name", "event", "gate", "key_prefix", "is_active", "last_seen", "revoked"]
    list_filter = ["is_active", ("event", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "key_prefix"]
    list_select_related = ["event", "gate"]
    readonly_fields = ["key_prefix", "last_seen", "revoked", "created_by", "created"]
    actions = ["revoke_keys"]

    last_seen = event_time_column("last_seen_at", "Last seen")

    revoked = event_time_column("revoked_at", "Revoked at")

    created = event_time_column("created_at", "Created at")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["event", "gate", "name"]
        return ["event", "gate", "name", "is_active", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        device, key = services.create_device(event=obj.event, name=obj.name, gate=obj.gate, created_by=request.user)
        obj.pk = device.pk
        obj.refresh_from_db()
        # Shown once: only the keyed hash is stored.
        self.message_user(
            request, f"API key for {device.name} (copy it now, it will not be shown again): {key}", messages.WARNING
        )

    @admin.action(description="Revoke the selected devices' API keys", permissions=["change"])
    def revoke_keys(self, request, queryset):
        for device in queryset:
            services.revoke_device(device=device)
        self.message_user(request, f"{queryset.count()} device key(s) revoked.", messages.SUCCESS)
