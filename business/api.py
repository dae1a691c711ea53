"""Business API: ``POST /api/v1/business-events/`` (organization API key)."""

from django.core.exceptions import RequestDataTooBig
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from wedsync_ops.api import JSONParser
from wedsync_ops.tenancy.auth import ApiKeyAuthentication

from .ingest_json import events_ingest_json
from .serializers import BusinessEventBatchSerializer, BusinessEventsAcceptedSerializer, BusinessEventsRefusedSerializer
from .services import BusinessEventsValidationError


class BusinessEventIngestView(APIView):
    """``POST /api/v1/business-events/``: store a batch of business events for the API key's organization.

    Authenticates like metric ingest (``wedsync_ops.tenancy.auth.ApiKeyAuthentication``: ``Authorization:
    Bearer wso_…``); the organization is the key's, never the payload's. The whole batch is validated
    first (``business.ingest_json``: msgspec; ``business.services.events_validate`` names the errors)
    and stored with one COPY in the request's transaction. Answers 202 ``{"accepted": n}``; 400
    ``{"detail"}`` for a body that is not JSON or not a batch, or ``{"errors": [{"index", "field",
    "reason"}], "error_count"}`` for bad events (nothing stored); 401 without a valid key.
    """

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]  # documentation only: the body is decoded by json_loads

    @extend_schema(
        operation_id="business_events_ingest",
        summary="Ingest a batch of business events",
        tags=["ingest"],
        request=BusinessEventBatchSerializer,
        responses={
            202: BusinessEventsAcceptedSerializer,
            400: OpenApiResponse(BusinessEventsRefusedSerializer, description="Nothing was stored."),
            401: OpenApiResponse(description="No API key, or an unknown or revoked one."),
        },
        examples=[
            OpenApiExample(
                "A failed payment and an RSVP",
                request_only=True,
                value={
                    "events": [
                        {
                            "event_type": "payment_failed",
                            "timestamp": "2026-06-13T12:00:00Z",
                            "actor_id": "client-812",
                            "revenue_impact": "165.00",
                            "currency": "GBP",
                            "properties": {"provider": "stripe"},
                        },
                        {"event_type": "rsvp_submitted", "actor_id": "guest-77", "properties": {"feature": "rsvp"}},
                    ]
                },
            ),
            OpenApiExample(
                "Bad event",
                response_only=True,
                status_codes=["400"],
                value={
                    "errors": [
                        {
                            "index": 0,
                            "field": "currency",
                            "reason": "must be an ISO 4217 currency code in upper case, e.g. GBP",
                        }
                    ],
                    "error_count": 1,
                },
            ),
        ],
    )
    def post(self, request):
        try:
            body = request.body
        except RequestDataTooBig:
            return Response(
                {"detail": "the body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE"}, status=status.HTTP_400_BAD_REQUEST
            )
        if not body:
            return Response(
                {"detail": "the body is empty: send a JSON event batch"}, status=status.HTTP_400_BAD_REQUEST
            )
        try:
            accepted = events_ingest_json(organization_id=request.auth.organization_id, body=body, now=timezone.now())
        except BusinessEventsValidationError as exc:
            return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
        return Response({"accepted": accepted}, status=status.HTTP_202_ACCEPTED)
