import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from kehu.core import normalize as n


def test_fullwidth_becomes_halfwidth_and_spaces_collapse():
    assert n.clean_text("  ＡＢＣ　１２３，ｘ  ") == "ABC 123,x"
    assert n.clean_text(None) == ""


@given(st.text())
def test_clean_text_is_idempotent(text):
    once = n.clean_text(text)
    assert n.clean_text(once) == once
    assert once == once.strip()


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("１３８００１３８０００", "+8613800138000"),
        ("010-6552 9988", "+861065529988"),
        ("+1 650-253-0000", "+16502530000"),
    ],
)
def test_phone_numbers_normalise_to_e164(raw, expected):
    assert n.normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "abc", "1380013800", "+86 999 9999 9999"])
def test_invalid_phone_numbers_are_refused_naming_the_value(raw):
    with pytest.raises(ValidationError) as info:
        n.normalize_phone(raw)
    assert raw.strip() in info.value.messages[0]


def test_phone_display_is_national_for_china_and_international_elsewhere():
    assert n.format_phone("+8613800138000") == "138 0013 8000"
    assert n.format_phone("+16502530000").startswith("+1 ")
    assert n.phone_national_digits("+8613800138000") == "13800138000"


def test_email_normalised_without_network():
    assert n.normalize_email(" Zhang.San@Example.COM ") == "zhang.san@example.com"
    assert n.normalize_email("ｌｉ＠qq.com") == "li@qq.com"
    for bad in ["zhang", "a@", "@qq.com", "a b@qq.com", "x@@y.com"]:
        with pytest.raises(ValidationError):
            n.normalize_email(bad)


# Codes published by the companies on their licences (GB 32100-2015).
VALID_USCC = ["914403001922038216", "9144030071526726XG", "91110108551385082Q"]


@pytest.mark.parametrize("code", VALID_USCC)
def test_real_credit_codes_pass(code):
    assert n.normalize_uscc(code.lower()) == code


@pytest.mark.parametrize("code", VALID_USCC)
def test_any_single_changed_character_fails_the_check(code):
    for position in range(18):
        for replacement in "0A":
            mutated = code[:position] + replacement + code[position + 1 :]
            if mutated == code:
                continue
            with pytest.raises(ValidationError):
                n.normalize_uscc(mutated)


def test_credit_code_shape_errors():
    for bad in ["12345", "91440300192203821I", "9144030019220382166"]:
        with pytest.raises(ValidationError):
            n.normalize_uscc(bad)


def independent_id_check(first17: str) -> str:
    # ISO 7064 MOD 11-2 written out from the standard's definition: weights 2^(i-1) mod 11.
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    return "10X98765432"[total % 11]


def test_resident_id_example_from_the_standard():
    assert n.normalize_resident_id("11010519491231002x") == "11010519491231002X"
    assert n.normalize_resident_id("440524188001010014") == "440524188001010014"


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_resident_id_check_char_matches_iso_7064(first17):
    assert n.id_check_char(first17) == independent_id_check(first17)


def test_resident_id_errors():
    with pytest.raises(ValidationError):
        n.normalize_resident_id("110105194912310021")  # wrong check character
    with pytest.raises(ValidationError):
        n.normalize_resident_id("110105194913310029")  # month 13
    with pytest.raises(ValidationError):
        n.normalize_resident_id("1101051949")
