"""Encode/decode cost per WAMP message: wamp_core vs the raw codec (the floor) and the peers.

For CALL, EVENT and RESULT messages carrying a few args and kwargs, for an EVENT and a RESULT
as they usually arrive through Crossbar (``EVENT/pub``: Arguments alone, the publisher
disclosed in the Details; ``RESULT/callee``: one argument, the callee disclosed in the Details,
as Crossbar 26 sends every RESULT; ``RESULT/arg``: the same without Details), and for every
serializer, this times
in one interleaved run:

* ``raw``: the codec library on the bare list (``message.to_list()``), the floor;
* ``ours``: ``get_serializer(name).encode(message)`` / ``.decode(data)`` (decode validates and
  builds the typed message);
* ``autobahn``: Autobahn's ``ISerializer.serialize``/``unserialize`` on its message objects;
* ``wampproto``: wampproto's (xconn) ``serialize``/``deserialize`` on its message objects;
* ``unchecked`` (msgpack decode only): ``unpackb`` and the typed message built from the list
  with no check at all (no type, range, URI or shape check; no dispatch on the message type):
  the floor of a decode that returns our message objects, shown beside the msgpack target.

Every codec round-trips each message once before it is timed. Times are microseconds per
message (timeit, garbage collector off, N calibrated per cell). Run from the repository root::

    .venv/bin/python benchmarks/codec.py [--quick] [--json PATH] [--repeat R] [--target-ms MS]

Speed is measured and reported, never asserted: the script exits 0 whatever the numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib
import io
import json
import os
import platform
import sys
import textwrap
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import _timing
import cbor2
import msgpack

import wamp_core
from wamp_core.serializers import get_serializer

SERIALIZERS = ("json", "msgpack", "cbor", "ubjson", "flatbuffers")
IMPLS = ("raw", "ours", "autobahn", "wampproto")
OPS = ("encode", "decode")
#: The issue's target: ours within this factor of raw msgpack, for encode and decode.
MSGPACK_TARGET = 2.5
#: A timed cell: (message, serializer, impl, op).
Key = tuple[str, str, str, str]


# ------------------------------------------------------------------------------------------
# The messages


@dataclass(frozen=True)
class Sample:
    """One benchmark message, described independently of any implementation.

    ``name`` labels it in the report, ``kind`` is its WAMP message type; empty ``kwargs``
    leave ArgumentsKw off the wire, ``details`` are EVENT.Details (publisher disclosure) or
    RESULT.Details (callee disclosure).
    """

    name: str
    head: dict[str, Any]
    args: list[Any]
    kwargs: dict[str, Any]
    kind: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return self.kind or self.name

    def ours(self) -> wamp_core.messages.Message:
        cls: Any = {
            "CALL": wamp_core.messages.Call,
            "EVENT": wamp_core.messages.Event,
            "RESULT": wamp_core.messages.Result,
        }
        extra = {"details": self.details} if self.details else {}
        kwargs = self.kwargs or None
        return cls[self.type](**self.head, **extra, args=self.args, kwargs=kwargs)  # type: ignore[no-any-return]


SAMPLES = (
    Sample(
        "CALL",
        {"request_id": 1042, "procedure": "com.example.add_user"},
        ["alice", 30, True],
        {"email": "alice@example.com", "tags": ["admin", "dev"], "score": 9.5},
    ),
    Sample(
        "EVENT",
        {"subscription_id": 5512315355, "publication_id": 4429313566},
        ["sensor-17", 21.5],
        {"unit": "C", "seq": 1042},
    ),
    Sample(
        "RESULT",
        {"request_id": 1042},
        [1234, "ok"],
        {"elapsed_ms": 1.25, "cached": False},
    ),
    Sample(
        "EVENT/pub",
        {"subscription_id": 5512315355, "publication_id": 4429313566},
        ["sensor-17", 21.5],
        {},
        kind="EVENT",
        details={
            "publisher": 3417683225410461,
            "publisher_authid": "RWAX-5CX9-JVCS-E6R4-MRFH-ELV3",
            "publisher_authrole": "anonymous",
        },
    ),
    Sample(
        "RESULT/callee",
        {"request_id": 1042},
        [1234],
        {},
        kind="RESULT",
        details={
            "callee": 6605347412023164,
            "callee_authid": "RA6F-WSMM-LPGK-KHJ6-SG5Q-LU6G",
            "callee_authrole": "anonymous",
        },
    ),
    Sample("RESULT/arg", {"request_id": 1042}, [1234], {}, kind="RESULT"),
)


# ------------------------------------------------------------------------------------------
# Codecs as timeit statements


def _identity(r: Any) -> Any:
    return r


def _message_payload(r: Any) -> tuple[Any, Any]:
    return r.args, r.kwargs


@dataclass(frozen=True)
class Codec:
    """One implementation's encode and decode of one message, as timeit statements.

    Both statements assign ``r``. ``env`` holds the names they use; the encode statement
    reads ``m`` (the message), the decode statement ``d`` (the encoded data, added once the
    round trip has been checked). ``wire`` turns the encode result into the data to decode,
    ``payload`` the decode result into ``(args, kwargs)``.
    """

    encode_stmt: str
    decode_stmt: str
    env: dict[str, Any]
    wire: Callable[[Any], Any] = _identity
    payload: Callable[[Any], tuple[Any, Any]] = _message_payload


def _raw_codec(serializer: str, sample: Sample) -> Codec | None:
    wmsg = sample.ours().to_list()
    env: dict[str, Any] = {"m": wmsg}
    if serializer == "json":
        # json.dumps builds an encoder per call; the floor is the C encoder built once, as
        # ours calls it (compact separators, UTF-8 unescaped, NaN refused).
        c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
        basestring = getattr(json.encoder, "c_encode_basestring", None)
        # Decoding: the C scanner on the text, as ours (json.loads adds a whitespace regex).
        if c_make_encoder is not None and basestring is not None:
            cenc = c_make_encoder(None, None, basestring, None, ":", ",", False, False, False)
            scan = json.decoder.JSONDecoder().scan_once  # type: ignore[attr-defined]
            env.update(cenc=cenc, scan=scan)
            enc = 'r = "".join(cenc(m, 0)).encode()'
            dec = 'r = scan(str(d, "utf-8"), 0)[0]'
        else:  # pragma: no cover - interpreters without the C accelerator
            env.update(dumps=json.dumps, loads=json.loads, SEP=(",", ":"))
            enc = "r = dumps(m, separators=SEP, ensure_ascii=False).encode()"
            dec = "r = loads(d)"
    elif serializer == "msgpack":
        # use_bin_type=True and raw=False are msgpack's defaults (>= 1.0): not passed, as
        # keyword arguments cost a dict per call and this is the floor. The encode floor is
        # one reused Packer's pack, as our serializer calls it: packb builds a Packer per call
        # (1.3-1.9x the cost), which would understate every encode ratio.
        env.update(dumps=msgpack.Packer().pack, loads=msgpack.unpackb)
        enc = "r = dumps(m)"
    elif serializer == "cbor":
        env.update(dumps=cbor2.dumps, loads=cbor2.loads)
        enc = "r = dumps(m)"
    elif serializer == "ubjson":
        ubjson = importlib.import_module("ubjson")  # py-ubjson: classic UBJSON
        env.update(dumps=ubjson.dumpb, loads=ubjson.loadb)
        enc = "r = dumps(m)"
    else:  # flatbuffers: a schema format, there is no codec for a bare list
        return None
    if serializer != "json":
        dec = "r = loads(d)"
    if sample.kwargs:
        return Codec(enc, dec, env, payload=lambda r: (r[-2], r[-1]))
    return Codec(enc, dec, env, payload=lambda r: (r[-1], {}))


def _our_codec(serializer: str, sample: Sample) -> Codec:
    s = get_serializer(serializer)
    env = {"m": sample.ours(), "enc": s.encode, "dec": s.decode}
    return Codec("r = enc(m)", "r = dec(d)", env)


@dataclass
class Peers:
    """The optional peer libraries, imported once (``None`` with a reason when unavailable)."""

    autobahn_ser: Any = None
    autobahn_msg: Any = None
    wampproto_ser: Any = None
    wampproto_msg: Any = None
    missing: dict[str, str] = field(default_factory=dict)
    bjdata_extension: bool | None = None


def _import_quietly(name: str) -> ModuleType:
    # bjdata's C extension (imported by autobahn) prints a NumPy ABI warning when it cannot
    # load and falls back to pure Python: keep the table readable, the notes say which ran.
    with contextlib.redirect_stderr(io.StringIO()):
        return importlib.import_module(name)


def load_peers() -> Peers:
    peers = Peers()
    try:
        txaio = _import_quietly("txaio")
        txaio.use_asyncio()  # Autobahn's serializers read the clock through txaio
        peers.autobahn_ser = _import_quietly("autobahn.wamp.serializer")
        peers.autobahn_msg = _import_quietly("autobahn.wamp.message")
    except Exception as exc:
        peers.missing["autobahn"] = f"{type(exc).__name__}: {exc}"
    try:
        peers.bjdata_extension = bool(_import_quietly("bjdata").EXTENSION_ENABLED)
    except Exception:
        peers.bjdata_extension = None
    try:
        peers.wampproto_ser = _import_quietly("wampproto.serializers")
        peers.wampproto_msg = _import_quietly("wampproto.messages")
    except Exception as exc:
        peers.missing["wampproto"] = f"{type(exc).__name__}: {exc}"
    return peers


_AUTOBAHN_CLASSES = {
    "json": "JsonSerializer",
    "msgpack": "MsgPackSerializer",
    "cbor": "CBORSerializer",
    "ubjson": "UBJSONSerializer",
    "flatbuffers": "FlatBuffersSerializer",
}
_WAMPPROTO_CLASSES = {
    "json": "JSONSerializer",
    "msgpack": "MsgPackSerializer",
    "cbor": "CBORSerializer",
}


def _autobahn_codec(serializer: str, sample: Sample, peers: Peers) -> Codec | None:
    mod, msgs = peers.autobahn_ser, peers.autobahn_msg
    cls = getattr(mod, _AUTOBAHN_CLASSES[serializer], None) if mod is not None else None
    if cls is None:
        return None
    s = cls()
    h, a, k = sample.head, sample.args, sample.kwargs or None
    if sample.type == "CALL":
        m = msgs.Call(h["request_id"], h["procedure"], args=a, kwargs=k)
    elif sample.type == "EVENT":  # its publisher_* keywords are the Details' keys
        m = msgs.Event(
            h["subscription_id"], h["publication_id"], args=a, kwargs=k, **sample.details
        )
    else:  # its callee_* keywords are the Details' keys
        m = msgs.Result(h["request_id"], args=a, kwargs=k, **sample.details)
    binary = serializer != "json"
    env = {"m": m, "enc": s.serialize, "dec": s.unserialize, "unc": m.uncache, "B": binary}
    # Autobahn caches the serialized bytes on the message object: drop the cache each time.
    enc = "unc(); r = enc(m)"
    if serializer == "flatbuffers":
        # Its FlatBuffers messages decode lazily: read the payload so it is actually decoded.
        dec = "r = dec(d, B)[0]; r.args; r.kwargs"
        return Codec(enc, dec, env, wire=lambda r: r[0])
    return Codec(enc, "r = dec(d, B)", env, wire=lambda r: r[0], payload=_first_payload)


def _first_payload(r: Any) -> tuple[Any, Any]:
    return r[0].args, r[0].kwargs


def _wampproto_codec(serializer: str, sample: Sample, peers: Peers) -> Codec | None:
    mod, msgs = peers.wampproto_ser, peers.wampproto_msg
    name = _WAMPPROTO_CLASSES.get(serializer)
    cls = getattr(mod, name, None) if mod is not None and name else None
    if cls is None:
        return None
    s = cls()
    h, a, k, d = sample.head, sample.args, sample.kwargs or None, sample.details
    if sample.type == "CALL":
        m = msgs.Call(msgs.CallFields(h["request_id"], h["procedure"], args=a, kwargs=k))
    elif sample.type == "EVENT":
        fields = msgs.EventFields(h["subscription_id"], h["publication_id"], a, k, d)
        m = msgs.Event(fields)
    else:
        m = msgs.Result(msgs.ResultFields(h["request_id"], args=a, kwargs=k, details=d))
    env = {"m": m, "enc": s.serialize, "dec": s.deserialize}
    return Codec("r = enc(m)", "r = dec(d)", env)


def _unchecked_decode(sample: Sample) -> Codec:
    """msgpack ``unpackb`` plus the bare construction of the typed message: what a decode
    returning our tuple-based messages costs before any validation."""
    message = sample.ours()
    wmsg = message.to_list()
    env: dict[str, Any] = {
        "m": wmsg,
        "dumps": msgpack.Packer().pack,
        "loads": msgpack.unpackb,
        "new": tuple.__new__,
        "cls": type(message),
    }
    # Each field read by its index (the cheapest build); the fields the wire leaves off (empty
    # trailing elements) are None.
    items = [f"w[{i}]" for i in range(1, len(wmsg))]
    items += ["None"] * (len(message.FIELDS) - len(items))
    return Codec("r = dumps(m)", f"w = loads(d); r = new(cls, ({', '.join(items)}))", env)


def make_codec(impl: str, serializer: str, sample: Sample, peers: Peers) -> Codec | None:
    if impl == "raw":
        return _raw_codec(serializer, sample)
    if impl == "ours":
        return _our_codec(serializer, sample)
    if impl == "autobahn":
        return _autobahn_codec(serializer, sample, peers)
    return _wampproto_codec(serializer, sample, peers)


def round_trip(codec: Codec, sample: Sample, what: str) -> Any:
    """Run both statements once; check args/kwargs survive; return the encoded data."""
    env = dict(codec.env)
    exec(codec.encode_stmt, env)
    data = codec.wire(env["r"])
    env["d"] = data
    exec(codec.decode_stmt, env)
    args, kwargs = codec.payload(env["r"])
    if list(args) != sample.args or dict(kwargs or {}) != sample.kwargs:
        raise RuntimeError(f"{what}: round trip changed the payload: {args!r} {kwargs!r}")
    codec.env["d"] = data
    return data


# ------------------------------------------------------------------------------------------
# Timing


@dataclass
class Cell:
    """One timed statement and its per-message times (seconds) over the repeats."""

    sample: str
    serializer: str
    impl: str
    op: str
    timer: timeit.Timer
    number: int = 0
    times: list[float] = field(default_factory=list)

    @property
    def key(self) -> Key:
        return self.sample, self.serializer, self.impl, self.op


Results = _timing.Results[Key]


def _fmt_time(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def table(results: Results, op: str, stat: str, title: str) -> list[str]:
    head = (
        "message",
        "serializer",
        "raw",
        "ours",
        "ours/raw",
        "autobahn",
        "ab/ours",
        "wampproto",
        "wp/ours",
    )
    rows: list[tuple[str, ...]] = []
    for sample in SAMPLES:
        for ser in SERIALIZERS:
            raw, ours, ab, wp = ((sample.name, ser, impl, op) for impl in IMPLS)
            rows.append(
                (
                    sample.name,
                    ser,
                    _fmt_time(results.time(raw, stat)),
                    _fmt_time(results.time(ours, stat)),
                    _fmt_ratio(results.ratio(ours, raw, stat)),
                    _fmt_time(results.time(ab, stat)),
                    _fmt_ratio(results.ratio(ab, ours, stat)),
                    _fmt_time(results.time(wp, stat)),
                    _fmt_ratio(results.ratio(wp, ours, stat)),
                )
            )
    return [title, *_timing.table_lines(head, rows, left=2)]


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment(peers: Peers) -> dict[str, Any]:
    try:
        ubjson_ext: bool | None = bool(importlib.import_module("ubjson").EXTENSION_ENABLED)
    except ImportError:
        ubjson_ext = None
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "versions": {
            name: _version(name)
            for name in (
                "wamp-py",
                "msgpack",
                "cbor2",
                "py-ubjson",
                "flatbuffers",
                "autobahn",
                "wampproto",
                "bjdata",
            )
        },
        "msgpack_c_extension": msgpack.Packer.__module__ == "msgpack._cmsgpack",
        "cbor2_c_extension": cbor2.loads.__module__ == "cbor2._cbor2",
        "py_ubjson_c_extension": ubjson_ext,
        "bjdata_c_extension": peers.bjdata_extension,
        "peers_missing": peers.missing,
    }


def notes(env: dict[str, Any], uncache_us: float | None, same: dict[str, list[str]]) -> list[str]:
    def yn(flag: bool | None) -> str:
        return {True: "C extension", False: "pure Python", None: "not installed"}[flag]

    out = [
        "Notes:",
        "- ours: get_serializer(name).encode(message) / .decode(data); decode validates and"
        " builds the typed message. Each row decodes the same bytes again and again, so a"
        " URI is checked once and then found in the cache of checked URIs (the common case:"
        " a session's procedures and topics repeat); a URI seen for the first time costs"
        " about 1 us more (CALL: about 3.6x raw instead of 2x).",
        "- raw (the floor): the codec on the bare list message.to_list(): json's C encoder built"
        " once (compact, UTF-8 unescaped, as ours calls it; json.dumps builds one per call)"
        " / its C scanner on the text (json.loads adds a whitespace regex); msgpack: one reused"
        " Packer().pack (as ours calls it: packb builds a Packer per call) / unpackb"
        " (their defaults are use_bin_type=True, raw=False); cbor2.dumps / loads; py-ubjson"
        " dumpb / loadb (classic UBJSON, our default dialect). flatbuffers has no raw floor"
        " (a schema format: no codec for a bare list).",
        f"- codecs: msgpack {yn(env['msgpack_c_extension'])}, cbor2"
        f" {yn(env['cbor2_c_extension'])}, py-ubjson {yn(env['py_ubjson_c_extension'])};"
        " our ubjson codec is pure Python; our flatbuffers carries args/kwargs as CBOR,"
        " as Autobahn does.",
    ]
    if uncache_us is not None:
        out.append(
            "- autobahn encode includes msg.uncache() (Autobahn caches the bytes on the message"
            f" object; uncache alone: {uncache_us:.2f} us); its flatbuffers decode reads .args"
            " and .kwargs (decoding is lazy); its ubjson is BJData through bjdata"
            f" ({yn(env['bjdata_c_extension'])})."
        )
    if "wampproto" not in env["peers_missing"]:
        out.append(
            "- wampproto: json serialize returns str (json.dumps defaults) and deserialize takes"
            " it; it has no ubjson or flatbuffers serializer."
        )
    for peer, why in env["peers_missing"].items():
        out.append(f"- {peer} unavailable: {why}")
    for who, names in same.items():
        if names:
            out.append(f"- ours writes the same bytes as {who} for: {', '.join(names)}.")
    return [textwrap.fill(line, 100, subsequent_indent="  ") for line in out]


UNCHECKED_NOTE = textwrap.wrap(
    "unchecked: msgpack unpackb plus our typed message built from the list with no check at"
    " all (tuple.__new__ on the fields): the least a decode returning these message objects"
    " costs; ours adds the checks (types, ID ranges, URIs, Details) and the dispatch on the"
    " message type.",
    100,
    initial_indent="  ",
    subsequent_indent="  ",
)


def msgpack_verdict(results: Results) -> list[str]:
    out = [
        f"msgpack target: ours within {MSGPACK_TARGET}x of raw msgpack"
        " (verdict on the ratio of mins; paired median in brackets)"
    ]
    for sample in SAMPLES:
        parts = []
        for op in OPS:
            ours = (sample.name, "msgpack", "ours", op)
            raw = (sample.name, "msgpack", "raw", op)
            best, typical = (results.ratio(ours, raw, stat) for stat in ("min", "median"))
            if best is None or typical is None:
                parts.append(f"{op} -")
                continue
            verdict = "met" if best <= MSGPACK_TARGET else "MISSED"
            parts.append(f"{op} {best:.2f}x ({typical:.2f}x) {verdict}")
            bare = (sample.name, "msgpack", "unchecked", op)
            floor = results.ratio(bare, raw, "min")
            if floor is not None:
                parts.append(f"unchecked {floor:.2f}x")
        out.append(f"  {sample.name:<7} " + ", ".join(parts))
    return out


def ratio_rows(results: Results) -> list[dict[str, Any]]:
    """The table's ratios, for the JSON report."""
    rows = []
    for sample in SAMPLES:
        for ser in SERIALIZERS:
            for op in OPS:
                raw, ours, ab, wp = ((sample.name, ser, impl, op) for impl in IMPLS)
                row: dict[str, Any] = {"message": sample.name, "serializer": ser, "op": op}
                for name, num, den in (
                    ("ours/raw", ours, raw),
                    ("autobahn/ours", ab, ours),
                    ("wampproto/ours", wp, ours),
                ):
                    row[name] = {st: results.ratio(num, den, st) for st in ("min", "median")}
                rows.append(row)
    return rows


# ------------------------------------------------------------------------------------------
# Main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run: short and noisy")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers to PATH")
    parser.add_argument("--repeat", type=int, help="timed repeats per cell (default 7, quick 3)")
    parser.add_argument(
        "--target-ms", type=float, help="time per repeat per cell (default 75, quick 1)"
    )
    opts = parser.parse_args(argv)
    repeat = opts.repeat or (3 if opts.quick else 7)
    target = (opts.target_ms or (1.0 if opts.quick else 75.0)) / 1000

    peers = load_peers()
    env = environment(peers)
    cells: list[Cell] = []
    wire: dict[tuple[str, str, str], Any] = {}
    for sample in SAMPLES:
        for ser in SERIALIZERS:
            for impl in IMPLS:
                what = f"{impl} {ser} {sample.name}"
                codec = make_codec(impl, ser, sample, peers)
                if codec is None:
                    continue
                wire[sample.name, ser, impl] = round_trip(codec, sample, what)
                for op, stmt in zip(OPS, (codec.encode_stmt, codec.decode_stmt), strict=True):
                    timer = timeit.Timer(stmt, globals=codec.env)
                    cells.append(Cell(sample.name, ser, impl, op, timer))

    extra: list[Cell] = []
    for sample in SAMPLES:
        codec = _unchecked_decode(sample)
        round_trip(codec, sample, f"unchecked msgpack {sample.name}")
        timer = timeit.Timer(codec.decode_stmt, globals=codec.env)
        extra.append(Cell(sample.name, "msgpack", "unchecked", "decode", timer))
    cells += extra

    uncache: Cell | None = None
    if peers.autobahn_msg is not None:
        m = peers.autobahn_msg.Result(1, args=[1])
        uncache = Cell(
            "-", "-", "autobahn", "uncache", timeit.Timer("unc()", globals={"unc": m.uncache})
        )
        cells.append(uncache)

    print(
        f"wamp-py codec benchmark, {env['date']}, Python {env['python']}"
        f" ({env['implementation']}), {env['platform']}, {env['cpu_count']} CPUs"
    )
    print(f"{len(cells)} cells, {repeat} repeats of ~{target * 1000:g} ms each, interleaved...")
    sys.stdout.flush()
    _timing.run(cells, repeat, target, row=lambda c: (c.sample, c.serializer, c.op))

    results = Results({c.key: c for c in cells})
    same: dict[str, list[str]] = {"the raw codec": [], "Autobahn": []}
    for ser in SERIALIZERS:
        for who, impl in (("the raw codec", "raw"), ("Autobahn", "autobahn")):
            pairs = [
                (wire.get((s.name, ser, "ours")), wire.get((s.name, ser, impl))) for s in SAMPLES
            ]
            if all(theirs is not None and ours == theirs for ours, theirs in pairs):
                same[who].append(ser)

    out: list[str] = []
    for stat, how in (
        ("min", "min of {n} repeats; ratios of the mins"),
        ("median", "median of {n} repeats; ratios: median of the per-repeat ratios"),
    ):
        for op in OPS:
            title = f"{op.upper()} (us per message, {how.format(n=repeat)})"
            out += ["", *table(results, op, stat, title)]
    out += ["", *msgpack_verdict(results), *UNCHECKED_NOTE, ""]
    uncache_us = results.time(uncache.key, "min") if uncache is not None else None
    out += notes(env, uncache_us, same)
    print("\n".join(out))

    if opts.json:
        report = {
            "environment": env,
            "method": {
                "repeat": repeat,
                "target_seconds_per_repeat": target,
                "timer": "timeit, gc disabled while timing, cells interleaved per repeat",
                "unit": "microseconds per message",
            },
            "messages": [
                {
                    "name": s.name,
                    "type": s.type,
                    "head": s.head,
                    "details": s.details,
                    "args": s.args,
                    "kwargs": s.kwargs,
                }
                for s in SAMPLES
            ],
            "autobahn_uncache_us": uncache_us,
            "cells": [
                {
                    "message": c.sample,
                    "serializer": c.serializer,
                    "impl": c.impl,
                    "op": c.op,
                    "number": c.number,
                    "min_us": results.time(c.key, "min"),
                    "median_us": results.time(c.key, "median"),
                    "times_us": [t * 1e6 for t in c.times],
                    "wire_bytes": _wire_len(wire.get((c.sample, c.serializer, c.impl))),
                }
                for c in cells
                if c is not uncache
            ],
            "ratios": ratio_rows(results),
        }
        with open(opts.json, "w", encoding="utf-8") as fp:
            json.dump(report, fp, indent=2)
            fp.write("\n")
    return 0


def _wire_len(data: Any) -> int | None:
    if data is None:
        return None
    return len(data.encode("utf-8") if isinstance(data, str) else data)


if __name__ == "__main__":
    sys.exit(main())
