"""Demo survey answers: stored as the answer page stores them, consistent with their
invitations, and telling the customers' story to the survey report."""

import datetime

import pytest

from kehu.accounts.models import User
from kehu.customers import demo
from kehu.customers.demo_history import EPOCH
from kehu.service import survey_demo, survey_queries, survey_services
from kehu.service.models import QuestionKind, Survey, SurveyInvitation, SurveyResponse

pytestmark = pytest.mark.django_db(transaction=True)


def test_answers_match_their_scores_and_their_invitations():
    demo.load(400, seed=21)
    survey = Survey.objects.get(name=survey_demo.SURVEY_NAME)
    questions = {str(q.pk): q for q in survey.questions.all()}
    first = {
        kind: next(key for key, q in questions.items() if q.kind == kind)
        for kind in (QuestionKind.CSAT, QuestionKind.NPS)
    }
    invitations = {i.pk: i for i in SurveyInvitation.objects.all()}
    responses = list(SurveyResponse.objects.all())
    assert len(invitations) > 40 and len(responses) > 10
    answered = set()
    for response in responses:
        invitation = invitations[response.invitation_id]
        answered.add(invitation.pk)
        assert invitation.answered_at == response.submitted_at
        assert invitation.sent_at < response.submitted_at < min(invitation.expires_at, EPOCH)
        assert (response.customer_id, response.survey_id) == (
            invitation.customer_id,
            invitation.survey_id,
        )
        assert response.csat == response.answers[first[QuestionKind.CSAT]]
        assert response.nps == response.answers[first[QuestionKind.NPS]]
        assert list(response.answers) == [k for k in questions if k in response.answers]
        for key, question in questions.items():
            value = response.answers.get(key)
            # What the answer page would store for the same input.
            assert survey_services._answer(question, value) == value
            if question.required:
                assert value is not None
        assert response.ticket_id is None and response.order_id is None
    for invitation in invitations.values():
        assert (invitation.answered_at is not None) == (invitation.pk in answered)
        assert invitation.sent_at < EPOCH
        assert invitation.expires_at == invitation.sent_at + datetime.timedelta(days=30)
        assert len(invitation.token) == 43 and invitation.ticket_id is None
    assert len({i.token for i in invitations.values()}) == len(invitations)


def test_a_second_load_reuses_the_survey_and_keeps_tokens_unique():
    demo.load(150, seed=2)
    demo.load(150, seed=2)
    assert Survey.objects.filter(name=survey_demo.SURVEY_NAME).count() == 1
    tokens = list(SurveyInvitation.objects.values_list("token", flat=True))
    assert tokens and len(set(tokens)) == len(tokens)


def test_the_survey_report_finds_the_story():
    demo.load(2000, seed=22)
    admin = User.objects.get(username="admin")
    (overall,) = survey_queries.survey_report(admin)
    assert 25 <= overall["response_rate"] <= 60
    report = survey_queries.survey_report(admin, group_by="status")
    by_status = {row["group"]: row for row in report}
    assert by_status["lost"]["nps_responses"] >= 5
    assert by_status["lost"]["nps"] < by_status["active"]["nps"]
    assert by_status["lost"]["csat"] < by_status["active"]["csat"]
