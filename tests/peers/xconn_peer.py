"""xconn-python (PyPI) as a foreign client of a router: run by tests/test_router_foreign.py.

    python tests/peers/xconn_peer.py URL SERIALIZER [TICKET_AUTHID TICKET WAMPCRA_AUTHID SECRET]

Prints one ``ok <what>`` line per check that held; exits non-zero on the first that did not.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from typing import Any

from wampproto import auth, serializers
from xconn import types
from xconn.client import connect
from xconn.exception import ApplicationError

url, name = sys.argv[1], sys.argv[2]
serializer: Any = {
    "json": serializers.JSONSerializer,
    "msgpack": serializers.MsgPackSerializer,
    "cbor": serializers.CBORSerializer,
}[name]()


def ok(what: str) -> None:
    print("ok", what, flush=True)


def add(invocation: types.Invocation) -> types.Result:
    a, b = invocation.args or []
    return types.Result(args=[a + b], kwargs={"sum": a + b})


def fail(invocation: types.Invocation) -> types.Result:
    raise ApplicationError("com.peer.failed", args=["no"])


def main() -> None:
    callee = connect(url, "realm1", serializer=serializer)
    caller = connect(url, "realm1", serializer=serializer)
    callee.register("com.peer.add", add)
    callee.register("com.peer.fail", fail)
    result = caller.call("com.peer.add", [2, 3])
    assert result.args == [5] and result.kwargs == {"sum": 5}, result
    ok("call")
    try:
        caller.call("com.peer.fail")
    except ApplicationError as exc:
        assert exc.message == "com.peer.failed", exc.message
        ok("error")
    else:
        raise SystemExit("an error was expected")
    try:
        caller.call("com.peer.nobody")
    except ApplicationError as exc:
        assert exc.message == "wamp.error.no_such_procedure", exc.message
        ok("no_such_procedure")

    got: list[Any] = []
    arrived = threading.Event()

    def on_event(event: types.Event) -> None:
        got.append((event.args, event.kwargs, (event.details or {}).get("topic")))
        arrived.set()

    callee.subscribe("com.peer.", on_event, {"match": "prefix"})
    caller.publish("com.peer.topic", ["hi"], {"k": 1}, {"acknowledge": True})
    assert arrived.wait(5), "no event"
    assert got == [(["hi"], {"k": 1}, "com.peer.topic")], got
    ok("prefix subscription")
    arrived.clear()
    callee.publish("com.peer.topic", ["self"], options={"acknowledge": True})  # exclude_me default
    caller.publish("com.peer.topic", ["me"], options={"acknowledge": True})
    assert arrived.wait(5), got
    assert [args for args, _, _ in got] == [["hi"], ["me"]], got
    ok("exclude_me")
    caller.leave()
    callee.leave()
    ok("leave")

    if len(sys.argv) > 3:
        ticket_id, ticket, cra_id, secret = sys.argv[3:7]
        for authenticator in (auth.TicketAuthenticator(ticket_id, ticket, {}),
                              auth.WAMPCRAAuthenticator(cra_id, secret, {})):  # fmt: skip
            session = connect(url, "realm1", authenticator, serializer)
            assert session.call("wamp.session.count").args, "no count"
            session.leave()
            ok(f"auth {type(authenticator).__name__}")


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        traceback.print_exc()
        sys.stdout.flush()
        os._exit(1)  # xconn's reader threads would keep the process alive
    sys.stdout.flush()
    os._exit(0)
