"""Alertmanager API v2, the parts that tools script against: silences and the open alerts.

``GET /api/v2/status``, ``GET|POST /api/v2/silences``, ``GET|DELETE /api/v2/silence/{id}``,
``GET /api/v2/alerts`` and ``GET /api/v2/alerts/groups``, with the shapes of Alertmanager's OpenAPI
document (``api/v2/openapi.yaml`` of prometheus/alertmanager 0.25), so ``amtool
--alertmanager.url=<portal>`` and Grafana's Alertmanager data source can list, add and expire
silences and see which alerts they silence.

Authentication: ``Authorization: Bearer <token>`` with an integration token (``create_integration``;
amtool: ``--http.config.file`` with ``authorization.credentials``) or a person's API token. An
organization's integration or vendor user sees and creates only that organization's silences and
alerts (row-level security, the vendor context); only its owners and admins may write. A platform
integration or a staff user sees every organization, and a silence it creates with an
``organization="<slug>"`` equality matcher belongs to that organization (otherwise it is platform-wide).
Bad input answers 400 with the field and the reason; another organization's silence answers 404.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pghistory
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.integrations.alertmanager import PayloadError, parse_rfc3339
from alerts.integrations.auth import IntegrationCaller
from alerts.models import AlertHistory, AlertIntegration, SuppressionRule
from alerts.silences import silence_create, silence_expire, silence_update
from alerts.suppression import alert_label_set, rule_state
from wedsync_ops.matchers import Matcher, matchers_match, parse_matcher_text, parse_matchers
from wedsync_ops.tenancy.auth import TenantTokenAuthentication, bearer_token, hash_token, set_token_lookup
from wedsync_ops.tenancy.context import (
    ROLE_SERVICE,
    ROLE_VENDOR,
    TenantContext,
    current_tenant_context,
    set_tenant_context,
)
from wedsync_ops.tenancy.models import Organization, UserProfile

VERSION = "0.25.0"  # the Alertmanager release whose API v2 these endpoints follow
RESOLVE_TIMEOUT = dt.timedelta(minutes=5)  # Alertmanager's default resolve_timeout, for endsAt of open alerts
LIST_OF_OBJECTS = {"type": "array", "items": {"type": "object", "additionalProperties": True}}  # OpenAPI schema


class BearerIntegrationOrUserToken(TenantTokenAuthentication):
    """``Authorization: Bearer <token>``: an integration token (any kind) or a person's API token.

    An integration sets the vendor context of its organization, or a service context when it is
    platform-wide; a person their own context. Raises AuthenticationFailed (401) for an unknown token.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        raw = bearer_token(request)
        if raw is None:
            return None
        token_hash = hash_token(raw)
        set_token_lookup(token_hash)
        try:
            integration = AlertIntegration.objects.filter(token_hash=token_hash, enabled=True).first()
        finally:
            set_token_lookup("")
        if integration is not None:
            role = ROLE_VENDOR if integration.organization_id else ROLE_SERVICE
            set_tenant_context(TenantContext(role=role, org_id=integration.organization_id))
            # The audit trail's context (audit/middleware.py): amtool's silences are the integration's doing.
            pghistory.context(integration=f"{integration.kind}:{integration.name}", integration_id=str(integration.pk))
            return IntegrationCaller(integration), integration
        return self.authenticate_credentials(raw)

    def authenticate_header(self, request):
        return 'Bearer realm="alertmanager-api"'


def _scope(request) -> tuple[uuid.UUID | None, bool]:
    """``(organization_id or None for the platform, may_write)`` of the caller."""
    if isinstance(request.user, IntegrationCaller):
        return request.user.integration.organization_id, True
    ctx = current_tenant_context()
    if ctx.role == "staff":
        return None, request.user.has_perm("alerts.add_suppressionrule") or request.user.is_superuser
    if ctx.role == ROLE_VENDOR:
        role = UserProfile.objects.filter(user_id=request.user.pk).values_list("role", flat=True).first()
        return ctx.org_id, role in (UserProfile.Role.OWNER, UserProfile.Role.ADMIN)
    raise exceptions.PermissionDenied("no organization")


class HasScope(BasePermission):
    """An authenticated caller with a platform or organization scope."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated)


class AlertmanagerApiView(APIView):
    """Common settings: the bearer authentication above, no pagination, Alertmanager's error shape."""

    authentication_classes = [BearerIntegrationOrUserToken]
    permission_classes = [HasScope]
    throttle_classes = []

    def require_write(self, request) -> uuid.UUID | None:
        org_id, may_write = _scope(request)
        if not may_write:
            raise exceptions.PermissionDenied("only the organization's owners and admins may change silences")
        return org_id


def bad_request(field: str, reason: str) -> Response:
    """400 with ``{"error": "<field>: <reason>", "field": field}`` (amtool prints ``error``)."""
    return Response({"error": f"{field}: {reason}", "field": field}, status=status.HTTP_400_BAD_REQUEST)


def bad_request_from(exc: ValidationError) -> Response:
    """``bad_request`` for the first field of a ValidationError, with all its reasons."""
    field, reasons = next(iter(exc.message_dict.items()))
    return bad_request(field, "; ".join(reasons))


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def api_matchers(matchers: list) -> list[dict]:
    """Stored matchers as Alertmanager's ``[{"name", "value", "isRegex", "isEqual"}]``."""
    result = []
    for m in parse_matchers(matchers):
        result.append({"name": m.name, "value": m.value, "isRegex": m.is_regex, "isEqual": m.is_equal})
    return result


def stored_matchers(raw) -> list[dict]:
    """Alertmanager's matchers to ours; raises ValidationError (``matchers``) naming the bad item."""
    if not isinstance(raw, list) or not raw:
        raise ValidationError({"matchers": "a non-empty list of matchers"})
    result = []
    for index, item in enumerate(raw):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("name"), str)
            or not isinstance(item.get("value"), str)
        ):
            raise ValidationError({"matchers": f"matchers[{index}]: needs a string name and value"})
        regex, equal = item.get("isRegex", False), item.get("isEqual", True)
        if not isinstance(regex, bool) or not isinstance(equal, bool):
            raise ValidationError({"matchers": f"matchers[{index}]: isRegex and isEqual are booleans"})
        op = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}[(regex, equal)]
        result.append({"name": item["name"], "op": op, "value": item["value"]})
    parse_matchers(result, field="matchers")
    return result


def gettable_silence(silence: SuppressionRule, now: dt.datetime) -> dict:
    """A silence in Alertmanager's ``gettableSilence`` shape."""
    return {
        "id": str(silence.pk),
        "status": {"state": rule_state(silence, now)},
        "updatedAt": _iso(silence.updated_at or silence.created_at),
        "matchers": api_matchers(silence.matchers),
        "startsAt": _iso(silence.starts_at),
        "endsAt": _iso(silence.ends_at),
        "createdBy": silence.author,
        "comment": silence.comment,
    }


def _filters(request) -> list[Matcher]:
    """The ``filter`` query parameters (amtool's matchers, one or several per parameter)."""
    found = []
    for text in request.query_params.getlist("filter"):
        found += parse_matchers(parse_matcher_text(text, field="filter"), field="filter")
    return found


def _flag(request, name: str, default: bool = True) -> bool:
    value = request.query_params.get(name)
    if value is None:
        return default
    if value.lower() not in ("true", "false"):
        raise ValidationError({name: "true or false"})
    return value.lower() == "true"


class StatusView(AlertmanagerApiView):
    """``GET /api/v2/status``: what amtool's version check and Grafana's data source test read."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["alertmanager-v2"])
    def get(self, request):
        now = timezone.now()
        return Response(
            {
                "cluster": {"name": "wedsync-ops", "status": "ready", "peers": []},
                "versionInfo": {
                    "version": VERSION,
                    "branch": "wedsync-ops",
                    "revision": "wedsync-ops",
                    "buildUser": "wedsync-ops",
                    "buildDate": "",
                    "goVersion": "n/a",
                },
                "config": {"original": ""},
                "uptime": _iso(now),
            }
        )


class SilencesView(AlertmanagerApiView):
    """``GET /api/v2/silences`` (optional ``filter``) and ``POST /api/v2/silences`` (create or update)."""

    @extend_schema(responses={200: LIST_OF_OBJECTS, 400: OpenApiTypes.OBJECT}, tags=["alertmanager-v2"])
    def get(self, request):
        now = timezone.now()
        try:
            filters = _filters(request)
        except ValidationError as exc:
            return bad_request("filter", "; ".join(sum(exc.message_dict.values(), [])))
        org_id, _ = _scope(request)
        silences = SuppressionRule.objects.filter(kind=SuppressionRule.Kind.SILENCE).select_related("created_by")
        if org_id is not None:
            silences = silences.filter(organization_id=org_id)
        result = []
        for silence in silences.order_by("-created_at")[:1000]:
            labels = {m.get("name"): m.get("value") for m in silence.matchers if isinstance(m, dict)}
            if filters and not matchers_match(filters, labels):
                continue
            result.append(gettable_silence(silence, now))
        return Response(result)

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={
            200: OpenApiTypes.OBJECT,
            400: OpenApiTypes.OBJECT,
            403: OpenApiTypes.OBJECT,
            404: OpenApiTypes.OBJECT,
        },
        tags=["alertmanager-v2"],
    )
    def post(self, request):
        org_id = self.require_write(request)
        body = request.data
        if not isinstance(body, dict):
            return bad_request("body", "must be a JSON object (postableSilence)")
        now = timezone.now()
        try:
            matchers = stored_matchers(body.get("matchers"))
            starts_at = parse_rfc3339(body.get("startsAt"), field="startsAt")
            ends_at = parse_rfc3339(body.get("endsAt"), field="endsAt")
        except PayloadError as exc:
            return bad_request(exc.field, exc.reason)
        except ValidationError as exc:
            return bad_request_from(exc)
        comment = body.get("comment") if isinstance(body.get("comment"), str) else ""
        created_by_name = body.get("createdBy") if isinstance(body.get("createdBy"), str) else ""
        person = None if isinstance(request.user, IntegrationCaller) else request.user
        organization_id = org_id if org_id is not None else _organization_of(matchers)
        try:
            with transaction.atomic():
                if body.get("id"):
                    existing = _silence_or_404(body["id"], org_id)
                    silence = silence_update(
                        silence=existing,
                        matchers=matchers,
                        starts_at=starts_at,
                        ends_at=ends_at,
                        comment=comment,
                        now=now,
                        created_by=person,
                        created_by_name=created_by_name,
                    )
                else:
                    silence = silence_create(
                        matchers=matchers,
                        starts_at=starts_at,
                        ends_at=ends_at,
                        comment=comment,
                        now=now,
                        organization_id=organization_id,
                        created_by=person,
                        created_by_name=created_by_name,
                    )
        except ValidationError as exc:
            return bad_request_from(exc)
        return Response({"silenceID": str(silence.pk)})


def _organization_of(matchers: list[dict]) -> uuid.UUID | None:
    """A platform caller's silence with ``organization="<slug>"`` belongs to that organization."""
    slugs = [m["value"] for m in matchers if m["name"] == "organization" and m["op"] == "="]
    if len(slugs) != 1:
        return None
    return Organization.objects.filter(slug=slugs[0]).values_list("pk", flat=True).first()


def _silence_or_404(raw_id, org_id) -> SuppressionRule:
    try:
        pk = uuid.UUID(str(raw_id))
    except ValueError:
        raise exceptions.NotFound("no such silence") from None
    qs = SuppressionRule.objects.filter(pk=pk, kind=SuppressionRule.Kind.SILENCE).select_related("created_by")
    if org_id is not None:
        qs = qs.filter(organization_id=org_id)
    silence = qs.first()
    if silence is None:
        raise exceptions.NotFound("no such silence")
    return silence


class SilenceView(AlertmanagerApiView):
    """``GET /api/v2/silence/{id}`` and ``DELETE /api/v2/silence/{id}`` (expires it)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT}, tags=["alertmanager-v2"])
    def get(self, request, silence_id):
        org_id, _ = _scope(request)
        return Response(gettable_silence(_silence_or_404(silence_id, org_id), timezone.now()))

    @extend_schema(responses={200: None, 403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT}, tags=["alertmanager-v2"])
    def delete(self, request, silence_id):
        org_id = self.require_write(request)
        silence = _silence_or_404(silence_id, org_id)
        if rule_state(silence, timezone.now()) == SuppressionRule.State.EXPIRED:
            return bad_request("silenceID", "the silence is already expired")
        silence_expire(silence=silence, now=timezone.now())
        return Response(status=status.HTTP_200_OK)


def gettable_alert(alert: AlertHistory) -> dict:
    """An open alert in Alertmanager's ``gettableAlert`` shape (labels as silences' matchers see them)."""
    silenced = inhibited = []
    rule = alert.suppressed_by if alert.status == AlertHistory.Status.SUPPRESSED else None
    if rule is not None and rule.kind == SuppressionRule.Kind.INHIBITION:
        inhibited = [str(rule.pk)]
    elif rule is not None:
        silenced = [str(rule.pk)]
    return {
        "labels": alert_label_set(alert),
        "annotations": alert.annotations or {},
        "startsAt": _iso(alert.starts_at),
        "endsAt": _iso((alert.last_received_at or alert.starts_at) + RESOLVE_TIMEOUT),
        "updatedAt": _iso(alert.last_received_at or alert.starts_at),
        "generatorURL": alert.generator_url or "",
        "fingerprint": alert.fingerprint,
        "receivers": [{"name": "wedsync-ops"}],
        "status": {
            "state": "suppressed" if rule is not None else "active",
            "silencedBy": silenced,
            "inhibitedBy": inhibited,
        },
    }


def _open_alerts(request) -> list[dict]:
    filters = _filters(request)
    active, silenced, inhibited = _flag(request, "active"), _flag(request, "silenced"), _flag(request, "inhibited")
    org_id, _ = _scope(request)
    qs = (
        AlertHistory.objects.filter(status__in=AlertHistory.OPEN_STATUSES)
        .select_related("organization", "suppressed_by")
        .order_by("-starts_at")
    )
    if org_id is not None:
        qs = qs.filter(organization_id=org_id)
    result = []
    for alert in qs[:5000]:
        item = gettable_alert(alert)
        state = item["status"]
        if (
            (state["state"] == "active" and not active)
            or (state["silencedBy"] and not silenced)
            or (state["inhibitedBy"] and not inhibited)
        ):
            continue
        if filters and not matchers_match(filters, item["labels"]):
            continue
        item["_group_key"] = alert.group_key or alert.fingerprint
        result.append(item)
    return result


class AlertsView(AlertmanagerApiView):
    """``GET /api/v2/alerts``: the open alerts, with ``filter``, ``active``, ``silenced``, ``inhibited``."""

    @extend_schema(responses={200: LIST_OF_OBJECTS, 400: OpenApiTypes.OBJECT}, tags=["alertmanager-v2"])
    def get(self, request):
        try:
            alerts = _open_alerts(request)
        except ValidationError as exc:
            return bad_request_from(exc)
        for item in alerts:
            item.pop("_group_key")
        return Response(alerts)


class AlertGroupsView(AlertmanagerApiView):
    """``GET /api/v2/alerts/groups``: the open alerts by group key (Grafana's alert list reads it)."""

    @extend_schema(responses={200: LIST_OF_OBJECTS, 400: OpenApiTypes.OBJECT}, tags=["alertmanager-v2"])
    def get(self, request):
        try:
            alerts = _open_alerts(request)
        except ValidationError as exc:
            return bad_request_from(exc)
        groups: dict[str, dict] = {}
        for item in alerts:
            key = item.pop("_group_key")
            group = groups.setdefault(
                key, {"labels": _group_labels(key, item["labels"]), "receiver": {"name": "wedsync-ops"}, "alerts": []}
            )
            group["alerts"].append(item)
        return Response(list(groups.values()))


def _group_labels(group_key: str, labels: dict) -> dict:
    """The labels of an Alertmanager group key ``{}:{alertname="X",…}``; else the alert's alertname."""
    _, _, inner = group_key.partition(":")
    try:
        return (
            {m["name"]: m["value"] for m in parse_matcher_text(inner)}
            if inner.startswith("{")
            else {"alertname": labels.get("alertname", "")}
        )
    except ValidationError:
        return {"alertname": labels.get("alertname", "")}
