"""Demo history of the engagement app, following each demo customer's story
(``kehu.customers.demo_history``): behaviour events (a sign-up, browsing before
recent purchases, recent visits of customers who still come), with each
customer's engagement summary; interactions by the customer's owner (first
contact, quotes, follow-ups after purchases, a call after a complaint, win-back
calls after a customer stopped buying); follow-up tasks, done, cancelled, open
and overdue.

Registered in ``EngagementConfig.ready``; the customers app calls it for every
chunk of demo customers, in its worker processes.
"""

from kehu.customers import demo_data as words
from kehu.customers import demo_history as history

from .models import BehaviourEvent, EngagementSummary, FollowUpTask, Interaction

DAY = history.DAY
# Purchases this recent come after a browsing session (page views, cart, checkout).
BROWSED_PURCHASES = 120 * DAY
# Customers who still come browse now and then in the last RECENT days.
RECENT = 90 * DAY
ANONYMOUS_VISITORS = 0.04  # per customer of a chunk
SEARCHES = ["龙井", "礼盒", "咖啡豆", "月饼", "茶具", "办公椅", "耳机", "gift box", "green tea"]
DOWNLOADS = ["catalogue-2026.pdf", "价目表.xlsx", "企业采购方案.pdf"]
ELEMENTS = ["banner", "推荐位", "coupon", "新品"]

# Interactions: (subject, content, outcomes) per stage of the relationship.
FIRST_CONTACT = [
    (
        "首次电话沟通",
        "介绍公司和主要产品，了解客户需求。",
        ["客户感兴趣", "未接通", "约定下次联系"],
    ),
    ("添加微信好友", "已添加微信，发送了产品目录。", ["已回复", "待回复"]),
    (
        "First contact",
        "Introduced our catalogue and corporate gifting.",
        ["Interested", "No answer"],
    ),
]
PROSPECTING = [
    ("发送报价单", "按客户需求发送报价单，等待确认。", ["需报价", "客户考虑中", "价格偏高"]),
    ("产品演示", "上门展示样品，客户反馈良好。", ["客户感兴趣", "需内部审批"]),
    ("样品寄送确认", "确认样品已签收，询问试用感受。", ["已回复", "约定下次联系"]),
    (
        "Quote follow-up",
        "Followed up on the quote sent last week.",
        ["Considering", "Asked for discount"],
    ),
]
CUSTOMER = [
    ("订单确认", "确认订单明细和送货地址。", ["已确认", "已下单"]),
    ("发货通知", "告知物流单号和预计送达时间。", ["已告知"]),
    ("使用回访", "回访产品使用情况，客户满意。", ["满意", "提出改进建议"]),
    ("新品推荐", "推荐本季新品和会员活动。", ["客户感兴趣", "暂不需要"]),
    ("节日问候", "节日问候并提醒礼盒预订。", ["已回复", ""]),
    ("续购提醒", "提醒客户常购商品库存。", ["已下单", "约定下次联系"]),
    ("Invoice request", "Customer asked for a VAT invoice.", ["Sent", "Pending"]),
]
AFTER_COMPLAINT = ("投诉回访", "就客户投诉致歉并说明处理结果。", ["客户接受", "客户仍不满意"])
WIN_BACK = (
    "老客户召回",
    "联系许久未下单的客户，提供回归优惠。",
    ["未接通", "暂不需要", "客户考虑中"],
)
# Channels, weighted, for people and for organisations.
PERSON_CHANNELS = (
    ["wechat"] * 35
    + ["phone"] * 30
    + ["sms"] * 8
    + ["email"] * 8
    + ["social"] * 6
    + ["visit"] * 4
    + ["web_form"] * 4
    + ["whatsapp"] * 3
    + ["other"] * 2
)
ORGANIZATION_CHANNELS = (
    ["phone"] * 30
    + ["wechat"] * 25
    + ["email"] * 20
    + ["visit"] * 18
    + ["web_form"] * 3
    + ["sms"] * 2
    + ["other"] * 2
)
PRIORITIES = ["normal"] * 60 + ["high"] * 20 + ["low"] * 15 + ["urgent"] * 5
FOLLOW_UP = {"lead": 0.3, "prospect": 0.3}  # share of interactions with a task; others 0.12


def prepare(seed: int, admin_id: int) -> int:
    """Tasks of customers without an owner go to the admin."""
    return admin_id


def rows(stories: history.Stories, admin_id: int, rng) -> dict[str, list[tuple]]:
    events, summaries = _events(stories, rng)
    interactions, tasks = _interactions(stories, admin_id, rng)
    return {
        "events": events,
        "engagement_summaries": summaries,
        "interactions": interactions,
        "tasks": tasks,
    }


def _page_view(category: int, rand) -> str:
    label, slug = words.CATEGORIES[category]
    return f'{{"url": "/c/{slug}/{1 + int(rand() * 500)}", "category": "{label}"}}'


def _events(stories: history.Stories, rng):
    """Behaviour events and each customer's summary (last seen, count)."""
    rand = rng.random
    stamp = stories.stamp
    epoch = history.EPOCH_TS
    n_categories = len(words.CATEGORIES)
    events, summaries = [], []
    for cid, since, status, source, buys, ended, interest in zip(
        stories.ids,
        stories.created,
        stories.statuses,
        stories.sources,
        stories.purchases,
        stories.ended,
        stories.interests,
        strict=True,
    ):
        mine: list[tuple[int, str, str]] = []  # (moment, type, properties)
        if source in ("website", "social"):
            mine.append((since + int(rand() * 600), "sign_up", f'{{"source": "{source}"}}'))
        for moment in buys:
            if moment < epoch - BROWSED_PURCHASES:
                continue
            # Page views in the hour before, then the cart and the checkout.
            for _ in range(1 + int(rand() * 3)):
                t = max(since, moment - 120 - int(rand() * 3600))
                category = interest if rand() < 0.7 else int(rand() * n_categories)
                mine.append((t, "page_view", _page_view(category, rand)))
            label = words.CATEGORIES[interest][0]
            mine.append((max(since, moment - 60), "add_to_cart", f'{{"category": "{label}"}}'))
            mine.append((moment - 30, "checkout", f'{{"category": "{label}"}}'))
        if not ended and status != "lead":
            # A few recent visits without buying; prospects read brochures.
            start = max(since, epoch - RECENT)
            for _ in range(int(rand() * 3)):
                t = start + int(rand() * (epoch - start))
                u = rand()
                if u < 0.6:
                    category = interest if rand() < 0.6 else int(rand() * n_categories)
                    mine.append((t, "page_view", _page_view(category, rand)))
                elif u < 0.8:
                    query = SEARCHES[int(rand() * len(SEARCHES))]
                    mine.append((t, "search", f'{{"query": "{query}"}}'))
                elif u < 0.9:
                    element = ELEMENTS[int(rand() * len(ELEMENTS))]
                    mine.append((t, "click", f'{{"element": "{element}"}}'))
                else:
                    file = DOWNLOADS[int(rand() * len(DOWNLOADS))]
                    mine.append((t, "download", f'{{"file": "{file}"}}'))
        if not mine:
            continue
        mine.sort()
        for k, (t, kind, properties) in enumerate(mine, 1):
            events.append(
                (
                    f"DEMO-E-{cid:08d}-{k:04d}",
                    cid,
                    "",
                    kind,
                    stamp(t),
                    properties,
                    stamp(min(t + 1 + int(rand() * 120), epoch)),
                )
            )
        summaries.append((cid, stamp(mine[-1][0]), len(mine)))
    events.extend(_anonymous(stories, rand))
    return events, summaries


def _anonymous(stories: history.Stories, rand) -> list[tuple]:
    """Visitors who never signed up: a few page views each, no customer."""
    stamp = stories.stamp
    epoch = history.EPOCH_TS
    out = []
    for visitor in range(int(len(stories) * ANONYMOUS_VISITORS)):
        t = epoch - RECENT - int(rand() * 90 * DAY)
        for _ in range(1 + int(rand() * 4)):
            t += 20 + int(rand() * 300)
            category = int(rand() * len(words.CATEGORIES))
            out.append(
                (
                    f"DEMO-V-{stories.first_id:08d}-{len(out) + 1:06d}",
                    None,
                    f"demo-visitor-{stories.first_id}-{visitor + 1}",
                    "page_view",
                    stamp(t),
                    _page_view(category, rand),
                    stamp(t + 1 + int(rand() * 60)),
                )
            )
    return out


def _interaction_moments(rand, since, status, buys, ended, complained_at) -> list[tuple]:
    """(moment, (subject, content, outcomes), outbound share) of one customer's interactions."""
    epoch = history.EPOCH_TS
    moments = []
    first = since + 3600 + int(rand() * 7 * DAY)
    if first < epoch:
        moments.append((first, FIRST_CONTACT[int(rand() * len(FIRST_CONTACT))], 0.8))
    if status in ("lead", "prospect"):
        more = int(rand() * 2) if status == "lead" else 1 + int(rand() * 3)
        for _ in range(more):
            t = first + int(rand() * 90 * DAY)
            topic = FIRST_CONTACT if status == "lead" else PROSPECTING
            if t < epoch:
                moments.append((t, topic[int(rand() * len(topic))], 0.7))
        return moments
    # Buyers: a talk around about three of their purchases.
    chance = min(1.0, 3.0 / len(buys)) if buys else 0
    for moment in buys:
        if rand() < chance:
            t = moment + int((rand() - 0.3) * 5 * DAY)
            if since < t < epoch:
                moments.append((t, CUSTOMER[int(rand() * len(CUSTOMER))], 0.7))
    if complained_at:
        t = complained_at + 3600 + int(rand() * 2 * DAY)
        if t < epoch:
            moments.append((t, AFTER_COMPLAINT, 1.0))
    if ended and buys and rand() < 0.6:
        t = buys[-1] + 30 * DAY + int(rand() * 60 * DAY)
        if t < epoch:
            moments.append((t, WIN_BACK, 1.0))
    return moments


def _interactions(stories: history.Stories, admin_id: int, rng):
    rand = rng.random
    stamp = stories.stamp
    epoch = history.EPOCH_TS
    interactions, tasks = [], []
    for cid, since, kind, status, owner, buys, ended, complained_at in zip(
        stories.ids,
        stories.created,
        stories.kinds,
        stories.statuses,
        stories.owners,
        stories.purchases,
        stories.ended,
        stories.complained_at,
        strict=True,
    ):
        channels = ORGANIZATION_CHANNELS if kind == "organization" else PERSON_CHANNELS
        moments = _interaction_moments(rand, since, status, buys, ended, complained_at)
        moments.sort(key=lambda m: m[0])
        follow_up = FOLLOW_UP.get(status, 0.12)
        for t, (subject, content, outcomes), outbound in moments:
            number = len(interactions)
            at = stamp(t)
            interactions.append(
                (
                    cid,
                    None,
                    channels[int(rand() * len(channels))],
                    "outbound" if rand() < outbound else "inbound",
                    subject,
                    content,
                    outcomes[int(rand() * len(outcomes))],
                    at,
                    owner,
                    at,
                    at,
                    1,
                    None,
                    None,
                )
            )
            if rand() < follow_up:
                tasks.append(_task(rand, stamp, epoch, cid, number, subject, t, owner or admin_id))
        if owner and not ended and buys and rand() < 0.05:
            # A quarterly call planned for a customer who still buys.
            set_at = epoch - 24 * DAY + int(rand() * 40 * DAY)
            tasks.append(
                _task(rand, stamp, epoch, cid, None, "季度回访", min(set_at, epoch), owner)
            )
    return interactions, tasks


def _task(rand, stamp, epoch, cid, interaction, subject, t, assignee) -> tuple:
    """A follow-up set at ``t``; done, cancelled or open by how long ago it was due."""
    due = t + DAY + int(rand() * 13 * DAY)
    remind = stamp(due - DAY) if rand() < 0.5 else None
    # A reminder whose time came before the demo's "now" went out then.
    reminded = remind if remind is not None and due - DAY < epoch else None
    u = rand()
    if due < epoch - 7 * DAY:
        status = "done" if u < 0.85 else "cancelled" if u < 0.93 else "open"
    elif due < epoch:
        status = "open" if u < 0.6 else "done"
    else:
        status = "open"
    done_at = None
    changed = t
    if status == "done":
        changed = min(max(t + 600, due - int(rand() * 3 * DAY) + int(rand() * 2 * DAY)), epoch)
        done_at = stamp(changed)
    elif status == "cancelled":
        changed = min(due, epoch)
    return (
        cid,
        interaction,
        f"跟进：{subject}",
        "",
        stamp(due),
        remind,
        reminded,
        assignee,
        PRIORITIES[int(rand() * len(PRIORITIES))],
        status,
        done_at,
        stamp(t),
        stamp(changed),
        1 if status == "open" else 2,
        None,
        None,
    )


_BUSINESS = ("created_at", "updated_at", "version", "deleted_at", "deleted_by_id")
PART = history.Part(
    key="engagement",
    tables=(
        history.Table(
            "events",
            BehaviourEvent,
            (
                "external_id",
                "customer_id",
                "anonymous_id",
                "type",
                "occurred_at",
                "properties",
                "received_at",
            ),
        ),
        history.Table(
            "engagement_summaries",
            EngagementSummary,
            ("customer_id", "last_seen_at", "event_count"),
            numbered=False,
        ),
        history.Table(
            "interactions",
            Interaction,
            (
                "customer_id",
                "contact_id",
                "channel",
                "direction",
                "subject",
                "content",
                "outcome",
                "occurred_at",
                "user_id",
                *_BUSINESS,
            ),
        ),
        history.Table(
            "tasks",
            FollowUpTask,
            (
                "customer_id",
                "interaction_id",
                "title",
                "notes",
                "due_at",
                "remind_at",
                "reminded_at",
                "assignee_id",
                "priority",
                "status",
                "done_at",
                *_BUSINESS,
            ),
            refs=(("interaction_id", "interactions"),),
        ),
    ),
    prepare=prepare,
    rows=rows,
)
