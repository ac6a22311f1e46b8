"""Run components until they are done, or until Ctrl-C / SIGTERM stops them cleanly."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Sequence
from typing import Any

import wamp_core as wc

from ._component import Component
from ._runtime import Runtime

__all__ = ["run", "run_components", "LOG_LEVELS", "configure_logging"]

log = logging.getLogger("wamp_core.driver")  # the public name, stable to configure

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

#: Autobahn's ``run(..., log_level=)`` names and the :mod:`logging` level each sets.
LOG_LEVELS: dict[str, int] = {
    "none": logging.CRITICAL + 1,  # nothing at all
    "critical": logging.CRITICAL,
    "error": logging.ERROR,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": logging.DEBUG,
}


def configure_logging(log_level: str) -> None:
    """What ``run(..., log_level=)`` does: a stderr handler on the root logger unless it has
    one already (:func:`logging.basicConfig`), and the root logger's level set to
    ``log_level`` (one of :data:`LOG_LEVELS`, any case). Without ``log_level``, ``run`` leaves
    logging alone."""
    level = LOG_LEVELS.get(log_level.lower()) if isinstance(log_level, str) else None
    if level is None:
        raise wc.ConfigurationError(
            f"log_level must be one of {', '.join(LOG_LEVELS)}: {log_level!r}"
        )
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)


async def run_components(runtime: Runtime, components: Sequence[Component[Any]]) -> int | None:
    """Run ``components`` concurrently; the signal number that stopped them, if one did.

    The first component error stops the others (each leaves cleanly) and is raised as it is.
    """
    stopped_by: int | None = None
    errors: list[BaseException] = []

    async def one(component: Component[Any]) -> None:
        try:
            await component.run()
        except runtime.cancelled:
            raise
        except BaseException as exc:  # (SystemExit from main too) raised below, not in a group
            errors.append(exc)
            await stop_all()

    async def stop_all() -> None:
        async with runtime.task_group() as stoppers:
            for component in components:
                stoppers.start_soon(component.stop)

    async def on_signals() -> None:
        nonlocal stopped_by
        with runtime.open_signal_receiver(*STOP_SIGNALS) as signals:
            async for signum in signals:
                if stopped_by is None:  # the first: stop cleanly
                    stopped_by = int(signum)
                    log.info("signal %d: stopping (again to stop at once)", signum)
                    outer.start_soon(stop_all)
                    continue
                log.warning("signal %d while stopping: stopping at once", signum)
                for component in components:
                    component._abort()
                return

    async with runtime.task_group() as outer:
        outer.start_soon(on_signals)
        async with runtime.task_group() as runners:
            for component in components:
                runners.start_soon(one, component)
        outer.cancel_scope.cancel()
    if errors:
        raise errors[0]
    return stopped_by


def run(
    runtime: Runtime,
    components: Component[Any] | Sequence[Component[Any]],
    start: Callable[..., int | None],
    *,
    log_level: str | None = None,
) -> None:
    """Run ``components`` (one or several) until all are done: ``start(func, *args)`` runs
    ``func`` in a new event loop of ``runtime``'s library (``trio.run``, ``anyio.run``...).

    Ctrl-C or SIGTERM stops them cleanly (each leaves its session and closes its connection),
    then raises :class:`SystemExit` with status 128 + the signal number; a second one while
    they stop cancels what is left (listeners, the wait for the router's GOODBYE). The first
    error that ends a component stops the others and is raised as it is. ``log_level``
    (Autobahn's argument, e.g. ``"info"``) configures :mod:`logging` first, see
    :func:`configure_logging`; without it logging is left as the application set it.
    """
    if log_level is not None:
        configure_logging(log_level)
    if isinstance(components, Component):
        items: list[Component[Any]] = [components]
    elif isinstance(components, (list, tuple)):
        items = list(components)
    else:
        raise wc.ConfigurationError(f"run() takes a component or a list of them: {components!r}")
    if not items:
        raise wc.ConfigurationError("run() needs at least one component")
    for item in items:
        if not isinstance(item, Component) or item._rt is not runtime:
            raise wc.ConfigurationError(
                f"run() runs this driver's components (Component of the same package): {item!r}"
            )
    stopped_by = start(run_components, runtime, items)
    if stopped_by is not None:
        raise SystemExit(128 + stopped_by)
