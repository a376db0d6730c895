"""System check otpgate.W008: a site's copy of otpgate/recovery.html from an older version
(no one-time token in its form) is reported, since its button would make no new codes."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.test import override_settings

from otpgate.integrations.django.layout import check_recovery_template

OWN = Path(__file__).resolve().parents[3] / (
    "src/otpgate/integrations/django/templates/otpgate/recovery.html"
)


def copied(tmp_path: Path, text: str) -> override_settings:
    (tmp_path / "otpgate").mkdir(exist_ok=True)
    (tmp_path / "otpgate" / "recovery.html").write_text(text)
    return override_settings(TEMPLATES=[{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}])


def test_otpgate_s_own_page_and_a_current_copy_pass(tmp_path):
    assert check_recovery_template() == []
    with copied(tmp_path, OWN.read_text().replace("Recovery codes", "Backup codes")):
        assert check_recovery_template() == []


def test_a_copy_without_the_token_is_reported(tmp_path):
    old = OWN.read_text().replace('<input type="hidden" name="once" value="{{ once }}">', "")
    assert 'name="once"' not in old
    with copied(tmp_path, old):
        [warning] = check_recovery_template()
    assert warning.id == "otpgate.W008" and "one-time token" in warning.msg
    assert 'name="once"' in warning.hint
