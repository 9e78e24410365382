"""Every URL pattern of the project, with sample arguments, for tests that walk them all."""

import re

from django.urls import URLPattern, URLResolver, get_resolver

SAMPLE_BY_CONVERTER = {
    "int": "1",
    "str": "sample",
    "slug": "sample",
    "uuid": "00000000-0000-0000-0000-000000000001",
    "path": "sample",
}


def _sample(route: str) -> str:
    # Regex routes (the admin's): fill named groups, then strip anchors.
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
    route = re.sub(
        r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_BY_CONVERTER.get(m.group(1) or "str", "sample"), route
    )
    return route.replace("^", "").replace("$", "").replace("\\", "")


def walk(patterns=None, prefix=""):
    """Yield (route, sample_path, pattern) for every leaf pattern."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, "/" + _sample(route), entry
