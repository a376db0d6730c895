"""One set of views to add and remove any factor, parametrised by the factor's name (each
URL rule binds ``factor``; the rules come from ``core.factors.changes``): nothing here names
a factor in its control flow.

- ``/<page>`` (GET: the address form, or the code form while a code runs; POST: send a code
  with ``gate.setup``), ``/<page>/resend``, ``/<page>/confirm`` (``gate.verify(...,
  purpose="enroll")``) for a factor added by typing an address (SMS, email), rendering
  ``otpgate/<page>.html``;
- ``/<page>/remove`` for every factor: GET (or a form POST without the confirmation) shows
  what is removed and a button to confirm (``otpgate/remove.html``, or a site's
  ``otpgate/<page>_remove.html``); only the confirmed POST removes. A JSON call (the site's
  own script, with the CSRF header) is the API: it removes at once, like the FastAPI one.

Every change needs a fresh second factor (``views_manage.signed_in("change")``); a change
queues a success notice (``notices.py``) and sends ``factor_added``/``factor_removed``.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, redirect, request, session, url_for
from werkzeug.wrappers import Response

from otpgate.core.errors import OtpgateError
from otpgate.core.factors import changes
from otpgate.core.factors.changes import AddressKind, Removable

from .views_manage import done, record_pass, signed_in
from .views_verify import current_challenge
from .web import (
    challenge_json,
    client_ip,
    field,
    is_post,
    json_ok,
    locale,
    render,
    state,
    text_field,
    translate,
    wait_seconds,
    wants_json,
)


def register(blueprint: Blueprint) -> None:
    for kind in changes.ADDRESS_FACTORS.values():
        page, factor = kind.page, kind.factor
        blueprint.add_url_rule(f"/{page}", page, _for(add, factor), methods=["GET", "POST"])
        for step, view in (("resend", resend), ("confirm", confirm)):
            rule, endpoint = f"/{page}/{step}", f"{page}_{step}"
            blueprint.add_url_rule(rule, endpoint, _for(view, factor), methods=["POST"])
    for factor, page in changes.REMOVAL_PAGES.items():
        removal = _for(remove, factor)
        methods = ["GET", "POST"]
        blueprint.add_url_rule(f"/{page}/remove", f"{page}_remove", removal, methods=methods)


def _for(view: Callable[[str], Response], factor: str) -> Callable[[], Response]:
    """``view`` for ``factor``: a rule of its own without a URL argument."""

    def bound() -> Response:
        return view(factor)

    bound.__name__ = f"{view.__name__}_{factor}"
    return bound


def _page(kind: AddressKind, subject: str, *, error: OtpgateError | None = None) -> Response:
    shown = error
    challenge = current_challenge(str(session.get(kind.slot, "")), subject)
    if wants_json():
        from .web import json_error

        data = {"challenge": challenge_json(challenge)}
        return json_error(shown, **data) if shown else json_ok(data)
    return render(
        f"otpgate/{kind.page}.html",
        error=shown,
        challenge=challenge,
        wait=wait_seconds(challenge),
        digits=state().settings.code_digits,
    )


def _to_page(kind: AddressKind) -> Response:
    return redirect(url_for(state().endpoint(kind.page)), code=303)


def add(factor: str) -> Response:
    """GET: the address form, or the code form while a code runs. POST: send a code."""
    kind = changes.address_kind(factor)
    if not is_post():  # GET, and HEAD/OPTIONS even with a body: never a send
        subject, _ = signed_in()
        return _page(kind, subject)
    subject, _ = signed_in("change")
    try:
        setup = state().verifier.setup(
            subject,
            kind.factor,
            destination=text_field(kind.field),
            client_ip=client_ip(),
            locale=locale(),
        )
    except OtpgateError as error:
        session.pop(kind.slot, None)
        return _page(kind, subject, error=error)
    challenge = setup.challenge
    session[kind.slot] = challenge.id if challenge is not None else ""
    if wants_json():
        return json_ok({"challenge": challenge_json(challenge)}, 201)
    return _to_page(kind)


def resend(factor: str) -> Response:
    kind = changes.address_kind(factor)
    subject, _ = signed_in("change")
    try:
        challenge = state().verifier.resend(str(session.get(kind.slot, "")), client_ip())
    except OtpgateError as error:
        return _page(kind, subject, error=error)
    if wants_json():
        return json_ok({"challenge": challenge_json(challenge)}, 201)
    return _to_page(kind)


def confirm(factor: str) -> Response:
    kind = changes.address_kind(factor)
    subject, _ = signed_in("change")
    try:
        state().verifier.verify(
            subject,
            kind.factor,
            text_field("code"),
            purpose="enroll",
            challenge_id=str(session.get(kind.slot, "")) or None,
            may_change_factors=True,
        )
    except OtpgateError as error:
        return _page(kind, subject, error=error)
    session.pop(kind.slot, None)
    record_pass(subject, kind.factor)
    return done(translate(changes.added_notice(kind.factor)))


def _chosen(subject: str, factor: str) -> Removable:
    """The item named by ``item`` (the confirmation page's handle: what the page showed,
    even if the list changed since), ``id`` (a passkey's), ``index`` (its place in the list:
    the management page's links) or, for a factor a user has at most one of (the app),
    nothing."""
    gate = state().verifier
    items = changes.removable(gate, subject, factor)
    handle = field("item") if is_post() else request.args.get("item")
    wanted = field("id") if is_post() else request.args.get("id")
    index = field("index") if is_post() else request.args.get("index")
    if handle is not None:
        found = changes.by_handle(gate, subject, items, handle)
    elif isinstance(wanted, str) and wanted:
        found = [item for item in items if item.ref == wanted]
        if not found:
            raise changes.not_found(factor)
    elif index is not None:
        if isinstance(index, str) and index.isascii() and index.isdigit():
            index = int(index)
        ok = isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(items)
        found = [items[index]] if ok and isinstance(index, int) else []
    else:
        found = items if len(items) == 1 and not items[0].ref else []
    if not found:
        raise changes.not_chosen(factor)
    return found[0]


def remove(factor: str) -> Response:
    """GET (or a form POST without the confirmation): the confirmation page; the confirmed
    POST (or a JSON call) removes. All are a change (a fresh second factor first)."""
    subject, factors = signed_in("change")
    item = _chosen(subject, factor)
    agreed = is_post() and (wants_json() or changes.confirmed(field(changes.CONFIRM_FIELD)))
    step = changes.removal_step(
        confirmed=agreed,
        required=False,  # Flask has no per-user requirement to keep a factor
        primary_count=factors.primary_count,
        removes_primary=item.primary,
    )
    if not isinstance(step, str):
        raise step
    if step == "remove":
        changes.remove_factor(state().verifier, subject, item)
        return done(translate(changes.removed_notice(factor)))
    texts = changes.removal_texts(factor)
    return render(
        [f"otpgate/{changes.page_of(factor)}_remove.html", "otpgate/remove.html"],
        item=item,
        handle=changes.handle_of(state().verifier, subject, item),
        title=translate(texts.title),
        explanation=translate(texts.explanation),
        confirm_field=changes.CONFIRM_FIELD,
        passkey={"name": item.shown, "credential_id": item.ref},
        remove_url=url_for(state().endpoint(f"{changes.page_of(factor)}_remove")),
    )
