"""The router engine: realms, the router side of the session handshake, broker and dealer.

Sans-IO: a :class:`RouterSession` takes the messages its client sent (:meth:`receive`) and
produces messages for itself and for other sessions through the ``send`` callable each session
is created with; when a session must end, its ``close`` callable is called once. Randomness
(session and publication IDs, challenges) is the injected :class:`random.Random`; time is what
the driver tells :meth:`Router.tick` (call timeouts) and, for dating registrations and
subscriptions only, the wall clock it may inject. What the engine implements is exactly what
WELCOME announces (:data:`ROUTER_ROLES`).
"""

from __future__ import annotations

import heapq
import logging
import random
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from .. import _messages as m
from .._errors import ConfigurationError, ProtocolError
from .._messages._base import new
from .._messages._validation import brief
from .._uri import MAX_ID, is_valid_uri
from .._wire import RecentIds
from . import _auth
from ._meta import META_PROCEDURES, TESTAMENT_SCOPES, MetaError, positional, session_details
from ._realm import MAX_HELD, Call, Member, Realm, Refused

__all__ = [
    "MAX_CALLS_IN_PROGRESS", "MAX_HELD", "MAX_URI_LENGTH", "ROUTER_ROLES", "Router",
    "RouterSession",
]  # fmt: skip

log = logging.getLogger(__name__)
T = TypeVar("T")

#: The roles and features WELCOME announces: what this engine implements.
ROUTER_ROLES: dict[str, Any] = {
    "broker": {
        "features": {
            "publisher_exclusion": True,
            "subscriber_blackwhite_listing": True,
            "publisher_identification": True,
            "pattern_based_subscription": True,
            "session_meta_api": True,
            "subscription_meta_api": True,
            "subscription_revocation": True,
        }
    },
    "dealer": {
        "features": {
            "progressive_call_results": True,
            "call_canceling": True,
            "caller_identification": True,
            "pattern_based_registration": True,
            "shared_registration": True,
            "call_timeout": True,
            "progressive_call_invocations": True,
            "testament_meta_api": True,
            "session_meta_api": True,
            "registration_meta_api": True,
            "registration_revocation": True,
        }
    },
}

#: Calls a session may have in progress as caller, and as callee: the router's memory for
#: calls is bounded even when a callee reads its INVOCATIONs and never answers (one more call
#: is answered ERROR ``wamp.error.unavailable``).
MAX_CALLS_IN_PROGRESS = 10_000

#: Progressive call invocations a caller may leave open (their IDs are remembered until the
#: caller's final chunk, so that late chunks are dropped rather than taken for new requests).
MAX_OPEN_STREAMS = 256

#: The longest procedure or topic a session may register or subscribe (ERROR
#: ``wamp.error.invalid_uri``): with :data:`MAX_HELD`, what one session keeps is bounded.
MAX_URI_LENGTH = 4096

NO_SUCH_REALM = "wamp.error.no_such_realm"
PROTOCOL_VIOLATION = "wamp.error.protocol_violation"
CANCELED = "wamp.error.canceled"
INVALID_URI = "wamp.error.invalid_uri"
PAYLOAD_SIZE_EXCEEDED = "wamp.error.payload_size_exceeded"

#: The longest CALL ``timeout`` the dealer enforces, in milliseconds (the largest WAMP integer,
#: 2^53: some 285,000 years); a longer one is no deadline at all.
MAX_CALL_TIMEOUT = MAX_ID
#: Deadlines of calls that ended stay in the router's heap until they come first (dropped by
#: next_deadline) or pass, or until the heap reaches this many entries (then twice the live
#: ones after the last time), when it keeps only the live ones.
_COMPACT_AT = 64


class Router:
    """Realms and their sessions. ``realms``: the realm names served; ``auto_realms``: create a
    realm when a session joins it (for tests); ``disclose``: always tell callees who calls and
    subscribers who publishes (as Crossbar's realm option ``disclose``); otherwise only when the
    caller or publisher asks (``disclose_me``): a callee's ``disclose_caller`` is ignored
    (a callee cannot make the router reveal callers that did not ask, as on Crossbar.io,
    where only the caller's role can);
    ``principals``: who may authenticate, and how (:class:`Principal`); ``anonymous``: whether
    anonymous sessions are welcome; ``permissions``: per role, what it may
    call/register/publish/subscribe (:class:`Permission`). A role without an entry may do
    nothing, but for ``anonymous`` on a router given neither principals nor permissions (the
    zero-configuration router of development and tests), which may do everything, the meta
    API included; once either is given, anonymous sessions need their own entry.
    ``rng``: the source of session and publication IDs (challenges and nonces always come
    from the system's CSPRNG); ``clock``: a
    wall clock (seconds since the epoch, such as ``time.time``), read only to date
    registrations and subscriptions (``created`` in their meta API details, which have none
    without it)."""

    def __init__(
        self,
        realms: Iterable[str] = ("realm1",),
        *,
        auto_realms: bool = False,
        disclose: bool = False,
        principals: Iterable[_auth.Principal] = (),
        anonymous: bool = True,
        permissions: Mapping[str, Iterable[_auth.Permission]] | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.disclose = disclose
        self._clock = clock
        #: The time the driver last told (:meth:`tick`), in seconds on its own clock.
        self.now = 0.0
        self._deadlines: list[tuple[float, int, Call, Realm]] = []
        self._deadline_seq = 0
        self._compact_at = _COMPACT_AT
        given = _sequence(principals, "principals", _auth.Principal)
        self.principals = {p.authid: p for p in given}
        if len(self.principals) != len(given):  # (a later one replaced an earlier one)
            authids = [p.authid for p in given]
            twice = sorted({authid for authid in authids if authids.count(authid) > 1})
            raise ConfigurationError(f"principals given twice: {twice}")
        self._pinned = any(p.realms for p in given)
        if not isinstance(anonymous, bool):  # ("no" is not False)
            raise ConfigurationError(f"anonymous must be True or False, not {anonymous!r}")
        self.anonymous = anonymous
        if permissions is not None and not isinstance(permissions, Mapping):
            raise ConfigurationError(
                f"permissions must map each role to its Permissions, not {brief(permissions)}"
            )
        self.permissions = {
            _role(role): _rules(role, rules) for role, rules in (permissions or {}).items()
        }
        if (self.principals or self.permissions) and "anonymous" not in self.permissions:
            # A router with users and rules does not hand its meta API and every URI their
            # rules protect to whoever connects without credentials.
            self.permissions["anonymous"] = ()
        self._rng = rng if rng is not None else random.SystemRandom()
        self.auto_realms = auto_realms
        self.realms: dict[str, Realm] = {
            _realm_name(name): Realm(name, _counter(), clock)
            for name in _sequence(realms, "realms", str)
        }
        self._configured = frozenset(self.realms)
        if not auto_realms:  # (a principal pinned to a realm not served could never join)
            for principal in given:
                unserved = sorted(set(principal.realms) - self._configured)
                if unserved:
                    raise ConfigurationError(
                        f"principal {principal.authid!r} is pinned to realms the router does "
                        f"not serve: {unserved} (it serves {sorted(self._configured)})"
                    )
        self.sessions: dict[int, RouterSession] = {}
        #: Per serializer name, the last message encoded and its bytes (see RouterConnection).
        self.encoded: dict[str, tuple[m.Message, bytes]] = {}

    def random_id(self) -> int:
        return self._rng.randint(1, MAX_ID)

    def principals_of(self, realm: str) -> dict[str, _auth.Principal]:
        """The principals that may join ``realm`` (each one's ``realms``, if any, name it)."""
        if not self._pinned:
            return self.principals
        return {authid: p for authid, p in self.principals.items()
                if not p.realms or realm in p.realms}  # fmt: skip

    def serves(self, name: str) -> bool:
        """Whether a HELLO for realm ``name`` may join (without making it)."""
        return self.auto_realms or name in self.realms

    def realm(self, name: str) -> Realm | None:
        realm = self.realms.get(name)
        if realm is None and self.auto_realms:
            realm = self.realms[name] = Realm(name, _counter(), self._clock)
        return realm

    def forget_if_empty(self, realm: Realm) -> None:
        """A realm ``auto_realms`` made goes once its last session left (it is made again at
        the next join): names made up by clients do not grow the router."""
        if (self.auto_realms and realm.name not in self._configured
                and not realm.members and not realm.calls):  # fmt: skip
            self.realms.pop(realm.name, None)

    def open_session(
        self, send: Callable[[m.Message], None], close: Callable[[], None]
    ) -> RouterSession:
        """A new transport connection: its session (not joined until HELLO)."""
        return RouterSession(self, send, close)

    def new_session_id(self) -> int:
        while True:
            sid = self.random_id()
            if sid not in self.sessions:
                return sid

    def tick(self, now: float) -> None:
        """The driver's clock moved to ``now`` (seconds): calls whose ``timeout`` passed end
        with ``wamp.error.timeout`` for the caller (unless it had its answer: a ``skip``
        cancel) and INTERRUPT (killnowait) for the callee."""
        self.now = now
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            _, _, call, realm = heapq.heappop(deadlines)
            if _in_progress(call, realm):  # (not answered, killed or gone already)
                _fail_call(realm, call, "wamp.error.timeout", "the call timed out (dealer)")

    def next_deadline(self) -> float | None:
        """When :meth:`tick` next has work (``None``: no call has a timeout)."""
        deadlines = self._deadlines
        while deadlines and not _in_progress(deadlines[0][2], deadlines[0][3]):
            heapq.heappop(deadlines)  # a call that ended before its deadline
        return deadlines[0][0] if deadlines else None

    def _add_deadline(self, deadline: float, call: Call, realm: Realm) -> None:
        deadlines = self._deadlines
        if len(deadlines) >= self._compact_at:  # calls that ended leave their deadlines here
            deadlines[:] = [entry for entry in deadlines if _in_progress(entry[2], entry[3])]
            heapq.heapify(deadlines)
            self._compact_at = max(_COMPACT_AT, 2 * len(deadlines))
        self._deadline_seq += 1
        heapq.heappush(deadlines, (deadline, self._deadline_seq, call, realm))

    def shutdown(self) -> None:
        """GOODBYE ``wamp.close.system_shutdown`` to every joined session. Every session's
        testaments go out first, while all are still joined: each subscriber hears every
        other session's, whatever order the sessions are told in."""
        sessions = list(self.sessions.values())
        for session in sessions:
            session.publish_testaments()
        for session in sessions:
            session.goodbye("wamp.close.system_shutdown")


class RouterSession:
    """The router's end of one session."""

    def __init__(
        self, router: Router, send: Callable[[m.Message], None], close: Callable[[], None]
    ) -> None:
        self.router = router
        self.send = send
        self._close = close
        self.realm: Realm | None = None
        self.session_id = 0
        self.authid = ""
        self.authrole = "anonymous"
        self.authmethod = "anonymous"
        self.roles: dict[str, Any] = {}
        #: The connection's TLS channel ids (``{"tls-unique": ...}``), set by the driver.
        self.channel_ids: dict[str, bytes] = {}
        #: The client's address (``"host:port"``), for the log, set by the driver if known.
        self.peer: str | None = None
        #: What the meta API tells of the session's transport (``wamp.session.get``): the
        #: connection and the driver add to it (``channel_framing``, ``channel_serializer``,
        #: ``channel_type``); ``peer`` is added from :attr:`peer`.
        self.transport: dict[str, Any] = {}
        #: HELLO's authextra, as the meta API tells it (not the router's WELCOME authextra:
        #: a SCRAM server signature is for that client alone).
        self.authextra: dict[str, Any] = {}
        #: The realm asked for, the CHALLENGE sent and HELLO's authid, until AUTHENTICATE.
        self._joining: tuple[str, _auth.Challenge, Any] | None = None
        self.ended = False
        self._goodbye_sent = False
        #: What handles each message type once joined (fewer once the router said GOODBYE).
        self._handlers = _HANDLERS
        #: Calls in progress this session made (as caller) and serves (as callee).
        self.made = 0
        self.served = 0
        self.calls: dict[Call, None] = {}
        self._invocation_ids = 0
        #: The client's last request ID: each new request must be the next (spec: session
        #: scope IDs start at 1 and increase by 1, one counter for every request type).
        self._request_ids = 0
        #: Request IDs of the progressive call invocations this client has not finished
        #: sending (their continuation CALLs reuse the ID).
        self._streams: set[int] = set()
        #: Progressive call invocations that ended before their last chunk: their late chunks
        #: are dropped, not read as new requests.
        self._ended_streams = RecentIds()
        #: Publications to make when the session ends (topic, args, kwargs, options), per
        #: scope (see wamp.session.add_testament), as checked when added (empty ones None).
        self.testaments: dict[str, list[tuple[str, Any, Any, dict[str, Any]]]] = {
            scope: [] for scope in TESTAMENT_SCOPES
        }

    def __repr__(self) -> str:
        return f"<RouterSession {self.session_id} {self.authid!r}>"

    # ----------------------------------------------------------------------------------------
    # Ending

    def abort(self, reason: str, message: str) -> None:
        """ABORT the session with ``reason`` and end it."""
        if not self.ended:
            self.send(m.Abort(details={"message": message}, reason=reason))
            self.end()

    def goodbye(self, reason: str, message: str | None = None) -> None:
        """Router-initiated GOODBYE (``message`` in its details). The session leaves its
        realm at once (nothing more is routed to or from it: its registrations,
        subscriptions and calls end now); its transport closes when the client answers."""
        if not self.ended and self.realm is not None and not self._goodbye_sent:
            goodbye = m.Goodbye(details={"message": message} if message else {}, reason=reason)
            self._goodbye_sent = True
            self._handlers = _SHUTTING_DOWN
            self.send(goodbye)
            self._leave_realm()

    def end(self) -> None:
        """The session is over (left, aborted, transport lost): clean up as if it left."""
        if self.ended:
            return
        self.ended = True
        if not self._goodbye_sent:  # (which left the realm already)
            self._leave_realm()
        self._close()

    def _leave_realm(self) -> None:
        """Everything leaving the realm means: registrations, subscriptions and calls end,
        the meta events and testaments go out (once: at the router's GOODBYE or the end)."""
        realm = self.realm
        if realm is not None:
            log.info("session %d left %s", self.session_id, _shown(realm.name))
            self.router.sessions.pop(self.session_id, None)
            made, served = realm.leave(self)
            _flush_meta(self.router, realm)  # what leaving removed
            self._publish_testaments(realm)
            _meta_event(self.router, realm, "wamp.session.on_leave", [self.session_id, self.authid,
                                                         self.authrole])  # fmt: skip
            # (a call of its own procedure: nothing more goes to the session that left)
            for call in made:  # the caller left: the callee may stop working on it
                if call.callee is self:
                    continue
                if not call.canceled and _feature(call.callee, "callee", "call_canceling"):
                    call.callee.send(m.Interrupt(request_id=call.invocation,
                                                 options={"mode": "killnowait"}))  # fmt: skip
            for call in served:  # the callee left: its callers get an answer
                _input_over(call)
                if not call.canceled and call.caller is not self:
                    call.caller.send(_call_error(call.caller_request, CANCELED,
                                                 "the callee left"))  # fmt: skip
            self.router.forget_if_empty(realm)

    def revoked(self, subscription_id: int, reason: str) -> None:
        """The router removed this session from a subscription (meta API)."""
        if _feature(self, "subscriber", "subscription_revocation"):
            self.send(m.Unsubscribed(request_id=0, details={"subscription": subscription_id,
                                                            "reason": reason}))  # fmt: skip

    def unregistered(self, registration_id: int, reason: str) -> None:
        """The router removed this session from a registration (meta API)."""
        if _feature(self, "callee", "registration_revocation"):
            self.send(m.Unregistered(request_id=0, details={"registration": registration_id,
                                                            "reason": reason}))  # fmt: skip

    def undeliverable(self, message: m.Message, uri: str) -> None:
        """The transport could not take ``message`` for this session's client: too large for it
        (``uri`` ``wamp.error.payload_size_exceeded``) or not encodable in its serializer
        (``wamp.error.invalid_argument``). A call it belongs to ends with ERROR ``uri`` for the
        caller instead of waiting for ever: an INVOCATION fails its call, a RESULT or a call's
        ERROR is replaced by ERROR ``uri`` (an EVENT is lost for this subscriber, as on
        Crossbar.io: the publisher has no answer to get; logged, as every case); a WELCOME or
        CHALLENGE (a client announcing a RawSocket limit below them) ABORTs the session with
        ``uri``."""
        if isinstance(message, (m.Welcome, m.Challenge)):
            log.info("%s not sent to %r: %s", message.NAME, self, uri)
            self.abort(uri, f"the {message.NAME} could not be sent to the client")
            return
        realm = self.realm
        if realm is None:
            return
        if isinstance(message, m.Event):
            log.info("%s not sent to %r: %s", message.NAME, self, uri)
            return
        if isinstance(message, m.Invocation):
            whom, call = "callee", realm.invocations.get((self.session_id, message.request_id))
        elif isinstance(message, m.Result) or (
            isinstance(message, m.Error) and message.request_type == m.Call.MESSAGE_TYPE
        ):
            whom, call = "caller", realm.calls.get((self.session_id, message.request_id))
        else:
            return
        log.info("%s not sent to %r: %s", message.NAME, self, uri)
        text = f"the {message.NAME} could not be sent to the {whom}"
        if call is not None:  # (to the caller: a progressive RESULT, the call ends here)
            _fail_call(realm, call, uri, text)
        elif whom == "caller":  # the call has ended: the answer is replaced
            self.send(_call_error(message.request_id, uri, text))

    # ----------------------------------------------------------------------------------------
    # Input

    def receive(self, message: m.Message) -> None:
        """One message from the client."""
        if self.ended:
            return
        if self.realm is None:
            if type(message) is m.Hello:
                self._hello(message)
            elif type(message) is m.Authenticate:
                self._authenticate(message)
            elif type(message) is m.Abort:
                self._on_abort(message)
            else:
                self.abort(PROTOCOL_VIOLATION, f"{message.NAME} before the session was joined")
            return
        handler = self._handlers.get(type(message))
        if handler is None:
            if not self._goodbye_sent:  # (shutting down: anything but GOODBYE is ignored)
                self.abort(PROTOCOL_VIOLATION, f"{message.NAME} is not sent by a client")
            return
        if type(message) in _NEW_REQUESTS and not (
            type(message) is m.Call
            and (message.request_id in self._streams or message.request_id in self._ended_streams)
        ):
            expected = self._request_ids % MAX_ID + 1
            request_id: int = message.request_id  # type: ignore[attr-defined]
            if request_id != expected:
                self.abort(PROTOCOL_VIOLATION, f"{message.NAME} request ID {request_id} is "
                           f"out of sequence (expected {expected})")  # fmt: skip
                return
            self._request_ids = request_id
        try:
            handler(self, message)
        except ProtocolError as exc:
            self.abort(PROTOCOL_VIOLATION, str(exc))
        if self.realm is not None:
            _flush_meta(self.router, self.realm)

    def refuse_request(self, raw: Any, uri: str, text: str) -> bool:
        """Answer a request the parser refused (``raw``: its decoded list) with ERROR ``uri``
        instead of ending the session, as the spec asks for an invalid URI: ``True`` when it
        was such a request (a new request of a joined session with a usable request ID)."""
        if self.realm is None or self.ended or not isinstance(raw, list) or len(raw) < 3:
            return False
        kind = _REQUEST_CODES.get(raw[0]) if type(raw[0]) is int else None
        request_id = raw[1]
        if kind is None or type(request_id) is not int or not isinstance(raw[2], dict):
            return False
        if kind is m.Call and request_id in self._ended_streams:
            return True  # a chunk of a call that has ended: dropped
        if kind is m.Call and request_id in self._streams:
            return False  # (a chunk of an open call naming another procedure: a violation)
        expected = self._request_ids % MAX_ID + 1
        if request_id != expected:
            return False  # the caller aborts for the sequence
        self._request_ids = request_id
        if kind is m.Call and raw[2].get("progress") is True:  # its chunks will be dropped
            self._streams.add(request_id)
            self._end_stream(request_id)
        if kind is not m.Publish or raw[2].get("acknowledge"):
            self.send(m.Error(request_type=kind.MESSAGE_TYPE, request_id=request_id, details={},
                              error=uri, args=[text]))  # fmt: skip
        return True

    def _hello(self, msg: m.Hello) -> None:
        if self._joining is not None:
            self.abort(PROTOCOL_VIOLATION, "HELLO during the authentication")
            return
        if not self.router.serves(msg.realm):
            unknown = _auth.Refusal(NO_SUCH_REALM, f"no realm {msg.realm!r} on this router")
            self._refuse_hello(msg, unknown)
            return
        roles = msg.details.get("roles")
        problem = _roles_problem(roles)
        if problem is not None:
            self.abort(PROTOCOL_VIOLATION, problem)
            return
        assert isinstance(roles, dict)
        self.session_id = self.router.new_session_id()
        self.roles = roles
        extra = msg.details.get("authextra")
        self.authextra = extra if isinstance(extra, dict) else {}
        # Challenges and nonces come from the system CSPRNG whatever ``rng`` is (a seeded one
        # makes IDs repeatable in tests; it must not make challenges predictable).
        answer = _auth.choose(msg.details, self.router.principals_of(msg.realm),
                              self.router.anonymous,
                              self.session_id, nonce=secrets.token_hex(8),
                              random32=secrets.token_bytes(32),
                              channel_ids=self.channel_ids)  # fmt: skip
        if isinstance(answer, _auth.Refusal):
            self._refuse_hello(msg, answer)
        elif isinstance(answer, _auth.Challenge):
            self._joining = (msg.realm, answer, msg.details.get("authid"))
            self.send(m.Challenge(method=answer.method, extra=answer.extra))
        else:
            self._welcome(msg.realm, answer)

    def _authenticate(self, msg: m.Authenticate) -> None:
        if self._joining is None:
            self.abort(PROTOCOL_VIOLATION, "AUTHENTICATE without a CHALLENGE")
            return
        realm, challenge, authid = self._joining
        if not _auth.verify(challenge, msg.signature):
            failed = _auth.Refusal("wamp.error.authentication_failed",
                                   f"{challenge.method} authentication failed")  # fmt: skip
            method = f"authmethod {challenge.method!r}"
            if authid is None:  # (cryptosign: the key chose the principal)
                method += f", the key's principal {challenge.principal.authid!r}"
            self._refuse_login(realm, method, authid, failed)
            return
        principal = challenge.principal
        self._welcome(realm, _auth.Welcome(principal.authid, principal.role, challenge.method,
                                           _auth.welcome_extra(challenge)))  # fmt: skip

    def _refuse_hello(self, msg: m.Hello, refusal: _auth.Refusal) -> None:
        methods = f"authmethods {_shown(msg.details.get('authmethods'))}"
        self._refuse_login(msg.realm, methods, msg.details.get("authid"), refusal)

    def _refuse_login(self, realm: str, method: str, authid: Any, refusal: _auth.Refusal) -> None:
        """ABORT a login, logged: what the client gave, cut short (it cannot forge a log line;
        never its ticket or signature), and why."""
        # (the refusal's message is ours: the client's text in it is repr'd already)
        log.info("login refused: realm %s, %s, authid %s, peer %s: %s (%s)", _shown(realm),
                 method, _shown(authid), self.peer or "unknown", refusal.reason,
                 refusal.message[:100])  # fmt: skip
        self.abort(refusal.reason, refusal.message)

    def _welcome(self, realm_name: str, who: _auth.Welcome) -> None:
        """Join: the realm is made now under ``auto_realms`` (a refused HELLO makes none)."""
        self._joining = None
        realm = self.router.realm(realm_name)
        assert realm is not None  # (served, checked at HELLO; auto_realms makes it now)
        self.realm = realm
        self.authid, self.authrole, self.authmethod = who.authid, who.role, who.method
        realm.members[self.session_id] = self
        self.router.sessions[self.session_id] = self
        # (a realm made on demand is the client's text)
        log.info("session %d joined %s as %s", self.session_id, _shown(realm.name),
                 _shown(self.authid))  # fmt: skip
        self.send(
            m.Welcome(
                session_id=self.session_id,
                details={"roles": ROUTER_ROLES, "realm": realm.name, "authid": self.authid,
                         "authrole": self.authrole, "authmethod": self.authmethod,
                         "authprovider": "static", "agent": "wamp_core router",
                         **({"authextra": who.extra} if who.extra else {})},
            )
        )  # fmt: skip
        _meta_event(self.router, realm, "wamp.session.on_join", [session_details(self)])

    # ----------------------------------------------------------------------------------------
    # Session

    def _on_abort(self, msg: m.Abort) -> None:
        """The client gives up (in any state): never answered."""
        log.info("%r aborted: %s", self, _shown(msg.reason))  # (the client's text)
        self.end()

    def _on_goodbye(self, msg: m.Goodbye) -> None:
        if not self._goodbye_sent:
            self.send(m.Goodbye(details={}, reason="wamp.close.goodbye_and_out"))
        self.end()

    # ----------------------------------------------------------------------------------------
    # Broker

    def may(self, action: str, uri: str, match: str = "exact") -> bool:
        """Whether this session's role may ``action`` (call, register...) on ``uri`` (a
        pattern with ``match``: every URI it can match)."""
        return _auth.authorized(self.router.permissions, self.authrole, action, uri, match)

    def publish_testaments(self) -> None:
        """Publish the joined session's testaments now (the router shuts down): they go out
        once, not again when it leaves."""
        if self.realm is not None and not self.ended and not self._goodbye_sent:
            self._publish_testaments(self.realm)

    def _publish_testaments(self, realm: Realm) -> None:
        """Its testaments, detached scope first, in the order added."""
        for scope in TESTAMENT_SCOPES:
            testaments, self.testaments[scope] = self.testaments[scope], []
            for topic, args, kwargs, options in testaments:
                disclosed: dict[str, Any] = {}
                if options.get("disclose_me") or self.router.disclose:
                    disclosed = {"publisher": self.session_id, "publisher_authid": self.authid,
                                 "publisher_authrole": self.authrole}  # fmt: skip
                # (from itself: at shutdown it is still subscribed, and exclude_me holds)
                _publish(self.router, realm, self, topic, options=options, disclosed=disclosed,
                         args=args, kwargs=kwargs)  # fmt: skip

    def _allowed(
        self, action: str, uri: str, request: Any, *, answer: bool = True, match: str = "exact"
    ) -> bool:
        """Whether this session's role may ``action`` on ``uri``; if not, ERROR
        ``wamp.error.not_authorized`` answers ``request`` (when ``answer``)."""
        if self.may(action, uri, match):
            return True
        if answer:
            self.send(_error(request, "wamp.error.not_authorized",
                             f"{self.authrole!r} may not {action} {uri!r}"))  # fmt: skip
        return False

    def _on_subscribe(self, msg: m.Subscribe) -> None:
        assert self.realm is not None
        match = msg.options.get("match", "exact")  # (the parser allows only the known ones)
        if not self._allowed("subscribe", msg.topic, msg, match=match) or not self._uri_kept(
            msg, msg.topic
        ):
            return
        try:
            sub = self.realm.subscribe(self, msg.topic, match)
        except Refused as exc:
            self.send(_error(msg, exc.uri, str(exc)))
            return
        self.send(m.Subscribed(request_id=msg.request_id, subscription_id=sub.id))

    def _uri_kept(self, request: m.Subscribe | m.Register, uri: str) -> bool:
        """Whether the router keeps ``uri`` for a subscription or registration
        (:data:`MAX_URI_LENGTH`); if not, ERROR answers ``request``."""
        if len(uri) > MAX_URI_LENGTH:
            self.send(_error(request, INVALID_URI,
                             f"a URI is limited to {MAX_URI_LENGTH} characters here"))  # fmt: skip
            return False
        return True

    def _on_unsubscribe(self, msg: m.Unsubscribe) -> None:
        assert self.realm is not None
        if self.realm.unsubscribe(self, msg.subscription_id):
            self.send(m.Unsubscribed(request_id=msg.request_id))
        else:
            self.send(_error(msg, "wamp.error.no_such_subscription"))

    def _on_publish(self, msg: m.Publish) -> None:
        assert self.realm is not None
        options = msg.options
        acknowledge = bool(options.get("acknowledge"))
        # (unacknowledged publications get no answer, not even a refusal)
        if not self._allowed("publish", msg.topic, msg, answer=acknowledge):
            return
        if msg.topic.startswith("wamp."):  # (as Crossbar.io: the meta events are the router's)
            if acknowledge:
                self.send(_error(msg, INVALID_URI, "wamp.* topics belong to the router"))
            return
        disclosed: dict[str, Any] = {}
        if options.get("disclose_me") or self.router.disclose:
            disclosed = {"publisher": self.session_id, "publisher_authid": self.authid,
                         "publisher_authrole": self.authrole}  # fmt: skip
        if type(transaction := options.get("transaction_hash")) is str:  # (as Crossbar.io)
            disclosed = {**disclosed, "transaction_hash": transaction}
        publication = _publish(self.router, self.realm, self, msg.topic, options=options,
                               disclosed=disclosed, args=msg.args, kwargs=msg.kwargs,
                               payload=msg.payload)  # fmt: skip
        if acknowledge:
            self.send(m.Published(request_id=msg.request_id, publication_id=publication))

    # ----------------------------------------------------------------------------------------
    # Dealer

    def _on_register(self, msg: m.Register) -> None:
        assert self.realm is not None
        match = msg.options.get("match", "exact")
        if not self._allowed("register", msg.procedure, msg, match=match):
            return
        if msg.procedure.startswith("wamp."):
            self.send(_error(msg, INVALID_URI, "wamp.* procedures belong to the router"))
            return
        if not self._uri_kept(msg, msg.procedure):
            return
        invoke = msg.options.get("invoke", "single")  # (validated by the parser)
        concurrency = msg.options.get("concurrency")  # (validated by the parser: an int >= 1)
        if msg.options.get("force_reregister") is True:
            self._take_over(self.realm, msg.procedure, match)
        try:
            reg = self.realm.register(self, msg.procedure, match, invoke, concurrency)
        except Refused as exc:
            self.send(_error(msg, exc.uri, str(exc)))
            return
        self.send(m.Registered(request_id=msg.request_id, registration_id=reg.id))

    def _take_over(self, realm: Realm, procedure: str, match: str) -> None:
        """``force_reregister``: every other callee of the registration is removed from it (told
        with UNREGISTERED, reason ``wamp.error.unregistered``), as Crossbar.io does; the calls
        they are serving go on. For a rejoin whose old session is not gone yet."""
        reg = realm.registrations.get((match, procedure))
        if reg is None:
            return
        for callee in [c for c in reg.callees if c is not self]:
            realm.unregister(callee, reg.id)
            assert isinstance(callee, RouterSession)
            callee.unregistered(reg.id, "wamp.error.unregistered")

    def _on_unregister(self, msg: m.Unregister) -> None:
        assert self.realm is not None
        if self.realm.unregister(self, msg.registration_id):
            self.send(m.Unregistered(request_id=msg.request_id))
        else:
            self.send(_error(msg, "wamp.error.no_such_registration"))

    def _on_call(self, msg: m.Call) -> None:
        realm = self.realm
        assert realm is not None
        streaming = msg.options.get("progress") is True
        if msg.request_id in self._streams:
            self._continue_call(realm, msg, streaming)
            return
        if msg.request_id in self._ended_streams:  # a chunk of a call that has ended: dropped
            if not streaming:
                self._ended_streams.discard(msg.request_id)
            return
        if streaming:
            if not _feature(self, "caller", "progressive_call_invocations"):
                raise ProtocolError("CALL.Options.progress without the caller feature "
                                    "progressive_call_invocations")  # fmt: skip
            if len(self._streams) >= MAX_OPEN_STREAMS:
                raise ProtocolError(f"more than {MAX_OPEN_STREAMS} progressive call "
                                    "invocations left open")  # fmt: skip
            self._streams.add(msg.request_id)  # later chunks: continuations, even if refused
        if not self._route_call(realm, msg, streaming) and streaming:
            self._end_stream(msg.request_id)  # answered at once: its chunks are dropped

    def _end_stream(self, request_id: int) -> None:
        """The progressive call invocation ``request_id`` ended before its last chunk: the
        chunks still on their way are dropped, and it no longer counts as open."""
        if request_id in self._streams:
            self._streams.discard(request_id)
            self._ended_streams.add(request_id)

    def _route_call(self, realm: Realm, msg: m.Call, streaming: bool) -> bool:
        """Answer the CALL or send its INVOCATION; True when a callee has it."""
        if not self._allowed("call", msg.procedure, msg):
            return False
        meta = META_PROCEDURES.get(msg.procedure)
        if meta is not None:
            try:
                kwargs = dict(msg.kwargs or {})
                args = meta(self, positional(msg.procedure, list(msg.args or []), kwargs), kwargs)
            except MetaError as exc:
                self.send(_error(msg, exc.uri, str(exc)))
                return False
            self.send(m.Result(request_id=msg.request_id, details={}, args=args))
            return False
        reg = realm.lookup(msg.procedure)
        if reg is None:
            self.send(_error(msg, "wamp.error.no_such_procedure",
                             f"no callee for {msg.procedure!r}"))  # fmt: skip
            return False
        callee = reg.pick_free(self.router._rng.randrange)
        if callee is None:  # (as Crossbar.io answers)
            text = f"every callee of {msg.procedure!r} is at its concurrency"
            self.send(_error(msg, "crossbar.error.max_concurrency_reached", text))
            return False
        assert isinstance(callee, RouterSession)
        # (a callee that cannot be told the call was canceled must not wait for chunks that
        # never come: the spec counts it as not supporting progressive call invocations)
        if streaming and not (
            _feature(callee, "callee", "progressive_call_invocations")
            and _feature(callee, "callee", "call_canceling")
        ):
            self.send(_error(msg, "wamp.error.feature_not_supported", "the callee does not "
                             "take progressive call invocations"))  # fmt: skip
            return False
        if self.made >= MAX_CALLS_IN_PROGRESS or callee.served >= MAX_CALLS_IN_PROGRESS:
            whom = "the caller" if self.made >= MAX_CALLS_IN_PROGRESS else "the callee"
            self.send(_error(msg, "wamp.error.unavailable", f"{whom} has "
                             f"{MAX_CALLS_IN_PROGRESS} calls in progress"))  # fmt: skip
            return False
        callee._invocation_ids = callee._invocation_ids % MAX_ID + 1
        progress = msg.options.get("receive_progress") is True
        call = Call(self, msg.request_id, callee, callee._invocation_ids, progress,
                    registration=reg.id, input_open=streaming)  # fmt: skip
        realm.start_call(call, reg)
        timeout = msg.options.get("timeout")
        if type(timeout) is int and 0 < timeout <= MAX_CALL_TIMEOUT:  # milliseconds
            self.router._add_deadline(self.router.now + timeout / 1000, call, realm)
        details: dict[str, Any] = {}
        if reg.match != "exact":
            details["procedure"] = msg.procedure
        if progress:
            details["receive_progress"] = True
        if msg.options.get("disclose_me") or self.router.disclose:
            details.update(caller=self.session_id, caller_authid=self.authid,
                           caller_authrole=self.authrole)  # fmt: skip
        if type(transaction := msg.options.get("transaction_hash")) is str:  # (as Crossbar.io)
            details["transaction_hash"] = transaction
        if streaming:
            call.details = dict(details)
            details["progress"] = True
        # Routed messages are built from the checked parts of the one received (the keyword
        # constructors would copy and check them again: the router's hot path).
        callee.send(new(m.Invocation, (call.invocation, reg.id, details, msg.args, msg.kwargs,
                                       msg.payload)))  # fmt: skip
        call.invoked = True
        return True

    def _continue_call(self, realm: Realm, msg: m.Call, more: bool) -> None:
        """A further chunk of a progressive call invocation: to the same invocation, or
        dropped when the call has ended (the callee answered, it was canceled)."""
        if not more:
            self._streams.discard(msg.request_id)
        call = realm.calls.get((self.session_id, msg.request_id))
        if call is None or call.canceled or not call.input_open:
            return
        call.input_open = more
        details = dict(call.details or {})
        if more:
            details["progress"] = True
        call.callee.send(new(m.Invocation, (call.invocation, call.registration, details,
                                            msg.args, msg.kwargs, msg.payload)))  # fmt: skip

    def _on_cancel(self, msg: m.Cancel) -> None:
        realm = self.realm
        assert realm is not None
        call = realm.calls.get((self.session_id, msg.request_id))
        if call is None or call.canceled:
            return  # already answered: nothing to cancel
        mode = msg.options.get("mode", "killnowait")
        if mode == "skip" and call.input_open:
            # The callee still waits for chunks that will never come: it cannot finish, so
            # skip (let it run to its end) would leave it, and the call here, for ever. (It
            # has call_canceling: progressive call invocations go only to such callees.)
            mode = "killnowait"
        if mode != "skip" and _feature(call.callee, "callee", "call_canceling"):
            call.callee.send(m.Interrupt(request_id=call.invocation, options={"mode": mode}))
            if mode == "kill":
                return  # the callee's answer (an error) ends the call
        else:
            mode = "skip"
        call.canceled = True
        _input_over(call)
        self.send(_call_error(call.caller_request, CANCELED, f"canceled ({mode})"))
        if mode == "killnowait":
            realm.end_call(call)

    def _on_yield(self, msg: m.Yield) -> None:
        realm = self.realm
        assert realm is not None
        call = realm.invocations.get((self.session_id, msg.request_id))
        if call is None:
            return  # canceled or the caller left
        if msg.options.get("progress"):
            if call.receive_progress and not call.canceled:
                call.caller.send(new(m.Result, (call.caller_request, {"progress": True},
                                                msg.args, msg.kwargs, msg.payload)))  # fmt: skip
            return
        realm.end_call(call)
        if call.input_open:
            _input_over(call)
        if not call.canceled:
            call.caller.send(new(m.Result, (call.caller_request, {}, msg.args, msg.kwargs,
                                            msg.payload)))  # fmt: skip

    def _on_error(self, msg: m.Error) -> None:
        realm = self.realm
        assert realm is not None
        if msg.request_type != m.Invocation.MESSAGE_TYPE:
            raise ProtocolError(f"ERROR for a {msg.request_type} is not sent by a client")
        call = realm.invocations.get((self.session_id, msg.request_id))
        if call is None:
            return
        realm.end_call(call)
        if call.input_open:
            _input_over(call)
        if not call.canceled:
            call.caller.send(
                m.Error(request_type=m.Call.MESSAGE_TYPE, request_id=call.caller_request,
                        details={}, error=msg.error, args=msg.args, kwargs=msg.kwargs,
                        payload=msg.payload)
            )  # fmt: skip


#: The requests that take the next request ID of the client's one counter.
_NEW_REQUESTS = frozenset({m.Subscribe, m.Unsubscribe, m.Publish, m.Register, m.Unregister, m.Call})
#: The requests that carry a URI, by message type code.
_REQUEST_CODES: dict[int, type[m.Message]] = {
    cls.MESSAGE_TYPE: cls for cls in (m.Subscribe, m.Publish, m.Register, m.Call)
}

_HANDLERS: dict[type[m.Message], Callable[[RouterSession, Any], None]] = {
    m.Goodbye: RouterSession._on_goodbye,
    m.Subscribe: RouterSession._on_subscribe,
    m.Unsubscribe: RouterSession._on_unsubscribe,
    m.Publish: RouterSession._on_publish,
    m.Register: RouterSession._on_register,
    m.Unregister: RouterSession._on_unregister,
    m.Call: RouterSession._on_call,
    m.Cancel: RouterSession._on_cancel,
    m.Yield: RouterSession._on_yield,
    m.Error: RouterSession._on_error,
    m.Abort: RouterSession._on_abort,
}
#: Once the router said GOODBYE: the client's GOODBYE or ABORT ends the session, the rest is
#: ignored (the spec's shutting-down state).
_SHUTTING_DOWN: dict[type[m.Message], Callable[[RouterSession, Any], None]] = {
    m.Goodbye: RouterSession._on_goodbye,
    m.Abort: RouterSession._on_abort,
}


def _flush_meta(router: Router, realm: Realm) -> None:
    """Publish the meta events the realm's changes produced, in order."""
    while realm.meta:
        topic, args = realm.meta.popleft()
        _meta_event(router, realm, topic, args)


def _publish(
    router: Router, realm: Realm, publisher: RouterSession | None, topic: str, *,
    options: dict[str, Any], disclosed: dict[str, Any], args: list[Any] | None,
    kwargs: dict[str, Any] | None = None, payload: bytes | str | None = None,
) -> int:  # fmt: skip
    """Send one publication to every eligible subscriber; its publication ID. One EVENT is
    built per subscription and the same message object goes to each of its subscribers (their
    connections reuse its encoding per serializer). ``args``/``kwargs``/``payload`` must be
    checked already, as a received PUBLISH's are (empty ones ``None``)."""
    publication = router.random_id()
    event: m.Event | None = None
    for sub, member in realm.receivers(publisher, topic, options):
        if event is None or event.subscription_id != sub.id:
            details = {"topic": topic, **disclosed} if sub.match != "exact" else disclosed
            event = new(m.Event, (sub.id, publication, details, args, kwargs, payload))
        member.send(event)
    return publication


def _meta_event(router: Router, realm: Realm, topic: str, args: list[Any]) -> None:
    """Publish a meta event from the router itself."""
    _publish(router, realm, None, topic, options={}, disclosed={}, args=args)


def _roles_problem(roles: Any) -> str | None:
    """What is wrong with HELLO.Details.roles, if anything: it must map each role to a dict
    whose ``features``, if present, is a dict (a feature counts only when ``true``; another
    value is not refused, for peers that announce more than the spec's booleans)."""
    if not isinstance(roles, dict) or not roles:
        return "HELLO.Details.roles must be a non-empty dict"
    for name, role in roles.items():
        if not isinstance(role, dict):
            return f"HELLO.Details.roles.{brief(name)} must be a dict"
        features = role.get("features", {})
        if not isinstance(features, dict):
            return f"HELLO.Details.roles.{brief(name)}.features must be a dict"
    return None


def _feature(session: Member, role: str, feature: str) -> bool:
    """Whether ``session`` announced ``feature`` of ``role`` (only ``true`` counts)."""
    entry = session.roles.get(role)
    features = entry.get("features") if isinstance(entry, dict) else None
    return isinstance(features, dict) and features.get(feature) is True


def _in_progress(call: Call, realm: Realm) -> bool:
    """Whether ``call`` is still a call in progress of ``realm`` (its callee has not answered
    and neither party left; a ``skip`` cancel answered the caller but waits for the callee)."""
    return realm.calls.get((call.caller.session_id, call.caller_request)) is call


def _fail_call(realm: Realm, call: Call, uri: str, text: str) -> None:
    """End ``call`` before its callee answered: ERROR ``uri`` to the caller (unless a cancel
    answered it already) and INTERRUPT (killnowait) to the callee, if it has the INVOCATION
    and cancels calls."""
    answered = call.canceled
    call.canceled = True
    realm.end_call(call)
    _input_over(call)
    if call.invoked and _feature(call.callee, "callee", "call_canceling"):
        call.callee.send(m.Interrupt(request_id=call.invocation,
                                     options={"mode": "killnowait"}))  # fmt: skip
    if not answered:
        call.caller.send(_call_error(call.caller_request, uri, text))


def _input_over(call: Call) -> None:
    """The caller has (or gets now) its answer: a progressive call invocation's later chunks
    are dropped, and it no longer counts against the caller's open streams."""
    if call.input_open:
        call.input_open = False
        caller = call.caller
        if isinstance(caller, RouterSession):
            caller._end_stream(call.caller_request)


def _error(request: Any, uri: str, message: str | None = None) -> m.Error:
    return m.Error(request_type=request.MESSAGE_TYPE, request_id=request.request_id,
                   details={}, error=uri, args=[message] if message else None)  # fmt: skip


def _call_error(request_id: int, uri: str, message: str) -> m.Error:
    return m.Error(request_type=m.Call.MESSAGE_TYPE, request_id=request_id, details={},
                   error=uri, args=[message])  # fmt: skip


def _sequence(value: Any, what: str, kind: type[T]) -> tuple[T, ...]:
    """``value`` as a tuple of ``kind``: a collection of them (not a string, which would be
    taken character by character, nor a single one)."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ConfigurationError(f"{what} must be a list of {kind.__name__}, not {brief(value)}")
    items = tuple(value)
    for item in items:
        if not isinstance(item, kind):
            raise ConfigurationError(f"{what} must be {kind.__name__}s, not {brief(item)}")
    return items


def _rules(role: str, value: Any) -> tuple[_auth.Permission, ...]:
    """A role's rules; two for one URI and match are refused (which one decides would hang
    on their order: Crossbar.io keeps the last, a union would keep both)."""
    rules = _sequence(value, f"permissions of role {role!r}", _auth.Permission)
    seen: set[tuple[str, str]] = set()
    for rule in rules:
        if (rule.uri, rule.match) in seen:
            raise ConfigurationError(
                f"permissions of role {role!r}: two rules for {rule.match} {rule.uri!r} "
                "(give one with every action it allows)"
            )
        seen.add((rule.uri, rule.match))
    return rules


def _shown(value: Any, limit: int = 100) -> str:
    """``value`` as a client's text goes into a log line: repr'd, at most ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _role(role: Any) -> str:
    if not isinstance(role, str) or not role:
        raise ConfigurationError(f"a role must be a non-empty string, not {brief(role)}")
    return role


def _realm_name(name: str) -> str:
    if not is_valid_uri(name):
        raise ConfigurationError(f"realm {name!r} is not a valid URI")
    return name


def _counter() -> Callable[[], int]:
    """A realm's own source of subscription and registration IDs: 1, 2, 3... (one shared by
    every realm would tell a session how many were made in the others)."""
    state = [0]

    def next_id() -> int:
        state[0] = 1 if state[0] >= MAX_ID else state[0] + 1
        return state[0]

    return next_id
