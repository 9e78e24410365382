"""Refunds: staff send part or all of a top-up back to its card; the reserve gives the money back once.

Policy (what a refund may take):
- At most what is left of the payment to refund (Stripe's limit too), tax included: `amount_cents` goes
  back to the card.
- The reserve gives back the same share of the net credit: `reversal = amount x net / charged`, rounded
  once by the money rule; the refund that empties the payment takes exactly what is left of the credit, so
  a fully refunded top-up has given back exactly what it added. Without tax, reversal == amount.
- Only unspent money is refunded: a refund staff start is refused when its reversal is more than the
  workspace has available (balance minus holds). Money already spent on AI work is not paid back to the card;
  staff who want to be generous use an adjustment for the difference.
- While Stripe works on it, the reversal is held (a Hold, so it cannot be spent meanwhile and reconcile sees
  it). Holding it never starts an automatic top-up, and neither does the refund itself.
- A refund made elsewhere (Stripe's dashboard) is a fact: its webhook records it even if the reserve goes
  negative, with a `billing.refund.overdrawn` event for staff.

Exactly once: the ledger entry's idempotency key is `stripe-refund:<Stripe refund id>`, written under the
account's row lock by whichever comes first of the staff request and the webhooks (`charge.refunded`,
`refund.created`, `refund.updated`, `refund.failed`, `charge.refund.updated`); the others find it. Events
are only claims: the refund is always read back from Stripe before anything is recorded.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from apps.billing import stripe_gateway
from apps.billing.errors import PaymentFailed, PaymentsUnavailable
from apps.billing.models import Hold, LedgerEntry, Refund, ReserveAccount, TopUp
from apps.billing.services.reserve import _append_once, _lock, hold_void
from apps.core.errors import NotFound, ValidationFailed, require_staff
from apps.core.events import emit_event
from apps.core.money import cents_to_micros, format_micros, round_micros

logger = logging.getLogger(__name__)

REFUND_HOLD_TTL = timedelta(days=1)
OPEN = (Refund.Status.PENDING, Refund.Status.SUCCEEDED)
DASHBOARD_REASON = "Refunded outside AfterResume (Stripe dashboard)"


@dataclass(frozen=True)
class RefundRoom:
    """How much of a top-up can still be refunded, and how much of that the unspent reserve covers."""

    charged_cents: int
    refunded_cents: int
    refundable_cents: int
    unspent_micros: int
    allowed_cents: int


def _refunded(topup: TopUp, *, exclude_pk: int | None = None) -> tuple[int, int]:
    """(cents sent back or on their way, micros taken back or held for it) for the top-up's open refunds."""
    refunds = Refund.objects.filter(topup=topup, status__in=OPEN)
    if exclude_pk is not None:
        refunds = refunds.exclude(pk=exclude_pk)
    totals = refunds.aggregate(cents=Sum("amount_cents"), micros=Sum("reversal_micros"))
    return totals["cents"] or 0, totals["micros"] or 0


def _reversal(topup: TopUp, amount_cents: int, refunded_cents: int, reversed_micros: int) -> int:
    net_micros = cents_to_micros(topup.amount_cents)
    if refunded_cents + amount_cents >= topup.charged_cents:
        return max(0, net_micros - reversed_micros)
    if topup.tax_cents == 0:
        return cents_to_micros(amount_cents)
    share = Decimal(cents_to_micros(amount_cents)) * topup.amount_cents / topup.charged_cents
    return min(round_micros(share), net_micros - reversed_micros)


def refund_reversal_micros(topup: TopUp, amount_cents: int) -> int:
    """What the reserve gives back for refunding `amount_cents` of the top-up's charge (see the policy)."""
    return _reversal(topup, amount_cents, *_refunded(topup))


def refund_room(*, topup: TopUp, account: ReserveAccount) -> RefundRoom:
    refunded_cents, reversed_micros = _refunded(topup)
    refundable = max(0, topup.charged_cents - refunded_cents)
    unspent = max(0, account.available_micros)
    allowed = refundable
    if _reversal(topup, allowed, refunded_cents, reversed_micros) > unspent:
        # The proportional estimate, then down a cent at a time past its rounding.
        allowed = min(refundable, unspent * topup.charged_cents // cents_to_micros(topup.amount_cents))
        while allowed > 0 and _reversal(topup, allowed, refunded_cents, reversed_micros) > unspent:
            allowed -= 1
    return RefundRoom(topup.charged_cents, refunded_cents, refundable, unspent, allowed)


def _payment_intent_of(topup: TopUp) -> str:
    if topup.stripe_payment_intent_id:
        return topup.stripe_payment_intent_id
    if topup.source == TopUp.Source.AUTOMATIC:
        return topup.stripe_object_id
    return ""


def refundable_topup_get(*, public_id: str) -> TopUp:
    topup = (
        TopUp.objects.select_related("tenant", "account")
        .filter(public_id=public_id, status=TopUp.Status.SUCCEEDED)
        .first()
    )
    if topup is None:
        raise NotFound("No paid top-up with that id.")
    return topup


def _hold_reversal(account: ReserveAccount, refund: Refund) -> Hold | None:
    """Hold the reversal while Stripe works on it. Not `hold_place`: no policy of the workspace applies
    (the unspent check was made) and no automatic top-up may start because of a refund."""
    if refund.reversal_micros <= 0:
        return None
    hold = Hold.objects.create(
        tenant_id=account.tenant_id,
        account=account,
        amount_micros=refund.reversal_micros,
        idempotency_key=f"refund:{refund.public_id}",
        memo=f"Refund {refund.public_id} on its way to the card",
        expires_at=timezone.now() + REFUND_HOLD_TTL,
    )
    account.held_micros += refund.reversal_micros
    account.save(update_fields=["held_micros", "updated_at"])
    return hold


def _release(refund: Refund) -> None:
    if refund.hold_id is not None:
        hold_void(tenant=refund.topup.tenant, hold_id=refund.hold_id)


def refund_start(*, topup_public_id: str, actor, amount_cents, reason: str) -> Refund:
    """Staff refund `amount_cents` of a paid top-up to its card (see the module's policy)."""
    require_staff(actor, "Only staff can refund a payment.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why: a reason is required for every refund.", field="reason")
    if len(reason) > 300:
        raise ValidationFailed("Keep the reason to 300 characters.", field="reason")
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise ValidationFailed("Enter an amount of at least one cent.", field="amount")
    if not stripe_gateway.is_configured():
        raise PaymentsUnavailable("Refunds need Stripe: card payments are not set up on this server.")
    with transaction.atomic():
        topup = refundable_topup_get(public_id=topup_public_id)
        account = _lock(topup.tenant)  # the account first, then the top-up (one lock order everywhere)
        topup = TopUp.objects.select_for_update().select_related("tenant").get(pk=topup.pk)
        if topup.source == TopUp.Source.SIMULATED:
            raise ValidationFailed(
                "A simulated top-up was never charged, so there is nothing to refund; use an adjustment."
            )
        payment_intent = _payment_intent_of(topup)
        if not payment_intent:
            raise ValidationFailed(
                "We do not know this payment's PaymentIntent; refund it in Stripe's dashboard (the webhook "
                "records it here)."
            )
        room = refund_room(topup=topup, account=account)
        currency = account.currency
        if amount_cents > room.refundable_cents:
            raise ValidationFailed(
                f"Only {format_micros(cents_to_micros(room.refundable_cents), currency)} of this payment is "
                "left to refund.",
                field="amount",
                extra={"refundable_cents": room.refundable_cents},
            )
        reversal = refund_reversal_micros(topup, amount_cents)
        if reversal > room.unspent_micros:
            raise ValidationFailed(
                f"Only {format_micros(room.unspent_micros, currency)} of this workspace's reserve is "
                f"unspent; refund at most {format_micros(cents_to_micros(room.allowed_cents), currency)}. "
                "Money already spent on AI work is not refunded.",
                field="amount",
                extra={"allowed_cents": room.allowed_cents, "unspent_micros": room.unspent_micros},
            )
        refund = Refund.objects.create(
            tenant=topup.tenant,
            account=account,
            topup=topup,
            public_id=f"rf_{uuid.uuid4().hex}",
            amount_cents=amount_cents,
            reversal_micros=reversal,
            currency=currency,
            reason=reason,
            requested_by=actor,
        )
        refund.hold = _hold_reversal(account, refund)
        refund.save(update_fields=["hold"])
        emit_event(
            "billing.refund.requested",
            tenant=topup.tenant,
            actor=actor,
            refund=refund.public_id,
            topup=topup.public_id,
            amount_cents=amount_cents,
            reversal_micros=reversal,
            reason=reason,
        )
    try:
        info = stripe_gateway.refund_create(
            payment_intent_id=payment_intent,
            amount_cents=amount_cents,
            metadata={
                "refund_id": refund.public_id,
                "topup_id": topup.public_id,
                "tenant_id": str(topup.tenant_id),
                "reason": reason[:490],
            },
            idempotency_key=refund.public_id,
        )
    except PaymentFailed as exc:
        _refund_fail(refund_pk=refund.pk, reason=exc.message)
        raise
    return refund_settle(info=info)


def _refund_fail(*, refund_pk: int, reason: str) -> None:
    with transaction.atomic():
        refund = Refund.objects.select_related("topup__tenant").get(pk=refund_pk)
        _lock(refund.topup.tenant)
        refund = Refund.objects.select_for_update().select_related("topup__tenant").get(pk=refund_pk)
        if refund.status != Refund.Status.PENDING:
            return
        _release(refund)
        refund.status, refund.failure_reason = Refund.Status.FAILED, reason[:300]
        refund.completed_at = timezone.now()
        refund.save(update_fields=["status", "failure_reason", "completed_at"])
        emit_event(
            "billing.refund.failed", tenant=refund.tenant, refund=refund.public_id, reason=reason[:300]
        )


def _topup_paid_by(payment_intent_id: str) -> TopUp | None:
    if not payment_intent_id:
        return None
    return (
        TopUp.objects.select_related("tenant", "account")
        .filter(status=TopUp.Status.SUCCEEDED)
        .filter(
            Q(stripe_payment_intent_id=payment_intent_id)
            | Q(source=TopUp.Source.AUTOMATIC, stripe_object_id=payment_intent_id)
        )
        .first()
    )


def _refund_row(info: stripe_gateway.RefundInfo, topup: TopUp, account: ReserveAccount) -> Refund:
    """Our row for this Stripe refund (locked): found by its id, by the id we gave it, or new (a refund made
    outside AfterResume, recorded as it is)."""
    refund = Refund.objects.select_for_update().filter(stripe_refund_id=info.id).first()
    if refund is None:
        ours = info.metadata.get("refund_id", "")
        refund = (
            Refund.objects.select_for_update()
            .filter(public_id=ours, topup=topup, stripe_refund_id="")
            .first()
            if ours
            else None
        )
        if refund is not None:
            refund.stripe_refund_id = info.id
            refund.save(update_fields=["stripe_refund_id"])
    if refund is None:
        refund = Refund.objects.create(
            tenant=topup.tenant,
            account=account,
            topup=topup,
            public_id=f"rf_{uuid.uuid4().hex}",
            stripe_refund_id=info.id,
            amount_cents=info.amount_cents,
            reversal_micros=refund_reversal_micros(topup, info.amount_cents),
            currency=account.currency,
            reason=DASHBOARD_REASON,
        )
    return refund


def _record_success(refund: Refund, account: ReserveAccount, info: stripe_gateway.RefundInfo) -> None:
    _release(refund)
    account.refresh_from_db(fields=["balance_micros", "held_micros"])
    entry = None
    if refund.reversal_micros > 0:
        entry, _created = _append_once(
            account,
            kind=LedgerEntry.Kind.REFUND,
            amount_micros=-refund.reversal_micros,
            key=f"stripe-refund:{info.id}",
            stripe_object_id=info.id,
            memo=f"Refund to card: {refund.reason}"[:300],
        )
    refund.status, refund.ledger_entry, refund.completed_at = Refund.Status.SUCCEEDED, entry, timezone.now()
    refund.save(update_fields=["status", "ledger_entry", "completed_at"])
    emit_event(
        "billing.refund.succeeded",
        tenant=refund.tenant,
        refund=refund.public_id,
        stripe_refund=info.id,
        amount_cents=refund.amount_cents,
        reversal_micros=refund.reversal_micros,
    )
    if account.available_micros < 0:
        emit_event(
            "billing.refund.overdrawn",
            tenant=refund.tenant,
            refund=refund.public_id,
            available_micros=account.available_micros,
        )


def _record_failure_after_success(refund: Refund, account: ReserveAccount, info) -> None:
    """The bank sent a refund back (closed card): the money is ours again, so the reserve gets it back."""
    if refund.reversal_micros > 0:
        _append_once(
            account,
            kind=LedgerEntry.Kind.REFUND,
            amount_micros=refund.reversal_micros,
            key=f"stripe-refund:{info.id}:failed",
            stripe_object_id=info.id,
            memo="Refund returned by the bank: back in the reserve",
        )
    refund.status, refund.failure_reason = Refund.Status.FAILED, (info.failure_reason or "failed")[:300]
    refund.save(update_fields=["status", "failure_reason"])
    emit_event("billing.refund.failed", tenant=refund.tenant, refund=refund.public_id, after_success=True)


def refund_settle(*, info: stripe_gateway.RefundInfo) -> Refund:
    """Record what Stripe says about a refund, once: succeeded moves the money, failed releases it.

    Raises NotFound when the refund is not of a top-up of ours (the webhook then ignores it)."""
    topup = _topup_paid_by(info.payment_intent_id)
    if topup is None:
        raise NotFound(f"Refund {info.id} is not of a top-up of ours.")
    with transaction.atomic():
        account = _lock(topup.tenant)
        refund = _refund_row(info, topup, account)
        if refund.amount_cents != info.amount_cents:
            logger.error(
                "refund %s: Stripe says %s cents, we asked for %s",
                info.id,
                info.amount_cents,
                refund.amount_cents,
            )
        status = info.status
        if refund.status == Refund.Status.PENDING:
            if status == "succeeded":
                _record_success(refund, account, info)
            elif status in ("failed", "canceled"):
                _release(refund)
                refund.status = Refund.Status.FAILED if status == "failed" else Refund.Status.CANCELED
                refund.failure_reason = (info.failure_reason or status)[:300]
                refund.completed_at = timezone.now()
                refund.save(update_fields=["status", "failure_reason", "completed_at"])
                emit_event(
                    "billing.refund.failed", tenant=refund.tenant, refund=refund.public_id, status=status
                )
        elif refund.status == Refund.Status.SUCCEEDED and status in ("failed", "canceled"):
            _record_failure_after_success(refund, account, info)
        return refund


def refund_list_for(*, topup: TopUp) -> list[Refund]:
    return list(
        Refund.objects.filter(topup=topup).select_related("requested_by").order_by("created_at", "id")
    )


def refunds_from_stripe(*, payment_intent_id: str) -> list[Refund]:
    """Record every refund Stripe has for a payment (a `charge.refunded` event names the charge only)."""
    return [
        refund_settle(info=info) for info in stripe_gateway.refund_list(payment_intent_id=payment_intent_id)
    ]


def refundable_topups_recent(*, limit: int = 15) -> list[TopUp]:
    """Paid card top-ups across workspaces, newest first, with what was refunded so far (staff page)."""
    refunded = Sum("refunds__amount_cents", filter=Q(refunds__status__in=OPEN))
    return list(
        TopUp.objects.filter(status=TopUp.Status.SUCCEEDED)
        .exclude(source=TopUp.Source.SIMULATED)
        .select_related("tenant", "receipt")
        .annotate(refunded_cents=refunded)
        .order_by("-completed_at", "-id")[:limit]
    )
