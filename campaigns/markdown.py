"""Campaign briefs are written in Markdown by brands and read by creators.

The brand is not trusted with HTML: Markdown may pass raw HTML through, so the rendered
result is cleaned by nh3 (an allow-list sanitizer) before it reaches a page.
"""

from __future__ import annotations

import re

import markdown as markdown_lib  # type: ignore[import-untyped]
import nh3
from django.utils.safestring import SafeString, mark_safe

# A brief sits under the page's own headings: its `#` and `##` become level 3 and 4, and
# every heading reads as a small section title rather than a second page title.
_HEADING = re.compile(r"<(/?)h([1-6])\b")
HEADING_CLASS = "h6 mt-3"

ALLOWED_TAGS = {
    "a",
    "blockquote",
    "br",
    "code",
    "em",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
SET_ATTRIBUTES = {
    **{f"h{level}": {"class": HEADING_CLASS} for level in range(3, 7)},
    "table": {"class": "table table-sm"},
}


def _demote_heading(match: re.Match[str]) -> str:
    return f"<{match.group(1)}h{min(int(match.group(2)) + 2, 6)}"


def render_markdown(text: str) -> SafeString:
    """Markdown to sanitized HTML, safe to insert into a page as is.

    Links leave the site with rel="nofollow noopener noreferrer" so a brief cannot pass
    ranking or the opener to another site.
    """
    html = markdown_lib.markdown(
        text or "", extensions=["extra", "sane_lists"], output_format="html"
    )
    cleaned = nh3.clean(
        _HEADING.sub(_demote_heading, html),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        set_tag_attribute_values=SET_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 has just removed everything not allowed
