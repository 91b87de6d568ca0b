"""Identifiers, types and Markdown for the site: a name breaks only between its words (after `_` or `.`), never
inside one; a type never breaks; descriptions and help texts are rendered as Markdown (inline code, links,
emphasis), with raw HTML left escaped."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markupsafe import Markup, escape

_BREAKS = re.compile(r"(?<=[_.])(?=[^_.])")     # after each run of `_` or `.`: customer_|count, marts.|dim
# CommonMark without raw HTML: text from domain.yml and dbt descriptions cannot inject markup into the page
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False})


def ident(value: object) -> Markup:
    """`<code class="ident">customer_<wbr>count</code>`: the browser may wrap a long name only where `<wbr>` is,
    between its words; each piece between two `<wbr>` stays whole."""
    pieces = _BREAKS.split(str(value))
    return Markup('<code class="ident">{}</code>').format(Markup("<wbr>").join(escape(p) for p in pieces))


def sql_type(value: object) -> Markup:
    """`<code class="type">decimal(14,2)</code>`: a type never wraps (the page keeps it on one line)."""
    return Markup('<code class="type">{}</code>').format(value) if value else Markup("")


def markdown_inline(text: object) -> Markup:
    """One paragraph of Markdown as inline HTML (`ref('x')` in backticks becomes code)."""
    return Markup(_MARKDOWN.renderInline(str(text or "")))


def markdown(text: object) -> Markup:
    """A description in Markdown as HTML blocks."""
    return Markup(_MARKDOWN.render(str(text or "")))
