"""The value grading schemes' form (客户分级): weights of recency, frequency,
spend and loyalty, and the grades, best first. Admins edit; the roles that
analyse read. The API writes through the same service."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts import roles
from kehu.core.views import posted_rows, ui_actor

from . import queries, services
from .models import GradeMethod, GradeScheme

EMPTY_GRADE_ROWS = 2
WEIGHTS = services.WEIGHTS


@login_required
def grade_scheme_edit(request, pk: int | None = None):
    if not queries.can_see_runs(request.user):
        raise PermissionDenied
    scheme = get_object_or_404(GradeScheme, pk=pk) if pk else None
    errors: dict = {}
    if request.method == "POST":
        if not roles.is_admin(request.user):
            raise PermissionDenied
        form = {
            "key": request.POST.get("key", ""),
            "name": request.POST.get("name", ""),
            "method": request.POST.get("method", GradeMethod.QUANTILES),
            **{w: request.POST.get(w, "0") or "0" for w in WEIGHTS},
            "grades": posted_rows(request.POST, {"label": "grade_label", "value": "grade_value"}),
            "active": "active" in request.POST,
            "position": request.POST.get("position", "0") or "0",
        }
        try:
            saved = services.grade_scheme_save(actor=ui_actor(request), data=form, scheme=scheme)
            messages.success(request, _("Saved. The next run grades by it."))
            return redirect("segments:grade_scheme", pk=saved.pk)
        except ValidationError as error:
            errors = error.message_dict
    elif scheme is not None:
        form = {
            "key": scheme.key,
            "name": scheme.name,
            "method": scheme.method,
            **{w: getattr(scheme, w) for w in WEIGHTS},
            "grades": scheme.grades,
            "active": scheme.active,
            "position": scheme.position,
        }
    else:
        form = {
            "key": "",
            "name": "",
            "method": GradeMethod.QUANTILES,
            **{w: 25 for w in WEIGHTS},
            "grades": [
                {"label": "高", "value": 20},
                {"label": "中", "value": 50},
                {"label": "低", "value": 30},
            ],
            "active": True,
            "position": 0,
        }
    weights = [
        (name, GradeScheme._meta.get_field(name).verbose_name, form[name], errors.get(name))
        for name in WEIGHTS
    ]
    return render(
        request,
        "segments/grade_scheme_form.html",
        {
            "scheme": scheme,
            "form": form,
            "weights": weights,
            "grade_rows": list(form["grades"]) + [{"label": "", "value": ""}] * EMPTY_GRADE_ROWS,
            "methods": GradeMethod.choices,
            "errors": errors,
            "can_edit": roles.is_admin(request.user),
        },
    )


@login_required
@require_POST
def grade_scheme_delete(request, pk: int):
    scheme = get_object_or_404(GradeScheme, pk=pk)
    services.grade_scheme_delete(actor=ui_actor(request), scheme=scheme)
    messages.success(request, _("Deleted."))
    return redirect("segments:dimensions")
