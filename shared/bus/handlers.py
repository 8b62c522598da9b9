"""A service's message handlers, each declared where it is written (nameko's `@event_handler`):

    handles = Handlers(COUNTRY_HOLDS, REVOCATIONS)     # copies (shared.copies) and other maps

    @handles("organisation.registered", "organisation.updated")
    def organisation_changed(session: Session, message: Message) -> None:
        ...

`handles.map()` is the service's handler map (type -> handler) for its consumer; its types
(`handles.types`) are what the service's queue is bound to: the composition roots derive the
topology from them when a process starts (see topology.py).
Where several handlers take one type they all run, in the order they were declared, in the
message's one transaction: a copy is included first, so what a handler does beyond copying
sees the copy up to date. Declaring has no effect beyond this object: no I/O, no global
registry, so a handlers module can be imported anywhere.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Iterable, Mapping, Union

from sqlalchemy.orm import Session

from shared.bus.catalogue import CATALOGUE, UnknownMessageType
from shared.bus.consumer import Handler, Message

Includable = Union["Handlers", Mapping[str, Handler], Any]


class Handlers:
    def __init__(self, *included: Includable):
        self._by_type: dict[str, list[Handler]] = {}
        for handlers in included:
            self.include(handlers)

    def __call__(self, *types: str) -> Callable[[Handler], Handler]:
        """Decorate a handler of these message types (it is returned unchanged)."""
        def declare(handler: Handler) -> Handler:
            self.add(types, handler)
            return handler

        return declare

    def add(self, types: Iterable[str], handler: Handler) -> None:
        for type_ in types:
            if type_ not in CATALOGUE:  # a typo fails at import, not by never being called
                raise UnknownMessageType(type_)
            self._by_type.setdefault(type_, []).append(handler)

    def include(self, handlers: Includable) -> None:
        """Add every handler of another declaration: a map, another `Handlers`, or anything with
        a `handlers` map (a copy: shared.copies)."""
        if hasattr(handlers, "handlers"):
            handlers = handlers.handlers
        if isinstance(handlers, Handlers):
            for type_, hs in handlers._by_type.items():
                for handler in hs:
                    self.add((type_,), handler)
            return
        for type_, handler in handlers.items():
            self.add((type_,), handler)

    @property
    def types(self) -> tuple[str, ...]:
        """The message types handled, sorted: the bindings of the service's queue."""
        return tuple(sorted(self._by_type))

    def map(self, dependencies: Mapping[str, Any] | None = None) -> dict[str, Handler]:
        """A fresh handler map (the caller may change it, as tests do). A handler's parameters
        after (session, message) are its dependencies, given by name from `dependencies` (the
        service's bootstrap builds them: `Kernel.provide`), as cosmicpython's bootstrap does."""
        bound = {}
        for type_, hs in self._by_type.items():
            hs = [_inject(h, dependencies or {}) for h in hs]
            bound[type_] = hs[0] if len(hs) == 1 else _chain(hs)
        return bound


def _inject(handler: Handler, dependencies: Mapping[str, Any]) -> Handler:
    wanted = list(inspect.signature(handler).parameters)[2:]
    if not wanted:
        return handler
    missing = [name for name in wanted if name not in dependencies]
    if missing:
        raise LookupError(f"{handler.__qualname__} needs {missing}, which the service's bootstrap does not provide")
    named = {name: dependencies[name] for name in wanted}
    return functools.wraps(handler)(lambda session, message: handler(session, message, **named))


def _chain(handlers: list[Handler]) -> Handler:
    def run(session: Session, message: Message) -> None:
        for handler in handlers:
            handler(session, message)

    return run
