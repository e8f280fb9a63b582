"""A small immutable record, for the modules on the cache-hit path.

``dataclasses`` imports ``inspect`` (~15 ms here); every millisecond of start-up is
paid on each kubectl command, so the fast path uses this instead.
"""

from __future__ import annotations

__all__ = ["Record"]


class Record:
    """Fields are the subclass's ``_fields`` (also its ``__slots__``), in order."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def __init__(self, *args: object, **kwargs: object) -> None:
        names = self._fields
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__} takes at most {len(names)} fields")
        values = dict(zip(names, args, strict=False))
        for name, value in kwargs.items():
            if name not in names or name in values:
                raise TypeError(f"{type(self).__name__}: unexpected or repeated field {name!r}")
            values[name] = value
        missing = [name for name in names if name not in values]
        if missing:
            raise TypeError(f"{type(self).__name__}: missing {', '.join(missing)}")
        for name in names:
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self._fields)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in self._fields))

    def __repr__(self) -> str:
        # Subclasses holding secrets list them in _hidden so a repr never shows them.
        hidden = getattr(self, "_hidden", ())
        shown = ", ".join(f"{n}={'***' if n in hidden else repr(getattr(self, n))}" for n in self._fields)
        return f"{type(self).__name__}({shown})"
