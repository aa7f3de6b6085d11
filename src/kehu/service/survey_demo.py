"""Demo history of satisfaction surveys: a post-purchase survey (CSAT, NPS, a
choice and an optional text), invitations sent shortly after some purchases of
about 30 % of the buyers, and the answers of about 40 % of them, within a few
days of the invitation.

Scores follow the customer's story (``kehu.customers.demo_history``), so that the
survey reports find real signal: a customer who complained answers 1–3 and is a
detractor, and so is one who stopped buying, about their last purchase; an
active, frequent buyer mostly answers 4–5 and recommends; the others fall in
between. ``answers`` is stored exactly as
``survey_services.response_submit`` stores it ({question id as text: score,
choice or text}, in question order, the optional text left out when blank), with
``csat`` and ``nps`` copied from it, and ``answered_at`` of the invitation equal
to ``submitted_at`` of its response.

Invitations name no ticket or order: a part refers only to rows of its own tables
(``Table.refs``), and orders and tickets belong to other parts. Tokens are derived
from the seed, the customer and the invitation's number (43 URL-safe characters,
like ``secrets.token_urlsafe(32)``): unique, since customer ids are, but not
secret, which is acceptable for demo data only.

Registered in ``ServiceConfig.ready``; the customers app calls it for every chunk
of demo customers, in its worker processes, and writes the rows without change-log
entries.
"""

import base64
import datetime
import hashlib
import json
from dataclasses import dataclass

from django.db import transaction

from kehu.customers import demo_history as history

from .models import QuestionKind, Survey, SurveyInvitation, SurveyQuestion, SurveyResponse

DAY = history.DAY
SURVEY_NAME = "购后满意度回访"
SURVEY_TITLE = "您对最近一次购物满意吗？"
SURVEY_INTRO = "感谢您的惠顾！回答只需一分钟。"
SURVEY_THANKS = "感谢您的反馈，我们会做得更好。"
CHOICES = ["商品质量", "价格", "物流", "客服"]
QUESTIONS = [
    (QuestionKind.CSAT, "您对这次购物的整体满意度如何？", [], True),
    (QuestionKind.NPS, "您有多大可能向朋友或同事推荐我们？", [], True),
    (QuestionKind.SINGLE, "您最满意的是哪一方面？", CHOICES, True),
    (QuestionKind.TEXT, "还有什么想告诉我们的吗？", [], False),
]
INVITED_SHARE = 0.3  # buyers who get invitations
INVITATION_COUNTS = [1] * 6 + [2] * 3 + [3]
ANSWERED_SHARE = 0.42  # of invitations; those cut off by the epoch stay unanswered
CHANNELS = ["sms"] * 4 + ["email"] * 3 + ["wechat"] * 3
MANUAL_SHARE = 0.3  # invitations a rep sent (``sent_by``); the others went out automatically
TEXT_SHARE = 0.3  # answers with a comment
FREQUENT = 4  # purchases that make an active customer a frequent buyer
# Comments by mood; a complaint's own comment names its reason.
TEXTS = {
    "happy": ["茶叶很新鲜，下次还来", "包装很精美，送人很有面子", "发货很快", "Great quality!"],
    "middle": ["还可以", "价格再优惠些就好了", "希望多些新品", "OK, nothing special"],
    "unhappy": ["收到的商品有破损", "客服回复太慢", "物流太慢了", "质量不如以前"],
}
COMPLAINT_TEXTS = {
    "product_quality": "茶叶受潮，质量不如以前",
    "service": "客服态度差，电话一直没人接",
    "delivery": "快递太慢，还送错了地址",
    "price": "价格比别家贵",
}


@dataclass(frozen=True)
class Context:
    seed: int  # of the invitations' tokens
    survey_id: int
    valid_days: int
    # (question id as text, kind) in the order ``response_submit`` stores the answers.
    questions: tuple[tuple[str, str], ...]
    choices: tuple[str, ...]  # of the first single-choice question


def prepare(seed: int, admin_id: int) -> Context:
    """The demo survey, created once (without change-log entries, like all demo
    data) and found again by its name; a question kind an admin removed is added
    back at the end."""
    with transaction.atomic():
        survey = Survey.objects.filter(name=SURVEY_NAME).order_by("pk").first()
        if survey is None:
            start = history.EPOCH - datetime.timedelta(seconds=history.SPAN)
            survey = Survey.objects.create(
                name=SURVEY_NAME,
                title=SURVEY_TITLE,
                intro=SURVEY_INTRO,
                thanks=SURVEY_THANKS,
                valid_days=30,
                created_at=start,
                updated_at=start,
            )
        questions = list(survey.questions.order_by("position", "id"))
        kinds = {q.kind for q in questions}
        position = max((q.position for q in questions), default=-1) + 1
        for kind, prompt, choices, required in QUESTIONS:
            if kind not in kinds:
                questions.append(
                    SurveyQuestion.objects.create(
                        survey=survey,
                        position=position,
                        kind=kind,
                        prompt=prompt,
                        choices=choices,
                        required=required,
                    )
                )
                position += 1
    single = next(q for q in questions if q.kind == QuestionKind.SINGLE)
    return Context(
        seed=seed,
        survey_id=survey.pk,
        valid_days=survey.valid_days,
        questions=tuple((str(q.pk), str(q.kind)) for q in questions),
        choices=tuple(single.choices),
    )


def token(seed: int, customer_id: int, number: int) -> str:
    """43 URL-safe characters, unique per (seed, customer, invitation number)."""
    digest = hashlib.sha256(f"kehu-demo-survey:{seed}:{customer_id}:{number}".encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def rows(stories: history.Stories, context: Context, rng) -> dict[str, list[tuple]]:
    rand = rng.random
    stamp = stories.stamp
    epoch = history.EPOCH_TS
    valid = context.valid_days * DAY
    survey_id = context.survey_id
    invitations, responses = [], []
    for cid, status, owner, buys, ended, complaint in zip(
        stories.ids,
        stories.statuses,
        stories.owners,
        stories.purchases,
        stories.ended,
        stories.complaints,
        strict=True,
    ):
        if not buys or rand() >= INVITED_SHARE:
            continue
        if complaint:
            mood = "unhappy"
        elif status == "active" and not ended and len(buys) >= FREQUENT:
            mood = "happy"
        else:
            mood = "middle"
        last = len(buys) - 1
        wanted = min(INVITATION_COUNTS[int(rand() * len(INVITATION_COUNTS))], len(buys))
        after = sorted(rng.sample(range(len(buys)), wanted))
        for number, k in enumerate(after):
            sent = buys[k] + 2 * 3600 + int(rand() * 3 * DAY)
            if sent >= epoch:
                continue
            answered = None
            if rand() < ANSWERED_SHARE:
                answered = sent + 300 + int(rand() * rand() * 4 * DAY)
                if answered >= epoch:
                    answered = None
            sent_by = owner if rand() < MANUAL_SHARE else None
            invitations.append(
                (
                    survey_id,
                    cid,
                    token(context.seed, cid, number),
                    None,
                    None,
                    CHANNELS[int(rand() * len(CHANNELS))],
                    sent_by,
                    stamp(sent),
                    stamp(sent + valid),
                    stamp(answered) if answered is not None else None,
                )
            )
            if answered is not None:
                # Who stopped buying was unhappy with their last purchase.
                feeling = "unhappy" if ended and k == last else mood
                answers, csat, nps = _answers(rand, context, feeling, complaint)
                responses.append(
                    (
                        len(invitations) - 1,
                        survey_id,
                        cid,
                        None,
                        None,
                        stamp(answered),
                        csat,
                        nps,
                        json.dumps(answers, ensure_ascii=False),
                    )
                )
    return {"survey_invitations": invitations, "survey_responses": responses}


def _answers(rand, context: Context, mood: str, complaint: str) -> tuple[dict, int, int]:
    """({question id: answer}, first CSAT, first NPS) of one response."""
    if mood == "unhappy":
        csat = 1 + int(rand() * 3)
        nps = int(rand() * 7)
    elif mood == "happy":
        csat = 5 if rand() < 0.6 else 4 if rand() < 0.85 else 3
        u = rand()
        nps = 10 if u < 0.45 else 9 if u < 0.8 else 8 if u < 0.93 else 7
    else:
        csat = 3 + int(rand() * 3) if rand() < 0.8 else 2
        u = rand()
        nps = 7 + int(rand() * 2) if u < 0.55 else 9 + int(rand() * 2) if u < 0.8 else 5
    comment = ""
    if rand() < TEXT_SHARE:
        texts = TEXTS[mood]
        comment = COMPLAINT_TEXTS.get(complaint) or texts[int(rand() * len(texts))]
    answers: dict[str, object] = {}
    first: dict[str, int] = {}
    choices = context.choices
    for key, kind in context.questions:
        if kind == QuestionKind.CSAT:
            answers[key] = csat
        elif kind == QuestionKind.NPS:
            answers[key] = nps
        elif kind == QuestionKind.SINGLE:
            answers[key] = choices[int(rand() * len(choices))]
        elif kind == QuestionKind.TEXT and comment:
            answers[key] = comment
        if kind in (QuestionKind.CSAT, QuestionKind.NPS):
            first.setdefault(kind, answers[key])
    return answers, first[QuestionKind.CSAT], first[QuestionKind.NPS]


PART = history.Part(
    key="surveys",
    tables=(
        history.Table(
            "survey_invitations",
            SurveyInvitation,
            (
                "survey_id",
                "customer_id",
                "token",
                "ticket_id",
                "order_id",
                "channel",
                "sent_by_id",
                "sent_at",
                "expires_at",
                "answered_at",
            ),
        ),
        history.Table(
            "survey_responses",
            SurveyResponse,
            (
                "invitation_id",
                "survey_id",
                "customer_id",
                "ticket_id",
                "order_id",
                "submitted_at",
                "csat",
                "nps",
                "answers",
            ),
            refs=(("invitation_id", "survey_invitations"),),
        ),
    ),
    prepare=prepare,
    rows=rows,
)
