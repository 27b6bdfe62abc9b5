"""The web page in a real headless browser (Debian's chromium through Selenium), as a person uses it:
give the token, create a tenant, watch SMTP mail arrive without a reload, read it, set `mailpit-legacy`,
and see Ruby's Net::POP3 QUIT go unanswered in the live transcript.

Screenshots of each page go to $MOCKMAIL_SCREENSHOTS when set (docs/screenshots/ holds the committed ones).
"""

from __future__ import annotations

import os
import smtplib
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import Select, WebDriverWait

from mockmail.client import Client
from mockmail.embedded import EmbeddedServer
from tests.web.browser import chromium

ADMIN = "web-admin-token-0123456789abcdef"
RUBY_FETCH = """
require "net/pop"
# The helpdesk's mailbox check: log in, STAT (n_mails), then finish, which sends QUIT and needs +OK.
pop = Net::POP3.new(ARGV[0], Integer(ARGV[1]))
pop.start("alice", "pw")
puts pop.n_mails
pop.finish
"""


@pytest.fixture(name="server")
def _server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(admin_token=ADMIN) as server:
        yield server


@pytest.fixture(name="browser")
def _browser(tmp_path: Path) -> Iterator[WebDriver]:
    with chromium(tmp_path / "profile") as driver:
        yield driver


@pytest.fixture(name="shots")
def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("MOCKMAIL_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def wait(driver: WebDriver, condition: object, timeout: float = 20) -> object:
    """Until the page shows what `condition` asks for (Selenium polls the DOM; the test never sleeps)."""
    return WebDriverWait(driver, timeout).until(condition)


def visible(driver: WebDriver, css: str) -> object:
    return wait(driver, ready.visibility_of_element_located((By.CSS_SELECTOR, css)))


def html_mail() -> bytes:
    message = EmailMessage()
    message["From"] = "Bob <bob@example.test>"
    message["To"] = "alice@example.test"
    message["Subject"] = "Quarterly report"
    message.set_content("The report is attached.\n")
    message.add_alternative(
        "<h1>Quarterly report</h1><p>The report is <b>attached</b>.</p><script>parent.x=1</script>",
        subtype="html",
    )
    message.add_attachment(b"q,total\n3,42\n", maintype="text", subtype="csv", filename="report.csv")
    return message.as_bytes()


def test_the_whole_page_flow(server: EmbeddedServer, browser: WebDriver, shots: Path) -> None:
    browser.get(server.url + "/")
    visible(browser, "#token-view")
    browser.find_element(By.ID, "token-input").send_keys(ADMIN)
    browser.save_screenshot(str(shots / "token.png"))
    browser.find_element(By.ID, "token-submit").click()
    visible(browser, "#tenants-view")
    first = [entry["message"] for entry in browser.get_log("browser")]  # reading empties the log
    assert len(first) == 1 and "/api/v1/tenants" in first[0] and "401" in first[0]  # what asked for the token

    # Create a tenant from the page.
    browser.find_element(By.ID, "new-tenant").send_keys("helpdesk")
    browser.find_element(By.ID, "create-tenant-submit").click()
    title = visible(browser, "#tenant-title")
    assert getattr(title, "text", "") == "Tenant helpdesk"
    with Client(server.url, ADMIN) as client:
        tenant = client.tenant("helpdesk")
    assert tenant.pop3 is not None and tenant.smtp is not None
    assert f"POP3 127.0.0.1:{tenant.pop3.port}" in browser.find_element(By.ID, "tenant-ports").text

    # A mailbox, then SMTP mail that shows up without a reload (the page long-polls the API).
    browser.find_element(By.ID, "new-user").send_keys("alice")
    browser.find_element(By.ID, "new-password").send_keys("pw")
    browser.find_element(By.ID, "add-mailbox-submit").click()
    visible(browser, '#mailboxes a[data-user="alice"].picked')
    assert browser.execute_script("return location.hash") == "#/t/helpdesk/m/alice"  # a link to the mailbox
    wait(browser, ready.text_to_be_present_in_element((By.CSS_SELECTOR, "#messages tbody"), "No messages."))
    with smtplib.SMTP(tenant.smtp.host, tenant.smtp.port) as smtp:
        smtp.sendmail("bob@example.test", ["alice@example.test"], html_mail())
    row = wait(
        browser,
        ready.presence_of_element_located((By.XPATH, '//*[@id="messages"]//a[text()="Quarterly report"]')),
    )
    assert (
        browser.execute_script("return performance.getEntriesByType('navigation').length") == 1
    )  # no reload

    # Read it: the HTML in a sandboxed iframe, its text, its source and its attachment.
    row.click()  # type: ignore[attr-defined]
    visible(browser, "#message-html")
    frame = browser.find_element(By.ID, "message-html")
    assert frame.get_attribute("sandbox") == ""
    browser.save_screenshot(str(shots / "message.png"))
    browser.switch_to.frame(frame)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Quarterly report"
    browser.switch_to.default_content()
    assert browser.execute_script("return window.x === undefined")  # the mail's script never ran
    browser.find_element(By.CSS_SELECTOR, '#message-tabs [data-tab="source"]').click()
    assert "Subject: Quarterly report" in visible(browser, "#message-source").text  # type: ignore[attr-defined]
    browser.find_element(By.CSS_SELECTOR, '#message-tabs [data-tab="attachments"]').click()
    assert "report.csv" in visible(browser, "#message-attachments").text  # type: ignore[attr-defined]

    # The fault plan as a form: a preset, applied with one click.
    Select(browser.find_element(By.ID, "profile")).select_by_value("mailpit-legacy")
    browser.find_element(By.ID, "apply-faults").click()
    wait(browser, ready.text_to_be_present_in_element((By.ID, "fault-plan"), '"profile": "mailpit-legacy"'))
    with Client(server.url, ADMIN) as client:
        assert client.get_tenant_faults("helpdesk").profile == "mailpit-legacy"
    browser.execute_script("document.getElementById('faults').scrollIntoView()")
    browser.save_screenshot(str(shots / "faults.png"))

    # Ruby's Net::POP3 against the legacy server: QUIT closes without +OK, and the page shows it live.
    ruby = subprocess.run(
        ["ruby", "-e", RUBY_FETCH, tenant.pop3.host, str(tenant.pop3.port)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ruby.returncode != 0 and "EOFError" in ruby.stderr, ruby.stderr
    fault = '//*[@id="live"]/li[@data-dir="fault"][contains(., "quit (drop)")]'
    wait(browser, ready.presence_of_element_located((By.XPATH, fault)))
    lines = browser.execute_script(
        "return [...document.querySelectorAll('#live li')].map(li => [li.dataset.dir, li.querySelector('.text').textContent])"
    )
    quit_at = max(i for i, (d, text) in enumerate(lines) if d == "C" and text == "QUIT")
    after = lines[quit_at + 1 :]
    assert after[0] == ["fault", "quit (drop)"], after
    assert not any(d == "S" for d, _ in after)  # nothing answered the QUIT
    assert ["end", "fault: QUIT dropped"] in after
    mark = browser.find_element(By.XPATH, fault + '/span[@class="mark"]')
    assert mark.text.startswith("⚡")
    browser.execute_script("document.getElementById('transcript').scrollIntoView()")
    browser.save_screenshot(str(shots / "transcript.png"))

    # Back to the tenant list, which now shows the tenant and its ports.
    browser.find_element(By.CSS_SELECTOR, "#crumbs a").click()
    visible(browser, '#tenants tr[data-tenant="helpdesk"]')
    browser.save_screenshot(str(shots / "tenants.png"))
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], severe  # no script errors, no CSP violations, no failed loads


def test_an_api_error_shows_the_problem(server: EmbeddedServer, browser: WebDriver) -> None:
    browser.get(server.url + "/")
    browser.execute_script(f"sessionStorage.setItem('mockmail-token', '{ADMIN}')")
    browser.get(server.url + "/#/t/nope")
    error = visible(browser, "#error")
    assert getattr(error, "text", "") == "404 Tenant not found: no tenant named 'nope' (field tenant)"
    browser.get(server.url + "/")
    browser.find_element(By.ID, "new-tenant").send_keys("taken")
    browser.find_element(By.ID, "create-tenant-submit").click()
    visible(browser, "#tenant-view")
    browser.get(server.url + "/")
    browser.find_element(By.ID, "new-tenant").send_keys("taken")
    browser.find_element(By.ID, "create-tenant-submit").click()
    wait(browser, ready.text_to_be_present_in_element((By.ID, "error"), "409"))


def test_a_tenant_token_sees_its_own_tenant_only(server: EmbeddedServer, browser: WebDriver) -> None:
    with Client(server.url, ADMIN) as client:
        mine = client.create_tenant("mine")
        client.create_tenant("theirs")
    assert mine.token is not None
    browser.get(server.url + "/")
    visible(browser, "#token-view")
    browser.find_element(By.ID, "token-input").send_keys(mine.token)
    browser.find_element(By.ID, "token-submit").click()
    visible(browser, '#tenants tr[data-tenant="mine"]')
    names = [
        row.get_attribute("data-tenant")
        for row in browser.find_elements(By.CSS_SELECTOR, "#tenants tbody tr")
    ]
    assert names == ["mine"]
    browser.find_element(By.LINK_TEXT, "mine").click()
    visible(browser, "#tenant-view")
    wait(browser, ready.presence_of_element_located((By.CSS_SELECTOR, '#profile option[value="greenmail"]')))
    assert browser.find_element(By.ID, "stream-state").text in ("connecting…", "live")
    browser.get(server.url + "/#tenant=theirs")  # the page's first form of link still works
    wait(browser, ready.text_to_be_present_in_element((By.ID, "error"), "403 Forbidden"))


def test_the_first_paint_says_it_is_loading(server: EmbeddedServer, browser: WebDriver) -> None:
    """Before the script has fetched anything (here: before it has even loaded) the page says so."""
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/ui/app.js"]})
    browser.get(server.url + "/")
    loading = browser.find_element(By.ID, "loading")
    assert loading.is_displayed() and loading.text == "Loading tenants…"
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    browser.get(server.url + "/")
    visible(browser, "#token-view")  # the script ran: it asks for the token instead
    assert not browser.find_element(By.ID, "loading").is_displayed()
    browser.execute_script(f"sessionStorage.setItem('mockmail-token', '{ADMIN}')")
    browser.get(server.url + "/")
    visible(browser, "#tenants-view")
    assert not browser.find_element(By.ID, "loading").is_displayed()


LINKED = """<p>Reset your password: <a href="https://example.test/reset?token=abc">reset</a>,
or write to <a href="mailto:help@example.test">us</a>.</p>"""
PATCHED_LINKS = ["https://example.test/reset?token=abc", "mailto:help@example.test", "javascript:alert(1)"]
ADD_LINKS = """
const [id, links] = arguments;
const real = window.fetch;
window.fetch = async (...args) => {
  const response = await real(...args);
  if (!String(args[0]).endsWith(`/messages/${id}`) || (args[1] || {}).headers?.Accept !== "application/json") {
    return response;
  }
  const detail = await response.clone().json();
  if ("links" in detail) return response;  // the server sends them itself
  return new Response(JSON.stringify({...detail, links}), {status: 200, headers: response.headers});
};
"""


def test_a_link_opens_one_message_after_the_token(server: EmbeddedServer, browser: WebDriver) -> None:
    with Client(server.url, ADMIN) as client:
        tenant = client.create_tenant("linked")
        inbox = tenant.mailbox("alice", password="pw")
        plain = inbox.seed(subject="Plain", text="No links here.")
        linked = inbox.seed(subject="Reset", text="Reset: https://example.test/reset?token=abc", html=LINKED)
        tenant.mailbox("bob", password="pw")
        detail = client.get_message("linked", "alice", getattr(linked, "id", ""))
    assert not isinstance(plain, list) and not isinstance(linked, list)
    expected = list(getattr(detail, "links", None) or PATCHED_LINKS)
    address = f"{server.url}/#/t/linked/m/alice/msg/{linked.id}"
    browser.get(address)
    visible(browser, "#token-view")
    # Until the message JSON carries `links` itself, the test adds them on the way in.
    browser.execute_script(ADD_LINKS, linked.id, PATCHED_LINKS)
    browser.find_element(By.ID, "token-input").send_keys(ADMIN)
    browser.find_element(By.ID, "token-submit").click()
    subject = visible(browser, "#message-subject")
    assert getattr(subject, "text", "") == "Reset"
    assert browser.current_url == address  # the link survives the token prompt
    assert (
        browser.find_element(By.CSS_SELECTOR, '#mailboxes a[data-user="alice"]').get_attribute("aria-current")
        == "page"
    )
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#crumbs a")] == ["tenants", "linked"]

    # The message's links: http(s) and mailto open in a new tab without a referrer; others are text.
    visible(browser, "#message-links")
    shown = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#message-links li")]
    assert shown == expected
    for anchor in browser.find_elements(By.CSS_SELECTOR, "#message-links a"):
        assert anchor.get_attribute("href") == anchor.text
        assert anchor.get_attribute("target") == "_blank"
        assert set((anchor.get_attribute("rel") or "").split()) == {"noopener", "noreferrer"}
    anchors = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#message-links a")]
    assert anchors == [url for url in expected if url.split(":", 1)[0] in ("http", "https", "mailto")]

    # The other message, from the list: its own address, and no links block.
    browser.find_element(By.XPATH, '//*[@id="messages"]//a[text()="Plain"]').click()
    wait(browser, ready.text_to_be_present_in_element((By.ID, "message-subject"), "Plain"))
    assert browser.current_url == f"{server.url}/#/t/linked/m/alice/msg/{plain.id}"
    assert not browser.find_element(By.ID, "message-links").is_displayed()

    # Back and forward walk the addresses; the tenant's own address drops the mailbox.
    browser.back()
    wait(browser, ready.text_to_be_present_in_element((By.ID, "message-subject"), "Reset"))
    browser.get(f"{server.url}/#/t/linked/m/bob")
    visible(browser, '#mailboxes a[data-user="bob"].picked')
    assert not browser.find_element(By.ID, "message-view").is_displayed()
    browser.get(f"{server.url}/#/t/linked")
    wait(browser, ready.text_to_be_present_in_element((By.ID, "no-messages"), "Pick a mailbox."))
    assert browser.find_elements(By.CSS_SELECTOR, "#mailboxes a.picked") == []


def test_mailboxes_are_a_list_not_inputs(server: EmbeddedServer, browser: WebDriver) -> None:
    """The mailbox entries must not look like the text fields under them: no box of their own, a count
    badge, and the picked one marked by a bar and a tint."""
    with Client(server.url, ADMIN) as client:
        tenant = client.create_tenant("boxes")
        tenant.mailbox("alice", password="pw").seed(subject="one")
        tenant.mailbox("bob", password="pw")
    browser.get(server.url + "/")
    browser.execute_script(f"sessionStorage.setItem('mockmail-token', '{ADMIN}')")
    browser.get(server.url + "/#/t/boxes/m/alice")
    visible(browser, '#mailboxes a[data-user="alice"].picked')
    style = """const s = getComputedStyle(arguments[0]);
      return [s.borderTopWidth, s.borderLeftWidth, s.borderLeftColor, s.backgroundColor, s.cursor];"""
    field = browser.execute_script(style, browser.find_element(By.ID, "new-user"))
    picked = browser.execute_script(
        style, browser.find_element(By.CSS_SELECTOR, '#mailboxes a[data-user="alice"]')
    )
    other = browser.execute_script(
        style, browser.find_element(By.CSS_SELECTOR, '#mailboxes a[data-user="bob"]')
    )
    assert field[0] == "1px" and other[0] == "0px" and picked[0] == "0px"  # no input-like box
    assert other[3] != field[3] or other[3] == "rgba(0, 0, 0, 0)"  # not the input's white field
    assert picked[1] == "3px" and picked[2] != other[2] and picked[3] != other[3]  # the pick stands out
    assert other[4] == "pointer"
    counts = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#mailboxes .count")]
    assert counts == ["1", "0"]
