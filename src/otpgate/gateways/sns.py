"""Amazon SNS: ``publish`` straight to a phone number, as a transactional SMS.

``SnsSender`` calls boto3's ``publish(PhoneNumber=..., Message=..., MessageAttributes=...)``
with ``AWS.SNS.SMS.SMSType = Transactional`` (routes for time-critical messages) and, when
given, ``AWS.SNS.SMS.SenderID`` and ``AWS.MM.SMS.OriginationNumber``. The client it makes
tries once with a 5 s connect and read timeout; failover is the chain's job.
``AsyncSnsSender`` runs it in a worker thread. SNS reports delivery to CloudWatch Logs,
not per message, so there are no receipts to hand to ``delivery_report``.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

try:
    import boto3  # type: ignore[import-untyped, import-not-found, unused-ignore]
    from botocore.config import (  # type: ignore[import-untyped, import-not-found, unused-ignore]
        Config,
    )
    from botocore.exceptions import (  # type: ignore[import-untyped, import-not-found, unused-ignore]
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        ReadTimeoutError,
    )
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError('otpgate\'s SNS gateway needs boto3: pip install "otpgate[sns]"') from exc

from otpgate.core.errors import ConfigurationError

from .base import DEFAULT_TIMEOUT, GatewayError, log_failed, log_sent

#: Error codes that refuse the number or the message itself.
FINAL_ERRORS = frozenset({"InvalidParameter", "InvalidParameterValue", "ValidationError"})
_SENDER_ID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9-]{1,11}")
_SMS_TYPES = frozenset({"Transactional", "Promotional"})


class SnsSender:
    """A :class:`~otpgate.core.senders.Sender` that publishes SMS through Amazon SNS.

    Pass ``client`` (a boto3 SNS client) or let the sender make one for ``region``
    (``endpoint_url`` points it elsewhere, e.g. at a local test double).
    """

    name = "sns"

    def __init__(
        self,
        *,
        client: Any = None,
        region: str | None = None,
        sender_id: str | None = None,
        origination_number: str | None = None,
        sms_type: str = "Transactional",
        timeout: float = DEFAULT_TIMEOUT,
        endpoint_url: str | None = None,
    ) -> None:
        if sender_id is not None and not _SENDER_ID.fullmatch(sender_id):
            raise ConfigurationError(
                "sns sender_id", "1 to 11 letters, digits or hyphens, with at least one letter"
            )
        if sms_type not in _SMS_TYPES:
            raise ConfigurationError("sns sms_type", "Transactional or Promotional")
        self.sender_id = sender_id
        self.origination_number = origination_number
        self.sms_type = sms_type
        self.timeout = timeout
        if client is None:
            config = Config(
                connect_timeout=timeout,
                read_timeout=timeout,
                retries={"mode": "standard", "total_max_attempts": 1},
            )
            client = boto3.client(
                "sns", region_name=region, endpoint_url=endpoint_url, config=config
            )
        self.client = client

    def publish_parameters(self, to: str, text: str) -> dict[str, Any]:
        """The keyword arguments of ``publish`` for this message."""
        attributes = {"AWS.SNS.SMS.SMSType": _string(self.sms_type)}
        if self.sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = _string(self.sender_id)
        if self.origination_number:
            attributes["AWS.MM.SMS.OriginationNumber"] = _string(self.origination_number)
        return {"PhoneNumber": to, "Message": text, "MessageAttributes": attributes}

    def send(self, to: str, text: str, *, reference: str = "") -> str:
        """Publish ``text`` to ``to``; SNS's MessageId, or a :class:`GatewayError`."""
        try:
            answer = self.client.publish(**self.publish_parameters(to, text))
        except ClientError as error:
            failure = _client_failure(error)
        except (ConnectTimeoutError, ReadTimeoutError) as error:
            failure = GatewayError(self.name, f"timeout ({type(error).__name__})", retryable=True)
        except BotoCoreError as error:
            failure = GatewayError(self.name, f"{type(error).__name__}", retryable=True)
        else:
            message_id = answer.get("MessageId") if isinstance(answer, dict) else None
            if isinstance(message_id, str) and message_id:
                log_sent(self.name, to, message_id, text)
                return message_id
            failure = GatewayError(self.name, "no MessageId", retryable=True)
        log_failed(failure, to)
        raise failure from None

    def __repr__(self) -> str:
        return f"SnsSender(sender_id={self.sender_id!r}, sms_type={self.sms_type!r})"


class AsyncSnsSender:
    """An :class:`~otpgate.core.senders.AsyncSender` over a :class:`SnsSender`, whose
    blocking boto3 call runs in a worker thread (``asyncio.to_thread``)."""

    name = "sns"

    def __init__(self, sender: SnsSender) -> None:
        self.sender = sender

    async def send(self, to: str, text: str, *, reference: str = "") -> str:
        """Publish ``text`` to ``to`` without blocking the event loop."""
        return await asyncio.to_thread(self.sender.send, to, text, reference=reference)


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def _client_failure(error: Any) -> GatewayError:
    response = getattr(error, "response", {}) or {}
    code = str(response.get("Error", {}).get("Code", "unknown"))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return GatewayError("sns", f"HTTP {status}, error {code}", retryable=code not in FINAL_ERRORS)
