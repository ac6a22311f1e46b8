"""The documentation stays true: generated parts are current, the site builds with no warning
(mkdocs ``--strict``), and every ``python`` and ``sh`` code block in ``docs/`` runs, as a program
of its own (``sh`` blocks with bash, the virtualenv's ``wamp-py`` on the PATH), against the
embedded router (the blocks' router URLs point at it). ``text`` blocks are usage synopses,
configuration files and output, not programs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crossbar import CrossbarRouter
from embedded import EmbeddedRouter

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
#: The router URLs the docs use, replaced by the test router's.
RS_URL, WS_URL = "rs://127.0.0.1:8081", "ws://127.0.0.1:8080/ws"


def _blocks(language: str) -> list[tuple[str, int, str]]:
    found = []
    pattern = "^```" + language + "\n(.*?)^```$"
    for page in sorted(DOCS.glob("*.md")):
        blocks = re.findall(pattern, page.read_text(encoding="utf-8"), re.S | re.M)
        found += [(page.name, index, code) for index, code in enumerate(blocks)]
    return found


BLOCKS = _blocks("python")
SHELL_BLOCKS = _blocks("sh")


def test_session_state_diagram_is_current() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "render_states.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_the_site_builds_with_no_warnings(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "quickstart" / "index.html").is_file()


def test_the_pages_have_code_to_run() -> None:
    pages = {page for page, _, _ in BLOCKS}
    assert {"quickstart.md", "errors.md", "router.md", "testing.md"} <= pages, pages
    assert SHELL_BLOCKS, "the shell examples (index.md) are found"


@pytest.fixture(scope="module")
def router() -> Iterator[EmbeddedRouter]:
    with EmbeddedRouter() as embedded:
        yield embedded


@pytest.mark.parametrize(("page", "index", "code"), BLOCKS, ids=[f"{p}-{i}" for p, i, _ in BLOCKS])
def test_every_python_block_runs(
    router: EmbeddedRouter, tmp_path: Path, page: str, index: int, code: str
) -> None:
    name = f"test_{page.removesuffix('.md').replace('-', '_')}_{index}.py"
    proc = _run_python(code, router.rs_url, router.ws_url, tmp_path / name)
    assert proc.returncode == 0, f"{page} block {index}:\n{proc.stdout}\n{proc.stderr}"


def test_every_python_block_type_checks(tmp_path: Path) -> None:
    """(A review.) A block copied into a project checked with ``mypy --strict`` passes: the
    README's and every page's (the hand-driven loops read a transport's endpoint, a union)."""
    readme = REPO / "README.md"
    found = re.findall("^```python\n(.*?)^```$", readme.read_text(encoding="utf-8"), re.S | re.M)
    blocks = [*BLOCKS, *(("README.md", index, code) for index, code in enumerate(found))]
    for page, index, code in blocks:
        stem = re.sub(r"\W", "_", page.removesuffix(".md"))
        (tmp_path / f"{stem}_{index}.py").write_text(code, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / ".cache"),
         *sorted(str(p) for p in tmp_path.glob("*.py"))],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _run_python(
    code: str, rs_url: str, ws_url: str, program: Path
) -> subprocess.CompletedProcess[str]:
    """Run a page's block as a program, aimed at the router at ``rs_url``/``ws_url``."""
    program.write_text(code.replace(RS_URL, rs_url).replace(WS_URL, ws_url))
    return subprocess.run(
        [sys.executable, str(program)],
        cwd=program.parent, capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("page", "index", "code"), SHELL_BLOCKS, ids=[f"{p}-sh-{i}" for p, i, _ in SHELL_BLOCKS]
)
def test_every_shell_block_runs(
    router: EmbeddedRouter, tmp_path: Path, page: str, index: int, code: str
) -> None:
    script = code.replace(RS_URL, router.rs_url).replace(WS_URL, router.ws_url)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, f"{page} sh block {index}:\n{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.strip(), "a block that prints nothing shows nothing"


QUICKSTART = [(index, code) for page, index, code in BLOCKS if page == "quickstart.md"]


@pytest.mark.parametrize(("index", "code"), QUICKSTART, ids=[f"q-{i}" for i, _ in QUICKSTART])
def test_the_quickstart_runs_on_crossbar_but_for_streaming_both_ways(
    crossbar: CrossbarRouter, tmp_path: Path, index: int, code: str
) -> None:
    """quickstart.md: "the examples run unchanged against it, but for 'Streaming both ways'"."""
    proc = _run_python(code, crossbar.rs_url, crossbar.ws_url, tmp_path / f"quickstart_{index}.py")
    if "open_call" in code:  # the "Streaming both ways" section
        assert proc.returncode != 0
        assert "LocalProtocolError" in proc.stderr and "progressive_call_invocations" in proc.stderr
    else:
        assert proc.returncode == 0, f"quickstart block {index}:\n{proc.stdout}\n{proc.stderr}"
