"""django-q2 jobs: each takes ids and calls one service; each is safe to run twice."""

from apps.billing import services


def auto_topup_charge(topup_id: int) -> str:
    return services.auto_topup_charge(topup_id=topup_id)


def holds_expire() -> int:
    return services.hold_expire_due()


def receipt_email_send(receipt_id: int) -> str:
    return services.receipt_email_send(receipt_id=receipt_id)
