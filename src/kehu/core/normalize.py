"""Text normalisation and validation shared by every write path.

Each validator takes raw user input and returns the normalised value or raises
``django.core.exceptions.ValidationError`` with a localised message.
"""

import datetime
import re
import unicodedata

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError, validate_email

_SPACES = re.compile(r"\s+")


# Full-width ASCII (U+FF01–U+FF5E) to its half-width form, and the ideographic space.
_HALFWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: " "}


def to_halfwidth(text: str) -> str:
    """Full-width ASCII (ａｂｃ１２３，＠) and the ideographic space become half-width."""
    return text.translate(_HALFWIDTH)


def clean_text(value) -> str:
    """Half-width, trimmed, inner runs of whitespace collapsed; ``None`` becomes ''."""
    if value is None:
        return ""
    text = str(value)
    if text.isascii():  # nothing to widen or compose (most SKUs, ids, emails)
        return _SPACES.sub(" ", text).strip()
    text = unicodedata.normalize("NFC", to_halfwidth(text))
    return _SPACES.sub(" ", text).strip()


def normalize_phone(value: str, region: str | None = None) -> str:
    """Parse a phone number and return it in E.164, or raise ValidationError."""
    raw = clean_text(value)
    if not raw:
        raise ValidationError(_("Enter a phone number."), code="required")
    region = region or settings.KEHU_DEFAULT_PHONE_REGION
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("“%(value)s” is not a phone number."), code="invalid", params={"value": raw}
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("“%(value)s” is not a valid phone number."), code="invalid", params={"value": raw}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """Display form: national format for the default region, international otherwise."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    region = phonenumbers.region_code_for_number(number)
    if region == settings.KEHU_DEFAULT_PHONE_REGION:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_national_digits(e164: str) -> str:
    """The national significant number, which is what people type fragments of."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return re.sub(r"\D", "", e164)
    return phonenumbers.national_significant_number(number)


def normalize_email(value: str) -> str:
    """Syntax-check an address (no network) and return its normalised form."""
    raw = clean_text(value)
    if not raw:
        raise ValidationError(_("Enter an email address."), code="required")
    try:
        info = validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError(
            _("“%(value)s” is not a valid email address."), code="invalid", params={"value": raw}
        ) from None
    return info.normalized.lower() if info.ascii_email else info.normalized


# GB 32100-2015: 18 characters from this alphabet (no I, O, Z, S, V).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def normalize_uscc(value: str) -> str:
    """统一社会信用代码: upper-case, 18 characters, valid check character."""
    code = clean_text(value).upper().replace(" ", "")
    if len(code) != 18 or any(c not in USCC_ALPHABET for c in code):
        raise ValidationError(
            _("A unified social credit code has 18 digits or letters (no I, O, Z, S, V)."),
            code="invalid",
        )
    if uscc_check_char(code[:17]) != code[17]:
        raise ValidationError(
            _("The unified social credit code fails its check character."), code="checksum"
        )
    return code


# GB 11643-1999: ISO 7064 MOD 11-2.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def normalize_resident_id(value: str) -> str:
    """居民身份证号码: 18 characters, a valid birth date, valid check character."""
    import datetime

    code = clean_text(value).upper().replace(" ", "")
    if len(code) != 18 or not code[:17].isdigit() or not (code[17].isdigit() or code[17] == "X"):
        raise ValidationError(
            _("A resident ID number has 17 digits followed by a digit or X."), code="invalid"
        )
    try:
        datetime.date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        raise ValidationError(
            _("The resident ID number contains an impossible birth date."), code="invalid"
        ) from None
    if id_check_char(code[:17]) != code[17]:
        raise ValidationError(
            _("The resident ID number fails its check character."), code="checksum"
        )
    return code


def parse_moment(value) -> datetime.datetime:
    """An aware datetime from ISO 8601 text (a date alone is its midnight); a time
    without a zone is read in Kehu's time zone. ValueError with a localised message."""
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        try:
            moment = parse_datetime(value.strip())
        except ValueError:
            moment = None
        if moment is None:
            try:
                moment = datetime.datetime.combine(
                    datetime.date.fromisoformat(value.strip()), datetime.time()
                )
            except ValueError:
                raise ValueError(
                    _("Enter a date and time such as 2026-03-01T14:30:00+08:00.")
                ) from None
    else:
        raise ValueError(_("Enter a date and time such as 2026-03-01T14:30:00+08:00."))
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)  # in Kehu's time zone
    return moment
