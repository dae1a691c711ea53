"""Acknowledging from a page, without logging in: the signed link, Twilio's SMS and voice webhooks, Slack buttons.

- ``/oncall/ack/<signed>/``: GET shows the incident and an Acknowledge button, POST acknowledges
  (a GET never changes anything: mail scanners and Slack's link previews fetch links). A bad
  signature answers 404, an expired link 410; a used one says by whom and when.
- ``/oncall/twilio/sms/``: Twilio's inbound-SMS webhook; ``ACK <code>`` from the paged person's own
  number acknowledges. ``/oncall/twilio/voice/<signed>/``: the ``<Gather>`` callback of a voice page;
  digit 1 acknowledges. Both verify ``X-Twilio-Signature`` with ``TWILIO_AUTH_TOKEN`` over the URL
  Twilio called (``PORTAL_BASE_URL`` + path) and the form (twilio's ``RequestValidator``: HMAC-SHA1,
  base64); a bad signature answers 403. They answer TwiML.
- ``/oncall/slack/actions/``: Slack's interactivity requests (the Acknowledge / Resolve buttons of a
  channel message or a direct message), verified with ``SLACK_SIGNING_SECRET`` (``X-Slack-Signature``
  over ``v0:<X-Slack-Request-Timestamp>:<body>``, at most 5 minutes old: slack_sdk's
  ``SignatureVerifier``); a bad signature answers 401. The clicking Slack user acts as the portal user
  whose Slack contact method is their member id, within that user's own access; anyone else gets an
  ephemeral refusal. The answer goes to the request's ``response_url`` after the change commits.
"""

from __future__ import annotations

import json
import logging
import uuid

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from notifications.transports import SLACK_ACTION_ACKNOWLEDGE, SLACK_ACTION_RESOLVE
from wedsync_ops.tenancy.context import context_for_user, service_context, tenant_context

from .. import conf
from ..models import AcknowledgeToken
from ..selectors import display_name, user_for_slack_member
from ..services import page_acknowledge, token_for_sms, token_from_signed, voice_token

logger = logging.getLogger(__name__)


# --- the signed link ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def acknowledge(request: HttpRequest, signed: str) -> HttpResponse:
    """The one-time acknowledge link of a page (see the module docstring)."""
    token = token_from_signed(signed)
    if token is None:
        return render(request, "oncall/acknowledge.html", {"invalid": True}, status=404)
    now = timezone.now()
    outcome = None
    if request.method == "POST":
        outcome = page_acknowledge(token=token, via=AcknowledgeToken.Via.LINK, now=now)
        with service_context():
            token.refresh_from_db()
    with service_context():
        incident = type(token.incident).objects.select_related("organization", "wedding").get(pk=token.incident_id)
        expired = token.used_at is None and token.expires_at <= now
    from ..services.acknowledge import person_name

    status = 410 if expired and outcome is None else 200
    return render(
        request,
        "oncall/acknowledge.html",
        {
            "token": token,
            "incident": incident,
            "outcome": outcome,
            "expired": expired,
            "person": person_name(token),
            "can_acknowledge": not expired and token.used_at is None and incident.status == "open",
        },
        status=status,
    )


# --- Twilio ---------------------------------------------------------------------------------------


def twilio_request_valid(request: HttpRequest) -> bool:
    """Whether the request carries Twilio's valid ``X-Twilio-Signature`` (False without ``TWILIO_AUTH_TOKEN``)."""
    from twilio.request_validator import RequestValidator

    token = getattr(settings, "TWILIO_AUTH_TOKEN", "")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = settings.PORTAL_BASE_URL.rstrip("/") + request.get_full_path()
    return RequestValidator(token).validate(url, request.POST, signature)


def _twiml(response) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml; charset=utf-8")


@csrf_exempt
@require_POST
def twilio_sms(request: HttpRequest) -> HttpResponse:
    """Twilio's inbound SMS webhook: ``ACK <code>`` acknowledges the page it names; answers a TwiML ``<Message>``."""
    from twilio.twiml.messaging_response import MessagingResponse

    if not twilio_request_valid(request):
        return HttpResponse("invalid Twilio signature", status=403, content_type="text/plain")
    now = timezone.now()
    sender = request.POST.get("From", "")
    token, why = token_for_sms(body=request.POST.get("Body", ""), from_number=sender, now=now)
    reply = MessagingResponse()
    if token is None:
        reply.message(why)
    else:
        outcome = page_acknowledge(
            token=token, via=AcknowledgeToken.Via.SMS, now=now, detail=f"ACK {token.code} from {sender}"
        )
        reply.message(outcome.message)
    return _twiml(reply)


@csrf_exempt
@require_POST
def twilio_voice(request: HttpRequest, signed: str) -> HttpResponse:
    """The ``<Gather>`` callback of a voice page: ``Digits=1`` acknowledges; answers TwiML ``<Say>``."""
    from twilio.twiml.voice_response import VoiceResponse

    if not twilio_request_valid(request):
        return HttpResponse("invalid Twilio signature", status=403, content_type="text/plain")
    answer = VoiceResponse()
    token = voice_token(signed)
    if token is None:
        answer.say("This call can no longer acknowledge anything. Goodbye.")
        return _twiml(answer)
    if request.POST.get("Digits", "").strip() != "1":
        answer.say("Not acknowledged. Goodbye.")
        return _twiml(answer)
    outcome = page_acknowledge(
        token=token,
        via=AcknowledgeToken.Via.VOICE,
        now=timezone.now(),
        detail=f"to {request.POST.get('To') or token.user_id or ''}".strip(),
    )
    answer.say("Acknowledged. Thank you." if outcome.ok else outcome.message)
    return _twiml(answer)


# --- Slack ----------------------------------------------------------------------------------------


class _PortalClock:
    """slack_sdk's clock, reading the portal's (so tests can move time)."""

    def now(self) -> float:
        return timezone.now().timestamp()


def slack_request_valid(request: HttpRequest) -> bool:
    """Whether the request carries Slack's valid signature, at most 5 minutes old (False without a secret)."""
    from slack_sdk.signature import SignatureVerifier

    secret = getattr(settings, "SLACK_SIGNING_SECRET", "")
    if not secret:
        return False
    return SignatureVerifier(secret, clock=_PortalClock()).is_valid_request(request.body, dict(request.headers))


def _slack_reply(response_url: str, body: dict) -> None:
    """POST ``body`` to the verified request's ``response_url`` (only under ``SLACK_RESPONSE_URL_PREFIX``)."""
    if not response_url.startswith(conf.SLACK_RESPONSE_URL_PREFIX):
        logger.warning(
            "Slack response_url %r is not under %s: not answered", response_url[:80], conf.SLACK_RESPONSE_URL_PREFIX
        )
        return
    try:
        from wedsync_ops.outbound import outbound_request  # the portal's one outbound client (public addresses)

        outbound_request("POST", response_url, json=body, timeout=settings.NOTIFY_HTTP_TIMEOUT_S, trusted=False)
    except requests.RequestException as exc:
        logger.warning("Slack response_url answer failed: %s", exc)


def _ephemeral(text: str) -> dict:
    return {"response_type": "ephemeral", "replace_original": False, "text": text}


@csrf_exempt
@require_POST
def slack_actions(request: HttpRequest) -> HttpResponse:
    """Slack's interactivity request for the Acknowledge / Resolve buttons (see the module docstring)."""
    if not slack_request_valid(request):  # reads the raw body first: the signature covers its bytes
        return HttpResponse("invalid Slack signature", status=401, content_type="text/plain")
    try:
        payload = json.loads(request.POST.get("payload", ""))
        action = (payload.get("actions") or [{}])[0]
        member = str((payload.get("user") or {}).get("id", ""))
        response_url = str(payload.get("response_url", ""))
    except (ValueError, AttributeError, IndexError):
        return JsonResponse({"error": "payload: not a Slack interactivity payload"}, status=400)
    action_id = action.get("action_id")
    if action_id not in (SLACK_ACTION_ACKNOWLEDGE, SLACK_ACTION_RESOLVE):
        return HttpResponse(status=200)  # e.g. the "Open" link button: nothing to do
    reply = _slack_act(member=member, action_id=action_id, value=str(action.get("value", "")))
    transaction.on_commit(lambda: _slack_reply(response_url, reply), robust=True)
    return HttpResponse(status=200)


def _slack_act(*, member: str, action_id: str, value: str) -> dict:
    """Do what the button says as the member's portal user; returns the reply for ``response_url``."""
    from incidents.models import Incident
    from incidents.services import incident_acknowledge, incident_resolve

    with service_context():
        user = user_for_slack_member(member) if member else None
    if user is None:
        return _ephemeral(
            "Your Slack account is not linked to a WedSync Ops user, so this button cannot act for "
            "you. Add your Slack member ID on your paging page (/oncall/me/) and try again."
        )
    try:
        incident_id = uuid.UUID(value)
    except ValueError:
        return _ephemeral("This button does not name an incident.")
    verb = "acknowledged" if action_id == SLACK_ACTION_ACKNOWLEDGE else "resolved"
    with transaction.atomic():
        ctx = context_for_user(user)
        with tenant_context(ctx):
            incident = Incident.objects.filter(pk=incident_id).first()
            if incident is None or (not user.is_staff and incident.organization_id != ctx.org_id):
                return _ephemeral("You cannot act on this incident.")
            try:
                with transaction.atomic():
                    if verb == "acknowledged":
                        incident_acknowledge(incident=incident, by=user, now=timezone.now(), via="the Slack button")
                    else:
                        incident_resolve(incident=incident, by=user, now=timezone.now(), via="the Slack button")
            except ValidationError:
                incident.refresh_from_db()
                return _ephemeral(f"Nothing to do: the incident is {incident.status}.")
    return {
        "response_type": "in_channel",
        "replace_original": False,
        "text": f"{'✅' if verb == 'acknowledged' else '☑️'} {incident.title}: {verb} by <@{member}> "
        f"({display_name(user)}) in WedSync Ops.",
    }
