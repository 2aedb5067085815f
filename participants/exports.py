"""Participant exports (CSV, XLSX through django-import-export) that are safe to open in a spreadsheet.

django-import-export 4.x's IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT only strips a leading "="
(and only that), which loses data and leaves "+", "-", "@", tab, CR and NUL formulas live. OWASP's
CSV-injection advice is to prefix such cells with a single quote; `neutralize_formula` does that
and every exported cell goes through it.
"""

from collections.abc import Mapping

from import_export import fields, resources

from participants.models import Participant
from participants.tokens import format_token

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\x00")


def neutralize_formula(value):
    """A cell value a spreadsheet will show as text, never evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class ParticipantResource(resources.ModelResource):
    id = fields.Field(attribute="public_id", column_name="id")
    event = fields.Field(attribute="event__slug", column_name="event")
    ticket = fields.Field(column_name="ticket")

    class Meta:
        model = Participant
        fields = (
            "id",
            "event",
            "external_id",
            "name",
            "email",
            "phone",
            "organization",
            "department",
            "position",
            "birth_date",
            "region",
            "status",
            "ticket",
            "email_status",
            "created_at",
        )
        export_order = fields

    @classmethod
    def add_columns(cls, columns: Mapping[str, fields.Field]) -> None:
        """Columns an app above participants contributes (participants/admin.py wires them).

        They are appended after the participant's own columns and read attributes that the
        same app annotated onto the exported queryset.
        """
        cls.fields.update(columns)

    def dehydrate_ticket(self, participant: Participant) -> str:
        return format_token(participant.token, participant.event.token_prefix)

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        # django-import-export sets force_native_type for formats with typed cells (XLSX). There a
        # string is a text cell (openpyxl reads only a leading "=" as a formula), and a stored
        # phone is validated E.164, "+" and digits: the guard would only corrupt it. In a CSV,
        # Excel would read "+82…" as a number or formula, so the phone keeps the guard there.
        if kwargs.get("force_native_type") and self.get_field_name(field) == "phone":
            return value
        return neutralize_formula(value)
