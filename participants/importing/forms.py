"""The import's admin forms: the upload (event, file, send tickets) and the signed confirmation."""

from django import forms
from django.conf import settings

from events.access import editable_organization_ids
from events.models import Event


class ImportUploadForm(forms.Form):
    event = forms.ModelChoiceField(queryset=Event.objects.none())
    file = forms.FileField(help_text="CSV (UTF-8 or CP949; comma, semicolon or tab) or XLSX, up to the configured size.")
    send_tickets = forms.BooleanField(
        required=False, label="Send tickets", help_text="Email each new participant their ticket after the import."
    )

    def __init__(self, *args, user, preselected_event_id: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        events = Event.objects.select_related("organization").order_by("-starts_at")
        if not user.is_superuser:
            events = events.filter(organization_id__in=editable_organization_ids(user))
        self.fields["event"].queryset = events
        if not self.is_bound:
            self.fields["event"].initial = self._preselected(events, preselected_event_id)

    @staticmethod
    def _preselected(events, event_id: str | None) -> int | None:
        """The event the upload was started from (`?event=<id>`), or the only one there is.

        Only an event in the choices counts: a link to someone else's event preselects nothing.
        """
        if event_id and event_id.isdigit():
            requested = events.filter(pk=int(event_id)).values_list("pk", flat=True).first()
            if requested is not None:
                return requested
        only = list(events.values_list("pk", flat=True)[:2])
        return only[0] if len(only) == 1 else None

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_FILE_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is {limit / 1024 / 1024:.0f} MB."
            )
        return upload


class ImportConfirmForm(forms.Form):
    staged = forms.CharField(widget=forms.HiddenInput)
