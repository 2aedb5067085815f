"""Organiser UI for webhooks: endpoints per organization, the delivery log with its attempts, redelivery."""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from events.access import OrganizationScopedAdmin, OrganizationScopedInline, can_edit_organization
from events.local_time import utc_time
from integrations import webhooks
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from integrations.outbox import Topic


class WebhookEndpointForm(forms.ModelForm):
    topics = forms.MultipleChoiceField(
        label="Event types",
        choices=Topic.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to receive every event type.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["organization", "url", "description", "topics", "is_active"]
        labels = {"url": "URL"}


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(OrganizationScopedAdmin):
    organization_field = "organization_id"
    form = WebhookEndpointForm
    # Endpoints and deliveries belong to an organization, not to one event: their times read in UTC, named.
    list_display = ["url", "organization", "topic_list", "is_active", "failing_since_utc", "disabled_at_utc"]
    list_filter = ["is_active", "organization"]
    search_fields = ["url", "description"]
    readonly_fields = ["secret", "failing_since", "disabled_at", "disabled_reason", "created_at", "updated_at"]
    actions = ["enable_endpoints", "rotate_secret"]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        # The secret lets anyone forge Gatehouse webhooks: only those who may edit the endpoint see it.
        if obj is not None and not can_edit_organization(request.user, obj.organization_id):
            fields = [field for field in fields if field != "secret"]
        return fields

    @admin.display(description="event types")
    def topic_list(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.topics) or "all"

    @admin.display(description="failing since", ordering="failing_since")
    def failing_since_utc(self, obj: WebhookEndpoint) -> str:
        return utc_time(obj.failing_since) or "–"

    @admin.display(description="disabled at", ordering="disabled_at")
    def disabled_at_utc(self, obj: WebhookEndpoint) -> str:
        return utc_time(obj.disabled_at) or "–"

    def save_model(self, request, obj, form, change):
        was_inactive = change and "is_active" in form.changed_data and obj.is_active
        super().save_model(request, obj, form, change)
        if was_inactive:
            webhooks.enable_endpoint(endpoint=obj)

    @admin.action(description="Enable and resume waiting deliveries", permissions=["change"])
    def enable_endpoints(self, request, queryset):
        for endpoint in queryset:
            webhooks.enable_endpoint(endpoint=endpoint)
        self.message_user(request, f"{queryset.count()} endpoint(s) enabled.", messages.SUCCESS)

    @admin.action(description="Rotate the signing secret", permissions=["change"])
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            webhooks.rotate_secret(endpoint=endpoint)
        self.message_user(request, f"New secret for {queryset.count()} endpoint(s): give it to the receiver.", messages.WARNING)


class WebhookAttemptInline(OrganizationScopedInline, admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["attempted", "status_code", "latency_ms", "error", "response_excerpt"]
    readonly_fields = fields

    @admin.display(description="attempted at (UTC)")
    def attempted(self, obj: WebhookAttempt) -> str:
        # Retries can be seconds apart: the admin's default date format hides the seconds.
        return f"{obj.attempted_at:%Y-%m-%d %H:%M:%S}"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(OrganizationScopedAdmin):
    organization_field = "endpoint__organization_id"
    list_display = [
        "webhook_id",
        "topic",
        "endpoint",
        "colored_status",
        "attempts",
        "last_status_code",
        "last_latency_ms",
        "next_attempt_utc",
        "created_utc",
    ]
    list_filter = ["status", "topic"]
    search_fields = ["webhook_id", "endpoint__url"]
    list_select_related = ["endpoint"]
    readonly_fields = [
        "endpoint",
        "outbox_event",
        "event_id",
        "topic",
        "webhook_id",
        "status",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "last_status_code",
        "last_latency_ms",
        "last_response_excerpt",
        "last_error",
        "succeeded_at",
        "created_at",
    ]
    fields = readonly_fields
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    @admin.display(description="status", ordering="status")
    def colored_status(self, obj: WebhookDelivery) -> str:
        color = {"succeeded": "green", "failed": "#ba2121"}.get(obj.status, "inherit")
        return format_html('<span style="color: {}">{}</span>', color, obj.get_status_display())

    @admin.display(description="next attempt", ordering="next_attempt_at")
    def next_attempt_utc(self, obj: WebhookDelivery) -> str:
        return utc_time(obj.next_attempt_at) or "–"

    @admin.display(description="created", ordering="created_at")
    def created_utc(self, obj: WebhookDelivery) -> str:
        return utc_time(obj.created_at)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The log is read-only: change permission exists only for the redeliver action.
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Redeliver (same webhook-id, fresh retries)", permissions=["change"])
    def redeliver(self, request, queryset):
        count = webhooks.redeliver(deliveries=list(queryset))
        self.message_user(request, f"{count} delivery(ies) queued again.", messages.SUCCESS)
