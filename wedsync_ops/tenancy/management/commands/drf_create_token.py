"""``manage.py drf_create_token <username> [--reset] [--expiry-days N]``: a person's API token, printed once.

Same name and output line as DRF's command (``Generated token <token> for user <username>``), but the
token is a django-rest-knox token: only its digest is stored and it expires (``API_TOKEN_TTL_DAYS``).
``--reset`` revokes the user's other tokens first. Exits non-zero for an unknown user or a bad expiry.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from wedsync_ops.tenancy.tokens import user_token_create, user_tokens_revoke_all


class Command(BaseCommand):
    help = "Create an API token for a user (shown once; stored hashed; expires)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("-r", "--reset", action="store_true", help="revoke the user's other tokens first")
        parser.add_argument("--expiry-days", type=int, default=None, help="days until it expires (1 to 366)")

    def handle(self, *args, username, reset, expiry_days, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        if reset:
            user_tokens_revoke_all(user=user)
        try:
            row, token = user_token_create(user=user, expiry_days=expiry_days)
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        self.stdout.write(f"Generated token {token} for user {username}")
        self.stderr.write(f"shown once: only its digest is stored; it expires {row.expiry:%Y-%m-%d %H:%M} UTC")
