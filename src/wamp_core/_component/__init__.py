"""The component layer: driver-independent pieces every async driver shares (request
outcomes, the answer to an invocation, how a handler is called, the lifecycle and its
decisions), still without I/O."""

from ._handlers import HandlerSpec as HandlerSpec
from ._lifecycle import (
    HOOKS as HOOKS,
    ORDER as ORDER,
    ComponentConfig as ComponentConfig,
    Declaration as Declaration,
    HookName as HookName,
    Hooks as Hooks,
    Lifecycle as Lifecycle,
    Verdict as Verdict,
)
from ._requests import (
    Outcome as Outcome,
    RequestTracker as RequestTracker,
    answer_invocation as answer_invocation,
    invocation_error as invocation_error,
    invocation_result as invocation_result,
    refusal_uri as refusal_uri,
)

__all__ = [
    "HOOKS",
    "ORDER",
    "ComponentConfig",
    "Declaration",
    "HandlerSpec",
    "HookName",
    "Hooks",
    "Lifecycle",
    "Outcome",
    "RequestTracker",
    "Verdict",
    "answer_invocation",
    "invocation_error",
    "invocation_result",
    "refusal_uri",
]
