"""manage.py ensure_demo_admin: the local admin login for `make run`, created once and reused.

The password is random and kept in a git-ignored file beside the checkout so a second
`make run` prints the same login.
"""

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from events.models import Event, Membership
from events.services import add_member


class Command(BaseCommand):
    help = "Create the demo superuser (or reuse it) and print the login."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--credentials-file", default=str(Path(settings.BASE_DIR) / ".demo-admin"))
        # Where the server will be reached (`make run` passes its HOST and PORT); else PUBLIC_BASE_URL.
        parser.add_argument("--base-url", default="")

    def handle(self, *args, **options):
        user_model = get_user_model()
        credentials_file = Path(options["credentials_file"])
        password = credentials_file.read_text().strip() if credentials_file.exists() else ""
        user = user_model.objects.filter(username=options["username"]).first()
        if user is None or not password or not user.check_password(password):
            password = password or secrets.token_urlsafe(12)
            if user is None:
                user = user_model.objects.create_superuser(options["username"], f"{options['username']}@example.com", password)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            credentials_file.write_text(password + "\n")
            credentials_file.chmod(0o600)
        for event in Event.objects.select_related("organization").filter(slug="demo-conference"):
            add_member(organization=event.organization, user=user, role=Membership.Role.OWNER)
        base_url = (options["base_url"] or settings.PUBLIC_BASE_URL).rstrip("/")
        self.stdout.write(f"Admin login: {base_url}/admin/  user: {user.username}  password: {password}")
