"""Every write of satisfaction surveys: building a survey, inviting customers
through single-use links, and taking their answers."""

import datetime
import secrets

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts import roles
from kehu.core.changelog import Actor, diff, log_change, snapshot
from kehu.core.errors import VersionConflict
from kehu.core.models import ChangeAction, Channel
from kehu.core.records import soft_delete
from kehu.customers.models import Customer

from .models import (
    QuestionKind,
    Survey,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    Ticket,
)
from .services import can_handle

SURVEY_FIELDS = ["name", "title", "intro", "thanks", "is_open", "valid_days"]
MAX_QUESTIONS = 50
MAX_CHOICES = 30
MAX_TEXT_ANSWER = 2000
MAX_INVITATIONS = 1000
CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)


def can_manage_surveys(user) -> bool:
    """Who builds surveys: admins, managers, support and analysts."""
    return roles.effective_role(user) in ("admin", "manager", "support", "analyst")


def _prose(value) -> str:
    """Trimmed, inner whitespace collapsed; unlike names and keys, text shown to
    customers keeps its full-width punctuation (？，。)."""
    return " ".join(str(value if value is not None else "").split())


def can_send_surveys(user) -> bool:
    """Who may send survey links at all (to the customers they may handle)."""
    return roles.write_scope(user) != "none" or roles.effective_role(user) == "support"


def _require_manager(actor: Actor) -> None:
    if actor.user is not None and not can_manage_surveys(actor.user):
        raise PermissionDenied(_("Your role may not build surveys."))


# ---- the survey and its questions --------------------------------------------------


def _clean_survey(data: dict, creating: bool) -> dict:
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    for name, limit, required in (
        ("name", 100, True),
        ("title", 200, True),
        ("thanks", 500, False),
    ):
        if name in data or (creating and required):
            value = _prose(data.get(name) or "")
            if required and not value:
                errors[name] = [_("This field is required.")]
            elif len(value) > limit:
                errors[name] = [_("At most %(n)d characters.") % {"n": limit}]
            cleaned[name] = value
    if "intro" in data:
        intro = str(data.get("intro") or "").strip()
        if len(intro) > 2000:
            errors["intro"] = [_("At most %(n)d characters.") % {"n": 2000}]
        cleaned["intro"] = intro
    if "is_open" in data:
        if not isinstance(data["is_open"], bool):
            errors["is_open"] = [_("Use true or false.")]
        cleaned["is_open"] = data["is_open"]
    if "valid_days" in data:
        days = data["valid_days"]
        if isinstance(days, str) and days.strip().isdigit():
            days = int(days)
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
            errors["valid_days"] = [_("Use a whole number of days from 1 to 365.")]
        cleaned["valid_days"] = days
    if errors:
        raise ValidationError(errors)
    return cleaned


def _clean_question(item, errors: list) -> dict | None:
    """One question of the builder, or None with its problems added to ``errors``."""
    if not isinstance(item, dict):
        errors.append(_("Each question must be an object."))
        return None
    problems = []
    kind = item.get("kind")
    if kind not in QuestionKind.values:
        problems.append(
            _("kind: use one of: %(types)s.") % {"types": ", ".join(QuestionKind.values)}
        )
    prompt = _prose(item.get("prompt") or "")
    if not prompt:
        problems.append(_("prompt: this field is required."))
    elif len(prompt) > 300:
        problems.append(_("prompt: at most %(n)d characters.") % {"n": 300})
    choices = item.get("choices") or []
    if kind in CHOICE_KINDS:
        if isinstance(choices, str):
            choices = choices.splitlines()
        if not isinstance(choices, list):
            problems.append(_("choices: send a list of texts."))
            choices = []
        choices = [_prose(str(c)) for c in choices if _prose(str(c))]
        if len(choices) < 2:
            problems.append(_("choices: give at least two choices."))
        elif len(choices) > MAX_CHOICES:
            problems.append(_("choices: at most %(n)d choices.") % {"n": MAX_CHOICES})
        elif len(set(choices)) != len(choices):
            problems.append(_("choices: each choice must differ from the others."))
        elif any(len(c) > 200 for c in choices):
            problems.append(_("choices: at most %(n)d characters each.") % {"n": 200})
    else:
        choices = []
    required = item.get("required", True)
    if not isinstance(required, bool):
        problems.append(_("required: use true or false."))
    question_id = item.get("id")
    if question_id is not None and (
        isinstance(question_id, bool) or not isinstance(question_id, int)
    ):
        problems.append(_("id: use the id of one of this survey's questions."))
    if problems:
        errors.append(" ".join(problems))
        return None
    return {
        "id": question_id,
        "kind": kind,
        "prompt": prompt,
        "choices": choices,
        "required": required,
    }


def _clean_questions(value) -> list[dict]:
    if not isinstance(value, list):
        raise ValidationError({"questions": [_("Send a list of questions.")]})
    if not value:
        raise ValidationError({"questions": [_("A survey needs at least one question.")]})
    if len(value) > MAX_QUESTIONS:
        raise ValidationError({"questions": [_("At most %(n)d questions.") % {"n": MAX_QUESTIONS}]})
    errors: list[str] = []
    cleaned = []
    for index, item in enumerate(value, start=1):
        found: list[str] = []
        question = _clean_question(item, found)
        if found:
            errors.append(_("Question %(n)d: %(problem)s") % {"n": index, "problem": found[0]})
        cleaned.append(question)
    if errors:
        raise ValidationError({"questions": errors})
    return cleaned


def _questions_snapshot(survey: Survey) -> list:
    return [
        [q.kind, q.prompt, q.choices, q.required]
        for q in survey.questions.all().order_by("position", "id")
    ]


def _save_questions(survey: Survey, questions: list[dict]) -> None:
    """Replace the survey's questions with ``questions``. A question that has
    answers keeps its kind and choices and may not be removed: its answers would
    lose their meaning."""
    existing = {q.pk: q for q in survey.questions.all()}
    answered = _answered_question_ids(survey) if existing else set()
    errors = []
    kept = set()
    for index, item in enumerate(questions, start=1):
        if item["id"] is None:
            continue
        question = existing.get(item["id"])
        if question is None:
            errors.append(
                _("Question %(n)d: this survey has no question with this id.") % {"n": index}
            )
        elif question.pk in kept:
            errors.append(_("Question %(n)d: this question is listed twice.") % {"n": index})
        elif question.pk in answered and (
            question.kind != item["kind"] or question.choices != item["choices"]
        ):
            errors.append(
                _("Question %(n)d: it has answers, so its kind and choices cannot change.")
                % {"n": index}
            )
        kept.add(item["id"])
    for pk in answered - kept:
        errors.append(
            _("The question “%(prompt)s” has answers and cannot be removed.")
            % {"prompt": existing[pk].prompt}
        )
    if errors:
        raise ValidationError({"questions": errors})
    SurveyQuestion.objects.filter(survey=survey).exclude(pk__in=kept).delete()
    for position, item in enumerate(questions):
        values = {k: item[k] for k in ("kind", "prompt", "choices", "required")}
        if item["id"] is None:
            SurveyQuestion.objects.create(survey=survey, position=position, **values)
        else:
            SurveyQuestion.objects.filter(pk=item["id"]).update(position=position, **values)


def _answered_question_ids(survey: Survey) -> set[int]:
    ids: set[int] = set()
    for answers in (
        SurveyResponse.objects.filter(survey=survey).values_list("answers", flat=True).iterator()
    ):
        ids.update(int(key) for key in answers)
    return ids


def _clean_all(data: dict, creating: bool) -> tuple[dict, list[dict] | None]:
    """The survey's fields and questions, every problem of both reported at once."""
    errors: dict[str, list[str]] = {}
    cleaned, questions = {}, None
    try:
        cleaned = _clean_survey(data, creating)
    except ValidationError as error:
        errors.update(error.message_dict)
    if creating or "questions" in data:
        try:
            questions = _clean_questions(data.get("questions"))
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned, questions


def survey_create(*, actor: Actor, data: dict) -> Survey:
    _require_manager(actor)
    cleaned, questions = _clean_all(data, creating=True)
    if any(q["id"] is not None for q in questions):
        raise ValidationError({"questions": [_("A new survey's questions have no ids yet.")]})
    with transaction.atomic():
        survey = Survey.objects.create(**cleaned)
        _save_questions(survey, questions)
        log_change(
            survey,
            ChangeAction.CREATE,
            actor,
            {
                **{k: [None, v] for k, v in snapshot(survey, SURVEY_FIELDS).items()},
                "questions": [None, _questions_snapshot(survey)],
            },
        )
    return survey


def survey_update(*, actor: Actor, survey: Survey, data: dict, version) -> Survey:
    """Change a survey and, when ``questions`` is sent, its whole list of questions
    (send each kept question with its ``id``)."""
    _require_manager(actor)
    cleaned, questions = _clean_all(data, creating=False)
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise ValidationError({"version": [_("Send the version you last read.")]}) from None
    with transaction.atomic():
        current = Survey.objects.select_for_update().get(pk=survey.pk)
        if current.version != version:
            raise VersionConflict(current.version)
        before = {**snapshot(current, SURVEY_FIELDS), "questions": _questions_snapshot(current)}
        for name, value in cleaned.items():
            setattr(current, name, value)
        if questions is not None:
            _save_questions(current, questions)
        changes = diff(
            before, {**snapshot(current, SURVEY_FIELDS), "questions": _questions_snapshot(current)}
        )
        if changes:
            current.version += 1
            current.updated_at = timezone.now()
            current.save()
            log_change(current, ChangeAction.UPDATE, actor, changes)
    return current


def survey_delete(*, actor: Actor, survey: Survey) -> None:
    """To the recycle bin; its invitations stop working, its answers stay counted."""
    _require_manager(actor)
    soft_delete(actor, survey)


# ---- invitations --------------------------------------------------------------------


def _related(model, value, customer: Customer, field: str, errors: dict):
    """The ``model`` row with id ``value`` that belongs to ``customer``, or None."""
    if value in (None, ""):
        return None
    try:
        pk = int(value)
    except (TypeError, ValueError):
        errors[field] = [_("Use the id of one of this customer's records.")]
        return None
    row = model.objects.filter(pk=pk, customer=customer).first()
    if row is None:
        errors[field] = [
            _("This customer has no %(what)s with this id.") % {"what": model._meta.verbose_name}
        ]
    return row


def invitation_create(
    *,
    actor: Actor,
    survey: Survey,
    customer: Customer,
    ticket=None,
    order=None,
    channel: str = "link",
) -> SurveyInvitation:
    """A single-use link for ``customer`` to answer ``survey``, tied to the ticket or
    order it follows. Asking again while the customer's last link for the same
    survey and ticket or order is still unanswered and valid gives that link back."""
    if actor.user is not None and not can_handle(actor.user, customer):
        raise PermissionDenied(_("You may not send surveys to this customer."))
    errors: dict[str, list[str]] = {}
    if survey.deleted_at is not None or not survey.is_open:
        errors["survey"] = [_("This survey is closed.")]
    ticket = _related(Ticket, ticket, customer, "ticket", errors)
    order = _related(apps.get_model("sales", "Order"), order, customer, "order", errors)
    channel = _prose(str(channel or "link"))[:12] or "link"
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        pending = SurveyInvitation.objects.filter(
            survey=survey,
            customer=customer,
            ticket=ticket,
            order=order,
            answered_at__isnull=True,
            expires_at__gt=now,
        ).first()
        if pending is not None:
            return pending
        invitation = SurveyInvitation.objects.create(
            survey=survey,
            customer=customer,
            token=secrets.token_urlsafe(32),
            ticket=ticket,
            order=order,
            channel=channel,
            sent_by=actor.user if getattr(actor.user, "pk", None) else None,
            sent_at=now,
            expires_at=now + datetime.timedelta(days=survey.valid_days),
        )
        log_change(
            invitation,
            ChangeAction.CREATE,
            actor,
            {"survey": [None, survey.name], "ticket": [None, getattr(ticket, "pk", None)]},
            parent=customer,
        )
    return invitation


# ---- answers ---------------------------------------------------------------------------


class InvitationUnusable(Exception):
    """The link was answered already, expired, or its survey closed."""


def invitation_for_answering(token: str) -> SurveyInvitation:
    """The invitation behind a link; DoesNotExist for a link Kehu never sent,
    InvitationUnusable (with the reason) for one that cannot take answers."""
    invitation = SurveyInvitation.objects.select_related("survey").get(token=str(token))
    if invitation.answered_at is not None:
        raise InvitationUnusable(_("This survey has been answered already. Thank you!"))
    if invitation.expires_at < timezone.now():
        raise InvitationUnusable(_("This link has expired."))
    if invitation.survey.deleted_at is not None or not invitation.survey.is_open:
        raise InvitationUnusable(_("This survey is closed."))
    return invitation


def _answer(question: SurveyQuestion, value):
    """The cleaned answer to ``question``; None when left blank; ValueError with
    the reason when it is not a valid answer."""
    if value in (None, "", []):
        return None
    if question.scale is not None:
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value not in question.scale:
            raise ValueError(
                _("Choose a score from %(low)d to %(high)d.")
                % {"low": question.scale.start, "high": question.scale.stop - 1}
            )
        return value
    if question.kind == QuestionKind.SINGLE:
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, str) or value not in question.choices:
            raise ValueError(_("Choose one of the choices given."))
        return value
    if question.kind == QuestionKind.MULTIPLE:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or any(v not in question.choices for v in value):
            raise ValueError(_("Choose among the choices given."))
        return [c for c in question.choices if c in value]  # the survey's order, no repeats
    text = str(value).strip()
    if len(text) > MAX_TEXT_ANSWER:
        raise ValueError(_("At most %(n)d characters.") % {"n": MAX_TEXT_ANSWER})
    return text or None


def response_submit(*, token: str, answers: dict) -> SurveyResponse:
    """Take the answers given through a link, once. ``answers`` maps question ids
    (as text or numbers) to a score, a choice, a list of choices or a text.
    ValidationError names each bad question by its id; InvitationUnusable when the
    link cannot take answers; DoesNotExist for an unknown link."""
    if not isinstance(answers, dict):
        raise ValidationError({"answers": [_("Send the answers as an object.")]})
    invitation = invitation_for_answering(token)
    questions = {str(q.pk): q for q in invitation.survey.questions.all()}
    errors: dict[str, list[str]] = {}
    for key in answers:
        if str(key) not in questions:
            errors[str(key)] = [_("This survey has no such question.")]
    cleaned: dict[str, object] = {}
    for key, question in questions.items():
        try:
            value = _answer(question, answers.get(key, answers.get(int(key))))
        except ValueError as error:
            errors[key] = [str(error)]
            continue
        if value is None:
            if question.required:
                errors[key] = [_("Please answer this question.")]
        else:
            cleaned[key] = value
    if errors:
        raise ValidationError(errors)
    ordered = sorted(questions.values(), key=lambda q: (q.position, q.pk))
    first = {
        kind: next(
            (cleaned.get(str(q.pk)) for q in ordered if q.kind == kind and str(q.pk) in cleaned),
            None,
        )
        for kind in (QuestionKind.CSAT, QuestionKind.NPS)
    }
    now = timezone.now()
    try:
        with transaction.atomic():
            current = SurveyInvitation.objects.select_for_update().get(pk=invitation.pk)
            if current.answered_at is not None:
                raise InvitationUnusable(_("This survey has been answered already. Thank you!"))
            response = SurveyResponse.objects.create(
                invitation=current,
                survey_id=current.survey_id,
                customer_id=current.customer_id,
                ticket_id=current.ticket_id,
                order_id=current.order_id,
                submitted_at=now,
                csat=first[QuestionKind.CSAT],
                nps=first[QuestionKind.NPS],
                answers=cleaned,
            )
            current.answered_at = now
            current.save(update_fields=["answered_at"])
            log_change(
                response,
                ChangeAction.CREATE,
                Actor(user=None, channel=Channel.SYSTEM),
                {"csat": [None, response.csat], "nps": [None, response.nps]},
                parent=Customer(pk=current.customer_id),
            )
    except IntegrityError:  # a second submission raced this one
        raise InvitationUnusable(_("This survey has been answered already. Thank you!")) from None
    return response
