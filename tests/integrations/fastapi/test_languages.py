"""Accept-Language picks the language of problem titles among every shipped one (issue 15)."""

from __future__ import annotations

import pytest

from otpgate.core.errors import InvalidCode, LoginRequired, ResendCooldown
from otpgate.core.i18n import SHIPPED, gettext

from .conftest import Harness, bearer, wrong_code

ALICE = bearer("alice")


@pytest.mark.parametrize("language", SHIPPED)
async def test_problem_titles_in_every_shipped_language(harness: Harness, language: str):
    header = {"Accept-Language": f"{language}, en;q=0.1"}
    anonymous = await harness.client.get("/otpgate/factors", headers=header)
    assert anonymous.json()["title"] == gettext(LoginRequired.default_message, language)
    await harness.add_phone("alice")
    started = (await harness.client.post("/otpgate/challenges", json={}, headers=ALICE)).json()
    wrong = await harness.client.post(
        f"/otpgate/challenges/{started['id']}/check",
        json={"code": wrong_code(harness)},
        headers={**ALICE, **header},
    )
    assert wrong.json()["title"] == gettext(InvalidCode.default_message, language)
    early = await harness.client.post(
        f"/otpgate/challenges/{started['id']}/resend", headers={**ALICE, **header}
    )
    assert early.status_code == 429 and early.json()["retry_after"] > 0
    assert early.json()["title"] == gettext(ResendCooldown.default_message, language)
    if language != "en":
        assert early.json()["title"] != ResendCooldown.default_message


async def test_regional_tags_and_unknown_languages(harness: Harness):
    async def title(header: str) -> str:
        answer = await harness.client.get("/otpgate/factors", headers={"Accept-Language": header})
        return str(answer.json()["title"])

    assert await title("zh-TW") == "請登入後繼續。"
    assert await title("pt-PT,pt;q=0.9") == "Faça login para continuar."
    assert await title("ar-EG") == "سجّل الدخول للمتابعة."
    assert await title("nl-NL, de;q=0.5") == "Melden Sie sich an, um fortzufahren."
    assert await title("tlh") == "Sign in to continue."
