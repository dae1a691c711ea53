"""``manage.py reencrypt_credentials``: re-encrypt every stored secret under the newest encryption key.

APM provider credentials, then notification channel configurations (``wedsync_ops.crypto``).
"""

from django.core.management.base import BaseCommand, CommandError

from apm.crypto import CredentialsError
from apm.services import credentials_reencrypt
from notifications.services import channel_configs_reencrypt
from wedsync_ops.tenancy.context import service_context


class Command(BaseCommand):
    help = (
        "Re-encrypt every apm_configurations credential and notification channel configuration under the first "
        "(newest) key of FIELD_ENCRYPTION_KEYS. "
        "Rotate a key by prepending the new one, running this, then removing the old one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="rows per transaction (default 500)")

    def handle(self, *args, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")

        def progress(done, total):
            self.stdout.write(f"re-encrypted {done}/{total}")

        def channel_progress(done, total):
            self.stdout.write(f"re-encrypted channel {done}/{total}")

        try:
            with service_context():
                done = credentials_reencrypt(batch_size=batch_size, progress=progress)
            channels = channel_configs_reencrypt(batch_size=batch_size, progress=channel_progress)
        except CredentialsError as exc:
            raise CommandError(f"{exc}; nothing in the failing batch was changed") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"done: {done} configuration(s) and {channels} channel(s) re-encrypted under the newest key"
            )
        )
