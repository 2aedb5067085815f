"""Template tags for the import job page: its two fieldsets, and times in the event's zone."""

from django import template
from django.contrib.admin.helpers import AdminForm

from events.local_time import event_local_time_html
from participants.importing.admin import JOB_FIELDSET_CALLABLES, JOB_FIELDSETS

register = template.Library()


@register.simple_tag
def import_job_fieldsets(adminform: AdminForm) -> AdminForm:
    """The admin's own form for the job, laid out as JOB_FIELDSETS (organiser first, internals collapsed).

    Why a tag and not `ImportJobAdmin.fieldsets`: the change form's own fields stay as the admin
    builds them (all read-only); only the page's layout comes from the import pages' JOB_FIELDSETS.
    """
    return AdminForm(
        adminform.form,
        JOB_FIELDSETS,
        {},
        readonly_fields=[*adminform.readonly_fields, *JOB_FIELDSET_CALLABLES],
        model_admin=adminform.model_admin,
    )


@register.simple_tag
def job_time(value, event):
    return event_local_time_html(value, event)
