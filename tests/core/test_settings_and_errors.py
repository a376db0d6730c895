"""Settings validation, the error-to-HTTP mapping, and keys."""

from __future__ import annotations

import logging

import pytest

from otpgate import (
    ConfigurationError,
    InvalidCode,
    LockedOut,
    RateLimit,
    ResendCooldown,
    Settings,
    StorageUnavailable,
    Verifier,
    error_response,
    generate_secret_key,
)
from otpgate.core.crypto import DecryptionError, Keyring
from tests.conftest import KEY


class TestSettings:
    def test_defaults_follow_the_design(self):
        s = Settings()
        assert (s.code_digits, s.code_lifetime, s.max_attempts) == (6, 300, 5)
        assert (s.resend_cooldown, s.max_sends) == (30, 5)
        assert s.phone_budget_short == RateLimit(5, 900)
        assert s.phone_budget_long == RateLimit(10, 86400)
        assert s.subject_budget == RateLimit(10, 86400)
        assert s.ip_budget == RateLimit(20, 3600)
        assert (s.lockout_after, s.lockout_base, s.lockout_max, s.hard_lock_after) == (
            5,
            60,
            900,
            50,
        )
        assert (s.totp_algorithm, s.totp_digits, s.totp_period, s.totp_window) == (
            "SHA1",
            6,
            30,
            1,
        )
        assert s.recovery_code_count == 10 and s.step_up_max_age == 300
        assert s.remember_device is False and s.remember_device_days == 30

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("code_digits", 5),
            ("code_digits", 11),
            ("code_lifetime", 601),
            ("hard_lock_after", 101),
            ("totp_secret_bytes", 19),
            ("totp_algorithm", "MD5"),
            ("allowed_number_types", {"PREMIUM"}),
            ("allowed_regions", {"France"}),
            ("secret_keys", ("short",)),
            ("ip_budget", "lots"),
            ("country_caps", {"44": -1}),
            ("code_digits", True),
            ("webotp_domain", "https://shop.example/"),
            ("webotp_domain", "shop.example:443"),
        ],
    )
    def test_bad_values_name_the_setting(self, name, value):
        with pytest.raises(ConfigurationError) as caught:
            Settings(**{name: value})
        assert caught.value.setting == name
        assert name in str(caught.value)

    def test_from_mapping_reads_flat_prefixed_text(self):
        s = Settings.from_mapping(
            {
                "OTPGATE_CODE_DIGITS": "8",
                "OTPGATE_IP_BUDGET": "30/1h",
                "OTPGATE_COUNTRY_CAPS": "44=5000, +1=20000",
                "OTPGATE_ALLOWED_REGIONS": "gb, de",
                "OTPGATE_SECRET_KEYS": f"{KEY},{KEY}x",
                "OTPGATE_REMEMBER_DEVICE": "yes",
                "DEBUG": True,
            }
        )
        assert s.code_digits == 8
        assert s.ip_budget == RateLimit(30, 3600)
        assert s.country_caps == {"44": 5000, "1": 20000}
        assert s.allowed_regions == {"GB", "DE"}
        assert s.secret_keys == (KEY, KEY + "x")
        assert s.remember_device is True

    def test_from_mapping_refuses_unknown_and_malformed_keys(self):
        with pytest.raises(ConfigurationError, match="OTPGATE_CODE_DIGTS"):
            Settings.from_mapping({"OTPGATE_CODE_DIGTS": "8"})
        with pytest.raises(ConfigurationError, match="OTPGATE_CODE_DIGITS"):
            Settings.from_mapping({"OTPGATE_CODE_DIGITS": "eight"})

    def test_keys_never_show_in_repr(self):
        assert KEY not in repr(Settings(secret_keys=(KEY,)))

    def test_a_verifier_needs_a_key(self):
        with pytest.raises(ConfigurationError, match="keygen"):
            Verifier(Settings())


class TestErrorResponses:
    def test_rate_limits_answer_429_with_retry_after(self):
        response = error_response(ResendCooldown(retry_after=29.2))
        assert response.status == 429
        assert response.headers["Retry-After"] == "30"
        assert response.body["code"] == "resend_cooldown"
        assert response.body["retry_after"] == 30

    def test_a_hard_lock_answers_423_without_retry_after(self):
        response = error_response(LockedOut(retry_after=None))
        assert response.status == 423
        assert "Retry-After" not in response.headers

    def test_problem_details_shape(self):
        response = error_response(InvalidCode(attempts_left=3))
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.body == {
            "type": "https://otpgate.dev/errors/invalid_code",
            "title": "That code is not correct.",
            "status": 400,
            "code": "invalid_code",
            "attempts_left": 3,
        }

    def test_backend_errors_are_503(self):
        assert error_response(StorageUnavailable()).status == 503


class TestKeyring:
    def test_rotation_keeps_old_values_readable(self):
        old = Keyring([KEY])
        sealed = old.seal("JBSWY3DPEHPK3PXP", context="alice")
        digest = old.digest("recovery", "alice", "CODE")
        new_key = generate_secret_key()
        rotated = Keyring([new_key, KEY])
        assert rotated.open(sealed, context="alice") == "JBSWY3DPEHPK3PXP"
        assert rotated.needs_rotation(sealed)
        resealed = rotated.rotate(sealed, context="alice")
        assert not rotated.needs_rotation(resealed)
        assert Keyring([new_key]).open(resealed, context="alice") == "JBSWY3DPEHPK3PXP"
        assert digest in rotated.digests("recovery", "alice", "CODE")
        assert digest != rotated.digest("recovery", "alice", "CODE")

    def test_tampering_and_foreign_context_are_refused(self):
        keys = Keyring([KEY])
        sealed = keys.seal("secret", context="alice")
        with pytest.raises(DecryptionError):
            keys.open(sealed, context="bob")
        with pytest.raises(DecryptionError):
            keys.open(
                sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1], context="alice"
            )
        with pytest.raises(DecryptionError):
            Keyring([generate_secret_key()]).open(sealed, context="alice")


def test_nothing_secret_reaches_the_log(caplog, outbox):
    caplog.set_level(logging.DEBUG)
    gate = Verifier(Settings(secret_keys=(KEY,)), sender=outbox)

    def boom(event):
        raise RuntimeError("listener bug")

    gate.subscribe(boom)
    challenge = gate.start_sms("alice", "+33612345678", purpose="enroll")
    code = outbox.last_code_for("+33612345678")
    gate.check(challenge.id, code)
    assert "listener bug" in caplog.text
    assert code not in caplog.text and "+33612345678" not in caplog.text


class TestAuthenticationAnswers:
    def test_step_up_answers_rfc_9470(self):
        from otpgate import FreshOtpRequired

        response = error_response(FreshOtpRequired(max_age=300))
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith(
            'Bearer error="insufficient_user_authentication"'
        )
        assert response.headers["WWW-Authenticate"].endswith('max_age="300"')
        assert response.body["max_age"] == 300

    def test_a_transaction_names_its_challenge(self, outbox):
        from otpgate import ConfirmationRequired

        gate = Verifier(Settings(secret_keys=(KEY,)), sender=outbox)
        challenge = gate.start_sms("alice", "+33612345678", purpose="enroll")
        response = error_response(
            ConfirmationRequired(challenge=challenge), now=challenge.expires_at - 100
        )
        assert response.headers["OTP-Challenge"] == challenge.id
        assert response.body["challenge_id"] == challenge.id
        assert response.body["challenge"]["expires_in"] == 100
        assert "+33612345678" not in repr(response)

    def test_sign_in_answers_a_plain_bearer_challenge(self):
        from otpgate import LoginRequired

        assert error_response(LoginRequired()).headers["WWW-Authenticate"] == "Bearer"
