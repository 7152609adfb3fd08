"""Report renderers."""

from .html import render_html, write_html

__all__ = ["render_html", "write_html"]
