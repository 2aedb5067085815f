"""Project wiring as Django apps: the project's own commands, and the admin as Gatehouse's admin site."""

from django.apps import AppConfig

# The module, not the class: an imported AdminConfig would be a second default config of this module.
from django.contrib.admin import apps as admin_apps


class ConfigConfig(AppConfig):
    """`config` itself, installed for its management commands (runserver for the embedded mode)."""

    default = True
    name = "config"
    label = "config"


class GatehouseAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "config.admin_site.GatehouseAdminSite"
