"""``manage.py create_api_key --org <slug> [--name NAME] [--key-only]``: create an ingest API key, print it once.

The key alone goes to stdout (``KEY=$(manage.py create_api_key --org x)``);
a note about it goes to stderr unless ``--key-only``. An unknown
organization or a bad name exits non-zero with a message (CommandError).
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apm.services import api_key_create
from wedsync_ops.tenancy.context import service_context
from wedsync_ops.tenancy.models import Organization


class Command(BaseCommand):
    help = (
        "Create an API key for an organization's metric ingest (POST /api/v1/metrics/). "
        "The key is printed once on stdout; only its hash is stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organization's slug.")
        parser.add_argument("--name", default="ingest", help="A label for the key (default: ingest).")
        parser.add_argument("--key-only", action="store_true", help="Print the key and nothing else.")

    def handle(self, *args, org, name, key_only, **options):
        with service_context():
            organization = Organization.objects.filter(slug=org).first()
            if organization is None:
                raise CommandError(f"no organization with slug {org!r}")
            try:
                key, raw = api_key_create(organization=organization, name=name)
            except ValidationError as exc:
                raise CommandError("; ".join(f"--{f}: {', '.join(m)}" for f, m in exc.message_dict.items())) from exc
        if not key_only:
            self.stderr.write(
                f"Created API key {key.name!r} ({key.prefix}…) for {organization.slug}. "
                "It is shown once; send it as 'Authorization: Bearer <key>'."
            )
        self.stdout.write(raw)
