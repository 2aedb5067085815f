"""Who may see and change what: organization membership and role, applied to the admin.

A superuser sees everything. Any other user sees only the organizations they belong to;
owners and managers may change their data, staff and viewers only read it.
"""

from django.contrib import admin
from django.db.models import QuerySet

from events.models import Membership, Organization

EDITOR_ROLES = frozenset({Membership.Role.OWNER, Membership.Role.MANAGER})


def _memberships(user) -> dict[int, str]:
    if not user.is_authenticated:
        return {}
    cached = getattr(user, "_gatehouse_memberships", None)
    if cached is None:
        cached = dict(Membership.objects.filter(user=user).values_list("organization_id", "role"))
        user._gatehouse_memberships = cached
    return cached


def visible_organization_ids(user) -> set[int]:
    return set(_memberships(user))


def editable_organization_ids(user) -> set[int]:
    return {org_id for org_id, role in _memberships(user).items() if role in EDITOR_ROLES}


def can_view_organization(user, organization_id: int) -> bool:
    return user.is_superuser or organization_id in visible_organization_ids(user)


def can_edit_organization(user, organization_id: int) -> bool:
    return user.is_superuser or organization_id in editable_organization_ids(user)


class OrganizationScopedAdmin(admin.ModelAdmin):
    """A ModelAdmin that shows a user only their organizations' rows and lets only editors write.

    `organization_field` is the lookup path from the model to its Organization's id.
    """

    organization_field = "event__organization_id"

    def organization_id_of(self, obj) -> int:
        """The id of the organization obj belongs to; inlines on this admin's pages ask it too."""
        value = obj
        for part in self.organization_field.split("__"):
            value = getattr(value, part)
        return value

    def get_queryset(self, request) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.organization_field}__in": visible_organization_ids(request.user)})

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and (request.user.is_superuser or bool(visible_organization_ids(request.user)))

    def has_view_permission(self, request, obj=None) -> bool:
        if request.user.is_superuser:
            return True
        if obj is None:
            return bool(visible_organization_ids(request.user))
        return can_view_organization(request.user, self.organization_id_of(obj))

    def has_change_permission(self, request, obj=None) -> bool:
        if request.user.is_superuser:
            return True
        if obj is None:
            return bool(editable_organization_ids(request.user))
        return can_edit_organization(request.user, self.organization_id_of(obj))

    def has_add_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser or bool(editable_organization_ids(request.user))

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Choices for event / organization pickers are limited to what the user may edit.
        if not request.user.is_superuser:
            editable = editable_organization_ids(request.user)
            if db_field.related_model is Organization:
                kwargs["queryset"] = Organization.objects.filter(pk__in=editable)
            elif db_field.name == "event":
                from events.models import Event

                kwargs["queryset"] = Event.objects.filter(organization_id__in=editable)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class OrganizationScopedInline:
    """Mixin for inlines: writable only by editors of the parent object's organization.

    `obj` here is the parent object (an Event, an Organization, a WebhookDelivery…), and only the
    parent's admin knows how to reach its organization (`organization_field`): an Organization has
    no `organization_id`, it is one. So the inline asks that admin instead of guessing.
    On the add page there is no parent yet; the parent admin's own add permission decides.
    """

    def _parent_organization_id(self, parent) -> int:
        return self.admin_site.get_model_admin(self.parent_model).organization_id_of(parent)

    def has_view_permission(self, request, obj=None) -> bool:
        return obj is None or can_view_organization(request.user, self._parent_organization_id(obj))

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None or can_edit_organization(request.user, self._parent_organization_id(obj))

    def has_add_permission(self, request, obj=None) -> bool:
        return obj is None or can_edit_organization(request.user, self._parent_organization_id(obj))

    def has_delete_permission(self, request, obj=None) -> bool:
        return obj is None or can_edit_organization(request.user, self._parent_organization_id(obj))


class ReadOnlyAdminMixin:
    """For audit trails (scans, status history): viewable by whoever may view, changed by nobody here.

    Put it first among the bases, so it wins over the organisation-scoped write permissions.
    """

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
