"""otpgate for Django REST framework: step-up permissions, transaction confirmation, and the
endpoints a token client passes its second factor through.

    from otpgate.integrations.django.drf import (
        FreshSecondFactor, SecondFactorPassed, confirm_transaction,
    )

    class Profile(APIView):
        permission_classes = [IsAuthenticated, SecondFactorPassed]

    class Payout(APIView):
        permission_classes = [IsAuthenticated, FreshSecondFactor(max_age=60)]

    class Transfer(APIView):
        @confirm_transaction(lambda request: {"amount": request.data["amount"]})
        def post(self, request): ...

    REST_FRAMEWORK = {"EXCEPTION_HANDLER": "otpgate.integrations.django.drf.exception_handler"}
    urlpatterns += [path("api/2fa/", include("otpgate.integrations.django.drf.urls"))]

Refusals are otpgate's RFC 9457 problem bodies (``application/problem+json``) with RFC 9470
``WWW-Authenticate`` challenges, as in the FastAPI integration. Session-authenticated clients
use the session's second-factor state; token-authenticated ones (``TokenAuthentication``,
JWT, any authenticator) a state kept per token in otpgate's store (the core's
``token_state``), which the ``verify`` endpoint sets.
"""

from __future__ import annotations

try:
    import rest_framework  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        "otpgate.integrations.django.drf needs Django REST framework; install it with: "
        'pip install "otpgate[drf]"'
    ) from error

from otpgate.core.answers import VerifiedTransaction

from .permissions import (
    FreshSecondFactor,
    OtpgateAPIException,
    OtpgateExceptionHandlerMixin,
    SecondFactorPassed,
    exception_handler,
)
from .transactions import confirm_transaction

__all__ = [
    "FreshSecondFactor",
    "OtpgateAPIException",
    "OtpgateExceptionHandlerMixin",
    "SecondFactorPassed",
    "VerifiedTransaction",
    "confirm_transaction",
    "exception_handler",
]
