from tests.integrations.flask.conftest import CSRF, password_login, sms_login


def test_login_with_sms(harness):
    client = harness.client()
    response = password_login(client)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/otp/verify")
    assert client.get("/dashboard").status_code == 302
    page = client.get("/otp/verify")
    assert page.status_code == 200, page.text
    response = sms_login(harness, client)
    assert response.status_code == 303, response.text
    assert client.get("/dashboard").status_code == 200
    assert client.get("/account").status_code == 200
