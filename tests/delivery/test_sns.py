"""Amazon SNS: publish parameters checked by botocore's Stubber, a whole publish through
boto3 against moto, and errors and timeouts mapped to typed, retryable-or-not failures."""

from __future__ import annotations

import time

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from otpgate import AsyncVerifier, ConfigurationError, Settings, Verifier
from otpgate.gateways import AsyncSnsSender, GatewayError, SnsSender
from tests.conftest import KEY
from tests.delivery.servers import Answer, FakeServer

PHONE = "+33612345678"
TEXT = "Acme: your verification code is 493817. It expires in 5 min. Never share it."
REGION = "eu-west-1"


def client(**options):
    return boto3.client(
        "sns",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        **options,
    )


def expected(sender_id="Acme", **more):
    attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
    if sender_id:
        attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender_id}
    for name, value in more.items():
        attributes[name] = {"DataType": "String", "StringValue": value}
    return {"PhoneNumber": PHONE, "Message": TEXT, "MessageAttributes": attributes}


def test_publish_is_transactional_with_the_sender_id():
    sns = client()
    with Stubber(sns) as stub:
        stub.add_response("publish", {"MessageId": "m-1"}, expected())
        assert SnsSender(client=sns, sender_id="Acme").send(PHONE, TEXT) == "m-1"
        stub.assert_no_pending_responses()


def test_an_origination_number_is_passed_along():
    sns = client()
    with Stubber(sns) as stub:
        params = expected(None, **{"AWS.MM.SMS.OriginationNumber": "+18445550100"})
        stub.add_response("publish", {"MessageId": "m-2"}, params)
        sender = SnsSender(client=sns, origination_number="+18445550100")
        assert sender.send(PHONE, TEXT) == "m-2"


@pytest.mark.parametrize(
    ("code", "status", "retryable"),
    [
        ("InvalidParameter", 400, False),
        ("Throttling", 400, True),
        ("AuthorizationError", 403, True),
        ("InternalError", 500, True),
    ],
)
def test_errors_are_typed(code, status, retryable):
    sns = client()
    with Stubber(sns) as stub:
        stub.add_client_error(
            "publish",
            service_error_code=code,
            service_message=f"{PHONE} {TEXT}",
            http_status_code=status,
        )
        with pytest.raises(GatewayError) as caught:
            SnsSender(client=sns).send(PHONE, TEXT)
    assert caught.value.detail == f"HTTP {status}, error {code}"
    assert caught.value.retryable is retryable
    assert "493817" not in repr(caught.value) and PHONE[1:] not in repr(caught.value)


def test_a_whole_publish_through_boto3_and_moto():
    with mock_aws():
        gate = Verifier(
            Settings(secret_keys=(KEY,), brand="Acme"),
            sender=SnsSender(client=client(), sender_id="Acme"),
        )
        gate.start_sms("alice", PHONE, purpose="enroll")
        backend = sns_backends[DEFAULT_ACCOUNT_ID][REGION]
        [(phone, text)] = [tuple(v)[:2] for v in backend.sms_messages.values()]
    assert phone == PHONE
    assert text.startswith("Acme: your verification code is ")


async def test_the_async_sender_runs_boto3_in_a_thread():
    sns = client()
    with Stubber(sns) as stub:
        stub.add_response("publish", {"MessageId": "m-3"}, expected())
        sender = AsyncSnsSender(SnsSender(client=sns, sender_id="Acme"))
        assert await sender.send(PHONE, TEXT) == "m-3"
    with mock_aws():
        gate = AsyncVerifier(
            Settings(secret_keys=(KEY,)), sender=AsyncSnsSender(SnsSender(client=client()))
        )
        await gate.start_sms("bob", PHONE, purpose="enroll")


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def test_a_slow_endpoint_times_out(credentials):
    def slow(request):
        time.sleep(1.0)
        return Answer(200, b"")

    with FakeServer(slow) as server:
        sender = SnsSender(region=REGION, endpoint_url=server.url, timeout=0.3)
        started = time.monotonic()
        with pytest.raises(GatewayError) as caught:
            sender.send(PHONE, TEXT)
    assert time.monotonic() - started < 0.9  # one try, no botocore retries
    assert caught.value.retryable and caught.value.detail == "timeout (ReadTimeoutError)"
    assert len(server.requests) == 1


def test_a_refused_connection_is_retryable(credentials):
    sender = SnsSender(region=REGION, endpoint_url="http://127.0.0.1:9", timeout=0.5)
    with pytest.raises(GatewayError) as caught:
        sender.send(PHONE, TEXT)
    assert caught.value.retryable and caught.value.detail == "EndpointConnectionError"


@pytest.mark.parametrize("sender_id", ["", "TooLongSender1", "123456", "Acme Bank"])
def test_sender_ids_are_validated(sender_id):
    with pytest.raises(ConfigurationError):
        SnsSender(client=client(), sender_id=sender_id)
