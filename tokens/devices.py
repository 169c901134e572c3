"""A person's name for the device behind a user agent: "Chrome on Linux".

Parsed with ua-parser (the maintained port of Browserscope's rules, with its rules
package pinned in requirements.txt), once per session at login and stored: the list,
the page and the admin show it without parsing anything per request.
"""

from ua_parser import parse

DEVICE_MAX_LENGTH = 100
UNKNOWN = "Unknown device"


def describe(user_agent: str) -> str:
    """ "Browser on OS", or whichever of the two is known, or "Unknown device"."""
    if not user_agent:
        return UNKNOWN
    result = parse(user_agent)
    browser = result.user_agent.family if result.user_agent else None
    system = result.os.family if result.os else None
    browser = None if browser == "Other" else browser
    system = None if system == "Other" else system
    if browser and system:
        text = f"{browser} on {system}"
    else:
        text = browser or system or UNKNOWN
    return text[:DEVICE_MAX_LENGTH]
