"""Validation and coercion of custom field values; one rule for form, API and import."""

import datetime
import decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import CustomFieldDefinition, FieldType
from .normalize import clean_text

TRUE_WORDS = {"true", "1", "yes", "y", "on", "是", "对", "真"}
FALSE_WORDS = {"false", "0", "no", "n", "off", "否", "不", "假"}


def definitions_for(kind: str | None = None) -> list[CustomFieldDefinition]:
    defs = list(CustomFieldDefinition.objects.all())
    return [d for d in defs if kind is None or d.applies_to_kind(kind)]


def is_empty(value) -> bool:
    return value is None or value == "" or value == []


def coerce_value(definition: CustomFieldDefinition, value):
    """Return the stored JSON form of ``value`` or raise ValidationError."""
    ftype = definition.field_type
    if ftype == FieldType.TEXT:
        text = clean_text(value)
        if len(text) > 1000:
            raise ValidationError(_("At most 1000 characters."), code="max_length")
        return text
    if ftype == FieldType.INTEGER:
        if isinstance(value, bool):
            raise ValidationError(_("Enter a whole number."), code="invalid")
        try:
            number = decimal.Decimal(clean_text(value))
        except (decimal.InvalidOperation, ValueError):
            raise ValidationError(_("Enter a whole number."), code="invalid") from None
        if number != number.to_integral_value() or abs(number) > 10**15:
            raise ValidationError(_("Enter a whole number."), code="invalid")
        return int(number)
    if ftype == FieldType.DECIMAL:
        if isinstance(value, bool):
            raise ValidationError(_("Enter a number."), code="invalid")
        try:
            number = decimal.Decimal(clean_text(value).replace(",", ""))
        except (decimal.InvalidOperation, ValueError):
            raise ValidationError(_("Enter a number."), code="invalid") from None
        if not number.is_finite() or abs(number) >= 10**15:
            raise ValidationError(_("Enter a number."), code="invalid")
        return str(number)
    if ftype == FieldType.DATE:
        if isinstance(value, datetime.date):
            return value.isoformat()
        try:
            return datetime.date.fromisoformat(clean_text(value).replace("/", "-")).isoformat()
        except ValueError:
            raise ValidationError(_("Enter a date as YYYY-MM-DD."), code="invalid") from None
    if ftype == FieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        word = clean_text(value).lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValidationError(_("Enter yes or no."), code="invalid")
    if ftype == FieldType.CHOICE:
        text = clean_text(value)
        if text not in definition.choices:
            raise ValidationError(
                _("“%(value)s” is not one of the choices."),
                code="invalid_choice",
                params={"value": text},
            )
        return text
    if ftype == FieldType.MULTICHOICE:
        items = value if isinstance(value, list | tuple) else str(value).split(",")
        cleaned = []
        for item in items:
            text = clean_text(item)
            if not text:
                continue
            if text not in definition.choices:
                raise ValidationError(
                    _("“%(value)s” is not one of the choices."),
                    code="invalid_choice",
                    params={"value": text},
                )
            if text not in cleaned:
                cleaned.append(text)
        return cleaned
    raise ValidationError(_("Unknown field type."), code="invalid")


def validate_custom_fields(values: dict | None, kind: str, existing: dict | None = None) -> dict:
    """Validate a full or partial set of values against the definitions for ``kind``.

    ``existing`` holds the record's current values; keys missing from ``values``
    keep them. Errors are keyed by field key; unknown keys are refused so that a
    typo is never silently dropped.
    """
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ValidationError({"custom_fields": [_("Custom fields must be an object.")]})
    definitions = {d.key: d for d in definitions_for()}
    result = dict(existing or {})
    errors: dict[str, list] = {}
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None:
            errors[key] = [_("There is no custom field “%(key)s”.") % {"key": key}]
            continue
        if not definition.applies_to_kind(kind):
            if not is_empty(value):
                errors[key] = [_("This field does not apply to this kind of customer.")]
            continue
        if is_empty(value):
            result.pop(key, None)
            continue
        try:
            result[key] = coerce_value(definition, value)
        except ValidationError as exc:
            errors[key] = exc.messages
    for key, definition in definitions.items():
        applies = definition.required and definition.applies_to_kind(kind)
        if applies and key not in errors and is_empty(result.get(key)):
            errors[key] = [_("This field is required.")]
    # Values of a deleted definition stay in the record: nothing is silently dropped.
    if errors:
        # Keys "custom_fields.<key>": the API nests them, forms map them to inputs.
        raise ValidationError({f"custom_fields.{k}": v for k, v in errors.items()})
    return result
