"""A person's name for the device behind a user agent: "Chrome on Linux".

Parsed with ua-parser (the maintained port of Browserscope's rules; the "devices"
extra), once per session at login and stored: the list, the page and the admin show it
without parsing anything per request. Without ua-parser every device is an "Unknown
device" (never the User-Agent itself, for the reason below).

The name is shown in the session list, the admin and the subject and body of the
security emails, so it is made only of the words below. ua-parser's families are not
such words: many of its rules copy text out of the user agent (its CFNetwork rule
takes everything before "/1.0 CFNetwork", so a user agent can make its "browser" any
sentence, links included). A user agent that ua-parser names with anything else is an
"Unknown device".
"""

from tokens import extras

DEVICE_MAX_LENGTH = 100
UNKNOWN = "Unknown device"
# ua-parser's name when it recognises nothing.
_NOTHING = "Other"

# The browser and system families ua-parser gives the browsers people sign in with,
# spelled as ua-parser spells them (tokens/tests/test_devices.py has a user agent for
# each). Add a family here, with its user agent in the test, to show it.
BROWSERS = frozenset(
    {
        "Android",
        "Brave",
        "Chrome",
        "Chrome Mobile",
        "Chrome Mobile iOS",
        "Chrome Mobile WebView",
        "Chromium",
        "DuckDuckGo Mobile",
        "Edge",
        "Edge Mobile",
        "Electron",
        "Epiphany",
        "Facebook",
        "Firefox",
        "Firefox iOS",
        "Firefox Mobile",
        "HeadlessChrome",
        "IE",
        "Instagram",
        "Mobile Safari",
        "Mobile Safari UI/WKWebView",
        "Opera",
        "Safari",
        "Samsung Internet",
        "UC Browser",
        "Vivaldi",
        "Yandex Browser",
    }
)
SYSTEMS = frozenset(
    {
        "Android",
        "Chrome OS",
        "Fedora",
        "FreeBSD",
        "iOS",
        "Linux",
        "Mac OS X",
        "OpenBSD",
        "Ubuntu",
        "Windows",
    }
)


def describe(user_agent: str) -> str:
    """ "Browser on OS", or whichever of the two ua-parser found, from the vocabulary
    above only; "Unknown device" when it found neither, or named anything else."""
    if not user_agent:
        return UNKNOWN
    if not extras.installed("devices"):
        return UNKNOWN
    from ua_parser import parse

    result = parse(user_agent)
    browser = result.user_agent.family if result.user_agent else _NOTHING
    system = result.os.family if result.os else _NOTHING
    browser = None if browser == _NOTHING else browser
    system = None if system == _NOTHING else system
    if (browser and browser not in BROWSERS) or (system and system not in SYSTEMS):
        return UNKNOWN
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or UNKNOWN
