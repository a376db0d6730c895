"""``FactorGate``: the factor model's entry points on the synchronous ``Verifier``.

``offer``, ``start``, ``verify``, ``preferred_factor`` and ``set_preferred_factor`` read the
subject's factors, let the pure code in ``selection.py`` decide, and hand the work to the
chosen factor. ``agate.py`` is this file with ``await``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from .. import state_write
from ..engine import BaseVerifier
from ..errors import ConfigurationError, FactorNotAllowed
from ..state_write import ThenPut
from . import reads, selection
from .base import CheckRequest, FactorOption, StartRequest, available
from .registry import FactorRegistry
from .setup import FactorSetup, SetupRequest

if TYPE_CHECKING:
    from ..challenge import Challenge, Verification
    from ..verifier import Verifier


def _no_preferences(credentials: object) -> ConfigurationError:
    return ConfigurationError(
        "credentials", f"{type(credentials).__name__} cannot store a preferred factor"
    )


class FactorGate(BaseVerifier):
    """Every factor through one API (mixed into ``Verifier``)."""

    registry: FactorRegistry

    def offer(self, subject: str, purpose: str) -> list[FactorOption]:
        """The factors ``subject`` may use for ``purpose``, the preferred one first, each with
        what a page or an API needs to render it. Empty: the subject has no suitable factor
        (a page then links to enrollment). For ``enroll``: the factors that can be added."""
        gate = cast("Verifier", self)
        subject, purpose = self._subject(subject), selection.check_purpose(purpose)
        snapshot = gate.factors(subject)
        stored = self._stored_preference(subject)
        return selection.options(
            selection.usable(self.registry, self), snapshot, purpose, stored, self.settings
        )

    def start(
        self,
        subject: str,
        factor: str,
        *,
        purpose: str,
        context: Mapping[str, Any] | None = None,
        action: str | None = None,
        client_ip: str | None = None,
        locale: str | None = None,
        summary: str | None = None,
        destination: str | None = None,
    ) -> Challenge | None:
        """Start ``factor`` for ``purpose``: a :class:`Challenge` if it delivered something
        (SMS), None if it has nothing to send (an app). ``destination``: where to deliver
        for a factor being added (``enroll``: the phone number typed).

        Raises UnknownFactor, FactorNotAllowed, FactorNotEnrolled, and the factor's own
        errors (for SMS those of :meth:`Verifier.start_sms`).
        """
        gate = cast("Verifier", self)
        subject, purpose = self._subject(subject), selection.check_purpose(purpose)
        self.registry.get(factor)
        chosen = selection.choose(
            selection.usable(self.registry, self),
            factor,
            purpose,
            gate.factors(subject),
            self.settings,
        )
        request = StartRequest(purpose, context, action, client_ip, locale, summary, destination)
        return chosen.start(gate, subject, request)

    def verify(
        self,
        subject: str,
        factor: str,
        code: str,
        *,
        purpose: str,
        challenge_id: str | None = None,
        context: Mapping[str, Any] | None = None,
        action: str | None = None,
        may_change_factors: bool = True,
        then_put: ThenPut | None = None,
    ) -> Verification:
        """Check ``code`` with ``factor`` for ``purpose``: the one check integrations call.

        ``challenge_id`` names what :meth:`start` returned (SMS); a challenge started for
        another purpose is refused as expired. ``context`` and ``action``: the details and
        operation of a transaction, as when it was started. ``may_change_factors``: see
        :meth:`Verifier.check`; for ``enroll`` it applies to every factor.
        ``then_put``: builds the store write (``put_state``) recording the verification (see
        ``otpgate.core.state_write``): when this returns, that write is done (in the check's
        own store step where it can be, else right after); when this raises, it is not (a
        state the check may have written is forgotten: the window left is in state_write).
        Raises UnknownFactor, FactorNotAllowed, FactorNotEnrolled and the check's errors.
        """
        gate = cast("Verifier", self)
        subject, purpose = self._subject(subject), selection.check_purpose(purpose)
        named = self.registry.get(factor)
        request = CheckRequest(purpose, challenge_id, context, action, may_change_factors)
        fold = state_write.begin(gate, subject, purpose, named.name, then_put)
        token = state_write.offer(fold)  # always: a nested verify never sees an outer fold
        try:
            # only what the check needs is read, and once (``reads.py``)
            with reads.reading(gate, subject, named, purpose) as snapshot:
                usable = selection.usable(self.registry, self)
                chosen = selection.choose(usable, factor, purpose, snapshot, self.settings)
                state_write.trust(fold, chosen, "check")
                verification = chosen.check(gate, subject, code, request)
        except BaseException:
            burn = fold.burn() if fold is not None else None
            if burn is not None:  # the state may be written: forget it (fail closed)
                try:
                    gate.store.put_state(burn.key, burn.value, burn.ttl)
                except BaseException as error:  # the verify's own error is raised
                    state_write.burn_failed(error)
            raise
        finally:
            state_write.withdraw(token, fold)
        write = state_write.left(fold, then_put, verification)
        if write is not None:
            gate.store.put_state(write.key, write.value, write.ttl)
        return verification

    def setup(
        self,
        subject: str,
        factor: str,
        *,
        label: str | None = None,
        destination: str | None = None,
        client_ip: str | None = None,
        locale: str | None = None,
        name: str | None = None,
    ) -> FactorSetup:
        """Start adding ``factor`` for ``subject``: a code sent to ``destination`` (SMS), an
        app's secret to scan (``label`` names the account in the app), new recovery codes, or a
        passkey's creation options (``name``: the user's name for it).
        The caller decides first that this session may change factors (``manage_error``).
        Raises UnknownFactor, FactorNotAllowed, and the factor's own errors."""
        gate = cast("Verifier", self)
        subject = self._subject(subject)
        chosen = self.registry.get(factor)
        if not available(chosen, self.settings):
            raise FactorNotAllowed()
        own = getattr(chosen, "setup", None)
        if own is not None:
            request = SetupRequest(label, destination, client_ip, locale, name)
            setup: FactorSetup = own(gate, subject, request)
            return setup
        challenge = self.start(
            subject,
            chosen.name,
            purpose="enroll",
            client_ip=client_ip,
            locale=locale,
            destination=destination,
        )
        return FactorSetup(chosen.name, needs_proof=True, challenge=challenge)

    def preferred_factor(self, subject: str) -> str | None:
        """The factor ``subject``'s second step opens on: their stored choice while they
        still have it, else the strongest they have (app before SMS); None if they have none."""
        gate = cast("Verifier", self)
        subject = self._subject(subject)
        snapshot = gate.factors(subject)
        found = selection.preferred(
            selection.usable(self.registry, self), snapshot, self._stored_preference(subject)
        )
        return found.name if found is not None else None

    def set_preferred_factor(self, subject: str, name: str | None) -> None:
        """Store ``name`` as ``subject``'s preferred factor (None: back to the strongest).
        FactorNotEnrolled if they do not have it, UnknownFactor if there is no such factor."""
        gate = cast("Verifier", self)
        subject = self._subject(subject)
        if name is not None:
            self.registry.get(name)
        choice = selection.preference(self.registry, name, gate.factors(subject))
        writer = getattr(gate.credentials, "set_preferred_factor", None)
        if writer is None:
            raise _no_preferences(gate.credentials)
        writer(subject, choice)

    def _stored_preference(self, subject: str) -> str | None:
        reader = getattr(cast("Verifier", self).credentials, "preferred_factor", None)
        if reader is None:  # a repository written before preferences existed
            return None
        stored = reader(subject)
        return stored if isinstance(stored, str) else None
