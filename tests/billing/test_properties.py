"""A stateful property test: random money operations against a tiny in-memory model of the reserve."""

import itertools

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from apps.accounts.models import Tenant, User
from apps.billing import selectors, services
from apps.billing.errors import IdempotencyConflict, InsufficientFunds
from apps.billing.models import LedgerEntry, ReserveAccount

amounts = st.integers(min_value=1, max_value=5_000)
_machines = itertools.count()


class ReserveMachine(RuleBasedStateMachine):
    holds = Bundle("holds")

    def __init__(self):
        super().__init__()
        number = next(_machines)
        self.tenant = Tenant.objects.create(name=f"Prop {number}", slug=f"prop-{number}")
        self.staff = User.objects.create_user(email=f"staff{number}@example.com", is_staff=True)
        self.keys = itertools.count()
        self.balance = 0
        self.pending: dict[int, int] = {}
        self.credited = 0
        self.spent = 0

    @property
    def available(self) -> int:
        return self.balance - sum(self.pending.values())

    def key(self) -> str:
        return f"k{next(self.keys)}"

    @rule(amount=amounts)
    def credit(self, amount):
        key = self.key()
        services.reserve_credit(tenant=self.tenant, amount_micros=amount, idempotency_key=key)
        services.reserve_credit(
            tenant=self.tenant, amount_micros=amount, idempotency_key=key
        )  # replay: no effect
        self.balance += amount
        self.credited += amount

    @rule(amount=amounts)
    def deduct(self, amount):
        try:
            services.reserve_deduct(tenant=self.tenant, amount_micros=amount, idempotency_key=self.key())
        except InsufficientFunds:
            assert amount > self.available
            return
        assert amount <= self.available
        self.balance -= amount
        self.spent += amount

    @rule(target=holds, amount=amounts)
    def place_hold(self, amount):
        try:
            hold = services.hold_place(tenant=self.tenant, amount_micros=amount, idempotency_key=self.key())
        except InsufficientFunds:
            assert amount > self.available
            return None
        self.pending[hold.pk] = amount
        return hold.pk

    @rule(hold_id=consumes(holds), fraction=st.integers(min_value=0, max_value=100))
    def capture(self, hold_id, fraction):
        if hold_id is None:
            return
        amount = self.pending.pop(hold_id) * fraction // 100
        services.hold_capture(tenant=self.tenant, hold_id=hold_id, amount_micros=amount)
        self.balance -= amount
        self.spent += amount

    @rule(hold_id=consumes(holds))
    def void(self, hold_id):
        if hold_id is None:
            return
        services.hold_void(tenant=self.tenant, hold_id=hold_id)
        del self.pending[hold_id]

    @rule(amount=st.integers(min_value=-5_000, max_value=5_000).filter(bool))
    def adjust(self, amount):
        try:
            services.reserve_adjust(
                tenant=self.tenant,
                amount_micros=amount,
                reason="property",
                actor=self.staff,
                idempotency_key=self.key(),
            )
        except InsufficientFunds:
            assert -amount > self.available
            return
        self.balance += amount
        self.credited += max(amount, 0)
        self.spent += max(-amount, 0)

    @rule(amount=amounts)
    def replay_with_another_amount(self, amount):
        key = self.key()
        services.reserve_credit(tenant=self.tenant, amount_micros=amount, idempotency_key=key)
        self.balance += amount
        self.credited += amount
        with pytest.raises(IdempotencyConflict):
            services.reserve_credit(tenant=self.tenant, amount_micros=amount + 1, idempotency_key=key)

    @invariant()
    def agrees_with_the_model(self):
        account = ReserveAccount.objects.filter(tenant=self.tenant).first()
        if account is None:
            assert self.balance == 0
            return
        assert account.balance_micros == self.balance
        assert account.available_micros == self.available
        assert account.available_micros >= 0  # the default policy is block
        entries = LedgerEntry.objects.filter(account=account).values_list("amount_micros", flat=True)
        assert sum(entries) == self.balance == self.credited - self.spent

    def teardown(self):
        _count, problems = selectors.reconcile_problems()
        assert not problems


def test_it_keeps_balances_availability_and_conservation_in_step_with_a_model(db):
    run_state_machine_as_test(
        ReserveMachine,
        settings=settings(
            max_examples=25, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
