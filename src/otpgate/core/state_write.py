"""A state write that rides on an approving check: ``then_put``.

An API integration records, after a right code, that the token passed (a sealed
:class:`~otpgate.core.web.SecondFactorState` under a keyed digest: ``put_state``). Done after
the check, that is a second store round trip per verify. Instead ``gate.verify(...,
then_put=...)`` builds the write right before the store call that checks the code and hands it
to that call (``settle_attempt`` for an app code, ``check_code`` for a sent code): the store
applies it in the same atomic step, *only when that step approves*. A Redis store does both in
one script, one round trip.

It is folded only where the store's approval is final: an app code checked for a sign-in, a
step-up or a transaction, and a sent code checked for one of those (never ``enroll``, whose
approval is followed by writes of the factors that may fail or refuse; never a recovery code,
which is used up after the approval and may lose that race). Everywhere else, and with a store
that cannot fold (a Redis Cluster: the state and the subject's keys lie in different slots; a
store of a plugin that does not declare ``folds_state_writes``), ``verify`` writes the state
itself right after an approval, as before. Nor is it folded when the approval may still be
refused by code around the store call: a ``Verifier`` subclass overriding ``check`` or
``check_totp``, a factor whose ``check`` is overridden or replaced on the instance (only
:func:`final_check` methods, called as they are, take it). The write is built, and the clock
read, right before the store call (:func:`claim`), after the verify's reads. A fold lives only
while its verify runs, and only its own check takes it: the first check of the verify's gate
and subject to reach :func:`claim` takes it or not, then it is closed, as it is by
:func:`withdraw`, for every context that copied it (a task spawned during the verify); a
verify without a ``then_put`` hides an outer one's.

Either way: when ``verify`` returns, the state is written; when it raises, it was not, with
one window. A store call that carried the write and approved, or never answered (a lost
reply, a timeout, a cancelled await: the script may have run), leaves the state written; a
``verify`` that then raises forgets it (``put_state(key, "", 0)``, fail closed: the token
must pass again) before raising. The Redis store retries a broken connection once (a dead
pooled connection must not fail a sign-in); a retried call that does not approve may follow a
first run that approved and wrote, so the store forgets the state before answering
(``once.py``). The window left: that forgetting fails as well (it is logged; the state stays
until its TTL), a script whose reply timed out runs on the server after the forgetting (it
was sent first, on another connection), or a Redis client built by the caller with its own
retry policy runs a folded script twice unnoticed.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import weakref
from collections.abc import Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any, TypeVar

from .adapters import AwaitableFacade
from .challenge import Verification

logger = logging.getLogger("otpgate")


@dataclass(frozen=True)
class StateWrite:
    """``put_state(key, value, ttl)``, to apply when (and only when) a check approves."""

    key: str
    value: str
    ttl: int


#: What ``verify(then_put=...)`` takes: the write recording ``verification``. It must read
#: only the verification's ``subject``, ``purpose``, ``factor`` and ``verified_at``: the write
#: is built from the predicted verification before the check (and built again from the real
#: one if those differ).
ThenPut = Callable[[Verification], StateWrite]


def folds_into(store: object) -> bool:
    """True if ``store`` applies a ``then_put`` in its checks: it declares
    ``folds_state_writes = True`` and its ``check_code`` and ``settle_attempt`` take a
    ``then_put`` (a wrapper that hands other attributes to a store that folds may declare it
    by accident). The facade over a synchronous store is looked through."""
    target = store._target if isinstance(store, AwaitableFacade) else store
    if getattr(target, "folds_state_writes", False) is not True:
        return False
    try:
        return _SIGNED[target]
    except (KeyError, TypeError):
        pass
    signed = all(
        _takes_then_put(getattr(target, name)) for name in ("check_code", "settle_attempt")
    )
    with contextlib.suppress(TypeError):  # a store that cannot be weakly referenced
        _SIGNED[target] = signed
    return signed


def _takes_then_put(method: Callable[..., object]) -> bool:
    """``method`` takes ``then_put`` by name (or any keyword: a wrapper passing them on)."""
    parameters = inspect.signature(method).parameters
    return "then_put" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


#: Per store, whether its checks take ``then_put`` (read once).
_SIGNED: weakref.WeakKeyDictionary[object, bool] = weakref.WeakKeyDictionary()


class Fold:
    """The write a running ``verify`` offers to the check (see :func:`claim`): built from the
    verification it predicts (``subject``, ``purpose``, the factor asked for, and the time the
    check is made) only when a check takes it."""

    __slots__ = (
        "approved",
        "closed",
        "factor",
        "gate",
        "predicted",
        "purpose",
        "subject",
        "then_put",
        "trusted",
        "write",
    )

    def __init__(
        self, gate: object, subject: str, purpose: str, factor: str, then_put: ThenPut
    ) -> None:
        self.gate, self.then_put = gate, then_put
        self.subject, self.purpose, self.factor = subject, purpose, factor
        #: The chosen factor's check is a built-in one whose store approval is final
        #: (:func:`final_check`): a plugin factor may refuse after a check it calls.
        self.trusted = False
        #: A check reached its claim point (:func:`claim`), or its verify ended
        #: (:func:`withdraw`): no check takes it any more, even in a task or thread that
        #: copied the verify's context.
        self.closed = False
        #: The verification predicted when a check took the write (dated then: the check
        #: decides at that time, after the verify's reads).
        self.predicted: Verification | None = None
        #: The write a store call took (applied if that call approved); None: none took it.
        self.write: StateWrite | None = None
        #: The answer of the store call that took the write: True approved (the state is
        #: written), False refused (it is not), None no answer (it may be written).
        self.approved: bool | None = None

    @property
    def now(self) -> float:
        """The time the check decides at, and the verification's ``verified_at``."""
        assert self.predicted is not None, "read once a check took the write"
        return self.predicted.verified_at

    def left(self, verification: Verification) -> StateWrite | None:
        """What the verifier still writes after ``verification`` was approved: nothing if the
        check applied the write of that very verification; else the write of ``verification``
        (none was folded, or the approval differs from the prediction, e.g. another factor)."""
        predicted = self.predicted
        if (
            self.write is not None
            and predicted is not None
            and self.approved is True
            and verification.verified_at == predicted.verified_at
            and verification.factor == predicted.factor
            and verification.subject == predicted.subject
            and verification.purpose == predicted.purpose
        ):
            return None
        return self.then_put(verification)

    def burn(self) -> StateWrite | None:
        """The write that forgets the state when the verify raises after a store call took
        the write and approved, or did not answer (a lost reply, a cancellation): the state
        may be written although the verify refuses. None: nothing to undo."""
        if self.write is None or self.approved is False:
            return None
        return StateWrite(self.write.key, "", 0)


_FINAL: set[object] = set()

F = TypeVar("F", bound=Callable[..., Any])


def final_check(method: F) -> F:
    """Mark a built-in ``check``/``acheck`` (of a factor, or the verifier's ``check`` and
    ``check_totp``) as one that raises nothing after its store call approved (so the write
    may ride on that call)."""
    _FINAL.add(method)
    return method


def _is_final(owner: object, method: str) -> bool:
    """``owner.method`` (as called: an instance attribute or a subclass's override counts)
    is a :func:`final_check` one."""
    bound = getattr(owner, method, None)
    return getattr(bound, "__func__", None) in _FINAL


def trust(fold: Fold | None, factor: object, method: str) -> None:
    """Let ``fold`` be claimed if ``factor``'s ``method`` (``check`` or ``acheck``) is a
    :func:`final_check` one (not overridden by a subclass, nor replaced on the instance)."""
    if fold is not None:
        fold.trusted = _is_final(factor, method)


_FOLD: ContextVar[Fold | None] = ContextVar("otpgate_fold", default=None)


def offer(fold: Fold | None) -> Token[Fold | None]:
    """Make ``fold`` the running verify's (None: a verify without one, so that the checks
    it runs never see an outer verify's). The token resets it: :func:`withdraw`."""
    return _FOLD.set(fold)


def withdraw(token: Token[Fold | None], fold: Fold | None) -> None:
    """End the verify's ``fold``: closed for every context holding it (a task spawned
    during the verify copied it), and the outer value back."""
    if fold is not None:
        fold.closed, fold.trusted = True, False
    _FOLD.reset(token)


def claim(gate: object, subject: str, method: str, wanted: bool = True) -> Fold | None:
    """The running verify's fold, if it is ``gate``'s for ``subject``, open, ``wanted`` (the
    caller's approval is final), ``gate``'s ``method`` (``check`` or ``check_totp``, the
    caller) is the built-in one (a subclass may refuse after it approved), and ``gate``'s
    store can fold it: its verification predicted now (``gate.clock()``, read right before
    the store call) and its ``write`` built (the caller passes it to the store call, which
    checks at ``fold.now``). None otherwise: the verifier writes after an approval.

    The first check of ``gate`` for ``subject`` to get here (the verify's own) takes it or
    not; either way the fold is closed: no later check (of a task the verify spawned) can."""
    fold = _FOLD.get()
    if fold is None or fold.closed or fold.gate is not gate or fold.subject != subject:
        return None
    fold.closed = True  # one claim point per verify: its own check's store call
    if not wanted or not fold.trusted or not _is_final(gate, method):
        return None
    if not folds_into(getattr(gate, "store", None)):
        return None
    now: float = gate.clock()  # type: ignore[attr-defined]
    fold.predicted = Verification(subject, fold.purpose, fold.factor, now)
    fold.write = fold.then_put(fold.predicted)
    return fold


def claim_check(gate: object, subject: str | None, expected: str) -> Fold | None:
    """:func:`claim` for a sent code's check (``Verifier.check`` and its async twin) whose
    expected purpose is ``expected``: wanted only where an approval is final, not for a
    check of no purpose nor for ``enroll`` (an approval may still be refused or followed by
    writes that may fail); None without a subject."""
    if not subject:
        return None
    return claim(gate, subject, "check", expected not in ("", "enroll"))


def store_keywords(fold: Fold | None) -> dict[str, StateWrite]:
    """The keyword a store's check takes a claimed fold's write by (``then_put``), or none:
    a store is handed the write only when a fold was claimed for it."""
    return {} if fold is None or fold.write is None else {"then_put": fold.write}


def answered(fold: Fold | None, approved: bool) -> None:
    """Note the answer of the store call that carried ``fold``'s write (:meth:`Fold.burn`)."""
    if fold is not None:
        fold.approved = approved


def begin(
    gate: object, subject: str, purpose: str, factor: str, then_put: ThenPut | None
) -> Fold | None:
    """The fold of a verify of ``factor`` for ``purpose``; None without a ``then_put`` or
    with a store that cannot fold."""
    if then_put is None or not folds_into(getattr(gate, "store", None)):
        return None
    return Fold(gate, subject, purpose, factor, then_put)


def burn_failed(error: BaseException) -> None:
    """Log a burn (:meth:`Fold.burn`) that failed; the verify's own error is raised."""
    logger.error(
        "otpgate: could not forget a state written by a check whose verify raised: %s",
        type(error).__name__,
    )


def left(
    fold: Fold | None, then_put: ThenPut | None, verification: Verification
) -> StateWrite | None:
    """The write the verifier still does after ``verification`` (see :meth:`Fold.left`)."""
    if then_put is None:
        return None
    return fold.left(verification) if fold is not None else then_put(verification)
