"""The sessions admin in a real browser (headless Chromium) at a laptop's width."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tokens.models import RefreshToken, RevokeReason
from tokens.tests.factories import make_sessions

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under REQUIRE_BROWSER=1
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "a long enough passphrase"
CHANGELIST = "/admin/tokens/refreshtoken/"
SCREENS = Path("/tmp/screens")  # noqa: S108 (a look at the pages, never read back)
CHROME_ON_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@pytest.fixture
def sessions(make_user):
    """Alice: active, expired, revoked; Bob: two active. Devices as a login names them."""
    alice = make_user("alice@example.com")
    bob = make_user("bob.with.a.longer.address@example.com")
    now = timezone.now()
    device = {"user_agent": CHROME_ON_LINUX, "device": "Chrome on Linux", "ip_address": "::1"}
    return {
        "active": make_sessions(alice, 1, now=now, **device)[0],
        "expired": make_sessions(
            alice, 1, now=now - timedelta(days=10), expires_in=timedelta(days=7), **device
        )[0],
        "revoked": make_sessions(
            alice,
            1,
            now=now - timedelta(days=1),
            revoked_at=now,
            revoke_reason=RevokeReason.EVICTED,
            user_agent="curl/8.5.0",
            device="curl",
            ip_address="2001:db8:85a3::8a2e:370:7334",
        )[0],
        "bob": make_sessions(bob, 2, now=now - timedelta(hours=1), **device),
    }


def log_in_to_the_sessions_list(page, make_user) -> None:
    make_user("admin@example.com", password=PASSWORD, is_staff=True, is_superuser=True)
    page.goto(f"/admin/login/?next={CHANGELIST}")
    page.fill("#id_username", "admin@example.com")
    page.fill("#id_password", PASSWORD)
    page.click("#login-form input[type=submit]")
    expect(page.locator("#result_list")).to_be_visible()


@pytest.fixture
def admin_page(new_page, make_user, sessions):
    """A superuser logged in to the admin, in a 1280x800 window, on the sessions list."""
    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in_to_the_sessions_list(page, make_user)
    return page


def row_of(page, session: RefreshToken):
    return page.locator("#result_list tbody tr").filter(
        has=page.locator(f"input.action-select[value='{session.pk}']")
    )


def test_changelist_fits_1280_with_the_status_first(admin_page, sessions):
    page = admin_page
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / "admin-changelist-1280.png"), full_page=True)

    widths = page.evaluate(
        """() => {
            const table = document.querySelector('#result_list');
            return {
                table: table.scrollWidth,
                container: table.parentElement.clientWidth,
                page: document.documentElement.scrollWidth,
                window: window.innerWidth,
            };
        }"""
    )
    assert widths["table"] <= widths["container"], widths  # no horizontal scroll
    assert widths["page"] <= widths["window"], widths

    headers = page.locator("#result_list thead th").all_inner_texts()
    assert headers[1].strip().lower() == "status", headers  # after the checkbox
    status = row_of(page, sessions["revoked"]).locator("td, th").nth(1)
    expect(status).to_contain_text("revoked")
    expect(status).to_be_in_viewport()
    box = status.bounding_box()
    assert box["x"] + box["width"] <= 1280

    # The short id links to the session; the full id is in its title.
    short_id = row_of(page, sessions["active"]).locator("code")
    expect(short_id).to_have_text(sessions["active"].id.hex[:8])
    expect(short_id).to_have_attribute("title", str(sessions["active"].id))
    expect(row_of(page, sessions["active"])).to_contain_text("Chrome on Linux")
    expect(page.locator("#result_list")).not_to_contain_text("Mozilla/5.0")
    expect(page.locator("h1")).to_have_text("Select session to view")


def test_revoke_action_asks_then_revokes(admin_page, sessions):
    page = admin_page
    target = sessions["bob"][0]
    row_of(page, target).locator("input.action-select").check()
    page.select_option("select[name=action]", "revoke_selected")
    page.click("button[name=index]")

    # A page that says what will be revoked; nothing is revoked yet.
    expect(page.locator("h1")).to_contain_text("Revoke")
    expect(page.locator("#content")).to_contain_text(target.id.hex[:8])
    expect(page.locator("#content")).to_contain_text("bob.with.a.longer.address@example.com")
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / "admin-revoke-confirmation-1280.png"), full_page=True)
    assert RefreshToken.objects.get(pk=target.pk).revoked_at is None

    page.get_by_role("button", name="Yes, revoke").click()
    expect(page.locator(".messagelist")).to_have_text("Revoked 1 session.")
    expect(row_of(page, target).locator("td").nth(1)).to_contain_text("revoked")
    assert RefreshToken.objects.get(pk=target.pk).revoke_reason == RevokeReason.ADMIN
    assert RefreshToken.objects.get(pk=sessions["bob"][1].pk).revoked_at is None


def test_cancel_on_the_confirmation_revokes_nothing(admin_page, sessions):
    page = admin_page
    row_of(page, sessions["active"]).locator("input.action-select").check()
    page.select_option("select[name=action]", "revoke_users_sessions")
    page.click("button[name=index]")
    expect(page.locator("#content")).to_contain_text("alice@example.com")
    page.get_by_role("link", name="No, take me back").click()
    expect(page.locator("#result_list")).to_be_visible()
    assert RefreshToken.objects.live().count() == 3


def test_detail_page_revoke_button(admin_page, sessions):
    page = admin_page
    target = sessions["active"]
    row_of(page, target).locator("code").click()
    expect(page.locator("h1")).to_have_text("View session")
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / "admin-session-1280.png"), full_page=True)
    page.get_by_role("link", name="Revoke this session").click()

    expect(page.locator("#content")).to_contain_text(target.id.hex[:8])
    assert RefreshToken.objects.get(pk=target.pk).revoked_at is None
    page.get_by_role("button", name="Yes, revoke").click()

    # Back on the session's page: revoked, and no button any more.
    expect(page.locator(".messagelist")).to_have_text("Revoked 1 session.")
    expect(page.locator("h1")).to_have_text("View session")
    expect(page.locator("#content")).to_contain_text("revoked by an administrator")
    expect(page.get_by_role("link", name="Revoke this session")).to_have_count(0)
    assert RefreshToken.objects.get(pk=target.pk).revoke_reason == RevokeReason.ADMIN


# Each line break inside an element's text, as the two characters around it: [before,
# after]. A break between two elements (a status and its reason) is the layout's, not
# a wrapped line, and is left out.
LINE_BREAKS = """(element) => {
    const breaks = [];
    let previous = null;
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const node = walker.currentNode;
        for (let i = 0; i < node.length; i++) {
            const range = document.createRange();
            range.setStart(node, i);
            range.setEnd(node, i + 1);
            const box = range.getClientRects()[0];
            if (!box) continue;  // collapsed white space
            if (previous && box.top > previous.top + 2 && previous.parent === node.parentNode) {
                breaks.push([previous.text, node.data[i]]);
            }
            previous = {text: node.data[i], top: box.top, parent: node.parentNode};
        }
    }
    return breaks;
}"""


def cut_words(page, column: str) -> list[str]:
    """The cells of a column with a line break inside a word: breaks are allowed between
    words, before an email's "@" and after an IPv6 address's colons."""
    cut = []
    for cell in page.locator(f"#result_list tbody .field-{column}").all():
        for before, after in cell.evaluate(LINE_BREAKS):
            if not (before.isspace() or after.isspace() or after == "@" or before == ":"):
                cut.append(f"{cell.inner_text()!r} cut between {before!r} and {after!r}")
    return cut


@pytest.mark.parametrize("width", [390, 1280])
def test_the_sessions_list_reads_at_a_phones_and_a_laptops_width(
    new_page, make_user, sessions, width, tmp_path
):
    page = new_page(viewport={"width": width, "height": 800})
    log_in_to_the_sessions_list(page, make_user)
    page.screenshot(path=tmp_path / f"sessions-{width}.png", full_page=True)

    # Nothing scrolls sideways, neither the page nor the table in it.
    widths = page.evaluate(
        """() => {
            const results = document.querySelector('#changelist .results');
            return {
                results: results.scrollWidth, box: results.clientWidth,
                page: document.documentElement.scrollWidth, window: window.innerWidth,
            };
        }"""
    )
    assert widths["results"] <= widths["box"], widths
    assert widths["page"] <= widths["window"], widths
    # No word cut in two: not the emails, the IPv6 address or the device names.
    for column in ("status", "user_email", "device", "ip"):
        assert cut_words(page, column) == [], column
    for email in page.locator("#result_list tbody .field-user_email").all():
        box = email.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, email.inner_text()
    expect(row_of(page, sessions["bob"][0])).to_contain_text(
        "bob.with.a.longer.address@example.com"
    )
    # The hint names this project's login field; the index offers to view, not change.
    expect(page.locator("#searchbar_helptext")).to_have_text(
        "A user's exact email address, or a session id."
    )
    row_of(page, sessions["revoked"]).locator("code").click()
    expect(page.locator(".field-ip_address label")).to_have_text("IP address:")
    page.screenshot(path=tmp_path / f"session-{width}.png", full_page=True)
    page.goto("/admin/")
    expect(page.locator(f'a.viewlink[href="{CHANGELIST}"]')).to_have_text("View")
    page.screenshot(path=tmp_path / f"index-{width}.png", full_page=True)
