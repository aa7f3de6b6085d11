"""Updates and soft deletes of business records, the same for every app: version
check, per-field change log, one transaction."""

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .changelog import Actor, diff, log_change, snapshot
from .errors import VersionConflict
from .models import BusinessRecord, ChangeAction


def versioned_update(
    actor: Actor,
    record: BusinessRecord,
    cleaned: dict,
    version,
    fields: list[str],
    parent=None,
    adjust: Callable[[BusinessRecord], None] | None = None,
):
    """Apply ``cleaned`` to ``record`` if ``version`` is still its version (else
    VersionConflict); ``adjust`` may derive fields before the change is logged
    (a due time from a severity). Logged on ``parent`` when given."""
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise ValidationError({"version": [_("Send the version you last read.")]}) from None
    with transaction.atomic():
        current = type(record).objects.select_for_update().get(pk=record.pk)
        if current.version != version:
            raise VersionConflict(current.version)
        before = snapshot(current, fields)
        for name, value in cleaned.items():
            setattr(current, name, value)
        if adjust:
            adjust(current)
        changes = diff(before, snapshot(current, fields))
        if changes:
            current.version += 1
            current.updated_at = timezone.now()
            current.save()
            log_change(current, ChangeAction.UPDATE, actor, changes, parent=parent)
    return current


def settings_update(actor: Actor, record, cleaned: dict, fields: list[str]):
    """Apply ``cleaned`` to an unversioned record (an admin's setting: a tier, an
    earning rule) under a row lock, logging the fields that changed."""
    with transaction.atomic():
        current = type(record).objects.select_for_update().get(pk=record.pk)
        before = snapshot(current, fields)
        for name, value in cleaned.items():
            setattr(current, name, value)
        changes = diff(before, snapshot(current, fields))
        if changes:
            current.save()
            log_change(current, ChangeAction.UPDATE, actor, changes)
    return current


def soft_delete(actor: Actor, record: BusinessRecord, parent=None) -> None:
    """Move a record to the recycle bin: marked deleted, never removed."""
    with transaction.atomic():
        record.deleted_at = timezone.now()
        record.deleted_by = actor.user if getattr(actor.user, "pk", None) else None
        record.save(update_fields=["deleted_at", "deleted_by"])
        log_change(record, ChangeAction.DELETE, actor, parent=parent)
