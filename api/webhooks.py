"""Webhook events: what is sent, to whom, and the delivery of one try."""

from __future__ import annotations

import functools
import json
from typing import Any

import certifi
import urllib3
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from api import signing
from api.destinations import Destination, ForbiddenDestination, destination_resolve
from api.models import WebhookDelivery, WebhookEndpoint
from core.timezones import zone
from disputes.models import Dispute

ANALYSIS_COMPLETED = "dispute.analysis_completed"
DISPUTE_DECIDED = "dispute.decided"
EVENT_TYPES = (ANALYSIS_COMPLETED, DISPUTE_DECIDED)


class TransientDeliveryError(Exception):
    """The receiver did not answer 2xx; the delivery will be tried again."""


def dispute_summary(dispute: Dispute) -> dict[str, Any]:
    """The facts an event carries about a dispute (the API's detail has more); times in
    the merchant's zone, with its offset, as the API writes them."""
    decision = dispute.decisions.order_by("-created_at", "-id").first()
    return {
        "id": dispute.pk,
        "platform": dispute.platform,
        "external_id": dispute.external_id,
        "order_ref": dispute.order_ref,
        "status": dispute.status,
        "risk_level": dispute.risk_level or None,
        "risk_score": dispute.risk_score,
        "claim_images": [
            {
                "id": image.pk,
                "sha256": image.sha256,
                "analysis_status": image.analysis_status,
                "risk_level": image.risk_level or None,
                "risk_score": image.risk_score,
                "reasons": [
                    {"code": f.code, "weight": f.weight, "message": f.message}
                    for f in image.findings.order_by("-weight", "id")
                ],
            }
            for image in dispute.claim_images.order_by("id")
        ],
        "decision": None
        if decision is None
        else {
            "outcome": decision.outcome,
            "requested_from": decision.requested_from or None,
            "note": decision.note,
            "decided_at": timezone.localtime(decision.created_at, zone(dispute.merchant.time_zone)),
        },
    }


def events_queue(event_type: str, dispute_id: int) -> list[WebhookDelivery]:
    """Record one delivery per active endpoint of the dispute's merchant and send them."""
    from api.tasks import webhook_deliver_task

    dispute = Dispute.objects.filter(pk=dispute_id).first()
    if dispute is None:
        return []
    endpoints = list(WebhookEndpoint.objects.filter(merchant=dispute.merchant, is_active=True))
    if not endpoints:
        return []
    payload = {
        "type": event_type,
        "created": timezone.localtime(timezone.now(), zone(dispute.merchant.time_zone)),
        "data": {"dispute": dispute_summary(dispute)},
    }
    payload = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    with transaction.atomic():
        deliveries = [
            WebhookDelivery.objects.create(endpoint=e, event_type=event_type, payload=payload)
            for e in endpoints
        ]
        for delivery in deliveries:
            transaction.on_commit(functools.partial(webhook_deliver_task.delay, delivery.pk))
    return deliveries


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The exact bytes POSTed (the event id travels inside, for de-duplication)."""
    return json.dumps(
        {"id": str(delivery.event_id), **delivery.payload}, separators=(",", ":")
    ).encode()


def pinned_post(
    destination: Destination,
    *,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    ca_certs: str | None = None,
) -> int:
    """POST ``body`` to the checked address of ``destination`` and return the status.

    The TCP connection goes to ``destination.address`` (never a second lookup); TLS still
    sends the host name (SNI) and verifies the certificate against it, and the Host
    header names it. Redirects are not followed. Raises ``urllib3.exceptions.HTTPError``.
    """
    options: dict[str, Any] = {
        "host": destination.address,
        "port": destination.port,
        "timeout": urllib3.Timeout(total=timeout),
        "retries": False,
        "maxsize": 1,
    }
    pool: urllib3.HTTPConnectionPool
    if destination.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            **options,
            server_hostname=destination.host,
            assert_hostname=destination.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_certs or certifi.where(),
        )
    else:
        pool = urllib3.HTTPConnectionPool(**options)
    with pool:
        response = pool.urlopen(
            "POST",
            destination.target,
            body=body,
            headers={**headers, "Host": destination.host_header},
            redirect=False,
            preload_content=False,
        )
        response.close()  # the answer's body is not read: its status is the reply
        return int(response.status)


def delivery_attempt(delivery_id: int) -> WebhookDelivery:
    """POST the event once; record the outcome. Raises ``TransientDeliveryError`` when
    the receiver should be tried again."""
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if delivery.status == WebhookDelivery.Status.SUCCEEDED:
        return delivery
    body = delivery_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "RefundGuard-Webhooks/1",
        "RefundGuard-Event": delivery.event_type,
        "RefundGuard-Delivery": str(delivery.event_id),
        signing.HEADER: signing.signature_header(delivery.endpoint.secret, body),
    }
    delivery.attempts += 1
    try:
        # Resolved and checked again (DNS may have changed), then reached at that address.
        destination = destination_resolve(delivery.endpoint.url)
    except ForbiddenDestination as exc:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.last_error = str(exc)[:300]
        delivery.save(update_fields=["attempts", "status", "last_error"])
        return delivery  # a refused destination is not retried
    try:
        status = pinned_post(
            destination, body=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
        )
    except urllib3.exceptions.HTTPError as exc:
        delivery.last_status_code = None
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:300]
        delivery.save(update_fields=["attempts", "last_status_code", "last_error"])
        raise TransientDeliveryError(delivery.last_error) from exc
    delivery.last_status_code = status
    if 200 <= status < 300:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.delivered_at = timezone.now()
        delivery.last_error = ""
        delivery.save()
        return delivery
    delivery.last_error = f"HTTP {status}"
    delivery.save(update_fields=["attempts", "last_status_code", "last_error"])
    raise TransientDeliveryError(delivery.last_error)


def delivery_give_up(delivery_id: int) -> None:
    """Mark a delivery failed after its last try."""
    WebhookDelivery.objects.filter(pk=delivery_id).exclude(
        status=WebhookDelivery.Status.SUCCEEDED
    ).update(status=WebhookDelivery.Status.FAILED)
