"""What `manage.py bootstrap` installs for billing (through BillingConfig.bootstrap); every step is
idempotent."""

from django_q.models import Schedule

from apps.billing.services.pricing import rate_card_install_default

HOLD_EXPIRY_SCHEDULE = "billing: expire holds"
HOLD_EXPIRY_MINUTES = 5


def billing_defaults_install() -> list[str]:
    """The default rate card and the schedule that expires forgotten holds. Returns what was done."""
    done = []
    card, created = rate_card_install_default()
    if created:
        done.append(f"installed the default rate card {card.plan!r}.")
    else:
        done.append(f"rate card {card.plan!r} is already installed; left as it is.")
    _schedule, created = Schedule.objects.update_or_create(
        name=HOLD_EXPIRY_SCHEDULE,
        defaults={
            "func": "apps.billing.tasks.holds_expire",
            "schedule_type": Schedule.MINUTES,
            "minutes": HOLD_EXPIRY_MINUTES,
            "repeats": -1,
        },
    )
    every = f"every {HOLD_EXPIRY_MINUTES} minutes"
    done.append(f"scheduled hold expiry {every}." if created else f"hold expiry is scheduled {every}.")
    return done
