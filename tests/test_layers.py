"""Import direction between the layers of ``wamp_core`` and from the drivers.

Every module under ``src/`` is parsed with :mod:`ast`; every ``import`` statement counts, at
module level or inside a function, class or ``if TYPE_CHECKING:`` block. Relative imports are
resolved, and ``from pkg import name`` counts as importing ``pkg.name`` when that is a module.
Dynamic imports (``importlib.import_module``) are not seen; the modules they load are checked
like the others.

A layer is the first name under ``wamp_core``; the three leaves are layers of their own. Imports
within a layer are always allowed. The rules, as :data:`CORE_RULES` states them:

* leaves ``_errors``, ``_uri``, ``_wire``: nothing from the package except ``_errors``;
* ``_messages``: only leaves;
* ``serializers``: only ``_messages`` and leaves;
* ``_framing``, ``auth``, ``_config``: only leaves;
* ``_client``: anything but ``_router``, ``_component`` and the public namespaces;
* ``_router``: anything but ``_client``, ``_component`` and the public namespaces;
* ``_component``: anything but the public namespaces (it may use ``_client``);
* ``_driver`` (the drivers' shared async half): anything, the public namespaces included; only
  the public namespace ``driver`` imports it (``import wamp_core`` never loads it);
* ``_testing`` (hypothesis strategies, the in-memory client/router pair): anything but
  ``_driver`` (nor ``driver``, which loads it); only the public namespace ``testing`` imports it,
  and no other layer imports ``testing`` (``import wamp_core`` never loads either: hypothesis is
  an optional dependency);
* the public namespaces (``wamp_core/__init__.py``, ``events``, ``messages``, ``driver``, ``wamp``,
  ``testing``): anything, within the two "only ... imports it" rules above
  (:data:`IMPORTED_ONLY_BY`).

A module in a layer the table does not know fails the test: add the layer to the table. The
core imports neither the drivers nor an async library, and only ``_testing`` and ``testing``
import ``hypothesis``. The drivers (``wamp_anyio``, ``wamp_trio``) import only public
``wamp_core`` names (no ``_`` in the dotted path or in the imported name); ``wamp_trio`` imports
neither ``anyio``, ``asyncio`` nor ``wamp_anyio``. Two tests import the packages in a fresh
interpreter to check what a plain ``import wamp_core`` loads.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
CORE = "wamp_core"
DRIVERS = ("wamp_anyio", "wamp_trio")

LEAVES = frozenset({"_errors", "_uri", "_wire"})
#: The public namespace modules; ``""`` is ``wamp_core`` itself (its ``__init__.py``).
PUBLIC = frozenset({"", "events", "messages", "driver", "testing", "wamp"})


@dataclass(frozen=True)
class Rule:
    """Which other layers a layer may import: ``only`` these, or anything but ``never``."""

    text: str
    only: frozenset[str] | None = None
    never: frozenset[str] = frozenset()

    def allows(self, layer: str) -> bool:
        if self.only is not None:
            return layer in self.only
        return layer not in self.never


def _only(text: str, *layers: str) -> Rule:
    return Rule(text, only=frozenset(layers))


def _never(text: str, *layers: str) -> Rule:
    return Rule(text, never=frozenset(layers))


CORE_RULES: dict[str, Rule] = {
    "_errors": _only("a leaf imports nothing from the package except _errors"),
    "_uri": _only("a leaf imports nothing from the package except _errors", "_errors"),
    "_wire": _only("a leaf imports nothing from the package except _errors", "_errors"),
    "_messages": _only("_messages imports only leaves", *LEAVES),
    "serializers": _only("serializers imports only _messages and leaves", "_messages", *LEAVES),
    "_framing": _only("_framing imports only leaves", *LEAVES),
    "auth": _only("auth imports only leaves", *LEAVES),
    "_config": _only("_config imports only leaves", *LEAVES),
    "_client": _never(
        "_client never imports _router, _component, _driver or the public namespaces",
        "_router",
        "_component",
        "_driver",
        *PUBLIC,
    ),
    "_router": _never(
        "_router never imports _client, _component, _driver or the public namespaces",
        "_client",
        "_component",
        "_driver",
        *PUBLIC,
    ),
    "_component": _never(
        "_component never imports _driver or the public namespaces", "_driver", *PUBLIC
    ),
    "_driver": _never("_driver may import anything"),
    "_testing": _never(
        "_testing never imports _driver or the public namespaces driver and testing",
        "_driver",
        "driver",
        "testing",
    ),
    **{name: _never("public namespaces may import anything") for name in PUBLIC},
}

#: Layers only the given layers import (besides modules of the layer itself).
IMPORTED_ONLY_BY: dict[str, frozenset[str]] = {
    "_driver": frozenset({"driver"}),
    "_testing": frozenset({"testing"}),
    "testing": frozenset(),
}

#: Top-level packages the sans-IO core must not import.
CORE_NEVER = frozenset({*DRIVERS, "anyio", "asyncio", "trio"})
#: Top-level packages only the testing layers (``_testing``, ``testing``) import.
TESTING_ONLY = frozenset({"hypothesis"})
TESTING_LAYERS = frozenset({"_testing", "testing"})
#: Top-level packages each driver must not import (besides private wamp_core names).
DRIVER_NEVER: dict[str, frozenset[str]] = {
    "wamp_anyio": frozenset({"wamp_trio"}),
    "wamp_trio": frozenset({"anyio", "asyncio", "wamp_anyio"}),
}


# --------------------------------------------------------------------------------------------
# The checker


@dataclass(frozen=True)
class Import:
    """One imported module (``target``), and the names taken from it (``from ... import``)."""

    path: Path
    line: int
    importer: str
    target: str
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Violation:
    imp: Import
    rule: str

    def __str__(self) -> str:
        imp = self.imp
        names = f" ({', '.join(imp.names)})" if imp.names else ""
        return f"{imp.path}:{imp.line}: {imp.importer} imports {imp.target}{names}: {self.rule}"


def _modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every package of ``root`` that we check."""
    found: dict[str, Path] = {}
    for top in (CORE, *DRIVERS):
        for path in sorted((root / top).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _imports(module: str, path: Path, known: dict[str, Path]) -> Iterator[Import]:
    """Every import in ``path`` (module ``module``), relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, module, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            if source == "__future__":
                continue
            plain: list[str] = []
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                if sub in known:  # ``from pkg import submodule``
                    yield Import(path, node.lineno, module, sub)
                else:
                    plain.append(alias.name)
            if plain:
                yield Import(path, node.lineno, module, source, tuple(plain))


def _core_layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _check(imp: Import) -> str | None:
    """The broken rule's text, or None."""
    top = imp.target.split(".")[0]
    if imp.importer.split(".")[0] == CORE:
        here = _core_layer(imp.importer)
        rule = CORE_RULES.get(here)
        if rule is None:
            return f"layer {here!r} is not in CORE_RULES (tests/test_layers.py): declare its rule"
        if top in CORE_NEVER:
            return "the sans-IO core imports no driver and no async library"
        if top in TESTING_ONLY and here not in TESTING_LAYERS:
            return f"only the testing layers import {top} (an optional dependency)"
        if top != CORE:
            return None
        there = _core_layer(imp.target)
        if there == here:
            return None
        importers = IMPORTED_ONLY_BY.get(there)
        if importers is not None and here not in importers:
            who = ", ".join(sorted(importers)) or "no other layer"
            return f"{there or 'wamp_core'} is imported only by {who}"
        if rule.allows(there):
            return None
        return rule.text
    driver = imp.importer.split(".")[0]
    if top in DRIVER_NEVER.get(driver, ()):
        return f"{driver} never imports {top}"
    if top == CORE:
        dotted = [*imp.target.split(".")[1:], *imp.names]
        if any(part.startswith("_") for part in dotted):
            return f"{driver} imports only public wamp_core names"
    return None


def find_violations(root: Path) -> list[Violation]:
    """Every broken layer rule in the packages under ``root`` (a ``src`` directory)."""
    known = _modules(root)
    found: list[Violation] = []
    for module, path in known.items():
        for imp in _imports(module, path, known):
            rule = _check(imp)
            if rule is not None:
                found.append(Violation(replace(imp, path=path.relative_to(root.parent)), rule))
    return found


def _report(violations: list[Violation]) -> str:
    lines = "\n".join(f"  {v}" for v in violations)
    return f"{len(violations)} import(s) break the layer rules:\n{lines}"


# --------------------------------------------------------------------------------------------
# The tree


def test_the_source_tree_follows_the_layer_rules() -> None:
    assert (SRC / CORE / "_messages" / "_base.py").is_file()  # the checker sees the real tree
    violations = find_violations(SRC)
    if violations:
        pytest.fail(_report(violations), pytrace=False)


def test_every_core_module_is_in_a_known_layer() -> None:
    layers = {_core_layer(module) for module in _modules(SRC) if module.startswith(CORE)}
    assert layers <= set(CORE_RULES), sorted(layers - set(CORE_RULES))
    assert {"_messages", "serializers", "_framing", "auth", "_config", "_client"} <= layers


# --------------------------------------------------------------------------------------------
# The checker on synthetic trees


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "src"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for path in list(root.rglob("*")):
        if path.is_dir() and not (path / "__init__.py").exists():
            (path / "__init__.py").write_text("", encoding="utf-8")
    return root


def _broken(root: Path) -> list[tuple[str, int, str, str]]:
    """(path, line, importer, target) of each violation, sorted."""
    return sorted(
        (v.imp.path.as_posix(), v.imp.line, v.imp.importer, v.imp.target)
        for v in find_violations(root)
    )


def test_checker_reports_a_function_level_upward_import(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "wamp_core/_errors.py": "",
            "wamp_core/_messages/__init__.py": "from .. import _errors\n",
            "wamp_core/_framing/_rawsocket.py": (
                "from .._errors import ProtocolError\n"
                "\n"
                "def f():\n"
                "    from .._messages import parse_message\n"
                "    return parse_message\n"
            ),
        },
    )
    violations = find_violations(root)
    importer = "wamp_core._framing._rawsocket"
    where = "src/wamp_core/_framing/_rawsocket.py"
    assert _broken(root) == [(where, 4, importer, "wamp_core._messages")]
    report = _report(violations)
    assert "1 import(s) break the layer rules" in report
    assert (
        "src/wamp_core/_framing/_rawsocket.py:4: wamp_core._framing._rawsocket imports "
        "wamp_core._messages (parse_message): _framing imports only leaves" in report
    )


def test_checker_resolves_relative_and_submodule_imports(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "wamp_core/__init__.py": "from ._client import x\n",
            "wamp_core/_wire.py": "from . import _errors\nfrom ._uri import MAX_ID\n",
            "wamp_core/_errors.py": "",
            "wamp_core/_uri.py": "",
            "wamp_core/serializers/_json.py": "from .._messages import _base\nfrom . import _x\n",
            "wamp_core/_client/__init__.py": "if True:\n    import wamp_core._router._core\n",
            "wamp_core/_router/_core.py": "from .. import messages  # the package's __init__\n",
            "wamp_core/_component/_c.py": "from wamp_core._client import x\n",
        },
    )
    assert _broken(root) == [
        ("src/wamp_core/_client/__init__.py", 2, "wamp_core._client", "wamp_core._router._core"),
        ("src/wamp_core/_router/_core.py", 1, "wamp_core._router._core", "wamp_core"),
        ("src/wamp_core/_wire.py", 2, "wamp_core._wire", "wamp_core._uri"),
    ]


def test_checker_knows_only_declared_layers(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"wamp_core/_util.py": "import os\n"})
    [violation] = find_violations(root)
    assert "'_util' is not in CORE_RULES" in str(violation)


def test_checker_keeps_the_drivers_on_public_names(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "wamp_core/_messages/__init__.py": "",
            "wamp_core/events.py": "",
            "wamp_core/_config/_x.py": "import asyncio\n",
            "wamp_anyio/__init__.py": (
                "import anyio\n"
                "import wamp_core\n"
                "from wamp_core import events, Connection\n"
                "from wamp_core import _messages\n"
                "from wamp_core.events import _private\n"
            ),
            "wamp_trio/__init__.py": (
                "import trio\nfrom anyio.abc import TaskGroup\nimport asyncio.events\n"
                "import wamp_core.messages\n"
            ),
        },
    )
    assert _broken(root) == [
        ("src/wamp_anyio/__init__.py", 4, "wamp_anyio", "wamp_core._messages"),
        ("src/wamp_anyio/__init__.py", 5, "wamp_anyio", "wamp_core.events"),
        ("src/wamp_core/_config/_x.py", 1, "wamp_core._config._x", "asyncio"),
        ("src/wamp_trio/__init__.py", 2, "wamp_trio", "anyio.abc"),
        ("src/wamp_trio/__init__.py", 3, "wamp_trio", "asyncio.events"),
    ]


def test_checker_keeps_the_testing_layer_apart(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "wamp_core/_errors.py": "",
            "wamp_core/_router/__init__.py": "",
            "wamp_core/_driver/__init__.py": "",
            "wamp_core/driver.py": "from ._driver import x\n",
            "wamp_core/testing.py": "from ._testing import _pair\nimport hypothesis\n",
            "wamp_core/_testing/_pair.py": (
                "from hypothesis import strategies\n"
                "from .._router import Router\n"
                "from . import _scalars\n"
                "from .._driver import x\n"
                "from .. import driver\n"
            ),
            "wamp_core/_testing/_scalars.py": "",
            "wamp_core/_client/_s.py": "from .._testing import _scalars\n",
            "wamp_core/messages.py": "from . import testing\n",
            "wamp_core/_config/_c.py": "import hypothesis.strategies\n",
        },
    )
    violations = find_violations(root)
    assert _broken(root) == [
        ("src/wamp_core/_client/_s.py", 1, "wamp_core._client._s", "wamp_core._testing._scalars"),
        ("src/wamp_core/_config/_c.py", 1, "wamp_core._config._c", "hypothesis.strategies"),
        ("src/wamp_core/_testing/_pair.py", 4, "wamp_core._testing._pair", "wamp_core._driver"),
        ("src/wamp_core/_testing/_pair.py", 5, "wamp_core._testing._pair", "wamp_core.driver"),
        ("src/wamp_core/messages.py", 1, "wamp_core.messages", "wamp_core.testing"),
    ]
    report = _report(violations)
    assert "_testing is imported only by testing" in report
    assert "testing is imported only by no other layer" in report
    assert "only the testing layers import hypothesis" in report


def test_importing_the_core_loads_neither_the_async_half_nor_an_async_library() -> None:
    code = (
        "import sys, wamp_core, wamp_core.auth, wamp_core.serializers\n"
        "loaded = [m for m in ('wamp_core.driver', 'wamp_core._driver', 'anyio', 'trio', "
        "'asyncio') if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""


def test_importing_the_core_loads_neither_hypothesis_nor_the_testing_layer() -> None:
    code = (
        "import sys, wamp_core, wamp_core.auth, wamp_core.serializers, wamp_core.events\n"
        "import wamp_core.messages, wamp_core.driver\n"
        "loaded = [m for m in ('hypothesis', 'wamp_core.testing', 'wamp_core._testing') "
        "if m in sys.modules]\n"
        "print(','.join(loaded))\n"
        "import wamp_core.testing\n"
        "print('wamp_core._driver' in sys.modules, 'hypothesis' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split("\n")[:2] == ["", "True True"]


def test_the_testing_layer_does_not_load_the_async_half() -> None:
    # Not checked: async libraries (hypothesis itself imports trio when it is installed).
    code = (
        "import sys, wamp_core.testing\n"
        "loaded = [m for m in ('wamp_core.driver', 'wamp_core._driver') if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""


def test_the_trio_driver_loads_neither_anyio_nor_asyncio() -> None:
    code = (
        "import sys, wamp_trio\n"
        "loaded = [m for m in ('anyio', 'asyncio', 'wamp_anyio') if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""
