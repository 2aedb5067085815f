"""The ticket part of the participant admin: QR preview, delivery fields, send actions.

A mixin so participants/admin.py only names it; the actions call services and hold no rules.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from participants.tickets.emails import allow_resend, queue_welcome_emails
from participants.tickets.qr import participant_qr_svg, qr_link_path

TICKET_READONLY_FIELDS = [
    "ticket_qr",
    "email_last_attempt_at",
    "email_next_attempt_at",
    "email_message_id",
]


class TicketAdminMixin:
    actions = ["send_tickets_to_selected", "send_tickets_to_unsent", "allow_resend_to_selected"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields + [f for f in TICKET_READONLY_FIELDS if f not in fields]

    @admin.display(description="Ticket QR")
    def ticket_qr(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        # segno's SVG is generated from our own payload alphabet: nothing user-typed is inside.
        svg = participant_qr_svg(obj).decode()
        return format_html(
            '<div style="width:200px">{}</div><a href="{}">PNG</a> · <a href="{}">SVG</a>',
            mark_safe(svg),  # noqa: S308 - see above
            qr_link_path(obj, kind="png"),
            qr_link_path(obj, kind="svg"),
        )

    @admin.action(description="Send tickets to the selected participants", permissions=["change"])
    def send_tickets_to_selected(self, request, queryset):
        queued = queue_welcome_emails(participant_ids=queryset.values_list("pk", flat=True))
        skipped = queryset.count() - queued
        self.message_user(
            request,
            f"Queued {queued} ticket email(s); skipped {skipped} (bounced, inactive, already queued or just sent).",
            messages.SUCCESS if queued else messages.WARNING,
        )

    @admin.action(description="Send tickets to everyone not yet sent (whole filtered list)", permissions=["change"])
    def send_tickets_to_unsent(self, request, queryset):
        unsent = queryset.filter(email_status__in=["unsent", "failed"])
        queued = queue_welcome_emails(participant_ids=unsent.values_list("pk", flat=True))
        self.message_user(request, f"Queued {queued} ticket email(s) to participants not yet sent.", messages.SUCCESS)

    @admin.action(description="Allow sending again to bounced/failed (address corrected)", permissions=["change"])
    def allow_resend_to_selected(self, request, queryset):
        count = allow_resend(participant_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} participant(s) can be sent their ticket again.", messages.SUCCESS)

    def changelist_view(self, request, extra_context=None):
        # "Everyone not yet sent" needs no selection: run it over the whole filtered list, as
        # Django does when "select all N" is ticked (select_across), instead of refusing.
        if (
            request.method == "POST"
            and request.POST.get("action") == "send_tickets_to_unsent"
            and not request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        ):
            post = request.POST.copy()
            post.setlist(helpers.ACTION_CHECKBOX_NAME, ["0"])
            post["select_across"] = "1"
            request.POST = post
        return super().changelist_view(request, extra_context)
