"""One realm's broker and dealer state: subscriptions, registrations and calls in progress.

Pure bookkeeping over :class:`Member` handles (the engine's sessions); the engine turns
messages into calls on :class:`Realm` and sends what they return. No clock of its own, no
randomness: IDs come from the callable the engine injects, and so does the wall clock that
dates registrations and subscriptions, when there is one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from ._index import UriIndex

__all__ = [
    "MAX_HELD", "Call", "Member", "Realm", "Refused", "Registration", "Subscription", "iso_utc",
]  # fmt: skip

MATCHES = ("exact", "prefix", "wildcard")


class Member(Protocol):
    """What the realm needs to know of a session."""

    session_id: int
    authid: str
    authrole: str
    roles: dict[str, Any]
    send: Callable[[Any], None]
    #: Calls in progress it made (as caller) and serves (as callee): the realm counts them,
    #: and keeps them (what its leaving ends).
    made: int
    served: int
    calls: dict[Call, None]


def _dated(details: dict[str, Any], created: str | None) -> dict[str, Any]:
    if created is not None:
        details["created"] = created
    return details


def iso_utc(seconds: float) -> str:
    """``seconds`` since the epoch as the meta API dates things: ISO 8601 in UTC, to the
    millisecond (``2026-12-05T21:36:21.123Z``, as Crossbar writes ``created``)."""
    stamp = datetime.fromtimestamp(seconds, timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


@dataclass(eq=False)
class Subscription:
    id: int
    topic: str
    match: str
    subscribers: dict[int, Member] = field(default_factory=dict)
    #: When it was created (:func:`iso_utc`), if the router has a wall clock.
    created: str | None = None

    @property
    def protected(self) -> bool:
        """A subscription to the router's own ``wamp.*`` topics (meta events): the meta API
        neither announces nor lists it (as Crossbar.io: a monitor's subscriptions stay out of
        what other monitors see)."""
        return self.topic.startswith("wamp.")

    def details(self) -> dict[str, Any]:
        """What the meta API tells of it (``wamp.subscription.on_create``, ``.get``)."""
        return _dated({"id": self.id, "uri": self.topic, "match": self.match}, self.created)


@dataclass(eq=False)
class Registration:
    id: int
    procedure: str
    match: str
    invoke: str
    callees: list[Member] = field(default_factory=list)
    next_index: int = 0
    #: When it was created (:func:`iso_utc`), if the router has a wall clock.
    created: str | None = None
    #: Callee session -> the most invocations it takes at once (REGISTER's ``concurrency``,
    #: as Crossbar.io reads it), and how many it has now (only for callees with a limit).
    limits: dict[int, int] = field(default_factory=dict)
    running: dict[int, int] = field(default_factory=dict)

    def details(self) -> dict[str, Any]:
        """What the meta API tells of it (``wamp.registration.on_create``, ``.get``)."""
        details = {"id": self.id, "uri": self.procedure, "match": self.match, "invoke": self.invoke}
        return _dated(details, self.created)

    def free(self, member: Member) -> bool:
        """Whether ``member`` may take one more invocation (below its ``concurrency``)."""
        limit = self.limits.get(member.session_id)
        return limit is None or self.running.get(member.session_id, 0) < limit

    def pick_free(self, random_index: Callable[[int], int]) -> Member | None:
        """The callee for the next call (:meth:`pick`); one below its ``concurrency`` when
        the policy's choice is at it (shared registrations), none when every callee is."""
        callee = self.pick(random_index)
        if not self.limits or self.free(callee):
            return callee
        return next((c for c in self.callees if self.free(c)), None)

    def drop(self, member: Member) -> None:
        """Remove a callee; round robin goes on with the one that was next."""
        self.limits.pop(member.session_id, None)
        self.running.pop(member.session_id, None)
        index = self.callees.index(member)
        del self.callees[index]
        if index < self.next_index:
            self.next_index -= 1
        if self.callees:
            self.next_index %= len(self.callees)

    def pick(self, random_index: Callable[[int], int]) -> Member:
        callees = self.callees
        if self.invoke == "roundrobin":
            callee = callees[self.next_index % len(callees)]
            self.next_index = (self.next_index + 1) % len(callees)
            return callee
        if self.invoke == "random":
            return callees[random_index(len(callees))]
        if self.invoke == "last":
            return callees[-1]
        return callees[0]  # single, first


@dataclass(eq=False)
class Call:
    """A call in progress: the caller's request and the invocation sent for it."""

    caller: Member
    caller_request: int
    callee: Member
    invocation: int
    receive_progress: bool
    canceled: bool = False  # answered canceled already (skip, killnowait): drop the rest
    registration: int = 0
    #: A progressive call invocation whose caller still sends chunks.
    input_open: bool = False
    #: The callee has the INVOCATION (it was sent, not refused by the callee's transport).
    invoked: bool = False
    #: The first INVOCATION's details, repeated on every further chunk of a progressive call
    #: invocation (the spec's freezing of options; only ``progress`` changes).
    details: dict[str, Any] | None = None
    #: The registration counting this call against its callee's ``concurrency``, if any.
    limited: Registration | None = None


#: Registrations and subscriptions one session may hold (together; one more is refused
#: ``wamp.error.unavailable``): what one session keeps in the router stays bounded, and so does
#: the burst of meta events its leaving sends each meta API subscriber (two per registration
#: or subscription, in one turn: well under a connection's MAX_QUEUED).
MAX_HELD = 10_000


class Refused(Exception):
    """A SUBSCRIBE or REGISTER the realm refuses: ``uri`` is the ERROR's."""

    def __init__(self, uri: str, message: str) -> None:
        super().__init__(message)
        self.uri = uri


class Realm:
    """Subscriptions and registrations of one realm, and the calls in progress."""

    def __init__(
        self,
        name: str,
        next_id: Callable[[], int],
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.name = name
        self._next_id = next_id
        self._clock = clock
        self.members: dict[int, Member] = {}
        self.subscriptions: UriIndex[Subscription] = UriIndex()
        self._subscriptions_by_id: dict[int, Subscription] = {}
        self.registrations: UriIndex[Registration] = UriIndex()
        self._registrations_by_id: dict[int, Registration] = {}
        #: Session -> its subscriptions and registrations (what leaving undoes).
        self._held: dict[int, dict[Subscription | Registration, None]] = {}
        #: (callee session, invocation request) -> call; (caller session, request) -> call.
        self.invocations: dict[tuple[int, int], Call] = {}
        self.calls: dict[tuple[int, int], Call] = {}
        #: Meta events (topic, args) the changes produced, for the engine to publish.
        self.meta: deque[tuple[str, list[Any]]] = deque()

    def _created(self) -> str | None:
        return None if self._clock is None else iso_utc(self._clock())

    # ----------------------------------------------------------------------------------------
    # Broker

    def subscribe(self, member: Member, topic: str, match: str) -> Subscription:
        """The subscription ``member`` holds (the one it has already, for a topic and match
        it is subscribed to); raises :class:`Refused` if it holds :data:`MAX_HELD` already."""
        key = (match, topic)
        sub = self.subscriptions.get(key)
        if sub is not None and member.session_id in sub.subscribers:
            return sub
        self._check_room(member)
        if sub is None:
            sub = Subscription(self._next_id(), topic, match, created=self._created())
            self.subscriptions.add(match, topic, sub)
            self._subscriptions_by_id[sub.id] = sub
            if not sub.protected:
                self.meta.append(
                    ("wamp.subscription.on_create", [member.session_id, sub.details()])
                )
        sub.subscribers[member.session_id] = member
        self._held.setdefault(member.session_id, {})[sub] = None
        if not sub.protected:
            self.meta.append(("wamp.subscription.on_subscribe", [member.session_id, sub.id]))
        return sub

    def _check_room(self, member: Member) -> None:
        if len(self._held.get(member.session_id, ())) >= MAX_HELD:
            raise Refused("wamp.error.unavailable", f"a session holds at most {MAX_HELD} "
                          "registrations and subscriptions here")  # fmt: skip

    def subscription(self, subscription_id: int) -> Subscription | None:
        return self._subscriptions_by_id.get(subscription_id)

    def registration(self, registration_id: int) -> Registration | None:
        return self._registrations_by_id.get(registration_id)

    def unsubscribe(self, member: Member, subscription_id: int) -> bool:
        sub = self._subscriptions_by_id.get(subscription_id)
        if sub is None or sub.subscribers.pop(member.session_id, None) is None:
            return False
        self._let_go(member, sub)
        if not sub.protected:
            self.meta.append(("wamp.subscription.on_unsubscribe", [member.session_id, sub.id]))
        if not sub.subscribers:
            self.subscriptions.remove(sub.match, sub.topic)
            del self._subscriptions_by_id[sub.id]
            if not sub.protected:
                self.meta.append(("wamp.subscription.on_delete", [member.session_id, sub.id]))
        return True

    def receivers(
        self, publisher: Member | None, topic: str, options: dict[str, Any]
    ) -> Iterator[tuple[Subscription, Member]]:
        """Each (subscription, subscriber) that gets an EVENT for a publication to ``topic``."""
        exclude_me = options.get("exclude_me", True)
        lists: dict[str, set[Any]] = {
            name: set(options[name])
            for name in ("exclude", "exclude_authid", "exclude_authrole", "eligible",
                         "eligible_authid", "eligible_authrole")
            if name in options
        }  # fmt: skip
        for sub in self.subscriptions.matching(topic):
            for member in list(sub.subscribers.values()):
                if exclude_me and member is publisher:
                    continue
                if lists and not _eligible(member, lists):
                    continue
                yield sub, member

    # ----------------------------------------------------------------------------------------
    # Dealer

    def register(
        self, member: Member, procedure: str, match: str, invoke: str, concurrency: int | None
    ) -> Registration:
        """The registration ``member`` joins; raises :class:`Refused` if the procedure is
        taken (by a single registration or by ``member``), or shared with another invocation
        policy, or if ``member`` holds :data:`MAX_HELD` already."""
        key = (match, procedure)
        reg = self.registrations.get(key)
        if reg is not None:
            if reg.invoke not in (invoke, "single"):
                raise Refused(
                    "wamp.error.procedure_exists_with_different_invocation_policy",
                    f"{procedure!r} is registered with the invocation policy {reg.invoke!r}",
                )
            if reg.invoke == "single" or member in reg.callees:
                raise Refused(
                    "wamp.error.procedure_already_exists", f"{procedure!r} is already registered"
                )
        self._check_room(member)
        if reg is None:
            reg = Registration(self._next_id(), procedure, match, invoke, created=self._created())
            self.registrations.add(match, procedure, reg)
            self._registrations_by_id[reg.id] = reg
            self.meta.append(("wamp.registration.on_create", [member.session_id, reg.details()]))
        reg.callees.append(member)
        self._held.setdefault(member.session_id, {})[reg] = None
        if concurrency is not None:
            reg.limits[member.session_id] = concurrency
        self.meta.append(("wamp.registration.on_register", [member.session_id, reg.id]))
        return reg

    def unregister(self, member: Member, registration_id: int) -> bool:
        reg = self._registrations_by_id.get(registration_id)
        if reg is None or member not in reg.callees:
            return False
        reg.drop(member)
        self._let_go(member, reg)
        self.meta.append(("wamp.registration.on_unregister", [member.session_id, reg.id]))
        if not reg.callees:
            self.registrations.remove(reg.match, reg.procedure)
            del self._registrations_by_id[reg.id]
            self.meta.append(("wamp.registration.on_delete", [member.session_id, reg.id]))
        return True

    def lookup(self, procedure: str) -> Registration | None:
        """The registration a call to ``procedure`` goes to (the spec's precedence; none for
        ``wamp.*``: those procedures are the router's, whatever patterns clients registered)."""
        if procedure.startswith("wamp."):
            return None
        return self.registrations.best(procedure)

    def leave(self, member: Member) -> tuple[list[Call], list[Call]]:
        """Forget ``member``: its subscriptions and registrations go; returns the calls it made
        (their callees must be interrupted) and the calls made to it (their callers get an
        error)."""
        self.members.pop(member.session_id, None)
        held = list(self._held.get(member.session_id, ()))
        for entry in held:  # (subscriptions first, as they were made; then registrations)
            if isinstance(entry, Subscription):
                self.unsubscribe(member, entry.id)
        for entry in held:
            if isinstance(entry, Registration):
                self.unregister(member, entry.id)
        calls = list(member.calls)
        made = [c for c in calls if c.caller is member]
        served = [c for c in calls if c.callee is member]
        for call in (*made, *served):
            self.end_call(call)
        return made, served

    def _let_go(self, member: Member, entry: Subscription | Registration) -> None:
        held = self._held[member.session_id]
        del held[entry]
        if not held:
            del self._held[member.session_id]

    def start_call(self, call: Call, registration: Registration) -> None:
        caller, callee = call.caller, call.callee
        self.calls[caller.session_id, call.caller_request] = call
        self.invocations[callee.session_id, call.invocation] = call
        caller.made += 1
        callee.served += 1
        caller.calls[call] = None
        callee.calls[call] = None
        if callee.session_id in registration.limits:
            running = registration.running
            running[callee.session_id] = running.get(callee.session_id, 0) + 1
            call.limited = registration

    def end_call(self, call: Call) -> None:
        caller, callee = call.caller, call.callee
        caller.calls.pop(call, None)
        callee.calls.pop(call, None)
        if self.calls.pop((caller.session_id, call.caller_request), None) is not None:
            caller.made -= 1
        if self.invocations.pop((callee.session_id, call.invocation), None) is not None:
            callee.served -= 1
            limited = call.limited
            if limited is not None and callee.session_id in limited.running:
                limited.running[callee.session_id] -= 1


def _eligible(member: Member, lists: dict[str, set[Any]]) -> bool:
    if member.session_id in lists.get("exclude", ()):
        return False
    if member.authid in lists.get("exclude_authid", ()):
        return False
    if member.authrole in lists.get("exclude_authrole", ()):
        return False
    for name, value in (("eligible", member.session_id), ("eligible_authid", member.authid),
                        ("eligible_authrole", member.authrole)):  # fmt: skip
        if name in lists and value not in lists[name]:
            return False
    return True
