"""Writes of the classification standards (分类标准): dimensions and their
values and the rules that assign them (admins), and values given to a customer
by hand (whoever may edit the customer). Every write is validated, names the
field that is wrong and goes to the change log. Rule changes take effect at the
next run; a value given by hand shows at once."""

import json
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts import roles
from kehu.core.changelog import Actor, diff, log_change, snapshot
from kehu.core.models import AppliesTo, ChangeAction
from kehu.core.records import settings_update
from kehu.customers import queries as customer_queries
from kehu.customers.models import Customer, Tag
from kehu.customers.services import clean_tag_input

from . import dimensions, rules
from .models import Dimension, DimensionValue, ManualAssignment, Rule

DIMENSION_FIELDS = ["key", "name", "description", "applies_to", "multiple", "position", "active"]
RULE_FIELDS = ["name", "value", "tag", "conditions", "priority", "active", "overrides_manual"]
KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
MAX_VALUES = 50
MAX_PRIORITY = 1_000_000


def _require_admin(actor: Actor) -> None:
    if actor.user is not None and not roles.is_admin(actor.user):
        raise PermissionDenied(_("Only admins change how customers are classified."))


def _text(data: dict, name: str, limit: int, errors: dict, cleaned: dict, required=True) -> None:
    value = data.get(name)
    value = "" if value is None else str(value).strip()
    if (required and not value) or len(value) > limit or not value.isprintable():
        errors[name] = [
            _("Enter a name of up to %(n)d characters.") % {"n": limit}
            if required
            else _("Use up to %(n)d characters on one line.") % {"n": limit}
        ]
    else:
        cleaned[name] = value


def _flag(data: dict, name: str, errors: dict, cleaned: dict) -> None:
    value = data[name]
    if isinstance(value, str) and value.lower() in ("true", "on", "1", "false", "off", "0", ""):
        value = value.lower() in ("true", "on", "1")
    if not isinstance(value, bool):
        errors[name] = [_("Use true or false.")]
    else:
        cleaned[name] = value


def _whole(data: dict, name: str, high: int, errors: dict, cleaned: dict) -> None:
    value = data[name]
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) > high:
        errors[name] = [_("Enter a whole number from 0 to %(high)d.") % {"high": high}]
    else:
        cleaned[name] = int(text)


# ---- dimensions -----------------------------------------------------------------


def _clean_values(raw, errors: dict) -> list[dict] | None:
    """``[{"key", "name"}, …]`` in the order given; keys and names unique."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_VALUES:
        errors["values"] = [_("Send 1 to %(n)d values.") % {"n": MAX_VALUES}]
        return None
    cleaned = []
    for n, item in enumerate(raw, start=1):
        item = item if isinstance(item, dict) else {}
        key = str(item.get("key") or "").strip()
        name = str(item.get("name") or "").strip()
        if not KEY.fullmatch(key):
            errors["values"] = [
                _("Value %(n)d: a key is up to 40 lower-case letters, digits, - or _.") % {"n": n}
            ]
            return None
        if not name or len(name) > 60 or not name.isprintable():
            errors["values"] = [_("Value %(n)d: enter a name of up to 60 characters.") % {"n": n}]
            return None
        cleaned.append({"key": key, "name": name, "position": n})
    for attribute, message in (
        ("key", _("Two values have the key %(v)s.")),
        ("name", _("Two values are called %(v)s.")),
    ):
        seen: set[str] = set()
        for item in cleaned:
            if item[attribute] in seen:
                errors["values"] = [message % {"v": item[attribute]}]
                return None
            seen.add(item[attribute])
    return cleaned


def _clean_dimension(data: dict, dimension: Dimension | None) -> tuple[dict, list | None]:
    creating = dimension is None
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    if "key" in data or creating:
        key = str(data.get("key") or "").strip()
        if not KEY.fullmatch(key):
            errors["key"] = [_("Use up to 40 lower-case letters, digits, - or _.")]
        elif Dimension.objects.filter(key=key).exclude(pk=getattr(dimension, "pk", None)).exists():
            errors["key"] = [_("Another dimension has this key.")]
        else:
            cleaned["key"] = key
    if "name" in data or creating:
        _text(data, "name", 60, errors, cleaned)
    if "description" in data:
        _text(data, "description", 300, errors, cleaned, required=False)
    if "applies_to" in data:
        if data["applies_to"] not in AppliesTo.values:
            errors["applies_to"] = [
                _("Use one of: %(types)s.") % {"types": ", ".join(AppliesTo.values)}
            ]
        else:
            cleaned["applies_to"] = data["applies_to"]
    for name in ("multiple", "active"):
        if name in data:
            _flag(data, name, errors, cleaned)
    if "position" in data:
        _whole(data, "position", 10_000, errors, cleaned)
    values = None
    if "values" in data or creating:
        values = _clean_values(data.get("values"), errors)
    if errors:
        raise ValidationError(errors)
    if dimension is not None and cleaned.get("multiple") is False and dimension.multiple:
        several = (
            ManualAssignment.objects.filter(value__dimension=dimension)
            .values("customer_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
        if several:
            raise ValidationError(
                {
                    "multiple": [
                        _(
                            "%(n)d customers have several values given by hand; "
                            "leave them one each first."
                        )
                        % {"n": several}
                    ]
                }
            )
    return cleaned, values


def _value_list(dimension: Dimension) -> list[str]:
    return [f"{v.key}: {v.name}" for v in dimension.values.order_by("position", "id")]


def _sync_values(dimension: Dimension, values: list[dict]) -> None:
    current = {v.key: v for v in dimension.values.all()}
    wanted = {v["key"] for v in values}
    gone = [v for key, v in current.items() if key not in wanted]
    used = Rule.objects.filter(value__in=gone).select_related("value").first()
    if used is not None:
        raise ValidationError(
            {
                "values": [
                    _("The rule %(rule)s sets %(value)s; change or delete the rule first.")
                    % {"rule": used.name, "value": used.value.display_name}
                ]
            }
        )
    DimensionValue.objects.filter(pk__in=[v.pk for v in gone]).delete()
    for item in values:
        value = current.get(item["key"])
        if value is None:
            DimensionValue.objects.create(dimension=dimension, **item)
        elif (value.name, value.position) != (item["name"], item["position"]):
            value.name, value.position = item["name"], item["position"]
            value.save(update_fields=["name", "position"])


def dimension_save(*, actor: Actor, data: dict, dimension: Dimension | None = None) -> Dimension:
    """Create or change a dimension (admins). ``values`` replaces its values:
    a value keeps its identity (and its rules and hand-given customers) by its
    key; a value that a rule sets cannot be removed."""
    _require_admin(actor)
    cleaned, values = _clean_dimension(data, dimension)
    with transaction.atomic():
        if dimension is None:
            dimension = Dimension.objects.create(**cleaned)
            before: dict = {}
        else:
            dimension = Dimension.objects.select_for_update().get(pk=dimension.pk)
            before = snapshot(dimension, DIMENSION_FIELDS) | {"values": _value_list(dimension)}
            for name, value in cleaned.items():
                setattr(dimension, name, value)
            dimension.save()
        if values is not None:
            _sync_values(dimension, values)
        after = snapshot(dimension, DIMENSION_FIELDS) | {"values": _value_list(dimension)}
        changes = diff(before, after)
        if changes:
            action = ChangeAction.UPDATE if before else ChangeAction.CREATE
            log_change(dimension, action, actor, changes)
    return dimension


def dimension_delete(*, actor: Actor, dimension: Dimension) -> None:
    """Delete a dimension that no rule and no hand-given value uses; switch it
    off instead to keep them."""
    _require_admin(actor)
    if Rule.objects.filter(value__dimension=dimension).exists():
        raise ValidationError(
            {"key": [_("Rules set values of this dimension; delete them or switch it off.")]}
        )
    if ManualAssignment.objects.filter(value__dimension=dimension).exists():
        raise ValidationError(
            {"key": [_("Customers have values of it given by hand; switch it off instead.")]}
        )
    with transaction.atomic():
        log_change(dimension, ChangeAction.DELETE, actor, {"values": [_value_list(dimension), []]})
        dimension.delete()


# ---- rules ----------------------------------------------------------------------


def _conditions(raw, errors: dict):
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            errors["conditions"] = [_("Send the conditions as JSON.")]
            return None
    try:
        rules.compile_condition(raw, rules.fields_for(dimensions.custom_field_kinds()))
    except rules.RuleError as error:
        where = (
            _("condition %(path)s: %(reason)s") % {"path": error.path, "reason": error.reason}
            if error.path
            else error.reason
        )
        errors["conditions"] = [where]
        return None
    return raw


def clean_rule(data: dict, rule: Rule | None) -> dict:
    """Validated rule fields; ``tag`` is a tag's name, the tag may not exist
    yet (saving creates it)."""
    creating = rule is None
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    if "name" in data or creating:
        _text(data, "name", 100, errors, cleaned)
    value_given = data.get("value") not in (None, "")
    tag_given = data.get("tag") not in (None, "")
    if creating or "value" in data or "tag" in data:
        if value_given == tag_given:
            errors["value"] = [_("Choose either a dimension value or a tag for the rule to set.")]
        elif value_given:
            text = str(data["value"]).strip()
            found = (
                DimensionValue.objects.filter(pk=int(text)).select_related("dimension").first()
                if text.isdigit()
                else None
            )
            if found is None:
                errors["value"] = [_("Choose a value of a dimension.")]
            else:
                cleaned["value"], cleaned["tag"] = found, None
        else:
            name = str(data["tag"]).strip()
            existing = Tag.objects.filter(name=name).first()
            if existing is None:
                try:
                    name = clean_tag_input({"name": name})["name"]
                except ValidationError as error:
                    errors["tag"] = error.message_dict["name"]
            if "tag" not in errors:
                cleaned["value"], cleaned["tag"] = None, existing or Tag(name=name)
    if "conditions" in data or creating:
        conditions = _conditions(data.get("conditions"), errors)
        if conditions is not None:
            cleaned["conditions"] = conditions
    if "priority" in data:
        _whole(data, "priority", MAX_PRIORITY, errors, cleaned)
    for name in ("active", "overrides_manual"):
        if name in data:
            _flag(data, name, errors, cleaned)
    if errors:
        raise ValidationError(errors)
    return cleaned


def draft_rule(cleaned: dict, rule: Rule | None) -> Rule:
    """An unsaved rule as ``cleaned`` would make it (for the preview)."""
    draft = Rule(pk=getattr(rule, "pk", None))
    for name in RULE_FIELDS:
        if rule is not None:
            setattr(draft, name, getattr(rule, name))
    for name, value in cleaned.items():
        setattr(draft, name, value)
    if rule is None and "priority" not in cleaned:
        draft.priority = Rule._meta.get_field("priority").default
    if rule is None and "active" not in cleaned:
        draft.active = True
    return draft


def rule_save(*, actor: Actor, data: dict, rule: Rule | None = None) -> Rule:
    """Create or change a rule (admins): it sets a dimension value (``value``:
    the value's id) or a tag (``tag``: its name, created when new) on the
    customers its ``conditions`` match, from the next run on."""
    _require_admin(actor)
    cleaned = clean_rule(data, rule)
    with transaction.atomic():
        tag = cleaned.get("tag")
        if tag is not None and tag.pk is None:
            tag = cleaned["tag"] = Tag.objects.get_or_create(name=tag.name)[0]
            log_change(tag, ChangeAction.CREATE, actor, {"name": [None, tag.name]})
        if rule is None:
            rule = Rule.objects.create(**cleaned)
            log_change(rule, ChangeAction.CREATE, actor, diff({}, snapshot(rule, RULE_FIELDS)))
            return rule
        return settings_update(actor, rule, cleaned, RULE_FIELDS)


def rule_delete(*, actor: Actor, rule: Rule) -> None:
    """Delete a rule; the next run takes away what it gave."""
    _require_admin(actor)
    with transaction.atomic():
        log_change(rule, ChangeAction.DELETE, actor, {"conditions": [rule.conditions, None]})
        rule.delete()


# ---- values given by hand -------------------------------------------------------


def _hand_values(customer: Customer, dimension: Dimension) -> list[str]:
    return sorted(
        ManualAssignment.objects.filter(customer=customer, value__dimension=dimension).values_list(
            "value__key", flat=True
        )
    )


def _require_editor(actor: Actor, customer: Customer) -> None:
    if actor.user is not None and not customer_queries.can_edit(actor.user, customer):
        raise PermissionDenied(_("You may not change this customer."))


def manual_assign(*, actor: Actor, customer: Customer, value: DimensionValue) -> None:
    """Give ``customer`` a dimension value by hand; in a single-value dimension
    it replaces the value given before. It wins over rules unless a rule says
    otherwise, and shows on the customer page at once."""
    _require_editor(actor, customer)
    dimension = value.dimension
    if not dimension.active:
        raise ValidationError({"value": [_("This dimension is switched off.")]})
    if dimension.applies_to not in (AppliesTo.BOTH, customer.kind):
        raise ValidationError(
            {
                "value": [
                    _("%(dimension)s is not for this kind of customer.") % {"dimension": dimension}
                ]
            }
        )
    with transaction.atomic():
        before = _hand_values(customer, dimension)
        if value.key in before:
            return
        if not dimension.multiple:
            ManualAssignment.objects.filter(customer=customer, value__dimension=dimension).delete()
        ManualAssignment.objects.create(
            customer=customer,
            value=value,
            assigned_by=actor.user if getattr(actor.user, "pk", None) else None,
            assigned_at=timezone.now(),
        )
        after = _hand_values(customer, dimension)
        log_change(
            customer, ChangeAction.UPDATE, actor, {f"dimension.{dimension.key}": [before, after]}
        )
        dimensions.refresh([customer.pk])


def manual_unassign(*, actor: Actor, customer: Customer, value: DimensionValue) -> None:
    """Take back a value given by hand; rules decide again."""
    _require_editor(actor, customer)
    dimension = value.dimension
    with transaction.atomic():
        before = _hand_values(customer, dimension)
        if value.key not in before:
            return
        ManualAssignment.objects.filter(customer=customer, value=value).delete()
        after = _hand_values(customer, dimension)
        log_change(
            customer, ChangeAction.UPDATE, actor, {f"dimension.{dimension.key}": [before, after]}
        )
        dimensions.refresh([customer.pk])
