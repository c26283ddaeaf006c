import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Make sure an admin account exists, and say how to sign in."

    def handle(self, *args, **options):
        User = get_user_model()
        username = os.environ.get("ADVISOR_ADMIN_USER", "admin")
        password_file = settings.DATA_DIR / "admin_password"
        if not User.objects.filter(is_superuser=True).exists():
            password = os.environ.get("ADVISOR_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
            User.objects.create_superuser(username=username, email="", password=password)
            if "ADVISOR_ADMIN_PASSWORD" not in os.environ:
                password_file.write_text(password + "\n")
                password_file.chmod(0o600)
            self.stdout.write(f"Created the admin account {username!r}.")
        where = f"the password is in {password_file}" if password_file.exists() else "use the password you set"
        self.stdout.write(f"Sign in at /accounts/login/ (or /admin/) as {username!r}: {where}.")
