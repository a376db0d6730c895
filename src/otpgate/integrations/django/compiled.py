"""Reads of a user's factors made on every right code, compiled by the ORM once (issue 17).

Django compiles a queryset into SQL each time it is evaluated. For the one read a verify
POST makes of the subject's factors (an SMS code: the user's numbers) that compilation
costs several times the query itself, on every request. A :class:`CompiledRead` lets the
ORM compile its queryset once per database (so the quoting, table names and placeholders are
Django's own for that backend), then runs that SQL with the subject as its one parameter,
converted by the model's own field as the lookup converts it.

It falls back to the queryset itself whenever the shortcut might not say what the ORM says:
a compiled query whose parameters are not just the converted subject is not kept, and one the
ORM answers without SQL (it compiles to nothing) is answered by the ORM. A subject the field
cannot convert fails as in the ORM (``ValueError``, ``ValidationError``), before any SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import Field, Model, QuerySet

from .models import VerifiedPhone


class CompiledRead:
    """``read(subject)``: the values of ``build(subject)``, a one-column ``values_list``
    queryset of ``model`` whose only parameter is ``subject`` compared with ``field``."""

    def __init__(
        self, model: type[Model], field: str, build: Callable[[Any], QuerySet[Any, Any]]
    ) -> None:
        self._model = model
        found = model._meta.get_field(field)
        if not isinstance(found, Field):
            raise TypeError(f"{model.__name__}.{field} is no field of its own")
        self._field = found
        self._build = build
        self._sql: dict[tuple[str, str], str] = {}  # (alias, vendor): the compiled SQL

    def __call__(self, subject: str) -> list[Any]:
        alias = router.db_for_read(self._model)
        connection = connections[alias]
        value = self._field.get_db_prep_value(subject, connection)
        key = (alias, connection.vendor)
        sql = self._sql.get(key)
        if sql is None:
            compiled = self._compile(subject, alias, value)
            if compiled is None:
                return list(self._build(subject).using(alias))
            sql = self._sql[key] = compiled
        with connection.cursor() as cursor:
            cursor.execute(sql, [value])
            return [row[0] for row in cursor.fetchall()]

    def _compile(self, subject: str, alias: str, value: Any) -> str | None:
        """The SQL of ``build(subject)`` on ``alias`` if its one parameter is ``value``."""
        query = self._build(subject).using(alias).query
        try:
            sql, params = query.get_compiler(alias).as_sql()
        except EmptyResultSet:
            return None
        return sql if list(params) == [value] else None


#: The user's numbers, oldest first: the one read of a right SMS code (``OrmCredentials``).
phones_of = CompiledRead(
    VerifiedPhone,
    "user",
    lambda subject: (
        VerifiedPhone.objects.filter(user_id=subject).order_by("id").values_list("e164", flat=True)
    ),
)
