"""A Stripe-compatible server on loopback for the tests: localstripe plus what it lacks.

localstripe (from PyPI) serves customers, payment methods, PaymentIntents and subscriptions. Checkout
Sessions and Billing Portal sessions are added here, on the same aiohttp app, so the stripe SDK talks to
one base URL. Test-only hooks live under /_config/ (localstripe leaves that prefix unauthenticated):

  POST /_config/checkout/sessions/{id}/complete   the customer pays on the hosted page: a card is
                                                  attached, a PaymentIntent confirmed, and the
                                                  `checkout.session.completed` event body returned
  POST /_config/failures  {"path", "status"}      from now on answer that API path with that status
                                                  (Stripe's error body), as an outage would
  DELETE /_config/failures                        answer normally again
  POST /_config/refunds/mode  {"status"}          new refunds start `succeeded` (default) or `pending`
  POST /_config/refunds/{id}/settle  {"status"}   a pending refund succeeds or fails; returns the
                                                  `refund.updated` event body
  POST /_config/charges/{id}/refunded             the `charge.refunded` event body for that charge

Besides: Stripe Tax (`automatic_tax` on Checkout Sessions, with `amount_subtotal` and
`total_details.amount_tax`; POST /v1/tax/calculations and /v1/tax/transactions/create_from_calculation) at a
fixed TAX_BASIS_POINTS, rounded half up, for customers with an address; charges carry
`payment_method_details.card` (brand, last four); refunds are refused above what is left on the charge and
name their PaymentIntent.
"""

import asyncio
import json
import secrets
import threading
import time
import urllib.request
import warnings

from aiohttp import web

with warnings.catch_warnings():
    # localstripe registers plain functions as aiohttp handlers, which aiohttp now warns about.
    warnings.simplefilter("ignore", DeprecationWarning)
    from localstripe.errors import UserError
    from localstripe.resources import Charge, Customer, PaymentIntent, PaymentMethod, Refund
    from localstripe.server import app, get_post_data, json_response

CHECKOUT_SESSIONS: dict[str, dict] = {}
TAX_CALCULATIONS: dict[str, dict] = {}
TAX_TRANSACTIONS: dict[str, dict] = {}
FAILURES: dict[str, int] = {}  # API path -> the HTTP status it answers with instead
REFUND_MODE = {"status": "succeeded"}
TEST_CARD = "4242424242424242"
TAX_BASIS_POINTS = 825  # 8.25 %
TEST_ADDRESS = {
    "line1": "1 Market St",
    "city": "San Francisco",
    "state": "CA",
    "postal_code": "94105",
    "country": "US",
}


def tax_on(amount_cents: int) -> int:
    """The fake's tax on an amount: TAX_BASIS_POINTS of it, rounded half up (integer arithmetic)."""
    return (amount_cents * TAX_BASIS_POINTS + 5_000) // 10_000


def _event(event_type: str, obj: dict) -> dict:
    return {
        "id": "evt_" + secrets.token_hex(12),
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }


def _base(request) -> str:
    return f"http://{request.host}"


async def checkout_session_create(request):
    data = await get_post_data(request) or {}
    try:
        assert data.get("mode") == "payment"
        items = data["line_items"]
        assert isinstance(items, list) and len(items) == 1
        price = items[0]["price_data"]
        amount = int(price["unit_amount"]) * int(items[0].get("quantity", 1))
        assert amount > 0
        assert data.get("success_url", "").startswith("http")
        assert data.get("cancel_url", "").startswith("http")
        automatic_tax = str((data.get("automatic_tax") or {}).get("enabled", "")).lower() == "true"
        if automatic_tax:
            # Stripe's own rules: tax needs an address, and an existing customer's is updated from it.
            assert data.get("billing_address_collection") == "required", "billing address not collected"
            assert price.get("tax_behavior") == "exclusive", "tax behaviour not exclusive"
            if data.get("customer"):
                assert (data.get("customer_update") or {}).get("address") == "auto", "customer_update"
    except (AssertionError, KeyError, TypeError, ValueError) as exc:
        raise UserError(400, f"Bad request: {exc!r}") from exc
    customer = data.get("customer")
    if customer:
        Customer._api_retrieve(customer)  # 404 for an unknown customer, as Stripe answers
    session_id = "cs_test_" + secrets.token_hex(12)
    tax = tax_on(amount) if automatic_tax else 0
    session = {
        "id": session_id,
        "object": "checkout.session",
        "mode": "payment",
        "status": "open",
        "payment_status": "unpaid",
        "amount_subtotal": amount,
        "amount_total": amount + tax,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": tax},
        "automatic_tax": {"enabled": automatic_tax, "status": "complete" if automatic_tax else None},
        "customer_details": None,
        "currency": price["currency"],
        "customer": customer,
        "client_reference_id": data.get("client_reference_id"),
        "metadata": data.get("metadata") or {},
        "payment_intent": None,
        "success_url": data["success_url"],
        "cancel_url": data["cancel_url"],
        "url": f"{_base(request)}/checkout/{session_id}",
        "created": int(time.time()),
        "_payment_intent_metadata": (data.get("payment_intent_data") or {}).get("metadata") or {},
    }
    CHECKOUT_SESSIONS[session_id] = session
    return json_response(_public(session))


def _public(session: dict) -> dict:
    return {key: value for key, value in session.items() if not key.startswith("_")}


def _session(request) -> dict:
    session = CHECKOUT_SESSIONS.get(request.match_info["id"])
    if session is None:
        raise UserError(404, "No such checkout.session")
    return session


async def checkout_session_retrieve(request):
    return json_response(_public(_session(request)))


async def checkout_session_complete(request):
    session = _session(request)
    data = await get_post_data(request) or {}
    card_number = data.get("card", TEST_CARD)
    method = PaymentMethod._api_create(
        type="card", card={"number": card_number, "exp_month": "12", "exp_year": "2030", "cvc": "123"}
    )
    if session["customer"]:
        PaymentMethod._api_attach(method.id, customer=session["customer"])
        customer = Customer._api_retrieve(session["customer"])
        session["customer_details"] = {
            "email": customer.email,
            "name": data.get("name", customer.name),
            "address": TEST_ADDRESS if session["automatic_tax"]["enabled"] else None,
        }
        if session["automatic_tax"]["enabled"]:
            customer.address = dict(TEST_ADDRESS)  # customer_update[address]=auto
    intent = PaymentIntent._api_create(
        amount=session["amount_total"],
        currency=session["currency"],
        customer=session["customer"],
        payment_method=method.id,
        metadata=session["_payment_intent_metadata"],
        confirm=True,
    )
    session.update(status="complete", payment_status="paid", payment_intent=intent.id)
    return json_response(_event("checkout.session.completed", _public(session)))


async def tax_calculation_create(request):
    data = await get_post_data(request) or {}
    try:
        items = data["line_items"]
        assert isinstance(items, list) and items
        amounts = [int(item["amount"]) for item in items]
        assert all(item.get("tax_behavior") == "exclusive" for item in items)
        currency = data["currency"]
    except (AssertionError, KeyError, TypeError, ValueError) as exc:
        raise UserError(400, f"Bad request: {exc!r}") from exc
    customer = Customer._api_retrieve(data.get("customer") or "")
    if not getattr(customer, "address", None):
        raise UserError(
            400,
            "The customer's location isn't recognized: add an address.",
            {"code": "customer_tax_location_invalid"},
        )
    tax = sum(tax_on(amount) for amount in amounts)
    calculation = {
        "id": "taxcalc_" + secrets.token_hex(12),
        "object": "tax.calculation",
        "currency": currency,
        "customer": customer.id,
        "amount_total": sum(amounts) + tax,
        "tax_amount_exclusive": tax,
        "tax_amount_inclusive": 0,
        "expires_at": int(time.time()) + 90 * 24 * 3600,
    }
    TAX_CALCULATIONS[calculation["id"]] = calculation
    return json_response(calculation)


async def tax_transaction_create(request):
    data = await get_post_data(request) or {}
    calculation = TAX_CALCULATIONS.get(data.get("calculation") or "")
    if calculation is None:
        raise UserError(404, "No such tax.calculation")
    if not data.get("reference"):
        raise UserError(400, "Missing required param: reference.")
    transaction = {
        "id": "tax_" + secrets.token_hex(12),
        "object": "tax.transaction",
        "reference": data["reference"],
        "type": "transaction",
        "customer": calculation["customer"],
        "currency": calculation["currency"],
    }
    TAX_TRANSACTIONS[transaction["id"]] = transaction
    return json_response(transaction)


def _charge_card_details(charge) -> dict:
    """What Stripe puts on a charge about the card that paid it."""
    method = PaymentMethod._api_retrieve(charge.payment_method)
    card = getattr(method, "card", None) or {}
    return {"type": method.type, "card": {"brand": card.get("brand"), "last4": card.get("last4")}}


_original_refund_create = Refund._api_create


def _refund_create(**data):
    """Stripe's limits that localstripe leaves out: no more than is left on the charge; the refund names
    its PaymentIntent; a refund can start pending (REFUND_MODE), to be settled later."""
    amount = data.get("amount")
    intent_id = data.get("payment_intent")
    if intent_id:
        charge = PaymentIntent._api_retrieve(intent_id).latest_charge
    else:
        charge = Charge._api_retrieve(data.get("charge") or "")
    if charge is None:
        raise UserError(400, "This PaymentIntent has no charge to refund.")
    left = charge.amount - sum(r.amount for r in charge.refunds._list if r.status in ("succeeded", "pending"))
    wanted = int(amount) if amount is not None else left
    if wanted > left:
        raise UserError(
            400,
            f"Refund amount ({wanted}) is greater than unrefunded amount on charge ({left})",
            {"code": "charge_exceeds_source_limit"},
        )
    refund = _original_refund_create(**data)
    refund.payment_intent = refund.payment_intent or charge.payment_intent
    refund.failure_reason = None
    if REFUND_MODE["status"] == "pending":
        refund.status = "pending"
    return refund


async def refund_mode_set(request):
    data = await request.json()
    REFUND_MODE["status"] = data["status"]
    return web.json_response(REFUND_MODE)


async def refund_settle(request):
    data = await request.json()
    refund = Refund._api_retrieve(request.match_info["id"])
    refund.status = data["status"]
    if refund.status == "failed":
        refund.failure_reason = "expired_or_canceled_card"
    return json_response(_event("refund.updated", refund._export()))


async def charge_refunded_event(request):
    charge = Charge._api_retrieve(request.match_info["id"])
    return json_response(_event("charge.refunded", charge._export()))


async def portal_session_create(request):
    data = await get_post_data(request) or {}
    customer = data.get("customer")
    if not customer:
        raise UserError(400, "Missing required param: customer.")
    Customer._api_retrieve(customer)
    session_id = "bps_" + secrets.token_hex(12)
    return json_response(
        {
            "id": session_id,
            "object": "billing_portal.session",
            "customer": customer,
            "return_url": data.get("return_url"),
            "url": f"{_base(request)}/portal/{session_id}",
            "created": int(time.time()),
        }
    )


@web.middleware
async def failure_middleware(request, handler):
    status = FAILURES.get(request.path)
    if status and not request.path.startswith("/_config/"):
        body = {"error": {"type": "api_error", "message": f"Simulated outage ({status})."}}
        return web.json_response(body, status=status)
    return await handler(request)


async def failures_set(request):
    data = await request.json()
    FAILURES[data["path"]] = int(data["status"])
    return web.json_response({"failing": FAILURES})


async def failures_clear(request):
    FAILURES.clear()
    return web.json_response({"failing": FAILURES})


_routes_added = False


def _add_routes() -> None:
    global _routes_added
    if _routes_added:
        return
    app.router.add_post("/v1/checkout/sessions", checkout_session_create)
    app.router.add_get("/v1/checkout/sessions/{id}", checkout_session_retrieve)
    app.router.add_post("/_config/checkout/sessions/{id}/complete", checkout_session_complete)
    app.router.add_post("/v1/billing_portal/sessions", portal_session_create)
    app.router.add_post("/_config/failures", failures_set)
    app.router.add_delete("/_config/failures", failures_clear)
    app.router.add_post("/v1/tax/calculations", tax_calculation_create)
    app.router.add_post("/v1/tax/transactions/create_from_calculation", tax_transaction_create)
    app.router.add_post("/_config/refunds/mode", refund_mode_set)
    app.router.add_post("/_config/refunds/{id}/settle", refund_settle)
    app.router.add_post("/_config/charges/{id}/refunded", charge_refunded_event)
    app.middlewares.append(failure_middleware)
    Charge.payment_method_details = property(_charge_card_details)
    Refund._api_create = classmethod(lambda cls, **data: _refund_create(**data))
    _routes_added = True


class FakeStripe:
    """The server running on its own event loop in a daemon thread, on a free loopback port."""

    def __init__(self):
        _add_routes()
        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(app, access_log=None)
        # Set up on the server's own thread: the calling thread may run a loop already (Playwright's).
        started = threading.Event()
        self.port = None
        self.thread = threading.Thread(target=self._serve, args=(started,), name="fake-stripe", daemon=True)
        self.thread.start()
        if not started.wait(timeout=10) or self.port is None:
            raise RuntimeError("The loopback Stripe server did not start.")
        self.url = f"http://127.0.0.1:{self.port}"

    def _serve(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.runner.setup())
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            self.loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
        finally:
            started.set()
        self.loop.run_forever()

    def _config(self, method: str, path: str, body: dict | None = None) -> None:
        request = urllib.request.Request(  # noqa: S310 - the loopback test server, over http
            f"{self.url}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"},
            method=method,
        )
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass

    def fail(self, path: str, status: int = 500) -> None:
        """Make the server answer `path` (e.g. /v1/payment_intents/pi_123) with `status` until healed."""
        self._config("POST", "/_config/failures", {"path": path, "status": status})

    def heal(self) -> None:
        self._config("DELETE", "/_config/failures")
        REFUND_MODE["status"] = "succeeded"

    def post(self, path: str, body: dict | None = None) -> dict:
        """POST to a /_config/ hook and return its JSON answer (an event body, for the event hooks)."""
        request = urllib.request.Request(  # noqa: S310 - the loopback test server, over http
            f"{self.url}{path}",
            data=json.dumps(body or {}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.load(response)

    def pay_checkout(self, session_id: str, *, card: str = TEST_CARD) -> dict:
        """The customer pays on the hosted page; the `checkout.session.completed` event body."""
        return self.post(f"/_config/checkout/sessions/{session_id}/complete", {"card": card})

    async def _shutdown(self) -> None:
        # localstripe schedules (never registered) webhook deliveries as tasks; cancel what is left.
        pending = [task for task in asyncio.all_tasks(self.loop) if task is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self.runner.cleanup()

    def stop(self) -> None:
        """Shut down on the server's own thread (the calling one may be running another loop). Once."""
        if self.loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


_shared: FakeStripe | None = None


def shared_server() -> FakeStripe:
    """The one server of this test process: localstripe serves one aiohttp app, bound to one loop, so every
    fixture that needs Stripe (tests/billing, the browser tests) gets this one."""
    global _shared
    if _shared is None or _shared.loop.is_closed():
        _shared = FakeStripe()
    return _shared
