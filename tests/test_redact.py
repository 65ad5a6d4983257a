import pytest

from commentmine.redact import excerpt, luhn_ok, redact


@pytest.mark.parametrize("text, expected", [
    ("card 4111 1111 1111 1111 please", "card [CARD] please"),
    ("mail a.b+c@example.co.in now", "mail [EMAIL] now"),
    ("call +91 98765 43210", "call [PHONE]"),
    ("order OD1234567890123 is late", "order [NUMBER] is late"),
    ("waited 40 minutes on 10/08", "waited 40 minutes on 10/08"),
])
def test_redact(text, expected):
    assert redact(text) == expected


def test_luhn_and_excerpt():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert excerpt("x" * 400, 50).endswith("…") and len(excerpt("x" * 400, 50)) == 50
    assert excerpt(None) == ""
