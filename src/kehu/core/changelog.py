"""Writing the change log. Services call these inside their transaction."""

import datetime
import decimal
import json
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .models import ChangeAction, ChangeLogEntry, Channel


@dataclass(frozen=True)
class Actor:
    """Who makes a change and through which channel."""

    user: object | None
    channel: str = Channel.SYSTEM

    @classmethod
    def system(cls) -> "Actor":
        return cls(user=None, channel=Channel.SYSTEM)


def jsonable(value):
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def snapshot(instance: models.Model, fields: list[str]) -> dict:
    """Field values as JSON-ready data; foreign keys by id."""
    data = {}
    for name in fields:
        field = instance._meta.get_field(name)
        attname = field.attname if field.is_relation and field.many_to_one else name
        data[name] = jsonable(getattr(instance, attname))
    return data


def diff(before: dict, after: dict) -> dict:
    """Per field ``[before, after]`` for the fields whose value changed."""
    changes = {}
    for key in after.keys() | before.keys():
        old, new = before.get(key), after.get(key)
        if old != new:
            changes[key] = [old, new]
    return changes


def log_change(
    instance: models.Model,
    action: str,
    actor: Actor,
    changes: dict | None = None,
    parent: models.Model | None = None,
) -> ChangeLogEntry:
    return ChangeLogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(type(instance)),
        object_id=instance.pk,
        object_repr=str(instance)[:200],
        parent_type=ContentType.objects.get_for_model(type(parent)) if parent else None,
        parent_id=parent.pk if parent else None,
        action=action,
        user=actor.user if getattr(actor.user, "pk", None) else None,
        channel=actor.channel,
        changes=changes or {},
        version=getattr(instance, "version", None),
    )


def history_for(instance: models.Model):
    """Entries for a record and for the records that belong to it, newest first."""
    ct = ContentType.objects.get_for_model(type(instance))
    return ChangeLogEntry.objects.filter(
        models.Q(content_type=ct, object_id=instance.pk)
        | models.Q(parent_type=ct, parent_id=instance.pk)
    ).select_related("user", "content_type")


def log_created_in_bulk(model, parent_model, actor: Actor, entries, when) -> None:
    """ "Created" entries for many new records at once, without model instances
    (batch ingestion, care tasks): ``entries`` yields (object id, text shown,
    parent id, {field: value}) for records of ``model`` that belong to records of
    ``parent_model``."""
    log_in_bulk(
        model,
        ChangeAction.CREATE,
        actor,
        (
            (object_id, shown, parent_id, {name: [None, value] for name, value in fields.items()})
            for object_id, shown, parent_id, fields in entries
        ),
        when,
        parent_model=parent_model,
        version=1,
    )


def log_in_bulk(
    model, action: str, actor: Actor, entries, when, *, parent_model=None, version=None
) -> None:
    """Entries for many records at once, without model instances: ``entries``
    yields (object id, text shown, parent id or None, {field: [before, after]})."""
    from .bulk import insert_rows

    record_type = ContentType.objects.get_for_model(model).pk
    parent_type = ContentType.objects.get_for_model(parent_model).pk if parent_model else None
    user_id = getattr(actor.user, "pk", None)
    channel = str(actor.channel)
    insert_rows(
        ChangeLogEntry,
        [
            "content_type_id",
            "object_id",
            "object_repr",
            "parent_type_id",
            "parent_id",
            "action",
            "user_id",
            "channel",
            "changes",
            "version",
            "timestamp",
        ],
        (
            (
                record_type,
                object_id,
                str(shown)[:200],
                parent_type if parent_id is not None else None,
                parent_id,
                str(action),
                user_id,
                channel,
                json.dumps(jsonable(changes), ensure_ascii=False),
                version,
                when,
            )
            for object_id, shown, parent_id, changes in entries
        ),
    )


__all__ = [
    "Actor",
    "ChangeAction",
    "diff",
    "history_for",
    "log_change",
    "log_created_in_bulk",
    "log_in_bulk",
    "snapshot",
]
