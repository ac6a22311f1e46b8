"""The README's hand-driven snippet is a complete program: run it against a real router."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from crossbar import CrossbarRouter

README = Path(__file__).resolve().parent.parent / "README.md"


def _snippet() -> str:
    text = README.read_text(encoding="utf-8")
    blocks: list[str] = re.findall(r"```python\n(.*?)```", text, re.S)
    (snippet,) = [b for b in blocks if "make_connection" in b]
    return snippet


def test_the_readme_snippet_is_one_runnable_block() -> None:
    snippet = _snippet()
    compile(snippet, "README.md", "exec")
    assert "rs://127.0.0.1:8081" in snippet


def test_the_readme_snippet_runs_against_crossbar(crossbar: CrossbarRouter) -> None:
    code = _snippet().replace("rs://127.0.0.1:8081", crossbar.rs_url)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    # our session counts itself
    assert re.fullmatch(r"sessions on the router: [1-9][0-9]*\n", proc.stdout), proc.stdout


def _run_block(crossbar: CrossbarRouter, marker: str, run_call: str) -> None:
    """Run the README block containing ``marker`` on asyncio and trio against Crossbar."""
    text = README.read_text(encoding="utf-8")
    blocks: list[str] = re.findall(r"```python\n(.*?)```", text, re.S)
    (snippet,) = [b for b in blocks if marker in b]
    for backend in ("asyncio", "trio"):
        code = snippet.replace("rs://127.0.0.1:8081", crossbar.rs_url).replace(
            f"{run_call})", f"{run_call}, backend={backend!r})"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "2 + 3 = 5\n", proc.stdout


def test_the_readme_anyio_snippet_runs_against_crossbar(crossbar: CrossbarRouter) -> None:
    _run_block(crossbar, "wamp_anyio.connect", "anyio.run(main")


def test_the_readme_component_snippet_runs_against_crossbar(crossbar: CrossbarRouter) -> None:
    _run_block(crossbar, "wamp_anyio.Component", "wamp_anyio.run(component")


def test_the_readme_trio_native_snippet_runs_against_crossbar(crossbar: CrossbarRouter) -> None:
    text = README.read_text(encoding="utf-8")
    blocks: list[str] = re.findall(r"```python\n(.*?)```", text, re.S)
    (snippet,) = [b for b in blocks if "wamp_trio.Component" in b]
    code = snippet.replace("rs://127.0.0.1:8081", crossbar.rs_url)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "2 + 3 = 5\n", proc.stdout
