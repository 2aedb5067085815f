"""The participant admin form, on the shared field validators (the import's upload forms are in importing/forms.py)."""

from django import forms

from participants import validation
from participants.models import Participant


class ParticipantAdminForm(forms.ModelForm):
    """The admin's participant form validates with the same field validators as imports and the API."""

    class Meta:
        model = Participant
        fields = [
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
            "metadata",
        ]

    def _event(self):
        return self.cleaned_data.get("event") or getattr(self.instance, "event", None)

    def _run(self, name, cleaner):
        try:
            return cleaner(self.cleaned_data.get(name))
        except validation.FieldInvalid as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc

    def clean_name(self):
        return self._run("name", validation.clean_name)

    def clean_email(self):
        return self._run("email", validation.clean_email)

    def clean(self):
        cleaned = super().clean()
        event = self._event()
        if event is not None:
            context = validation.ValidationContext.for_event(event)
            for name, cleaner in (
                ("phone", lambda v: validation.clean_phone(v, region=context.phone_region)),
                ("birth_date", lambda v: validation.clean_birth_date(v, reference_date=context.reference_date)),
            ):
                if name in cleaned:
                    try:
                        cleaned[name] = cleaner(cleaned[name])
                    except validation.FieldInvalid as exc:
                        self.add_error(name, forms.ValidationError(exc.message, code=exc.code))
        return cleaned
