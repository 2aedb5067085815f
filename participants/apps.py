from django.apps import AppConfig


class ParticipantsConfig(AppConfig):
    name = "participants"

    def ready(self) -> None:
        # Celery's autodiscovery imports only `participants.tasks`; the tasks live with their
        # sub-domains, so register them here (web and worker processes both load the apps).
        from participants.importing import tasks as importing_tasks  # noqa: F401
        from participants.tickets import tasks as tickets_tasks  # noqa: F401
