"""A complete WAMP client driven by hand: blocking sockets + the standard library's selectors.

No event loop, no driver: just ``wamp_core``. It joins a realm, registers a procedure and
subscribes to a topic, calls the procedure and publishes to the topic (asking the broker to
deliver the event back to us), and leaves once it has seen both the call result and the event.

    python examples/selectors_client.py rs://127.0.0.1:8081 realm1
    python examples/selectors_client.py ws://127.0.0.1:8080/ws realm1

Exit status 0 when the round trip worked; the transcript goes to stdout.
"""

from __future__ import annotations

import selectors
import socket
import sys
from typing import Any

import wamp_core as wc
from wamp_core import events as ev


def connect(transport: wc.TransportConfig, timeout: float) -> socket.socket:
    endpoint = transport.endpoint
    if isinstance(endpoint, wc.UnixEndpoint):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(endpoint.path)
    elif isinstance(endpoint, wc.TcpEndpoint):
        sock = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout)
    else:  # rs://memory/NAME lives in an async driver's loop
        raise wc.ConfigurationError(f"a socket client cannot reach {endpoint.describe()}")
    sock.setblocking(False)
    return sock


class Demo:
    """The application: reacts to session events by issuing commands on the connection."""

    def __init__(self, conn: wc.Connection) -> None:
        self.conn = conn
        self.waiting: set[int] = set()
        self.call_id = 0
        self.result: Any = None
        self.event: Any = None

    def on_event(self, event: object) -> None:
        conn = self.conn
        if isinstance(event, ev.Joined):
            print(f"joined realm {event.details.realm} as session {event.details.session}")
            self.waiting = {
                conn.session.register("com.example.add2"),
                conn.session.subscribe("com.example.hello"),
            }
        elif isinstance(event, ev.Registered | ev.Subscribed):
            self.waiting.discard(event.request_id)
            if not self.waiting:  # both in place: now use them
                self.call_id = conn.session.call("com.example.add2", [2, 3])
                conn.session.publish(
                    "com.example.hello",
                    ["hello from wamp_core"],
                    options=wc.PublishOptions(exclude_me=False, acknowledge=True),
                )
        elif isinstance(event, ev.InvocationReceived):
            a, b = event.args
            print(f"invoked: add2({a}, {b})")
            conn.session.yield_result(event.request_id, [a + b])
        elif isinstance(event, ev.CallSucceeded) and event.request_id == self.call_id:
            self.result = event.result.value
            print(f"call result: {self.result}")
        elif isinstance(event, ev.EventDelivered):
            self.event = event.args[0]
            print(f"event received on {event.details.topic}: {self.event}")
        elif isinstance(event, ev.RequestFailed):
            print(f"request {event.request_id} ({event.kind}) failed: {event.error}")
            conn.session.leave("wamp.close.normal", "request failed")
        elif isinstance(event, ev.Left | ev.Aborted):
            print(f"session ended: {event.details.reason}")
        if self.result is not None and self.event is not None and conn.session.is_joined:
            conn.session.leave()

    @property
    def succeeded(self) -> bool:
        return bool(self.result == 5 and self.event == "hello from wamp_core")


def run(url: str, realm: str, timeout: float = 10.0) -> bool:
    transport = wc.parse_transports(url)[0]
    conn = wc.make_connection(transport, realm=realm)
    demo = Demo(conn)
    sock = connect(transport, timeout)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    conn.initiate()
    try:
        while True:
            # Events can also come from our own commands (a local cancel, a request too large
            # to send): take them, send what is queued, and let the application react first.
            out = conn.data_to_send()
            events = conn.take_events()
            if out:
                sock.setblocking(True)
                sock.sendall(out)
                sock.setblocking(False)
            if events:
                for event in events:
                    demo.on_event(event)
                continue
            if conn.closed:
                break
            if not sel.select(timeout):
                print("timed out waiting for the router", file=sys.stderr)
                return False
            data = sock.recv(65536)
            events = conn.receive_data(data) if data else conn.receive_eof()
            for event in events:
                demo.on_event(event)
    finally:
        sel.close()
        sock.close()
    return demo.succeeded


if __name__ == "__main__":
    ok = run(sys.argv[1] if len(sys.argv) > 1 else "rs://127.0.0.1:8081",
             sys.argv[2] if len(sys.argv) > 2 else "realm1")  # fmt: skip
    sys.exit(0 if ok else 1)
