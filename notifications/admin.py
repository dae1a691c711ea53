"""Admin of notification channels, routing rules, deliveries (the outbox) and their attempts.

Staff see every attempt of a delivery inline (outcome, HTTP status, error,
duration) and can send a test notification to a channel synchronously.
Changes go through ``notifications.services`` (enabling a channel releases
what it held).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import Truncator

from notifications.models import (
    SECRET_FIELDS,
    DeliveryAttempt,
    DeliveryAttemptDetail,
    NotificationChannel,
    NotificationDelivery,
    NotificationRule,
    NotificationRuleChannel,
)
from wedsync_ops.crypto import mask
from wedsync_ops.matchers import parse_matchers

from .delivery import channel_send_test
from .services import channel_disable, channel_enable, deliveries_retry


def _replace_field(name: str) -> forms.CharField:
    return forms.CharField(
        required=False, max_length=2000, label=f"Replace {name}", widget=forms.PasswordInput(render_value=False)
    )


class ChannelAdminForm(forms.ModelForm):
    """A channel's settings without ever showing a secret.

    ``settings``: the configuration's plain fields as JSON (email ``to``, Twilio ``account_sid``,
    ``from`` and ``to``); each secret (``SECRET_FIELDS``) is shown as "•••• last 4" beside a
    ``replace_<name>`` field: left blank, the stored secret stays. URLs are checked by the outbound
    client's own rules (``wedsync_ops.outbound``; the platform's channels may use
    ``OUTBOUND_ALLOW_PRIVATE_NETWORKS``).
    """

    settings = forms.JSONField(required=False, help_text="Fields that are not secrets, as a JSON object")
    replace_url = _replace_field("url")
    replace_webhook_url = _replace_field("webhook_url")
    replace_secret = _replace_field("secret")
    replace_routing_key = _replace_field("routing_key")
    replace_auth_token = _replace_field("auth_token")

    class Meta:
        model = NotificationChannel
        fields = ("organization", "kind", "name", "enabled", "disabled_reason", "wedding_day_emergency")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config = dict(self.instance.config or {}) if self.instance.pk else {}
        self.fields["settings"].initial = {k: v for k, v in config.items() if k not in SECRET_FIELDS}
        for name in SECRET_FIELDS:
            shown = mask(config.get(name)) or "not set"
            self.fields[f"replace_{name}"].help_text = f"Now: {shown}. Leave blank to keep it."

    def clean(self):
        from wedsync_ops.outbound import outbound_url_problem

        data = super().clean()
        plain = data.get("settings") or {}
        if not isinstance(plain, dict):
            self.add_error("settings", "must be a JSON object")
            return data
        for name in SECRET_FIELDS:
            if name in plain:
                self.add_error("settings", f"{name} is a secret: set it with 'Replace {name}'")
        config = {k: v for k, v in (self.instance.config or {}).items() if k in SECRET_FIELDS}
        config.update(plain)
        organization = data.get("organization")
        for name in SECRET_FIELDS:
            value = (data.get(f"replace_{name}") or "").strip()
            if not value:
                continue
            if name in ("url", "webhook_url"):
                problem = outbound_url_problem(value, trusted=organization is None)
                if problem:
                    self.add_error(f"replace_{name}", f"this URL {problem}")
                    continue
            config[name] = value
        self.instance.config = config
        return data


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    """Channels with why a channel was disabled; actions: send a test notification, re-enable.

    The configuration is edited through ``ChannelAdminForm``: secrets masked, replaced, never shown.
    """

    form = ChannelAdminForm

    @admin.display(description="secrets")
    def secrets(self, obj):
        """Each secret of the configuration as "•••• last 4" (what staff who may only view see)."""
        config = obj.config or {}
        return ", ".join(f"{name}: {mask(config[name])}" for name in SECRET_FIELDS if config.get(name)) or "none"

    list_display = (
        "name",
        "kind",
        "organization",
        "enabled",
        "wedding_day_emergency",
        "disabled_reason",
        "disabled_at",
        "created_at",
    )
    list_filter = ("kind", "enabled", "organization")
    search_fields = ("name",)
    list_select_related = ("organization",)
    actions = ["send_test_notification", "enable_channels", "disable_channels"]
    readonly_fields = ("disabled_at", "secrets")

    def save_model(self, request, obj, form, change):
        """A change of ``enabled`` goes through the services: enabling releases what the channel held."""
        was_enabled = NotificationChannel.objects.filter(pk=obj.pk).values_list("enabled", flat=True).first()
        wants = obj.enabled
        if change and was_enabled is not None and was_enabled != wants:
            obj.enabled = was_enabled
            super().save_model(request, obj, form, change)
            now = timezone.now()
            if wants:
                channel_enable(channel=obj, now=now)
            else:
                channel_disable(channel=obj, reason=f"disabled by {request.user.get_username()}", now=now)
            return
        super().save_model(request, obj, form, change)

    @admin.action(description="Send a test notification (now, synchronously)")
    def send_test_notification(self, request, queryset):
        now = timezone.now()
        for channel in queryset:
            ok, message = channel_send_test(
                channel=channel, now=now, organization_slug=getattr(channel.organization, "slug", None)
            )
            self.message_user(request, message, messages.SUCCESS if ok else messages.ERROR)

    @admin.action(description="Enable selected channels (sends what they held while disabled)")
    def enable_channels(self, request, queryset):
        now = timezone.now()
        released = expired = 0
        for channel in queryset:
            counts = channel_enable(channel=channel, now=now)
            released, expired = released + counts["released"], expired + counts["expired"]
        self.message_user(
            request,
            f"Enabled {queryset.count()} channel(s); {released} held notification(s) queued, "
            f"{expired} too old and cancelled.",
            messages.SUCCESS,
        )

    @admin.action(description="Disable selected channels (their notifications are held)")
    def disable_channels(self, request, queryset):
        now = timezone.now()
        count = sum(
            channel_disable(channel=c, reason=f"disabled by {request.user.get_username()}", now=now) for c in queryset
        )
        self.message_user(request, f"Disabled {count} channel(s).", messages.SUCCESS)


def receiver_answer(attempt) -> str:
    """The receiver's answer to a failed attempt (staff-only ``DeliveryAttemptDetail``), or "—"."""
    try:
        return attempt.detail.response_body or "—"
    except DeliveryAttemptDetail.DoesNotExist:
        return "—"


class DeliveryAttemptInline(admin.TabularInline):
    """Every attempt of the delivery, newest first; read-only."""

    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ("attempted_at", "ok", "status_code", "duration_ms", "error", "receiver_answer")
    readonly_fields = fields

    @admin.display(description="receiver answered")
    def receiver_answer(self, obj):
        return receiver_answer(obj)

    ordering = ("-attempted_at", "-id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(admin.ModelAdmin):
    """The outbox, read-only: status, attempts and the last attempt's outcome per row; every attempt inline."""

    list_display = (
        "created_at",
        "event",
        "target",
        "step",
        "status",
        "attempts",
        "last_attempt",
        "next_attempt_at",
        "delivered_at",
        "short_error",
    )
    list_filter = ("status", "event", "method", "channel")
    search_fields = ("payload__title", "last_error", "=alert_id", "=incident_id", "recipient_name", "address")
    list_select_related = ("channel",)
    ordering = ("-created_at",)
    inlines = [DeliveryAttemptInline]
    actions = ["retry_now"]
    readonly_fields = (
        "organization",
        "channel",
        "recipient_name",
        "method",
        "address",
        "user_id",
        "contact_id",
        "event",
        "step",
        "alert_id",
        "incident_id",
        "group_key",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_until",
        "last_error",
        "delivered_at",
        "created_at",
    )

    def get_queryset(self, request):
        from django.db.models import OuterRef, Subquery

        last = DeliveryAttempt.objects.filter(delivery=OuterRef("pk")).order_by("-attempted_at", "-id")
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_ok=Subquery(last.values("ok")[:1]),
                last_code=Subquery(last.values("status_code")[:1]),
                last_ms=Subquery(last.values("duration_ms")[:1]),
            )
        )

    @admin.display(description="to")
    def target(self, obj):
        return obj.target_label

    @admin.display(description="last attempt")
    def last_attempt(self, obj):
        if obj.last_ok is None:
            return "—"
        outcome = "ok" if obj.last_ok else "failed"
        code = f" HTTP {obj.last_code}" if obj.last_code else ""
        return f"{outcome}{code} in {obj.last_ms:.0f} ms"

    @admin.display(description="last error")
    def short_error(self, obj):
        return Truncator(obj.last_error).chars(80)

    @admin.action(description="Retry now (failed or pending deliveries)")
    def retry_now(self, request, queryset):
        count = deliveries_retry(delivery_ids=list(queryset.values_list("pk", flat=True)), now=timezone.now())
        self.message_user(request, f"{count} deliveries queued for the next sweep.", messages.SUCCESS)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DeliveryAttemptDetail)
class DeliveryAttemptDetailAdmin(admin.ModelAdmin):
    """What receivers answered to failed attempts (staff only: the table's RLS is staff-only), read-only."""

    list_display = ("attempt", "response_body")
    list_filter = ("attempt__status_code",)
    search_fields = ("response_body",)
    list_select_related = ("attempt",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(admin.ModelAdmin):
    """Every HTTP attempt (outcome, status code, duration in ms, error), read-only."""

    list_display = (
        "attempted_at",
        "channel",
        "delivery",
        "test",
        "ok",
        "status_code",
        "duration_ms",
        "error",
        "answer",
    )
    list_filter = ("ok", "test", "status_code")
    search_fields = ("error", "channel__name")
    list_select_related = ("channel", "delivery", "detail")
    ordering = ("-attempted_at",)

    @admin.display(description="receiver answered")
    def answer(self, obj):
        return receiver_answer(obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class NotificationRuleChannelInline(admin.TabularInline):
    """The channels of a routing rule (their organization is set from the rule on save)."""

    model = NotificationRuleChannel
    extra = 1
    fields = ("channel",)


@admin.register(NotificationRule)
class NotificationRuleAdmin(admin.ModelAdmin):
    """Routing rules (``apm_notification_rules``): matchers → channels, in position order."""

    list_display = ("name", "organization", "position", "matchers_text", "continue_matching", "enabled")
    list_filter = ("enabled", "organization")
    search_fields = ("name",)
    list_select_related = ("organization",)
    inlines = [NotificationRuleChannelInline]
    fields = ("name", "organization", "position", "matchers", "continue_matching", "enabled")

    @admin.display(description="matchers")
    def matchers_text(self, obj):
        try:
            return ", ".join(map(str, parse_matchers(obj.matchers))) or "(all)"
        except ValidationError:
            return "(invalid)"

    def save_model(self, request, obj, form, change):
        parse_matchers(obj.matchers)  # the form's clean already refused invalid matchers
        super().save_model(request, obj, form, change)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class Form(form):
            def clean_matchers(self):
                value = self.cleaned_data.get("matchers")
                try:
                    parse_matchers(value)
                except ValidationError as exc:
                    raise ValidationError(exc.message_dict["matchers"]) from None
                return value

        return Form
