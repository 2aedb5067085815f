"""Project wiring for Django's own apps: the admin runs as Gatehouse's admin site."""

from django.contrib.admin.apps import AdminConfig


class GatehouseAdminConfig(AdminConfig):
    default_site = "config.admin_site.GatehouseAdminSite"
