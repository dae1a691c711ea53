"""``manage.py create_integration``: create an inbound alert integration and print its token once."""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.urls import NoReverseMatch, reverse

from alerts.models import AlertIntegration
from alerts.services import integration_create
from wedsync_ops.tenancy.context import service_context
from wedsync_ops.tenancy.models import Organization


def integration_path(kind: str) -> str:
    """The inbound endpoint path of ``kind`` (URL name ``integration-<kind>``).

    Raises CommandError for a kind without an endpoint.
    """
    try:
        return reverse(f"integration-{kind}")
    except NoReverseMatch:
        raise CommandError(f"integrations of kind {kind!r} have no inbound endpoint yet") from None


class Command(BaseCommand):
    help = (
        "Create an inbound alert integration (e.g. Alertmanager) and print its URL, its token (shown once; "
        "only its SHA-256 is stored) and an example receiver configuration."
    )

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, help=f"one of: {', '.join(AlertIntegration.Kind.values)}")
        parser.add_argument("--org", default=None, help="organization slug; omit for a platform-wide integration")
        parser.add_argument("--name", default=None, help="a name (default: '<Kind> (<org slug or platform>)')")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="the portal's public base URL")
        parser.add_argument(
            "--token-only", action="store_true", help="print only the token (for scripts: TOKEN=$(… --token-only))"
        )

    def handle(self, *args, kind, org, name, base_url, token_only=False, **options):
        if kind not in AlertIntegration.Kind.values:
            raise CommandError(f"--kind: unknown kind {kind!r}; use one of {', '.join(AlertIntegration.Kind.values)}")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise CommandError(f"--base-url: {base_url!r} is not an http(s) URL such as https://ops.example.com")
        url = base_url.rstrip("/") + integration_path(kind)
        name = name or f"{AlertIntegration.Kind(kind).label} ({org or 'platform'})"
        with service_context():
            organization = None
            if org is not None:
                organization = Organization.objects.filter(slug=org).first()
                if organization is None:
                    raise CommandError(f"--org: no organization with slug {org!r}")
            try:
                integration, token = integration_create(
                    kind=kind, name=name, organization_id=organization.id if organization else None
                )
            except ValidationError as exc:
                raise CommandError("; ".join(f"--{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        scope = f"organization {organization.slug}" if organization else "platform-wide (organization label)"
        if token_only:
            self.stdout.write(token)
            return
        self.stdout.write(f"Created integration {integration.name!r} ({kind}, {scope}), id {integration.id}")
        self.stdout.write(f"URL:   {url}")
        self.stdout.write(f"Token: {token}")
        self.stdout.write("The token is shown only now; only its SHA-256 is stored.")
        if kind == AlertIntegration.Kind.ALERTMANAGER:
            self.stdout.write("")
            self.stdout.write("alertmanager.yml:")
            self.stdout.write(
                "receivers:\n"
                "  - name: wedsync-ops\n"
                "    webhook_configs:\n"
                f"      - url: {url}\n"
                "        send_resolved: true\n"
                "        http_config:\n"
                "          authorization:\n"
                f"            credentials: {token}\n"
            )
