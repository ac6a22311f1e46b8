"""Render the session engine's transition table (wamp_core.TRANSITIONS) as docs/session-states.md.

.venv/bin/python tools/render_states.py          # rewrite the file
.venv/bin/python tools/render_states.py --check  # exit 1 if the file is stale (tests run this)
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from wamp_core import TRANSITIONS, SessionCommand, SessionState

OUT = Path(__file__).resolve().parent.parent / "docs" / "session-states.md"


def _label(key: object) -> str:
    if isinstance(key, SessionCommand):
        return key.value
    return str(getattr(key, "NAME", key))


def render() -> str:
    edges: dict[tuple[SessionState, SessionState], list[str]] = defaultdict(list)
    for (state, key), nxt in TRANSITIONS.items():
        edges[state, nxt].append(_label(key))
    lines = [
        "# Client session states",
        "",
        "Generated from `wamp_core.TRANSITIONS` by `tools/render_states.py`; do not edit.",
        "An edge lists the inputs that lead from a state to the next: received messages (by",
        "name) and commands (`join()`, `leave()`, `abort()`, transport lost). Any other message",
        "is a protocol violation (ABORT `wamp.error.protocol_violation`, state `failed`), except",
        "in `shutting_down`, which ignores it; any other command is refused. The two escapes",
        "from the table: a handler that ends the session (an authentication failure) goes to",
        "`closed`, a protocol violation to `failed`.",
        "",
        "```mermaid",
        "stateDiagram-v2",
        "    [*] --> closed",
    ]
    order = sorted(edges.items(), key=lambda kv: (kv[0][0].value, kv[0][1].value))
    for (state, nxt), names in order:
        commands = sorted(n for n in names if n.endswith(")") or " " in n)
        messages = sorted(n for n in names if n not in commands)
        shown = messages if len(messages) <= 3 else ["in-session messages"]
        label = ", ".join([*shown, *commands])
        lines.append(f"    {state.value} --> {nxt.value}: {label}")
    violating = sorted(
        {state for (state, key) in TRANSITIONS if isinstance(key, type)}
        - {SessionState.SHUTTING_DOWN},
        key=lambda s: s.value,
    )
    for state in violating:
        lines.append(f"    {state.value} --> failed: protocol violation")
    lines += ["    failed --> [*]", "```", ""]
    in_session = sorted(
        _label(key)
        for (state, key), nxt in TRANSITIONS.items()
        if state is SessionState.ESTABLISHED and nxt is SessionState.ESTABLISHED
    )
    lines += [f"In-session messages (established -> established): {', '.join(in_session)}.", ""]
    return "\n".join(lines)


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            sys.stderr.write(f"{OUT} is stale: run tools/render_states.py\n")
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
