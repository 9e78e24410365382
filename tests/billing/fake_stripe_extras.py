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
    from localstripe.resources import Customer, PaymentIntent, PaymentMethod
    from localstripe.server import app, get_post_data, json_response

CHECKOUT_SESSIONS: dict[str, dict] = {}
FAILURES: dict[str, int] = {}  # API path -> the HTTP status it answers with instead
TEST_CARD = "4242424242424242"


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
    except (AssertionError, KeyError, TypeError, ValueError) as exc:
        raise UserError(400, f"Bad request: {exc!r}") from exc
    customer = data.get("customer")
    if customer:
        Customer._api_retrieve(customer)  # 404 for an unknown customer, as Stripe answers
    session_id = "cs_test_" + secrets.token_hex(12)
    session = {
        "id": session_id,
        "object": "checkout.session",
        "mode": "payment",
        "status": "open",
        "payment_status": "unpaid",
        "amount_total": amount,
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
    intent = PaymentIntent._api_create(
        amount=session["amount_total"],
        currency=session["currency"],
        customer=session["customer"],
        payment_method=method.id,
        metadata=session["_payment_intent_metadata"],
        confirm=True,
    )
    session.update(status="complete", payment_status="paid", payment_intent=intent.id)
    event = {
        "id": "evt_" + secrets.token_hex(12),
        "object": "event",
        "type": "checkout.session.completed",
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": _public(session)},
    }
    return json_response(event)


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
    app.middlewares.append(failure_middleware)
    _routes_added = True


class FakeStripe:
    """The server running on its own event loop in a daemon thread, on a free loopback port."""

    def __init__(self):
        _add_routes()
        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(app, access_log=None)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.loop.run_forever, name="fake-stripe", daemon=True)
        self.thread.start()

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

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        # localstripe schedules (never registered) webhook deliveries as tasks; cancel what is left.
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        if pending:  # gather() of nothing would make its future on the calling thread's loop
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()
