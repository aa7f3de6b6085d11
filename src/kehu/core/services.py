"""Writes of core configuration: custom field definitions."""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .changelog import Actor, diff, log_change, snapshot
from .models import AppliesTo, ChangeAction, CustomFieldDefinition, FieldType
from .normalize import clean_text

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
DEFINITION_FIELDS = [
    "key",
    "label",
    "field_type",
    "required",
    "choices",
    "applies_to",
    "help_text",
    "position",
]


def _require_admin(actor: Actor) -> None:
    user = actor.user
    if user is not None and not (user.is_superuser or getattr(user, "role", "") == "admin"):
        raise PermissionDenied(_("Only administrators may change custom fields."))


def clean_definition_input(data: dict, instance: CustomFieldDefinition | None) -> dict:
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    if instance is None or "key" in data:
        key = clean_text(data.get("key")).lower()
        if instance is not None and key != instance.key:
            errors["key"] = [_("The key of a field cannot change.")]
        elif not KEY_PATTERN.match(key):
            errors["key"] = [
                _("Use lower-case letters, digits and underscores, starting with a letter.")
            ]
        elif instance is None and CustomFieldDefinition.objects.filter(key=key).exists():
            errors["key"] = [_("A custom field with this key exists.")]
        else:
            cleaned["key"] = key
    if instance is None or "label" in data:
        label = clean_text(data.get("label"))
        if not label or len(label) > 100:
            errors["label"] = [_("Enter a label of at most 100 characters.")]
        else:
            cleaned["label"] = label
    if instance is None or "field_type" in data:
        ftype = clean_text(data.get("field_type"))
        if ftype not in FieldType.values:
            errors["field_type"] = [_("Choose a field type.")]
        elif instance is not None and ftype != instance.field_type:
            errors["field_type"] = [_("The type of a field cannot change; create a new field.")]
        else:
            cleaned["field_type"] = ftype
    if "required" in data:
        cleaned["required"] = data["required"] in (True, "true", "on", "1", 1, "True")
    if "applies_to" in data:
        if data["applies_to"] not in AppliesTo.values:
            errors["applies_to"] = [_("Choose who the field applies to.")]
        else:
            cleaned["applies_to"] = data["applies_to"]
    if "help_text" in data:
        cleaned["help_text"] = clean_text(data["help_text"])[:200]
    if "position" in data:
        try:
            cleaned["position"] = max(0, int(data["position"]))
        except (TypeError, ValueError):
            errors["position"] = [_("Enter a whole number.")]
    ftype = cleaned.get("field_type") or (instance.field_type if instance else "")
    if "choices" in data or (
        instance is None and ftype in (FieldType.CHOICE, FieldType.MULTICHOICE)
    ):
        raw = data.get("choices") or []
        if isinstance(raw, str):
            raw = re.split(r"[\n,，;；]", raw)
        if not isinstance(raw, list):
            errors["choices"] = [_("Enter the choices as a list.")]
        else:
            choices = []
            for item in raw:
                text = clean_text(item)
                if text and text not in choices:
                    choices.append(text[:100])
            if ftype in (FieldType.CHOICE, FieldType.MULTICHOICE) and not choices:
                errors["choices"] = [_("A choice field needs at least one choice.")]
            cleaned["choices"] = choices
    if errors:
        raise ValidationError(errors)
    return cleaned


def custom_field_create(*, actor: Actor, data: dict) -> CustomFieldDefinition:
    _require_admin(actor)
    cleaned = clean_definition_input(data, None)
    with transaction.atomic():
        definition = CustomFieldDefinition.objects.create(**cleaned)
        after = snapshot(definition, DEFINITION_FIELDS)
        log_change(definition, ChangeAction.CREATE, actor, {k: [None, v] for k, v in after.items()})
    return definition


def custom_field_update(*, actor: Actor, definition: CustomFieldDefinition, data: dict):
    _require_admin(actor)
    cleaned = clean_definition_input(data, definition)
    with transaction.atomic():
        before = snapshot(definition, DEFINITION_FIELDS)
        for field, value in cleaned.items():
            setattr(definition, field, value)
        changes = diff(before, snapshot(definition, DEFINITION_FIELDS))
        if changes:
            definition.save()
            log_change(definition, ChangeAction.UPDATE, actor, changes)
    return definition


def custom_field_delete(*, actor: Actor, definition: CustomFieldDefinition) -> None:
    """Removes the definition; values already stored stay in the records' JSON."""
    _require_admin(actor)
    with transaction.atomic():
        log_change(
            definition,
            ChangeAction.DELETE,
            actor,
            {k: [v, None] for k, v in snapshot(definition, DEFINITION_FIELDS).items()},
        )
        definition.delete()
