"""What a person can be told about, and how by default.

Each kind has a label for the preferences page, a sentence saying when it is sent, and its default channels.
Security alerts are `locked`: always in-app and by email, whatever is stored. The weekly reminder is opt-in.
"""

from dataclasses import dataclass

from django.db import models


class Kind(models.TextChoices):
    BALANCE_LOW = "balance_low", "Balance under the threshold"
    BALANCE_REFUSED = "balance_refused", "Work refused: balance used up"
    AUTO_TOPUP_SUCCEEDED = "auto_topup_succeeded", "Automatic top-up made"
    AUTO_TOPUP_FAILED = "auto_topup_failed", "Automatic top-up failed"
    JOB_SUCCEEDED = "job_succeeded", "Job finished"
    JOB_FAILED = "job_failed", "Job failed"
    CAPTURE_REMINDER = "capture_reminder", "Weekly reminder to log your work"
    FOLLOW_UP_DUE = "follow_up_due", "Follow-up due"
    NEW_SIGN_IN = "new_sign_in", "Sign-in from a new device"


class Group(models.TextChoices):
    BILLING = "billing", "Balance and top-ups"
    WORK = "work", "Jobs and your log"
    SECURITY = "security", "Security"


@dataclass(frozen=True)
class KindInfo:
    kind: str
    group: str
    when: str  # when it is sent, for the preferences page
    in_app: bool
    email: bool
    locked: bool = False
    icon: str = "bell"
    tone: str = "primary"  # primary, success, warning, danger: the icon's colour in the list


KINDS: dict[str, KindInfo] = {
    info.kind: info
    for info in (
        KindInfo(
            Kind.BALANCE_LOW,
            Group.BILLING,
            "Once each time the money available falls under your low-balance threshold.",
            in_app=True,
            email=True,
            icon="wallet2",
            tone="warning",
        ),
        KindInfo(
            Kind.BALANCE_REFUSED,
            Group.BILLING,
            "When work was refused because the reserve ran out; at most once a day.",
            in_app=True,
            email=True,
            icon="slash-circle",
            tone="danger",
        ),
        KindInfo(
            Kind.AUTO_TOPUP_SUCCEEDED,
            Group.BILLING,
            "When your saved card was charged to top the reserve up.",
            in_app=True,
            email=False,
            icon="arrow-repeat",
            tone="success",
        ),
        KindInfo(
            Kind.AUTO_TOPUP_FAILED,
            Group.BILLING,
            "When the card was declined (automatic top-up then turns off) or the charge could not be made.",
            in_app=True,
            email=True,
            icon="credit-card",
            tone="danger",
        ),
        KindInfo(
            Kind.JOB_SUCCEEDED,
            Group.WORK,
            "When a report, an improvement run, an export or an import you started is done.",
            in_app=True,
            email=False,
            icon="check2-circle",
            tone="success",
        ),
        KindInfo(
            Kind.JOB_FAILED,
            Group.WORK,
            "When one of those jobs stopped with an error.",
            in_app=True,
            email=True,
            icon="exclamation-octagon",
            tone="danger",
        ),
        KindInfo(
            Kind.FOLLOW_UP_DUE,
            Group.WORK,
            "On the follow-up date of an entry whose result you were waiting for.",
            in_app=True,
            email=True,
            icon="hourglass-split",
            tone="primary",
        ),
        KindInfo(
            Kind.CAPTURE_REMINDER,
            Group.WORK,
            "Once a week at the time you choose, unless you already logged something that week.",
            in_app=False,
            email=False,
            icon="calendar-check",
            tone="primary",
        ),
        KindInfo(
            Kind.NEW_SIGN_IN,
            Group.SECURITY,
            "When you sign in from a browser or network we have not seen for you before. Always on.",
            in_app=True,
            email=True,
            locked=True,
            icon="shield-exclamation",
            tone="warning",
        ),
    )
}


def kind_info(kind: str) -> KindInfo:
    return KINDS[kind]


def kind_label(kind: str) -> str:
    return Kind(kind).label if kind in Kind.values else kind
