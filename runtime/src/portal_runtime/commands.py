"""Commands and their handlers, and dependency injection by parameter name, in one place.

A command is a frozen dataclass naming what a caller asks for (``PlaceOrder``). Its handler is a
function ``(command, uow, **deps)``; an event handler is ``(event, uow, **deps)``. The
parameters after the first two are filled by name from the service's dependencies (its
adapters, ``config``, ``clock``), so a handler asks only for what it uses and a test passes
fakes the same way. ``CommandBus.handle`` runs a command's handler in a unit of work and commits
once; a handler never commits (the one exception is documented where it is, in billing).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from portal_runtime.uow import UnitOfWork


def wants(handler: Callable) -> tuple[str, ...]:
    """The dependency names a handler asks for: its parameters after (message, uow)."""
    params = list(inspect.signature(handler).parameters.values())[2:]
    return tuple(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


def inject(handler: Callable, deps: Mapping[str, Any]) -> Callable[[Any, UnitOfWork], Any]:
    """The handler with its dependencies bound by name: ``(message, uow) -> result``.

    A parameter with a default may be missing from ``deps``; any other missing one is an error
    at wiring time, not at the first message."""
    params = inspect.signature(handler).parameters
    bound = {}
    for name in wants(handler):
        if name in deps:
            bound[name] = deps[name]
        elif params[name].default is inspect.Parameter.empty:
            raise TypeError(
                f"{handler.__module__}.{handler.__qualname__} needs {name!r}, "
                f"which the service does not provide (it has {sorted(deps)})"
            )
    if not bound:
        return handler
    return functools.update_wrapper(functools.partial(handler, **bound), handler)


def inject_all(
    handlers: Mapping[str, list[Callable]], deps: Mapping[str, Any]
) -> dict[str, list[Callable[[Any, UnitOfWork], Any]]]:
    """Event handlers by type, each with its dependencies bound."""
    return {kind: [inject(h, deps) for h in hs] for kind, hs in handlers.items()}


class CommandBus:
    """``handle(command)``: its handler in a unit of work, then one commit; the result returned."""

    def __init__(
        self,
        handlers: Mapping[type, Callable],
        uow_factory: Callable[..., UnitOfWork],
        deps: Mapping[str, Any],
    ):
        self._handlers = {kind: inject(h, deps) for kind, h in handlers.items()}
        self._uow = uow_factory

    def handler_for(self, command) -> Callable[[Any, UnitOfWork], Any]:
        try:
            return self._handlers[type(command)]
        except KeyError:
            raise LookupError(f"no handler for {type(command).__name__}") from None

    def handle(self, command, *, uow: UnitOfWork | None = None, **uow_args):
        """Handle ``command``; with ``uow``, inside that (uncommitted) unit of work instead."""
        handler = self.handler_for(command)
        if uow is not None:
            return handler(command, uow)
        with self._uow(**uow_args) as work:
            result = handler(command, work)
            work.commit()
            return result
