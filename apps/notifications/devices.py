"""What counts as "the same device" for sign-in alerts: the browser family and system, and the IP network.

Versions are left out (a browser update is not a new device) and so is the last part of the address (a home
router's lease changes); moving to another network or another browser is new.
"""

import ipaddress
import re

# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari", iOS browsers say "Safari".
_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"\b(?:OPR|Opera)/")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(?:Chrome|Chromium|CriOS)/")),
    ("Safari", re.compile(r"\bVersion/[\d.]+.*\bSafari/")),
)
_SYSTEMS = (
    ("iOS", re.compile(r"\b(?:iPhone|iPad|iPod)\b")),
    ("Android", re.compile(r"\bAndroid\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("Linux", re.compile(r"\bLinux\b")),
)
_TOOLS = re.compile(r"\b(?:curl|Wget|python-requests|HeadlessChrome|Playwright)\b", re.IGNORECASE)


def agent_family(user_agent: str) -> str:
    """ "Firefox on Linux", "Safari on iOS", "Chrome on Windows"; "Unknown browser" when it says nothing."""
    user_agent = (user_agent or "")[:1000]
    browser = next((name for name, pattern in _BROWSERS if pattern.search(user_agent)), "")
    system = next((name for name, pattern in _SYSTEMS if pattern.search(user_agent)), "")
    if not browser:
        tool = _TOOLS.search(user_agent)
        browser = tool.group(0) if tool else "Unknown browser"
    return f"{browser} on {system}" if system else browser


def ip_network(address: str) -> str:
    """The /24 of an IPv4 address or the /64 of an IPv6 one, as text; "unknown" when it is not an address."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
