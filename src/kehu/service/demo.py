"""Demo history of the service app: feedback tickets for about 7 % of the demo
customers, following their story (``kehu.customers.demo_history``). A customer
whose story has a complaint before their last purchase gets that complaint, with
its cause; others get complaints, inquiries, suggestions and praise around their
purchases. Due times follow the severity's SLA (``models.sla_hours``), as
``services.ticket_create`` sets them; resolved and closed tickets carry the reply.

Registered in ``ServiceConfig.ready``; the customers app calls it for every chunk
of demo customers, in its worker processes.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_noop

from kehu.accounts.models import Role, User
from kehu.customers import demo_history as history

from .models import Severity, Ticket, TicketCause, TicketState, TicketType, sla_hours

DAY = history.DAY
# Chance of a ticket (besides a complaint in the story), for buyers and others.
TICKET_SHARE = {"buyer": 0.07, "other": 0.02}
SECOND_TICKET = 0.1
TYPES = ["complaint"] * 35 + ["inquiry"] * 35 + ["suggestion"] * 18 + ["praise"] * 12
SEVERITIES = ["low"] * 20 + ["normal"] * 50 + ["high"] * 22 + ["critical"] * 8
CAUSES = ["product_quality"] * 4 + ["delivery"] * 3 + ["service"] * 2 + ["price"] + ["other"]
# The causes demo tickets use; the first four are the story's complaint reasons.
CAUSE_LABELS = {
    "product_quality": gettext_noop("Product quality"),
    "service": gettext_noop("Service"),
    "price": gettext_noop("Price"),
    "delivery": gettext_noop("Delivery"),
    "other": gettext_noop("Other"),
}
CHANNELS = ["ui"] * 5 + ["web_form"] * 3 + ["api"] * 2
WITHIN_SLA = 0.8
# Share of the tickets of the last STALE_WITHIN that are still open (past their SLA).
STALE_SHARE = 0.25
STALE_WITHIN = 60 * DAY
SUBJECTS = {
    "product_quality": [
        "茶叶受潮结块",
        "礼盒包装破损",
        "Product arrived damaged",
        "商品与描述不符",
    ],
    "delivery": ["物流太慢", "快递未送达", "Delivery was late", "发错地址"],
    "service": ["客服态度差", "电话一直没人接", "Nobody answered my email"],
    "price": ["价格比别家贵", "优惠券无法使用", "Charged twice"],
    "other": ["发票开错了", "会员积分不对"],
    "inquiry": ["询问企业采购价格", "有没有无糖点心", "Do you ship to Hong Kong?", "礼盒能否定制"],
    "suggestion": ["希望增加小包装", "建议开通夜间客服", "Please add English labels"],
    "praise": ["茶叶品质很好", "送货很快，点赞", "Great service, thank you"],
}
REPLIES = {
    "complaint": [
        "非常抱歉，已为您补发并赠送优惠券。",
        "已安排退换货，运费由我们承担。",
        "We apologise; a replacement is on its way.",
    ],
    "inquiry": ["已回复报价和交货期。", "已说明，欢迎随时咨询。", "Answered by email."],
    "suggestion": ["感谢建议，已转交产品部门。", "Thank you, we passed it on."],
    "praise": ["感谢您的认可！", "Thank you for your kind words!"],
}


@dataclass(frozen=True)
class Context:
    causes: dict[str, int]  # cause key -> id
    sla_seconds: dict[str, int]  # severity -> seconds to resolve
    support: tuple[int, ...]  # support users' ids


def prepare(seed: int, admin_id: int) -> Context:
    """The causes the tickets name (the shipped ones; added back if an admin removed them)."""
    causes = {}
    for position, (key, label) in enumerate(CAUSE_LABELS.items()):
        cause, _ = TicketCause.objects.get_or_create(
            key=key, defaults={"label": label, "position": position}
        )
        causes[key] = cause.pk
    support = tuple(
        User.objects.filter(role=Role.SUPPORT, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return Context(
        causes=causes,
        sla_seconds={s: sla_hours(s) * 3600 for s in Severity.values},
        support=support or (admin_id,),
    )


def rows(stories: history.Stories, context: Context, rng) -> dict[str, list[tuple]]:
    rand = rng.random
    epoch = history.EPOCH_TS
    tickets = []
    for cid, since, owner, buys, complaint, complained_at in zip(
        stories.ids,
        stories.created,
        stories.owners,
        stories.purchases,
        stories.complaints,
        stories.complained_at,
        strict=True,
    ):
        mine = []  # (opened, type, cause key or "", severity)
        if complaint:
            severity = "high" if rand() < 0.5 else "normal" if rand() < 0.7 else "critical"
            mine.append((complained_at, "complaint", complaint, severity))
        share = TICKET_SHARE["buyer" if buys else "other"]
        for _ in range(2 if rand() < SECOND_TICKET else 1):
            if rand() >= share:
                break
            if buys:
                opened = buys[int(rand() * len(buys))] + DAY + int(rand() * 20 * DAY)
            else:
                opened = since + 3600 + int(rand() * 60 * DAY)
            if opened >= epoch:
                continue
            kind = TYPES[int(rand() * len(TYPES))]
            cause = ""
            if kind == "complaint":
                cause = CAUSES[int(rand() * len(CAUSES))]
            elif kind == "inquiry" and rand() < 0.3:
                cause = "other"
            severity = SEVERITIES[int(rand() * len(SEVERITIES))]
            if kind in ("suggestion", "praise") and severity in ("high", "critical"):
                severity = "low"
            mine.append((opened, kind, cause, severity))
        for opened, kind, cause, severity in mine:
            tickets.append(
                _ticket(
                    rand, stories.stamp, epoch, context, cid, owner, opened, kind, cause, severity
                )
            )
    return {"tickets": tickets}


def _ticket(rand, stamp, epoch, context: Context, cid, owner, opened, kind, cause, severity):
    """One ticket, moved along the workflow as far as the time before the epoch allows."""
    sla = context.sla_seconds[severity]
    if rand() < WITHIN_SLA:
        took = 600 + int(rand() * (sla - 600))
    else:
        took = sla + int(rand() * 2 * sla) + 60
    resolved = opened + took
    if opened > epoch - STALE_WITHIN and rand() < STALE_SHARE:
        resolved = epoch  # still open at the epoch, most likely overdue
    assignee = None
    if rand() < 0.4 and owner:
        assignee = owner
    else:
        assignee = context.support[int(rand() * len(context.support))]
    resolved_at = closed_at = None
    reply = ""
    if resolved < epoch:
        closed = resolved + DAY + int(rand() * 6 * DAY)
        state, version = (
            (TicketState.CLOSED, 5)
            if closed < epoch and rand() < 0.85
            else (
                TicketState.RESOLVED,
                4,
            )
        )
        replies = REPLIES["complaint" if kind == "complaint" else kind]
        reply = replies[int(rand() * len(replies))]
        resolved_at = stamp(resolved)
        if state == TicketState.CLOSED:
            closed_at = stamp(closed)
        updated = closed if state == TicketState.CLOSED else resolved
    else:
        u = rand()
        if u < 0.3:
            state, version, assignee = TicketState.NEW, 1, None
        elif u < 0.6:
            state, version = TicketState.ASSIGNED, 2
        else:
            state, version = TicketState.IN_PROGRESS, 3
        updated = opened if state == TicketState.NEW else opened + int(rand() * (epoch - opened))
    subjects = SUBJECTS[cause if kind == "complaint" else kind]
    subject = subjects[int(rand() * len(subjects))]
    return (
        cid,
        str(TicketType(kind)),
        context.causes[cause] if cause else None,
        severity,
        subject,
        f"{subject}。" if not subject.isascii() else f"{subject}.",
        str(state),
        assignee,
        CHANNELS[int(rand() * len(CHANNELS))],
        stamp(opened),
        stamp(opened + context.sla_seconds[severity]),
        resolved_at,
        closed_at,
        reply,
        stamp(opened),
        stamp(updated),
        version,
        None,
        None,
    )


PART = history.Part(
    key="service",
    tables=(
        history.Table(
            "tickets",
            Ticket,
            (
                "customer_id",
                "type",
                "cause_id",
                "severity",
                "subject",
                "description",
                "state",
                "assignee_id",
                "channel",
                "opened_at",
                "due_at",
                "resolved_at",
                "closed_at",
                "reply",
                "created_at",
                "updated_at",
                "version",
                "deleted_at",
                "deleted_by_id",
            ),
        ),
    ),
    prepare=prepare,
    rows=rows,
)
