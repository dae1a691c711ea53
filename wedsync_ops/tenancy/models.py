"""Organizations, their members and their weddings: the tenancy of every other table."""

import uuid
import zoneinfo

from django.conf import settings
from django.contrib.postgres.functions import RandomUUID
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Now


def validate_timezone(value: str) -> None:
    """Raise ValidationError unless ``value`` is an IANA time zone name (e.g. ``Australia/Sydney``)."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{value!r} is not an IANA time zone") from exc


class Organization(models.Model):
    """A vendor organization (florist, caterer, venue …). Table ``organizations``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    status_page_public = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Publish a status page at /status/<slug>/ (no login): services, open incidents, 90-day uptime",
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "organizations"
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class UserProfile(models.Model):
    """A vendor user's membership: exactly one organization and a role. Table ``user_profiles``."""

    class Role(models.TextChoices):
        OWNER = "owner"
        ADMIN = "admin"
        MEMBER = "member"
        VIEWER = "viewer"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="members")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "user_profiles"

    def __str__(self):
        return f"{self.user} ({self.role} of {self.organization_id})"

    @property
    def is_org_admin(self) -> bool:
        return self.role in (self.Role.OWNER, self.Role.ADMIN)


class Wedding(models.Model):
    """A wedding an organization serves. ``wedding_date`` is the organization's local date."""

    class Status(models.TextChoices):
        PLANNED = "planned"
        CONFIRMED = "confirmed"
        COMPLETED = "completed"
        CANCELLED = "cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    # No index of its own: weddings_org_date leads with organization_id.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="weddings", db_index=False)
    wedding_date = models.DateField()
    couple_name = models.CharField(max_length=200)
    venue_name = models.CharField(max_length=200, blank=True)
    ceremony_time = models.TimeField(null=True, blank=True, help_text="Local time at the venue")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CONFIRMED)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "weddings"
        ordering = ["wedding_date", "ceremony_time"]
        indexes = [models.Index(fields=["organization", "wedding_date"], name="weddings_org_date")]

    def __str__(self):
        return f"{self.couple_name} on {self.wedding_date}"


class ApiKey(models.Model):
    """An organization's ingest API key. Only the SHA-256 of the key is stored; it is shown once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="First characters of the key, to recognise it")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "api_keys"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
