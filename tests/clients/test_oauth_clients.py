"""Real clients log in with a bearer token set over REST (`PUT .../mailboxes/{user}` with `bearer_token`):
curl (`--oauth2-bearer`, OAUTHBEARER and XOAUTH2) over POP3 and SMTP, and smtplib's XOAUTH2 including
the error challenge of a wrong token.  Everything runs against a real server on 127.0.0.1, so the token
goes REST -> store -> the tenant's lookup -> the session, and a change is seen at the next login.
"""

from __future__ import annotations

import poplib
import smtplib
from pathlib import Path

import pytest
import trio

from tests.conftest import Seeded, make_tenant, seed, stored
from tests.rest import Rest

from .external import require, run

TOKEN = "ya29.A0ARrdaM-x_y~z+/Q=="
"""Shaped like a Google access token, with every b64token punctuation character."""
CURLE_LOGIN_DENIED = 67
OAUTH_MECHANISMS = ["XOAUTH2", "OAUTHBEARER"]


async def _tenant(rest: Rest, token: str | None = TOKEN) -> Seeded:
    tenant = await make_tenant(rest, "acme", smtp_auth="required", smtp_plaintext_auth=True)
    await _set_token(rest, tenant, token)
    return tenant


async def _set_token(rest: Rest, tenant: Seeded, token: str | None) -> None:
    body = {"password": tenant.password} | ({} if token is None else {"bearer_token": token})
    put = await rest.put(f"/tenants/{tenant.name}/mailboxes/{tenant.user}", body)
    assert put.status == 200, put.body
    assert put.json()["oauth"] is (token is not None)


async def _curl_pop3(tenant: Seeded, token: str, options: list[str]) -> tuple[int, bytes, bytes]:
    url = f"pop3://{tenant.host}:{tenant.port}/1"
    done = await run(
        require("curl"), "-sS", "--max-time", "30", "-u", f"{tenant.user}:", "--oauth2-bearer", token,
        *options, url,
    )  # fmt: skip
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("options", [[], ["--login-options", "AUTH=XOAUTH2"]], ids=["OAUTHBEARER", "XOAUTH2"])
async def test_curl_pop3_with_a_token_set_over_rest(rest: Rest, options: list[str]) -> None:
    tenant = await _tenant(rest)
    await seed(rest, tenant, {"subject": "for a token", "text": "body"})
    code, out, err = await _curl_pop3(tenant, TOKEN, options)
    assert code == 0, err
    assert b"Subject: for a token\r\n" in out and out.endswith(b"\r\n\r\nbody\r\n")
    code, _, err = await _curl_pop3(tenant, "stolen", options)
    assert code == CURLE_LOGIN_DENIED, err
    code, _, err = await _curl_pop3(tenant, tenant.password, options)  # the password is not a token
    assert code == CURLE_LOGIN_DENIED, err


async def test_a_token_changed_or_removed_over_rest_counts_from_the_next_login(rest: Rest) -> None:
    tenant = await _tenant(rest)
    await seed(rest, tenant, {"subject": "s"})
    await _set_token(rest, tenant, "rotated-token")
    assert (await _curl_pop3(tenant, TOKEN, []))[0] == CURLE_LOGIN_DENIED
    assert (await _curl_pop3(tenant, "rotated-token", []))[0] == 0
    await _set_token(rest, tenant, None)  # a PUT without bearer_token removes it
    assert (await _curl_pop3(tenant, "rotated-token", []))[0] == CURLE_LOGIN_DENIED


async def _curl_smtp(tenant: Seeded, token: str, mail: Path) -> tuple[int, bytes]:
    done = await run(
        require("curl"), "-sS", "--max-time", "30", f"smtp://{tenant.host}:{tenant.smtp_port}",
        "-u", f"{tenant.user}:", "--oauth2-bearer", token,
        "--mail-from", "curl@x.test", "--mail-rcpt", f"{tenant.user}@mockmail.test", "-T", str(mail),
    )  # fmt: skip
    return done.returncode, done.stderr


async def test_curl_smtp_with_a_token_set_over_rest(rest: Rest, tmp_path: Path) -> None:
    tenant = await _tenant(rest)
    mail = tmp_path / "mail.txt"
    mail.write_bytes(b"From: curl@x.test\r\nSubject: sent with a token\r\n\r\nline\r\n")
    code, err = await _curl_smtp(tenant, TOKEN, mail)
    assert code == 0, err
    (found,) = await stored(rest, tenant)
    assert found["subject"] == "sent with a token"
    envelope = found["envelope"]
    assert isinstance(envelope, dict) and envelope["auth"] == tenant.user
    code, err = await _curl_smtp(tenant, "stolen", mail)
    assert code == CURLE_LOGIN_DENIED, err
    assert len(await stored(rest, tenant)) == 1


async def test_smtplib_xoauth2_and_the_error_challenge(rest: Rest) -> None:
    tenant = await _tenant(rest)

    def login(token: str) -> tuple[int, bytes] | smtplib.SMTPAuthenticationError:
        with smtplib.SMTP(tenant.host, tenant.smtp_port, timeout=30) as smtp:
            smtp.ehlo("client")
            answers = iter([f"user={tenant.user}\x01auth=Bearer {token}\x01\x01", ""])  # "" ends the error
            try:
                return smtp.auth("XOAUTH2", lambda challenge=None: next(answers))
            except smtplib.SMTPAuthenticationError as exc:
                return exc

    assert await trio.to_thread.run_sync(login, TOKEN) == (235, b"2.7.0 authentication successful")
    failed = await trio.to_thread.run_sync(login, "stolen")
    assert isinstance(failed, smtplib.SMTPAuthenticationError)
    assert (failed.smtp_code, failed.smtp_error) == (535, b"5.7.8 authentication credentials invalid")


async def test_the_mechanisms_are_offered_by_every_tenant_even_without_tokens(rest: Rest) -> None:
    """Like Gmail and Microsoft 365, which always list them: what a client sees does not depend on
    whether some mailbox has a token, and a mailbox without one fails as a wrong token would."""
    tenant = await _tenant(rest, token=None)

    def probe() -> tuple[list[str], str]:
        pop = poplib.POP3(tenant.host, tenant.port, timeout=30)
        sasl = pop.capa()["SASL"]
        pop.quit()
        with smtplib.SMTP(tenant.host, tenant.smtp_port, timeout=30) as smtp:
            smtp.ehlo("client")
            return sasl, smtp.esmtp_features["auth"]

    sasl, auth = await trio.to_thread.run_sync(probe)
    assert sasl[-2:] == OAUTH_MECHANISMS and auth.split()[-2:] == OAUTH_MECHANISMS
    assert (await _curl_pop3(tenant, TOKEN, []))[0] == CURLE_LOGIN_DENIED
