"""Render the session engine's transition table (wamp_core.TRANSITIONS) as docs/session-states.md.

.venv/bin/python tools/render_states.py          # rewrite the file
.venv/bin/python tools/render_states.py --check  # exit 1 if the file is stale (tests run this)
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from wamp_core import TRANSITIONS, SessionState

OUT = Path(__file__).resolve().parent.parent / "docs" / "session-states.md"


def render() -> str:
    edges: dict[tuple[SessionState, SessionState], list[str]] = defaultdict(list)
    for (state, cls), nxt in TRANSITIONS.items():
        edges[state, nxt].append(cls.NAME)
    lines = [
        "# Client session states",
        "",
        "Generated from `wamp_core.TRANSITIONS` by `tools/render_states.py`; do not edit.",
        "An edge lists the messages received in a state that lead to the next state. Any other",
        "message is a protocol violation (ABORT `wamp.error.protocol_violation`, state `failed`),",
        "except in `shutting_down`, which ignores it. Commands move the state too: `join()`",
        "(closed -> establishing), `leave()` (established -> shutting_down), `abort()` (any live",
        "state -> closed).",
        "",
        "```mermaid",
        "stateDiagram-v2",
        "    [*] --> closed",
        "    closed --> establishing: join() sends HELLO",
        "    established --> shutting_down: leave() sends GOODBYE",
    ]
    order = sorted(edges.items(), key=lambda kv: (kv[0][0].value, kv[0][1].value))
    for (state, nxt), names in order:
        label = ", ".join(sorted(names)) if len(names) <= 3 else "in-session messages"
        lines.append(f"    {state.value} --> {nxt.value}: {label}")
    for state in (SessionState.ESTABLISHING, SessionState.CHALLENGING, SessionState.ESTABLISHED):
        lines.append(f"    {state.value} --> failed: protocol violation")
    lines += ["    failed --> [*]", "```", ""]
    in_session = sorted(
        cls.NAME
        for (state, cls), nxt in TRANSITIONS.items()
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
