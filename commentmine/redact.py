"""PII redaction for every free text commentmine stores, serves or exports.

Payment card numbers (13-19 digits passing the Luhn check), e-mail addresses,
phone numbers and long id-like numbers are replaced by ``[CARD]``, ``[EMAIL]``,
``[PHONE]`` and ``[NUMBER]``.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_PHONE = re.compile(r"(?<![\w])(?:\+?\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{3,5}[ .-]?\d{3,4}[ .-]?\d{0,4}(?![\w])")
_LONG_NUMBER = re.compile(r"(?<![\w])[A-Za-z]{0,4}\d{6,}[A-Za-z0-9]*(?![\w])")


def luhn_ok(digits: str) -> bool:
    """True when `digits` passes the Luhn checksum used by payment cards."""
    total, double = 0, False
    for ch in reversed(digits):
        d = ord(ch) - 48
        if double:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
        double = not double
    return total % 10 == 0


def _card(m: re.Match) -> str:
    digits = re.sub(r"\D", "", m.group(0))
    return "[CARD]" if 13 <= len(digits) <= 19 and luhn_ok(digits) else m.group(0)


def _phone(m: re.Match) -> str:
    digits = re.sub(r"\D", "", m.group(0))
    return "[PHONE]" if 7 <= len(digits) <= 15 else m.group(0)


def redact(text: str | None) -> str:
    """`text` with card numbers, e-mails, phone numbers and long id-like numbers masked."""
    if not text:
        return "" if text is None else text
    text = _EMAIL.sub("[EMAIL]", text)
    text = _CARD.sub(_card, text)
    text = _PHONE.sub(_phone, text)
    return _LONG_NUMBER.sub("[NUMBER]", text)


def excerpt(text: str | None, limit: int = 300) -> str:
    """A redacted excerpt of at most `limit` characters."""
    clean = redact(text or "").strip()
    return clean if len(clean) <= limit else clean[: limit - 1].rstrip() + "…"
