"""Validation and normalisation of customer input, shared by every write path.

``clean_customer_input`` takes loosely typed input (form data, API JSON, an
import row) and returns model-ready values, or raises one ValidationError that
names every bad field, so nothing is half-saved.
"""

import datetime
import decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kehu.core.custom_fields import validate_custom_fields
from kehu.core.normalize import (
    clean_text,
    normalize_email,
    normalize_phone,
    normalize_resident_id,
    normalize_uscc,
)

from .models import CompanySize, Customer, Gender, Kind, Source, Status

TEXT_FIELDS = {
    "name": 200,
    "country": 2,
    "province": 50,
    "city": 50,
    "district": 50,
    "street": 200,
    "postal_code": 12,
    "company_name": 200,
    "job_title": 100,
    "registered_address": 300,
    "main_business": 300,
    "industry": 50,
    "revenue_currency": 3,
    "website": 200,
}
CHOICE_FIELDS = {
    "kind": Kind,
    "gender": Gender,
    "source": Source,
    "status": Status,
    "company_size": CompanySize,
}
OPTIONAL_CHOICES = {"gender", "source", "company_size"}
MAX_PHONES = 10
MAX_EMAILS = 10
MAX_TAGS = 50

# Fields the change log tracks and an update may set.
EDITABLE_FIELDS = [
    "kind",
    "name",
    "gender",
    "birthday",
    "phones",
    "emails",
    "id_number",
    "credit_code",
    *[f for f in TEXT_FIELDS if f != "name"],
    "company_size",
    "employees",
    "annual_revenue",
    "source",
    "status",
    "owner",
    "team",
    "custom_fields",
]


def as_list(value) -> list:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        # One field in a form or a spreadsheet cell may hold several: 13800000000；13900000000
        for sep in ("；", ";", "，", ",", "、", "\n", "/"):
            value = value.replace(sep, "\n")
        return [v for v in value.split("\n") if v.strip()]
    if isinstance(value, list | tuple):
        return list(value)
    raise ValidationError(_("Enter a list."), code="invalid")


def clean_phones(value) -> list[str]:
    items = as_list(value)
    if len(items) > MAX_PHONES:
        raise ValidationError(_("At most %(n)s phone numbers.") % {"n": MAX_PHONES})
    result, errors = [], []
    for item in items:
        if not isinstance(item, str | int):
            errors.append(_("Each phone number must be text."))
            continue
        try:
            number = normalize_phone(str(item))
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        if number not in result:
            result.append(number)
    if errors:
        raise ValidationError(errors)
    return result


def clean_emails(value) -> list[str]:
    items = as_list(value)
    if len(items) > MAX_EMAILS:
        raise ValidationError(_("At most %(n)s email addresses.") % {"n": MAX_EMAILS})
    result, errors = [], []
    for item in items:
        if not isinstance(item, str):
            errors.append(_("Each email address must be text."))
            continue
        try:
            email = normalize_email(item)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        if email not in result:
            result.append(email)
    if errors:
        raise ValidationError(errors)
    return result


def clean_tag_names(value) -> list[str]:
    names = []
    for item in as_list(value):
        if not isinstance(item, str):
            raise ValidationError(_("Each tag must be text."))
        name = clean_text(item)
        if len(name) > 50:
            raise ValidationError(_("A tag has at most 50 characters."))
        if name and name not in names:
            names.append(name)
    if len(names) > MAX_TAGS:
        raise ValidationError(_("At most %(n)s tags.") % {"n": MAX_TAGS})
    return names


def clean_date(value) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = clean_text(value).replace("/", "-").replace(".", "-")
    for sep in ("年", "月"):
        text = text.replace(sep, "-")
    text = text.rstrip("日")
    try:
        parts = [int(p) for p in text.split("-")]
        if len(parts) != 3:
            raise ValueError
        day = datetime.date(*parts)
    except (ValueError, TypeError):
        raise ValidationError(_("Enter a date as YYYY-MM-DD."), code="invalid") from None
    return day


def clean_birthday(value) -> datetime.date | None:
    day = clean_date(value)
    if day and (day > datetime.date.today() or day.year < 1900):
        raise ValidationError(_("A birthday must lie between 1900 and today."), code="invalid")
    return day


def clean_int(value, maximum: int = 10**9) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ValidationError(_("Enter a whole number."), code="invalid")
    try:
        number = decimal.Decimal(clean_text(value).replace(",", ""))
    except (decimal.InvalidOperation, ValueError):
        raise ValidationError(_("Enter a whole number."), code="invalid") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise ValidationError(_("Enter a whole number."), code="invalid")
    if number < 0 or number > maximum:
        raise ValidationError(
            _("Enter a number between 0 and %(max)s.") % {"max": maximum}, code="invalid"
        )
    return int(number)


def clean_money(value) -> decimal.Decimal | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool | float):
        value = str(value) if isinstance(value, float) else value
    if isinstance(value, bool):
        raise ValidationError(_("Enter an amount."), code="invalid")
    text = clean_text(value).replace(",", "").replace("¥", "").replace("￥", "")
    try:
        amount = decimal.Decimal(text)
    except (decimal.InvalidOperation, ValueError):
        raise ValidationError(_("Enter an amount."), code="invalid") from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError(_("Enter an amount of 0 or more."), code="invalid")
    if amount >= 10**16:
        raise ValidationError(_("The amount is too large."), code="invalid")
    return amount.quantize(decimal.Decimal("0.01"))


def clean_customer_input(data: dict, instance: Customer | None = None) -> dict:
    """Validate ``data`` (only the keys present, for a partial update) and normalise it.

    Returns model field values plus ``tags`` (a list of names) when given.
    Raises ValidationError keyed by field name; custom field errors are keyed
    ``custom_fields.<key>``.
    """
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}

    def attempt(field, func, *args):
        try:
            cleaned[field] = func(*args)
        except ValidationError as exc:
            errors.setdefault(field, []).extend(exc.messages)

    for field, max_length in TEXT_FIELDS.items():
        if field in data:
            value = data[field]
            if value is not None and not isinstance(value, str | int | float):
                errors[field] = [_("Enter text.")]
                continue
            text = clean_text(value)
            if len(text) > max_length:
                errors[field] = [
                    _("At most %(n)s characters (it has %(m)s).")
                    % {"n": max_length, "m": len(text)}
                ]
            else:
                cleaned[field] = text
    if "country" in cleaned:
        cleaned["country"] = cleaned["country"].upper()
    if "revenue_currency" in cleaned:
        cleaned["revenue_currency"] = cleaned["revenue_currency"].upper() or "CNY"
    for field, choices in CHOICE_FIELDS.items():
        if field in data:
            value = clean_text(data[field])
            if field in OPTIONAL_CHOICES and value == "":
                cleaned[field] = ""
            elif value not in choices.values:
                errors[field] = [_("“%(value)s” is not a valid choice.") % {"value": value}]
            else:
                cleaned[field] = value
    if "phones" in data:
        attempt("phones", clean_phones, data["phones"])
    if "emails" in data:
        attempt("emails", clean_emails, data["emails"])
    if "birthday" in data:
        attempt("birthday", clean_birthday, data["birthday"])
    if "employees" in data:
        attempt("employees", clean_int, data["employees"])
    if "annual_revenue" in data:
        attempt("annual_revenue", clean_money, data["annual_revenue"])
    if "tags" in data:
        attempt("tags", clean_tag_names, data["tags"])
    if data.get("id_number") not in (None, ""):
        attempt("id_number", normalize_resident_id, data["id_number"])
    elif "id_number" in data:
        cleaned["id_number"] = ""
    if data.get("credit_code") not in (None, ""):
        attempt("credit_code", normalize_uscc, data["credit_code"])
    elif "credit_code" in data:
        cleaned["credit_code"] = ""

    kind = cleaned.get("kind") or (instance.kind if instance else Kind.PERSON)
    name = cleaned.get("name", instance.name if instance else "")
    if not name and "name" not in errors:
        errors["name"] = [_("A customer needs a name.")]
    if kind == Kind.ORGANIZATION and cleaned.get("id_number"):
        errors.setdefault("id_number", []).append(
            _("An organisation has a credit code, not a resident ID number.")
        )
    if "custom_fields" in data or instance is None:
        try:
            cleaned["custom_fields"] = validate_custom_fields(
                data.get("custom_fields"), kind, instance.custom_fields if instance else None
            )
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    elif "kind" in cleaned and instance is not None and cleaned["kind"] != instance.kind:
        # A change of kind re-checks the required custom fields of the new kind.
        try:
            cleaned["custom_fields"] = validate_custom_fields({}, kind, instance.custom_fields)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return cleaned
