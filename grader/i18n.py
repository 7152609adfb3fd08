"""Message catalogs for the reports.

The catalogs are gettext ``.po`` files under ``grader/locale/<lang>/LC_MESSAGES/grader.po``
(domain ``grader``). They are compiled in memory with Babel when first used, so a new
language needs nothing but a new ``.po`` file dropped into that tree. English is the
source language: its msgids are the English text, so ``en`` needs no catalog.

Finding messages are translated from ``Finding.template`` (an English msgid) formatted
with ``Finding.args`` (``str.format`` placeholders); when the catalog has no entry, or
the entry does not format with the finding's arguments, the English ``Finding.message``
is used.
"""

from __future__ import annotations

import gettext
import io
import os
import re
from functools import lru_cache
from pathlib import Path

from babel.messages import mofile, pofile
from babel.support import NullTranslations, Translations

DOMAIN = "grader"
SOURCE_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

__all__ = [
    "DOMAIN", "LOCALE_DIR", "available_languages", "get_translations", "translate_finding",
    "translate_part_summary", "normalize_lang",
]


def _dir(locale_dir: str | os.PathLike | None) -> Path:
    return Path(locale_dir) if locale_dir is not None else LOCALE_DIR


def _catalog_file(lang: str, locale_dir: Path) -> Path | None:
    base = locale_dir / lang / "LC_MESSAGES"
    for name in (f"{DOMAIN}.po", f"{DOMAIN}.mo"):
        if (base / name).is_file():
            return base / name
    return None


def available_languages(locale_dir: str | os.PathLike | None = None) -> list[str]:
    """The languages a report can be rendered in: ``en`` and every catalog found."""
    root = _dir(locale_dir)
    langs = {SOURCE_LANGUAGE}
    if root.is_dir():
        for child in root.iterdir():
            if child.is_dir() and _catalog_file(child.name, root) is not None:
                langs.add(child.name)
    return sorted(langs)


_LANG = re.compile(r"[A-Za-z]{2,8}(?:[_-][A-Za-z0-9]{1,8})*")
_NULL = NullTranslations()


def normalize_lang(lang: str | None, locale_dir: str | os.PathLike | None = None) -> str:
    """The catalog name to use for ``lang`` (``ko-KR`` -> ``ko``); ``en`` if there is none."""
    if not lang or not _LANG.fullmatch(lang.strip()):
        return SOURCE_LANGUAGE
    root = _dir(locale_dir)
    lang = lang.strip().replace("-", "_")
    for candidate in (lang, lang.split("_")[0], lang.lower(), lang.split("_")[0].lower()):
        if candidate == SOURCE_LANGUAGE or _catalog_file(candidate, root) is not None:
            return candidate
    return SOURCE_LANGUAGE


@lru_cache(maxsize=32)
def _load(path: str, mtime_ns: int) -> Translations:
    p = Path(path)
    if p.suffix == ".po":
        with p.open("rb") as fh:
            catalog = pofile.read_po(fh, domain=DOMAIN)
        buf = io.BytesIO()
        mofile.write_mo(buf, catalog, use_fuzzy=False)
        buf.seek(0)
        return Translations(fp=buf, domain=DOMAIN)
    with p.open("rb") as fh:
        return Translations(fp=fh, domain=DOMAIN)


def get_translations(
    lang: str | None, locale_dir: str | os.PathLike | None = None
) -> gettext.NullTranslations:
    """The translations for ``lang`` (``gettext``/``ngettext`` objects, as jinja2's i18n
    extension wants them). English, or a language without a catalog, gets a
    ``NullTranslations`` that returns the English msgids.

    ``locale_dir`` overrides the package's ``grader/locale`` tree.
    """
    root = _dir(locale_dir)
    name = normalize_lang(lang, root)
    path = _catalog_file(name, root) if name != SOURCE_LANGUAGE else None
    if path is None:
        return _NULL
    return _load(str(path), path.stat().st_mtime_ns)


def lookup(translations: gettext.NullTranslations, msgid: str) -> str | None:
    """The translation of ``msgid``, or None when the catalog has none."""
    catalog = getattr(translations, "_catalog", None)
    if not catalog:
        return None
    text = catalog.get(msgid)
    return text if isinstance(text, str) and text else None


def translate_finding(finding, lang: str | None = "en", locale_dir: str | os.PathLike | None = None) -> str:
    """``finding.message`` in ``lang``: its ``template`` looked up in the catalog and
    formatted with its ``args``; the English ``message`` when there is no translation."""
    template = getattr(finding, "template", None)
    if not template or normalize_lang(lang, locale_dir) == SOURCE_LANGUAGE:
        return finding.message
    text = lookup(get_translations(lang, locale_dir), template)
    if text is None:
        return finding.message
    args = dict(getattr(finding, "args", None) or {})
    args.setdefault("location", getattr(finding, "location", ""))
    for key in ("expected", "actual"):
        args.setdefault(key, getattr(finding, key, None))
    inner = args.get("fault_template")
    if inner:
        # a message built around another one ("{fault} The mistake is in ..."):
        # the inner message is translated with the same arguments
        inner_text = lookup(get_translations(lang, locale_dir), inner)
        try:
            args["fault"] = inner_text.format(**args) if inner_text else args.get("fault", "")
        except (KeyError, IndexError, ValueError, AttributeError, TypeError):
            pass
    try:
        return text.format(**args)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError):
        return finding.message


def translate_part_summary(part, lang: str | None = "en", locale_dir: str | os.PathLike | None = None) -> str:
    """How a rubric part was earned (``Part.summary``) in ``lang``: its template and
    extra clauses looked up, with the unit words translated too."""
    if not getattr(part, "template", None) or normalize_lang(lang, locale_dir) == SOURCE_LANGUAGE:
        return part.summary
    tr = get_translations(lang, locale_dir)
    args = dict(part.args or {})
    for key in ("unit", "group_unit"):
        if args.get(key):
            args[key] = lookup(tr, args[key]) or args[key]
    clauses = []
    for template in [part.template] + list(part.extra_templates or []):
        text = lookup(tr, template)
        try:
            clauses.append((text or template).format(**args))
        except (KeyError, IndexError, ValueError, AttributeError, TypeError):
            return part.summary
    return "; ".join(clauses)
