"""The sign-in's hot reads (an app's secret, a user's numbers) on the pool's driver connection.

A ``SELECT`` by subject through ``Connection.execute`` costs some 60-90 µs of SQLAlchemy
machinery (transaction, compiled-cache lookup, result processing) around a statement SQLite
answers in 7 µs. For the reads every verify POST makes, :func:`rows` compiles the statement
once per dialect and runs it on a pooled DBAPI connection (``engine.raw_connection()``: the
same pool, so the same connections, checked in with a rollback as always).

The ordinary path (``db.execute``) runs instead whenever the shortcut could change what
happens:

- the engine has execution options (``schema_translate_map``...), or something listens to
  its cursor events (tracing, query counting, ``echo``): they see every statement;
- the compiled statement needs its parameters processed or rendered late. Results are not
  processed: the callers convert every value themselves (``str``, ``bool``, ``float``).

A driver error invalidates the connection (a server gone away is not handed out again) and
raises :class:`~otpgate.StorageUnavailable`, as the ordinary path does.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Select

from otpgate.core.errors import StorageUnavailable


@dataclass(frozen=True)
class _Compiled:
    sql: str
    #: Parameter names in order (positional paramstyles), or None: pass a mapping.
    order: tuple[str, ...] | None


#: Per dialect: statement -> its compiled form, or None where the shortcut does not apply.
_CACHE: weakref.WeakKeyDictionary[Dialect, dict[Select[Any], _Compiled | None]] = (
    weakref.WeakKeyDictionary()
)


def usable(engine: Engine) -> bool:
    """Whether ``engine`` may take the shortcut (no execution options, no cursor listeners,
    no statement logging)."""
    dispatch = engine.dispatch
    return not (
        engine.get_execution_options()
        or engine.echo
        or dispatch.before_cursor_execute
        or dispatch.after_cursor_execute
        or dispatch.before_execute
        or dispatch.after_execute
        or getattr(engine.dialect.dispatch, "handle_error", None)
    )


def compiled(dialect: Dialect, statement: Select[Any]) -> _Compiled | None:
    """``statement`` compiled for ``dialect`` (kept), or None if it needs SQLAlchemy's
    processing of its parameters."""
    known = _CACHE.setdefault(dialect, {})
    if statement in known:
        return known[statement]
    result: _Compiled | None = None
    form = statement.compile(dialect=dialect)
    plain = (
        not getattr(form, "_bind_processors", None)
        and not getattr(form, "literal_execute_params", None)
        and not getattr(form, "post_compile_params", None)
    )
    if plain:
        order = tuple(form.positiontup or ()) if form.positional else None
        result = _Compiled(form.string, order)
    known[statement] = result
    return result


def rows(engine: Engine, statement: Select[Any], params: Mapping[str, Any]) -> list[Any] | None:
    """The rows of ``statement`` run with ``params`` on a pooled driver connection, or
    None when the ordinary path must run it (see the module's notes)."""
    if not usable(engine):
        return None
    form = compiled(engine.dialect, statement)
    if form is None:
        return None
    values: Sequence[Any] | Mapping[str, Any] = (
        params if form.order is None else tuple(params[name] for name in form.order)
    )
    driver_error = engine.dialect.loaded_dbapi.Error
    try:
        connection = engine.raw_connection()
    except (DBAPIError, driver_error) as error:  # the pool raises the driver's own
        raise StorageUnavailable() from error
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(form.sql, values)
            return list(cursor.fetchall())
        finally:
            cursor.close()
    except driver_error as error:
        connection.invalidate()
        raise StorageUnavailable() from error
    finally:
        connection.close()
