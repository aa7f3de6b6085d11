"""Satisfaction surveys: the builder, single-use links, the public answer page,
and CSAT / NPS / response rate checked against pandas."""

import datetime
import random

import pandas as pd
import pytest
from django.test import Client
from django.utils import timezone

from kehu.core.models import ChangeLogEntry
from kehu.customers import timeline
from kehu.service.models import SurveyInvitation, SurveyResponse

from ..conftest import make_customer

pytestmark = pytest.mark.django_db

QUESTIONS = [
    {"kind": "csat", "prompt": "满意吗？"},
    {"kind": "nps", "prompt": "会推荐我们吗？"},
    {"kind": "single", "prompt": "怎么知道我们的？", "choices": ["朋友", "广告", "搜索"]},
    {
        "kind": "multiple",
        "prompt": "喜欢什么？",
        "choices": ["价格", "质量", "服务"],
        "required": False,
    },
    {"kind": "text", "prompt": "建议", "required": False},
]


def make_survey(client, **extra):
    body = {"name": "售后回访", "title": "请评价我们的服务", "questions": QUESTIONS, **extra}
    created = client.post("/api/surveys/", body, format="json")
    assert created.status_code == 201, created.content
    return created.json()


def invite(client, survey, customer, **extra):
    return client.post(
        f"/api/surveys/{survey['id']}/invite/", {"customer": customer.pk, **extra}, format="json"
    )


def answers_for(survey, csat, nps, single="朋友", multiple=(), text=""):
    ids = [q["id"] for q in survey["questions"]]
    return dict(zip(ids, [str(csat), str(nps), single, list(multiple), text], strict=True))


def token_of(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[1]


def test_builder_validates_each_question(api):
    bad = api["support"].post(
        "/api/surveys/",
        {
            "name": "x",
            "title": "y",
            "questions": [
                {"kind": "csat", "prompt": "ok"},
                {"kind": "single", "prompt": "one choice", "choices": ["a"]},
                {"kind": "stars", "prompt": "?"},
            ],
        },
        format="json",
        headers={"Accept-Language": "en"},
    )
    assert bad.status_code == 400
    problems = bad.json()["questions"]
    assert len(problems) == 2
    assert problems[0].startswith("Question 2") and "choices" in problems[0]
    assert problems[1].startswith("Question 3") and "kind" in problems[1]
    empty = api["support"].post(
        "/api/surveys/", {"name": "x", "title": "y", "questions": []}, format="json"
    )
    assert empty.status_code == 400 and "questions" in empty.json()
    no_name = api["support"].post(
        "/api/surveys/", {"title": "y", "questions": QUESTIONS}, format="json"
    )
    assert no_name.status_code == 400 and "name" in no_name.json()
    # A sales rep sends surveys but does not build them.
    assert (
        api["sales"]
        .post("/api/surveys/", {"name": "x", "title": "y", "questions": QUESTIONS}, format="json")
        .status_code
        == 403
    )


def test_single_use_link_answered_on_the_public_page(api, people):
    customer = make_customer(owner=people["sales"])
    ticket = (
        api["support"]
        .post(
            "/api/tickets/",
            {"customer": customer.pk, "type": "complaint", "subject": "迟到"},
            format="json",
        )
        .json()
    )
    survey = make_survey(api["support"])
    sent = invite(api["sales"], survey, customer, ticket=ticket["id"])
    assert sent.status_code == 200, sent.content
    invitation = sent.json()["invitations"][0]
    assert invitation["ticket"] == ticket["id"] and invitation["link"]
    token = token_of(invitation["link"])
    assert len(token) >= 40  # 32 random bytes, URL-safe
    # Asking again while the link is unanswered gives the same link.
    again = invite(api["sales"], survey, customer, ticket=ticket["id"]).json()["invitations"][0]
    assert again["id"] == invitation["id"]

    public = Client(headers={"Accept-Language": "en"})
    page = public.get(f"/s/{token}/")
    assert page.status_code == 200
    assert "请评价我们的服务" in page.content.decode() and "会推荐我们吗？" in page.content.decode()
    ids = [str(q["id"]) for q in survey["questions"]]
    wrong = public.post(f"/s/{token}/", {ids[0]: "7", ids[1]: "9", ids[2]: "朋友"})
    assert wrong.status_code == 400 and "1 to 5" in wrong.content.decode()
    missing = public.post(f"/s/{token}/", {ids[0]: "4", ids[2]: "朋友"})
    assert missing.status_code == 400 and "Please answer this question." in missing.content.decode()
    assert not SurveyResponse.objects.exists()  # nothing half-saved

    done = public.post(
        f"/s/{token}/",
        {ids[0]: "4", ids[1]: "9", ids[2]: "广告", ids[3]: ["服务", "价格"], ids[4]: "更快些"},
    )
    assert done.status_code == 200 and 'data-testid="survey-thanks"' in done.content.decode()
    response = SurveyResponse.objects.get()
    assert (response.csat, response.nps, response.ticket_id) == (4, 9, ticket["id"])
    assert response.customer_id == customer.pk
    # The survey's order of choices, whatever order the form sent them in.
    assert response.answers[ids[3]] == ["价格", "服务"] and response.answers[ids[4]] == "更快些"
    # Single use: the link now only thanks.
    assert public.get(f"/s/{token}/").status_code == 410
    assert (
        public.post(f"/s/{token}/", {ids[0]: "1", ids[1]: "0", ids[2]: "朋友"}).status_code == 410
    )
    assert SurveyResponse.objects.count() == 1
    assert public.get("/s/not-a-token-anyone-sent/").status_code == 404
    # The answer is on the customer's timeline and in the change log.
    entries, _cursor = timeline.page(customer, ["survey"])
    assert [e.id for e in entries] == [response.pk]
    assert ChangeLogEntry.objects.filter(parent_id=customer.pk, object_id=response.pk).exists()


def test_expired_and_closed_links_take_no_answers(api, people):
    customer = make_customer(owner=people["sales"])
    survey = make_survey(api["support"])
    link = invite(api["sales"], survey, customer).json()["invitations"][0]["link"]
    token = token_of(link)
    SurveyInvitation.objects.filter(token=token).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    page = Client(headers={"Accept-Language": "en"}).get(f"/s/{token}/")
    assert page.status_code == 410 and "expired" in page.content.decode()

    other = make_customer(owner=people["sales"])
    token = token_of(invite(api["sales"], survey, other).json()["invitations"][0]["link"])
    detail = api["support"].get(f"/api/surveys/{survey['id']}/").json()
    closed = api["support"].put(
        f"/api/surveys/{survey['id']}/",
        {"is_open": False, "version": detail["version"]},
        format="json",
    )
    assert closed.status_code == 200 and closed.json()["is_open"] is False
    assert Client().get(f"/s/{token}/").status_code == 410
    refused = invite(api["sales"], survey, other)
    assert refused.status_code == 400 and "survey" in refused.json()


def test_oversized_answers_are_refused(api, people):
    customer = make_customer(owner=people["sales"])
    survey = make_survey(api["support"])
    token = token_of(invite(api["sales"], survey, customer).json()["invitations"][0]["link"])
    text_id = str(survey["questions"][4]["id"])
    big = Client().post(f"/s/{token}/", {text_id: "长" * 70_000})
    assert big.status_code == 413
    assert not SurveyResponse.objects.exists()


def test_invitations_follow_record_permissions(api, people):
    mine = make_customer(owner=people["sales"])
    theirs = make_customer(owner=people["sales_west"])
    survey = make_survey(api["support"])
    assert invite(api["sales"], survey, theirs).status_code == 404
    assert invite(api["readonly"], survey, mine).status_code == 403
    batch = (
        api["sales"]
        .post(
            f"/api/surveys/{survey['id']}/invite/",
            {"customers": [mine.pk, theirs.pk, "x"]},
            format="json",
        )
        .json()
    )
    assert [i["customer"] for i in batch["invitations"]] == [mine.pk]
    assert [r["index"] for r in batch["rejected"]] == [1, 2]
    # A rep sees only the invitations and answers of the customers they may see.
    invite(api["sales_west"], survey, theirs)
    seen = api["sales"].get("/api/survey-invitations/").json()["results"]
    assert {i["customer"] for i in seen} == {mine.pk}
    assert all(i["link"] for i in seen)
    assert all(
        i["link"] is None for i in api["analyst"].get("/api/survey-invitations/").json()["results"]
    )


def test_a_question_with_answers_keeps_its_meaning(api, people):
    customer = make_customer(owner=people["sales"])
    survey = make_survey(api["support"])
    token = token_of(invite(api["sales"], survey, customer).json()["invitations"][0]["link"])
    Client().post(f"/s/{token}/", {str(k): v for k, v in answers_for(survey, 5, 10).items() if v})
    assert SurveyResponse.objects.count() == 1
    questions = [dict(q) for q in survey["questions"]]
    questions[2]["choices"] = ["朋友", "广告"]
    changed = api["support"].put(
        f"/api/surveys/{survey['id']}/",
        {"questions": questions, "version": survey["version"]},
        format="json",
        headers={"Accept-Language": "en"},
    )
    assert changed.status_code == 400 and "cannot change" in changed.json()["questions"][0]
    dropped = api["support"].put(
        f"/api/surveys/{survey['id']}/",
        {"questions": questions[1:2], "version": survey["version"]},
        format="json",
        headers={"Accept-Language": "en"},
    )
    assert dropped.status_code == 400 and "cannot be removed" in str(dropped.json())
    kept = [dict(q) for q in survey["questions"]] + [{"kind": "text", "prompt": "还有吗？"}]
    kept[0]["prompt"] = "对这次服务满意吗？"
    ok = api["support"].put(
        f"/api/surveys/{survey['id']}/",
        {"questions": kept, "version": survey["version"]},
        format="json",
    )
    assert ok.status_code == 200, ok.content
    assert [q["prompt"] for q in ok.json()["questions"]][0] == "对这次服务满意吗？"
    assert len(ok.json()["questions"]) == 6


def test_csat_nps_and_response_rate_agree_with_pandas(api, people):
    rng = random.Random(7)
    survey = make_survey(api["support"])
    statuses = ["active", "prospect", "lost"]
    customers = [
        make_customer(owner=people["sales"], status=rng.choice(statuses)) for _ in range(45)
    ]
    sent_times = []
    base = datetime.datetime(2026, 7, 10, 12, tzinfo=datetime.UTC)
    for index, customer in enumerate(customers):
        link = invite(api["sales"], survey, customer).json()["invitations"][0]["link"]
        sent = base + datetime.timedelta(days=rng.randrange(0, 90))
        SurveyInvitation.objects.filter(token=token_of(link)).update(sent_at=sent)
        answered = index % 4 != 0  # a quarter never answer
        row = {
            "customer": customer.pk,
            "status": customer.status,
            "sent": sent,
            "answered": answered,
        }
        if answered:
            csat, nps = rng.choice([1, 2, 3, 4, 5, 5]), rng.randrange(0, 11)
            answers = {str(k): v for k, v in answers_for(survey, csat, nps).items() if v}
            assert Client().post(f"/s/{token_of(link)}/", answers).status_code == 200
            submitted = sent + datetime.timedelta(days=rng.randrange(0, 20))
            SurveyResponse.objects.filter(customer=customer).update(submitted_at=submitted)
            row |= {"csat": csat, "nps": nps, "submitted": submitted}
        sent_times.append(row)
    frame = pd.DataFrame(sent_times)
    answered = frame[frame["answered"]]

    def expected(group: pd.DataFrame, invited: pd.DataFrame) -> dict:
        nps = group["nps"]
        return {
            "invitations": len(invited),
            "answered": int(invited["answered"].sum()),
            "responses": len(group),
            "csat": round(100 * (group["csat"] >= 4).sum() / len(group), 1) if len(group) else None,
            "csat_average": round(group["csat"].mean(), 2) if len(group) else None,
            "nps": round(100 * ((nps >= 9).sum() - (nps <= 6).sum()) / len(group), 1)
            if len(group)
            else None,
        }

    overall = api["analyst"].get(f"/api/surveys/{survey['id']}/report/").json()
    assert len(overall) == 1
    want = expected(answered, frame)
    assert {k: overall[0][k] for k in want} == want
    assert overall[0]["response_rate"] == round(100 * want["answered"] / want["invitations"], 1)

    by_status = (
        api["analyst"].get(f"/api/surveys/{survey['id']}/report/", {"group_by": "status"}).json()
    )
    assert [r["group"] for r in by_status] == sorted(frame["status"].unique())
    for row in by_status:
        group = answered[answered["status"] == row["group"]]
        assert {k: row[k] for k in want} == expected(group, frame[frame["status"] == row["group"]])

    # Per month in Kehu's zone: invitations by when sent, answers by when they came.
    zone = "Asia/Shanghai"
    frame["sent_month"] = frame["sent"].dt.tz_convert(zone).dt.strftime("%Y-%m")
    answered = frame[frame["answered"]].copy()
    answered["month"] = (
        pd.to_datetime(answered["submitted"], utc=True).dt.tz_convert(zone).dt.strftime("%Y-%m")
    )
    monthly = api["analyst"].get(f"/api/surveys/{survey['id']}/report/", {"period": "month"}).json()
    months = sorted(set(frame["sent_month"]) | set(answered["month"]))
    assert [r["period"] for r in monthly] == months
    for row in monthly:
        got = answered[answered["month"] == row["period"]]
        invited = frame[frame["sent_month"] == row["period"]]
        assert {k: row[k] for k in want} == expected(got, invited), row["period"]

    bad = api["analyst"].get(f"/api/surveys/{survey['id']}/report/", {"group_by": "shoe_size"})
    assert bad.status_code == 400 and "group_by" in bad.json()
    # A rep of another team sees none of these answers.
    west = api["sales_west"].get(f"/api/surveys/{survey['id']}/report/").json()
    assert west == []


def test_survey_pages_build_send_and_report(client, people):
    client.force_login(people["support"])
    built = client.post(
        "/surveys/new/",
        {
            "name": "门店回访",
            "title": "您对本次到店体验满意吗？",
            "is_open": "1",
            "valid_days": "14",
            "question_count": "3",
            "q0-kind": "csat",
            "q0-prompt": "总体满意度",
            "q0-required": "1",
            "q1-kind": "single",
            "q1-prompt": "哪家门店？",
            "q1-choices": "南京西路\n徐家汇",
            "q1-required": "1",
            "q2-kind": "text",
            "q2-prompt": "",
        },
    )
    assert built.status_code == 302, built.content.decode()[:2000]
    survey_id = int(built["Location"].rstrip("/").rsplit("/", 1)[1])
    customer = make_customer(owner=people["sales"])
    sent = client.post(f"/customers/{customer.pk}/surveys/", {"survey": survey_id}, follow=True)
    assert "/s/" in sent.content.decode()
    invitation = SurveyInvitation.objects.get(customer=customer)
    assert invitation.expires_at - invitation.sent_at == datetime.timedelta(days=14)
    page = client.get(f"/customers/{customer.pk}/")
    assert f"/s/{invitation.token}/" in page.content.decode()
    report = client.get(f"/surveys/{survey_id}/", {"period": "week", "group_by": "status"})
    assert report.status_code == 200 and "门店回访" in report.content.decode()
    assert client.get("/surveys/").status_code == 200
    bad = client.post("/surveys/new/", {"name": "", "title": "t", "question_count": "0"})
    assert bad.status_code == 400
    assert 'has-error"><label for="survey-name"' in bad.content.decode()
    assert "A survey needs at least one question." in bad.content.decode() or (
        "至少" in bad.content.decode()
    )
