"""Cross-cutting building blocks: versioned soft-deleted records, change log, custom fields."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UnicodeJSONEncoder(DjangoJSONEncoder):
    """Stores Chinese as itself, not \\u escapes: readable in the database, and
    a text match on a JSON array ("茶" in ["茶","酒"]) works on every backend."""

    def __init__(self, *args, **kwargs):
        kwargs["ensure_ascii"] = False
        super().__init__(*args, **kwargs)


class Channel(models.TextChoices):
    UI = "ui", _("Web UI")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    AUTOMATION = "automation", _("Automation")
    SYSTEM = "system", _("System")


class LiveManager(models.Manager):
    """Default manager: hides soft-deleted records."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class BusinessRecord(models.Model):
    """Base of every business record: timestamps, optimistic version, soft delete."""

    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    objects = LiveManager()
    all_objects = models.Manager()  # noqa: DJ012 (a second manager, not a field)

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class ChangeAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
    RESTORE = "restore", _("Restored")
    PURGE = "purge", _("Purged")


class ChangeLogEntry(models.Model):
    """One change of one record: who, when, through what, and per field before → after.

    Its foreign keys have no database constraints: batch ingestion writes
    thousands of entries per request, and PostgreSQL checked each key at commit
    with a row lock on the content type and user (a third of the commit time).
    Content types and users are never hard-deleted, and Django still applies
    ``on_delete``."""

    # Indexed by the (type, id, time) indexes below, not on their own.
    content_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=200)
    # The record a change belongs to in a history view (a contact's change shows
    # on its customer's history).
    parent_type = models.ForeignKey(
        ContentType,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    parent_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=10, choices=ChangeAction.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.SYSTEM)
    timestamp = models.DateTimeField(default=timezone.now, db_index=True)
    changes = models.JSONField(default=dict, blank=True, encoder=UnicodeJSONEncoder)
    # The record's version after this change; a conflict names the fields changed since.
    version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-timestamp"]),
            models.Index(fields=["parent_type", "parent_id", "-timestamp"]),
        ]
        verbose_name = _("change log entry")
        verbose_name_plural = _("change log")

    def __str__(self):
        return f"{self.get_action_display()} {self.object_repr}"


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    INTEGER = "integer", _("Number")
    DECIMAL = "decimal", _("Decimal")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Single choice")
    MULTICHOICE = "multichoice", _("Multiple choice")
    BOOLEAN = "boolean", _("Yes / no")


class AppliesTo(models.TextChoices):
    BOTH = "both", _("Individuals and organisations")
    PERSON = "person", _("Individuals")
    ORGANIZATION = "organization", _("Organisations")


class CustomFieldDefinition(models.Model):
    """An admin-defined field; values live in the record's ``custom_fields`` JSON."""

    key = models.SlugField(
        _("key"),
        max_length=50,
        unique=True,
        help_text=_("Lower-case letters, digits and underscores; used in the API and filters."),
    )
    label = models.CharField(_("label"), max_length=100)
    field_type = models.CharField(_("type"), max_length=12, choices=FieldType.choices)
    required = models.BooleanField(_("required"), default=False)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    applies_to = models.CharField(
        _("applies to"), max_length=12, choices=AppliesTo.choices, default=AppliesTo.BOTH
    )
    help_text = models.CharField(_("help text"), max_length=200, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self):
        return self.label

    def applies_to_kind(self, kind: str) -> bool:
        return self.applies_to == AppliesTo.BOTH or self.applies_to == kind


class JobRun(models.Model):
    """When each scheduled job (reminders, care reminders, points expiry …) last
    ran and what it did: the worker reads it to run daily jobs once a day across
    restarts, and admins read it to see that the jobs run."""

    name = models.CharField(_("job"), max_length=60, unique=True)
    started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    ok = models.BooleanField(_("succeeded"), default=True)
    result = models.JSONField(_("result"), default=dict, blank=True, encoder=UnicodeJSONEncoder)

    class Meta:
        ordering = ["name"]
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")

    def __str__(self):
        return self.name


class ShippedName:
    """For admin-edited records that Kehu also ships (a tier, a dimension …):
    the shipped names are translated, an admin's own stay as typed."""

    @property
    def display_name(self) -> str:
        from django.utils.translation import gettext

        return gettext(self.name)
