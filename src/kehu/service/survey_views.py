"""Survey pages: the builder, the results, sending links, and the public answer
page customers open on their phones."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from kehu.core.errors import VersionConflict
from kehu.core.normalize import parse_moment
from kehu.core.views import ui_actor
from kehu.customers import queries as customer_queries
from kehu.customers.timeline import Entry

from . import survey_queries, survey_services
from .models import QuestionKind, Survey, SurveyInvitation, SurveyResponse, Ticket

MAX_ANSWER_BODY = 64 * 1024
BLANK_QUESTION_ROWS = 3


def responses_of(customer):
    return SurveyResponse.objects.filter(customer=customer).select_related("survey")


def response_entry(response):
    scores = []
    if response.csat is not None:
        scores.append(f"CSAT {response.csat}/5")
    if response.nps is not None:
        scores.append(f"NPS {response.nps}/10")
    return Entry(
        "survey",
        response.submitted_at,
        response.pk,
        " · ".join([response.survey.name, *scores]),
        {"survey": response.survey_id, "csat": response.csat, "nps": response.nps},
    )


def customer_surveys_panel(request, customer) -> dict:
    """Answers and pending links on the customer page, with a form to send one."""
    can_send = survey_services.can_send_surveys(request.user) and survey_services.can_handle(
        request.user, customer
    )
    return {
        "customer": customer,
        "responses": list(responses_of(customer).order_by("-submitted_at")[:10]),
        "pending": [
            (
                invitation,
                request.build_absolute_uri(reverse("survey-answer", args=[invitation.token])),
            )
            for invitation in SurveyInvitation.objects.filter(
                customer=customer, answered_at__isnull=True
            )
            .select_related("survey")
            .order_by("-sent_at")[:10]
            if can_send and not invitation.is_expired
        ],
        "can_send": can_send,
        "surveys": list(Survey.objects.filter(is_open=True).order_by("name")) if can_send else [],
        "tickets": list(Ticket.objects.filter(customer=customer).order_by("-opened_at")[:20])
        if can_send
        else [],
    }


def survey_invite(request, customer_pk):
    customer = get_object_or_404(
        customer_queries.customers_visible_to(request.user), pk=customer_pk
    )
    survey = Survey.objects.filter(pk=request.POST.get("survey") or 0).first()
    back = request.POST.get("next") or f"/customers/{customer.pk}/#surveys"
    if not back.startswith("/"):
        back = "/"
    if survey is None:
        messages.error(request, _("Choose a survey."))
        return redirect(back)
    try:
        invitation = survey_services.invitation_create(
            actor=ui_actor(request),
            survey=survey,
            customer=customer,
            ticket=request.POST.get("ticket") or None,
            channel=request.POST.get("channel") or "link",
        )
    except (ValidationError, PermissionDenied) as error:
        problems = error.messages if isinstance(error, ValidationError) else [str(error)]
        messages.error(request, " ".join(problems))
        return redirect(back)
    link = request.build_absolute_uri(reverse("survey-answer", args=[invitation.token]))
    messages.success(
        request, _("Survey link for %(name)s: %(link)s") % {"name": customer.name, "link": link}
    )
    return redirect(back)


# ---- builder and results --------------------------------------------------------------


def survey_list(request):
    surveys = list(survey_queries.surveys_for(request.user).order_by("-created_at"))
    by_survey = _figures_by_survey(request.user)
    return render(
        request,
        "service/survey_list.html",
        {
            "rows": [(s, by_survey.get(s.pk)) for s in surveys],
            "overall": next(iter(survey_queries.survey_report(request.user)), None),
            "can_manage": survey_services.can_manage_surveys(request.user),
        },
    )


def _figures_by_survey(user) -> dict:
    """Each survey's invitations, response rate, CSAT and NPS in two grouped reads."""
    rows: dict[int, dict] = {}
    invitations = survey_queries.invitations_visible_to(user).order_by().values("survey_id")
    for row in invitations.annotate(invitations=Count("pk"), answered=Count("answered_at")):
        rows[row["survey_id"]] = {**row}
    responses = survey_queries.responses_visible_to(user).order_by().values("survey_id")
    for row in responses.annotate(**survey_queries.score_aggregates()):
        rows.setdefault(row["survey_id"], {"invitations": 0, "answered": 0}).update(row)
    empty = {k: 0 for k in survey_queries.score_aggregates()} | {"csat_average": None}
    return {pk: survey_queries.with_scores({**empty, **row}) for pk, row in rows.items()}


def _questions_from_post(post) -> list[dict]:
    """The builder's rows as the service takes them; blank and removed rows dropped."""
    questions = []
    try:
        count = min(int(post.get("question_count", 0)), survey_services.MAX_QUESTIONS + 20)
    except ValueError:
        count = 0
    for index in range(count):
        prefix = f"q{index}-"
        prompt = post.get(prefix + "prompt", "").strip()
        if not prompt or post.get(prefix + "remove"):
            continue
        question_id = post.get(prefix + "id", "")
        questions.append(
            {
                "id": int(question_id) if question_id.isdigit() else None,
                "kind": post.get(prefix + "kind", ""),
                "prompt": prompt,
                "choices": post.get(prefix + "choices", "").splitlines(),
                "required": bool(post.get(prefix + "required")),
            }
        )
    return questions


class _AddRows(Exception):
    """The builder asked for more blank question rows, not to save."""


def survey_edit(request, pk=None):
    if not survey_services.can_manage_surveys(request.user):
        raise PermissionDenied
    survey = get_object_or_404(Survey, pk=pk) if pk else None
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = {
            "name": request.POST.get("name", ""),
            "title": request.POST.get("title", ""),
            "intro": request.POST.get("intro", ""),
            "thanks": request.POST.get("thanks", ""),
            "is_open": bool(request.POST.get("is_open")),
            "valid_days": request.POST.get("valid_days", ""),
            "questions": _questions_from_post(request.POST),
        }
        try:
            if request.POST.get("more"):
                raise _AddRows
            if survey is None:
                survey = survey_services.survey_create(actor=ui_actor(request), data=data)
            else:
                survey = survey_services.survey_update(
                    actor=ui_actor(request),
                    survey=survey,
                    data=data,
                    version=request.POST.get("version"),
                )
        except ValidationError as error:
            errors = error.message_dict
        except VersionConflict as error:
            errors = {"non_field_errors": [str(error)]}
        except _AddRows:
            pass
        else:
            messages.success(request, _("Survey saved."))
            return redirect("service:survey", pk=survey.pk)
        rows = data["questions"]
        values = data
    else:
        rows = [
            {
                "id": q.pk,
                "kind": q.kind,
                "prompt": q.prompt,
                "choices": q.choices,
                "required": q.required,
            }
            for q in (survey.questions.all() if survey else [])
        ]
        values = {
            "name": getattr(survey, "name", ""),
            "title": getattr(survey, "title", ""),
            "intro": getattr(survey, "intro", ""),
            "thanks": getattr(survey, "thanks", ""),
            "is_open": getattr(survey, "is_open", True),
            "valid_days": getattr(survey, "valid_days", 30),
        }
        if survey is None:
            rows = [
                {
                    "id": None,
                    "kind": "csat",
                    "prompt": _("How satisfied are you with our service?"),
                    "choices": [],
                    "required": True,
                },
                {
                    "id": None,
                    "kind": "nps",
                    "prompt": _("How likely are you to recommend us to a friend or colleague?"),
                    "choices": [],
                    "required": True,
                },
                {
                    "id": None,
                    "kind": "text",
                    "prompt": _("What could we do better?"),
                    "choices": [],
                    "required": False,
                },
            ]
    extra = BLANK_QUESTION_ROWS * (2 if request.POST.get("more") else 1)
    blank = {"id": None, "kind": "csat", "prompt": "", "choices": [], "required": True}
    rows = [*rows, *(dict(blank) for _row in range(extra))]
    return render(
        request,
        "service/survey_form.html",
        {
            "survey": survey,
            "values": values,
            "rows": [{**row, "choices_text": "\n".join(row["choices"])} for row in rows],
            "kinds": QuestionKind.choices,
            "errors": errors,
        },
        status=400 if errors else 200,
    )


def survey_detail(request, pk):
    survey = get_object_or_404(survey_queries.surveys_for(request.user), pk=pk)
    period = request.GET.get("period") or "month"
    group_by = request.GET.get("group_by") or None
    if period not in survey_queries.PERIODS:
        period = "month"
    if group_by not in survey_queries.GROUPS:
        group_by = None
    since = until = None
    for name in ("since", "until"):
        text = request.GET.get(name)
        if text:
            try:
                moment = parse_moment(text)
            except ValueError as error:
                messages.error(request, f"{name}: {error}")
                continue
            since, until = (moment, until) if name == "since" else (since, moment)
    responses = survey_queries.responses_visible_to(request.user).filter(survey=survey)
    return render(
        request,
        "service/survey_detail.html",
        {
            "survey": survey,
            "overall": next(
                iter(
                    survey_queries.survey_report(
                        request.user, survey=survey, since=since, until=until
                    )
                ),
                None,
            ),
            "report": survey_queries.survey_report(
                request.user,
                survey=survey,
                period=period,
                group_by=group_by,
                since=since,
                until=until,
            ),
            "period": period,
            "group_by": group_by,
            "periods": list(survey_queries.PERIODS.items()),
            "groups": [(k, label) for k, (_field, label) in survey_queries.GROUPS.items()],
            "questions": survey_queries.question_summary(survey, responses),
            "recent": list(responses.order_by("-submitted_at")[:20]),
            "can_manage": survey_services.can_manage_surveys(request.user),
            "since": request.GET.get("since", ""),
            "until": request.GET.get("until", ""),
        },
    )


# ---- the public answer page -------------------------------------------------------------


def survey_answer(request, token):
    """Open to anyone with the link; the link is the key, good for one answer."""
    if request.method == "POST" and int(request.META.get("CONTENT_LENGTH") or 0) > MAX_ANSWER_BODY:
        return render(
            request,
            "service/survey_closed.html",
            {"reason": _("The answers are too long.")},
            status=413,
        )
    try:
        invitation = survey_services.invitation_for_answering(token)
    except SurveyInvitation.DoesNotExist:
        raise Http404 from None
    except survey_services.InvitationUnusable as reason:
        return render(request, "service/survey_closed.html", {"reason": str(reason)}, status=410)
    questions = list(invitation.survey.questions.all())
    given: dict = {}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        for question in questions:
            key = str(question.pk)
            if question.kind == QuestionKind.MULTIPLE:
                given[key] = request.POST.getlist(key)
            else:
                given[key] = request.POST.get(key, "")
        try:
            survey_services.response_submit(token=token, answers=given)
        except ValidationError as error:
            errors = error.message_dict
        except survey_services.InvitationUnusable as reason:
            return render(
                request, "service/survey_closed.html", {"reason": str(reason)}, status=410
            )
        else:
            return render(request, "service/survey_thanks.html", {"survey": invitation.survey})
    return render(
        request,
        "service/survey_answer.html",
        {
            "survey": invitation.survey,
            "questions": [
                {
                    "question": q,
                    "value": given.get(str(q.pk), [] if q.kind == QuestionKind.MULTIPLE else ""),
                    "errors": errors.get(str(q.pk), []),
                }
                for q in questions
            ],
            "has_errors": bool(errors),
        },
        status=400 if errors else 200,
    )
