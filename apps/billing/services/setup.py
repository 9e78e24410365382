"""What `bootstrap` installs for billing; every step is idempotent."""

from django_q.models import Schedule

from apps.billing.services.pricing import rate_card_install_default

HOLD_EXPIRY_SCHEDULE = "billing: expire holds"


def billing_defaults_install() -> list[str]:
    """The default rate card and the schedule that expires forgotten holds. Returns what was done."""
    done = []
    card, created = rate_card_install_default()
    done.append(f"{'Installed' if created else 'Kept'} rate card {card.plan!r}.")
    _schedule, created = Schedule.objects.update_or_create(
        name=HOLD_EXPIRY_SCHEDULE,
        defaults={
            "func": "apps.billing.tasks.holds_expire",
            "schedule_type": Schedule.MINUTES,
            "minutes": 5,
            "repeats": -1,
        },
    )
    done.append(f"{'Scheduled' if created else 'Kept'} the hold expiry job.")
    return done
