"""The pytest plugin shipped in the package: a site's own test suite gets ``sms_outbox``,
``voice_outbox`` and ``sms_inbox`` without importing anything."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import entry_points

SITE_TESTS = """
from otpgate import DeliveryFailed, Settings, Verifier
import pytest

KEY = "site-test-key-0123456789abcdef"


def test_the_plugin_came_from_its_entry_point(request):
    assert request.config.pluginmanager.get_plugin("otpgate").__name__ == "otpgate.testing"


def test_a_login_code_is_read_from_the_outbox(sms_outbox):
    gate = Verifier(Settings(secret_keys=(KEY,), brand="Site"), sender=sms_outbox)
    challenge = gate.start_sms("alice", "+33612345678", purpose="enroll")
    [message] = sms_outbox.messages
    assert message.to == "+33612345678" and message.reference == f"{challenge.id}~1"
    gate.check(challenge.id, sms_outbox.last_code_for("+33612345678"))


def test_each_test_gets_an_empty_outbox(sms_outbox):
    assert sms_outbox.messages == []
    sms_outbox.failing = DeliveryFailed()
    gate = Verifier(Settings(secret_keys=(KEY,)), sender=sms_outbox)
    with pytest.raises(DeliveryFailed):
        gate.start_sms("bob", "+33612345678", purpose="enroll")


def test_a_code_read_out_by_phone_is_read_from_the_voice_outbox(voice_outbox):
    gate = Verifier(Settings(secret_keys=(KEY,)), voice_sender=voice_outbox)
    gate.credentials.add_phone("alice", "+33612345678")
    challenge = gate.start("alice", "voice", purpose="login")
    code = voice_outbox.last_code_for("+33612345678")
    assert gate.verify("alice", "voice", code, purpose="login", challenge_id=challenge.id)


def test_the_inbox_fixture_is_a_sqlite_file(sms_inbox, tmp_path):
    sms_inbox.send("+33612345678", "Site: your verification code is 123456.")
    assert sms_inbox.path.parent == tmp_path
    assert sms_inbox.last_code_for("+33612345678") == "123456"
"""


def test_the_plugin_is_registered_for_pytest():
    plugins = {e.name: e.value for e in entry_points(group="pytest11")}
    assert plugins.get("otpgate") == "otpgate.testing", "reinstall otpgate: pip install -e ."


def test_a_sites_test_suite_gets_the_fixtures(tmp_path):
    (tmp_path / "test_site.py").write_text(textwrap.dedent(SITE_TESTS))
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:hypothesispytest",
    ]
    command.append(str(tmp_path))
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


def test_the_fixtures_are_documented():
    import otpgate.testing

    assert "sms_outbox" in otpgate.testing.__doc__ and "last_code_for" in otpgate.testing.__doc__
    assert "sms_inbox" in otpgate.testing.__doc__
    assert "voice_outbox" in otpgate.testing.__doc__
