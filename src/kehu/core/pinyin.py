"""Search keys for Chinese and Latin text: pinyin, initials and substrings.

A customer is found by any substring of its name, by full pinyin and by pinyin
initials, and by any fragment of a phone number. Every database serves these
with one B-tree: each searchable string contributes its suffixes, and a query
becomes a prefix range over them (``key >= q AND key < q + U+FFFF``), because
every substring is a prefix of some suffix. Latin text contributes suffixes only
from word starts, which is how people search Latin names.
"""

import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from .normalize import clean_text

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[0-9a-z\u00c0-\u024f]+")
KEY_MAX_LENGTH = 64


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


@lru_cache(maxsize=200_000)
def pinyin_syllables(text: str) -> tuple[str, ...]:
    """Toneless pinyin syllables of the CJK characters in ``text``; phrase-aware (重庆)."""
    cjk = "".join(_CJK.findall(text))
    if not cjk:
        return ()
    return tuple(s.lower() for s in lazy_pinyin(cjk, style=Style.NORMAL, errors="ignore") if s)


def pinyin_full(text: str) -> str:
    return "".join(pinyin_syllables(text))


def pinyin_initials(text: str) -> str:
    return "".join(s[0] for s in pinyin_syllables(text))


def query_key(text: str) -> str:
    """The form a search query takes before the prefix lookup."""
    text = strip_legal_suffix(clean_text(text).lower()).lstrip("@")
    return text.replace(" ", "")[:KEY_MAX_LENGTH]


# Legal-form endings say nothing about which company is meant; they are not keyed.
LEGAL_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团公司",
    "集团",
    "公司",
    " co., ltd.",
    " co.,ltd.",
    " co. ltd.",
    " co., ltd",
    " co ltd",
    " ltd.",
    " ltd",
    " inc.",
    " inc",
    " llc",
    " gmbh",
)
# Pinyin and initials are keyed from the first few syllables only: people type a
# company's pinyin from its start or from its brand, not from its trade word.
PINYIN_STARTS = 4
INITIALS_STARTS = 3


def strip_legal_suffix(text: str) -> str:
    for suffix in LEGAL_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            return text[: -len(suffix)].rstrip(" ,")
    return text


def text_keys(text: str, syllables: tuple[str, ...] | None = None) -> set[str]:
    """Keys for a name-like string: CJK suffixes, word-start suffixes, pinyin, initials.

    ``syllables`` may carry the pinyin when the caller knows it (bulk loads).
    """
    text = strip_legal_suffix(clean_text(text).lower())
    if not text:
        return set()
    keys: set[str] = set()
    compact = text.replace(" ", "")
    if has_cjk(compact):
        keys.update(compact[i:] for i in range(len(compact)) if _CJK.match(compact[i]))
        if syllables is None:
            syllables = pinyin_syllables(compact)
        if syllables:
            starts = min(len(syllables), PINYIN_STARTS)
            keys.update("".join(syllables[i:]) for i in range(starts))
            initials = "".join(s[0] for s in syllables)
            keys.update(initials[i:] for i in range(min(len(initials), INITIALS_STARTS)))
    words = _WORD.findall(text)
    if words:
        keys.update("".join(words[i:]) for i in range(len(words)))
        keys.update(words)
    return keys


PHONE_MIN_FRAGMENT = 4


def phone_keys(national_digits: str) -> set[str]:
    """Suffixes of at least 4 digits: any fragment of 4 or more digits is a prefix of one."""
    return {national_digits[i:] for i in range(len(national_digits) - PHONE_MIN_FRAGMENT + 1)}


def email_keys(email: str) -> set[str]:
    """The address (serves any prefix) and its domain (serves "qq.com", "@qq.com")."""
    email = email.lower()
    _local, _at, domain = email.partition("@")
    return {email, domain} if domain else {email}


def minimal_keys(keys: set[str]) -> list[str]:
    """Drop keys that are prefixes of other keys: a prefix search finds them anyway."""
    ordered = sorted(k[:KEY_MAX_LENGTH] for k in keys if k)
    kept: list[str] = []
    for i, key in enumerate(ordered):
        if i + 1 < len(ordered) and ordered[i + 1].startswith(key):
            continue
        kept.append(key)
    return kept


@lru_cache(maxsize=1000)
def surname_syllables(surname: str) -> tuple[str, ...]:
    return pinyin_syllables(surname)
