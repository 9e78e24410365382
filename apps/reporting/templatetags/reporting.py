from django import template

from apps.reporting import render
from apps.reporting.citations import REASON_BAD_CITATION, REASON_NO_CITATION, REASON_NOT_IN_SOURCES

register = template.Library()


@register.simple_tag
def bullet_html(item, facts, key="b", index=0, links=True):
    return render.bullet_html(item, facts=facts or {}, links=links, anchor=f"{key}-{index}")


@register.filter
def claim_flags(item) -> list[dict]:
    return [flag for flag in item.get("flags", []) if flag.get("reason") == REASON_NOT_IN_SOURCES]


@register.filter
def citation_flags(item) -> list[dict]:
    return [
        flag
        for flag in item.get("flags", [])
        if flag.get("reason") in (REASON_BAD_CITATION, REASON_NO_CITATION)
    ]


@register.filter
def withheld(page, pair) -> bool:
    return pair in page.withheld


@register.simple_tag
def pair(key, index):
    return (key, index)


@register.filter
def markers(citations) -> str:
    return render.markers(list(citations or []))


@register.filter
def kind_description(kind: str) -> str:
    from apps.reporting.kinds import KIND_DESCRIPTIONS

    return KIND_DESCRIPTIONS.get(str(kind), "")
