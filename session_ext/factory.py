"""Session factories: ``sessionmaker`` and ``create_session``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from .session import Session

_S = TypeVar("_S", bound=Session)


_T = TypeVar("_T")


class SessionFactory(Generic[_T]):
    """What ``sessionmaker`` and ``async_sessionmaker`` share: the configured
    keywords, calling with overrides, ``configure()`` and the repr.

    Keywords given when calling the factory override the configured ones;
    ``info`` dicts are merged into a fresh dict for each session.
    """

    def __init__(
        self,
        bind: Any,
        class_: type[_T],
        autoflush: bool,
        expire_on_commit: bool,
        info: dict[Any, Any] | None,
        kw: dict[str, Any],
    ) -> None:
        kw["bind"] = bind
        kw["autoflush"] = autoflush
        kw["expire_on_commit"] = expire_on_commit
        if info is not None:
            kw["info"] = info
        self.kw = kw
        self.class_ = class_

    def __call__(self, **local_kw: Any) -> _T:
        if not local_kw:
            return self.class_(**self.kw)
        kw = {**self.kw, **local_kw}
        if "info" in local_kw and "info" in self.kw:  # info dicts merge, local keys win
            kw["info"] = {**self.kw["info"], **local_kw["info"]}
        return self.class_(**kw)

    def configure(self, **new_kw: Any) -> None:
        """Change the configuration for sessions created from now on."""
        self.kw.update(new_kw)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kw.items())
        return f"{type(self).__name__}(class_={self.class_.__name__}, {args})"


class sessionmaker(SessionFactory[_S]):  # noqa: N801 - SQLAlchemy's name
    """A configured factory of sessions::

        Session = sessionmaker(engine)
        with Session() as session: ...
        with Session.begin() as session: ...   # commits, or rolls back on error
    """

    def __init__(
        self,
        bind: Any = None,
        *,
        class_: type[_S] = Session,  # type: ignore[assignment]
        autoflush: bool = True,
        expire_on_commit: bool = True,
        info: dict[Any, Any] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(bind, class_, autoflush, expire_on_commit, info, kw)

    @contextlib.contextmanager
    def begin(self) -> Iterator[_S]:
        """A new session inside a transaction: committed at the end of the
        block, rolled back if it raises, and closed either way."""
        with self() as session, session.begin():
            yield session


def create_session(bind: Any = None, **kwargs: Any) -> Session:
    """A session with ``autoflush=False`` and ``expire_on_commit=False``.

    This is the modern form of the old ``autocommit=True`` "create_session()"
    defaults: nothing is flushed behind your back and objects stay readable
    after ``commit()``.  Transactions still begin automatically on first use;
    call ``commit()`` to persist.
    """
    kwargs.setdefault("autoflush", False)
    kwargs.setdefault("expire_on_commit", False)
    if "autocommit" in kwargs:
        from . import exc

        raise exc.ArgumentError(
            "autocommit=True is not supported (it was removed in SQLAlchemy 2.0): the session "
            "autobegins and you call commit(); see docs/session.md#create_session"
        )
    return Session(bind=bind, **kwargs)
