"""API errors: Django ValidationErrors become 400 with field errors, conflicts 409."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from kehu.core.errors import VersionConflict


def nest_errors(message_dict: dict) -> dict:
    """``{"custom_fields.x": [...]}`` becomes ``{"custom_fields": {"x": [...]}}``."""
    nested: dict = {}
    for key, messages in message_dict.items():
        if key == "__all__":
            key = "non_field_errors"
        head, dot, tail = key.partition(".")
        if dot:
            nested.setdefault(head, {})
            if isinstance(nested[head], dict):
                nested[head][tail] = messages
        else:
            nested[key] = messages
    return nested


def exception_handler(exc, context):
    if isinstance(exc, VersionConflict):
        return Response(
            {
                "detail": str(exc),
                "current_version": exc.current_version,
                "changed_fields": exc.changed_fields,
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            data = nest_errors(exc.message_dict)
        else:
            data = {"non_field_errors": exc.messages}
        return Response(data, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)
