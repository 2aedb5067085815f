from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from integrations.kick import kicker
        from integrations.outbox import OutboxEvent, outbox_committed

        outbox_committed.connect(kicker.kick, sender=OutboxEvent, dispatch_uid="integrations.kick_relay")
