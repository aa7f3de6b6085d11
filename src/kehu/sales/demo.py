"""Demo history of the sales app: a product catalogue, and for each demo customer
the orders of their story (``kehu.customers.demo_history``), with lines, refunds and
the purchase summary that ``services.refresh_purchase_figures`` would compute.

Registered in ``SalesConfig.ready``; the customers app calls it for every chunk of
demo customers, in its worker processes. Money is in cents (integers) until it is
written, so amounts add up exactly.
"""

import contextlib
import decimal
from dataclasses import dataclass

from django.conf import settings

from kehu.customers import demo_data as words
from kehu.customers import demo_history as history

from .models import Order, OrderLine, OrderStatus, Product, PurchaseSummary, Refund
from .services import COUNTED, base_rate

# (URL slug of the category, SKU code, [(name, list price in yuan)], [(variant, price factor)])
CATALOGUE = {
    "tea": (
        "TEA",
        [
            ("西湖龙井 Longjing", 168),
            ("安溪铁观音 Tieguanyin", 128),
            ("云南普洱熟茶 Pu'er", 98),
            ("正山小种 Lapsang Souchong", 138),
            ("白毫银针 Silver Needle", 228),
            ("洞庭碧螺春 Biluochun", 148),
            ("武夷大红袍 Da Hong Pao", 198),
            ("茉莉花茶 Jasmine", 58),
            ("滇红工夫 Dianhong", 88),
            ("安吉白茶 Anji Bai Cha", 158),
        ],
        [("250g", 1.0), ("500g 礼装", 1.9)],
    ),
    "teaware": (
        "TWR",
        [
            ("紫砂壶 Yixing teapot", 380),
            ("青瓷盖碗 Celadon gaiwan", 120),
            ("玻璃公道杯 Glass pitcher", 45),
            ("建盏 Jian cup", 160),
            ("竹制茶盘 Bamboo tea tray", 220),
            ("旅行茶具 Travel tea set", 135),
            ("白瓷品茗杯 Porcelain cups", 60),
            ("铸铁壶 Cast-iron kettle", 460),
            ("茶叶罐 Tea caddy", 75),
            ("茶道六君子 Tea tools", 88),
        ],
        [("标准 Standard", 1.0), ("高配 Deluxe", 1.6)],
    ),
    "coffee": (
        "COF",
        [
            ("云南小粒咖啡豆 Yunnan beans", 89),
            ("耶加雪菲 Yirgacheffe", 128),
            ("挂耳咖啡 Drip bags", 59),
            ("冷萃咖啡液 Cold brew", 69),
            ("意式拼配 Espresso blend", 99),
            ("速溶黑咖啡 Instant black", 39),
            ("手冲壶 Pour-over kettle", 159),
            ("磨豆机 Grinder", 239),
            ("咖啡滤纸 Filters", 19),
            ("胶囊咖啡 Capsules", 79),
        ],
        [("单份 Single", 1.0), ("家庭装 Family pack", 2.2)],
    ),
    "snacks": (
        "SNK",
        [
            ("凤梨酥 Pineapple cakes", 48),
            ("蛋黄酥 Egg yolk pastries", 56),
            ("坚果礼包 Mixed nuts", 88),
            ("绿豆糕 Mung bean cakes", 32),
            ("牛肉干 Beef jerky", 68),
            ("芒果干 Dried mango", 29),
            ("桃酥 Walnut cookies", 26),
            ("月饼 Mooncakes", 128),
            ("茶点拼盘 Tea snacks", 45),
            ("麻薯 Mochi", 35),
        ],
        [("袋装 Bag", 1.0), ("盒装 Box", 1.8)],
    ),
    "gift-boxes": (
        "GFT",
        [
            ("新春礼盒 Spring Festival box", 298),
            ("中秋礼盒 Mid-Autumn box", 368),
            ("商务茶礼 Business tea gift", 588),
            ("咖啡礼盒 Coffee gift box", 268),
            ("端午礼盒 Dragon Boat box", 198),
            ("员工福利礼包 Staff gift pack", 158),
            ("生日礼盒 Birthday box", 228),
            ("坚果礼盒 Nut gift box", 188),
            ("茶具礼盒 Teaware gift", 428),
            ("定制礼盒 Custom gift box", 688),
        ],
        [("标准 Standard", 1.0), ("尊享 Premium", 1.7)],
    ),
    "wine": (
        "WIN",
        [
            ("宁夏赤霞珠 Ningxia Cabernet", 168),
            ("绍兴黄酒 Shaoxing wine", 88),
            ("梅子酒 Plum wine", 78),
            ("清香白酒 Baijiu", 258),
            ("精酿啤酒 Craft beer", 98),
            ("桂花米酒 Osmanthus rice wine", 45),
            ("起泡酒 Sparkling wine", 148),
            ("青梅酒 Green plum wine", 68),
            ("干白 Dry white", 138),
            ("果酒组合 Fruit wine set", 118),
        ],
        [("单瓶 Bottle", 1.0), ("两瓶装 Twin pack", 1.9)],
    ),
    "home": (
        "HOM",
        [
            ("香薰蜡烛 Scented candle", 89),
            ("亚麻桌布 Linen tablecloth", 129),
            ("陶瓷花瓶 Ceramic vase", 159),
            ("竹编收纳 Bamboo basket", 69),
            ("真丝抱枕 Silk cushion", 199),
            ("实木托盘 Wooden tray", 99),
            ("香炉 Incense holder", 119),
            ("保温杯 Vacuum flask", 139),
            ("餐具套装 Tableware set", 239),
            ("加湿器 Humidifier", 189),
        ],
        [("标准 Standard", 1.0), ("大号 Large", 1.5)],
    ),
    "personal-care": (
        "PCR",
        [
            ("茶籽洗发水 Tea seed shampoo", 69),
            ("护手霜 Hand cream", 39),
            ("面膜 Face masks", 99),
            ("精油皂 Essential oil soap", 29),
            ("润唇膏 Lip balm", 25),
            ("沐浴露 Shower gel", 59),
            ("身体乳 Body lotion", 79),
            ("防晒霜 Sunscreen", 109),
            ("洁面乳 Cleanser", 65),
            ("香水 Eau de parfum", 299),
        ],
        [("标准 Standard", 1.0), ("套装 Set", 2.4)],
    ),
    "office": (
        "OFF",
        [
            ("A4 复印纸 Copy paper", 35),
            ("中性笔 Gel pens", 24),
            ("笔记本 Notebooks", 18),
            ("文件夹 Folders", 22),
            ("订书机 Stapler", 28),
            ("便利贴 Sticky notes", 12),
            ("白板 Whiteboard", 168),
            ("办公椅 Office chair", 699),
            ("台灯 Desk lamp", 149),
            ("碎纸机 Shredder", 399),
        ],
        [("单件 Single", 1.0), ("整箱 Case", 8.0)],
    ),
    "digital": (
        "DGT",
        [
            ("快充充电器 Fast charger", 99),
            ("数据线 USB-C cable", 29),
            ("蓝牙耳机 Bluetooth earbuds", 299),
            ("移动电源 Power bank", 149),
            ("无线鼠标 Wireless mouse", 89),
            ("机械键盘 Mechanical keyboard", 399),
            ("手机支架 Phone stand", 39),
            ("U 盘 USB drive", 59),
            ("扩展坞 USB-C hub", 199),
            ("蓝牙音箱 Bluetooth speaker", 259),
        ],
        [("标准 Standard", 1.0), ("Pro", 1.6)],
    ),
}
SKU_PREFIX = "DEMO-"  # bench/ingest.py uses BENCH-000 … BENCH-199
# Lines per order (mean about 2.7).
LINE_COUNTS = [1] * 25 + [2] * 30 + [3] * 20 + [4] * 12 + [5] * 8 + [6] * 3 + [7, 8]
FROM_INTEREST = 0.65  # share of lines from the customer's favourite category
FOREIGN_SHARE = 0.02  # customers who pay in a foreign currency, when one is configured
FOREIGN = ("USD", "HKD", "EUR")
LOOKUP = 1024  # entries of the popularity tables
CANCEL_REASONS = ["价格太高", "不再需要", "等待时间太长", "买错了", "找到更便宜的"]
REFUND_REASONS = [
    "质量问题退货",
    "商品破损",
    "发错货",
    "客户不想要了",
    "Wrong size",
    "价格调整补差",
]
QUALITY_COMPENSATION = "质量问题补偿 Quality compensation"


def catalogue() -> list[tuple[str, str, str, int]]:
    """(SKU, name, category label, list price in cents) of the demo products."""
    labels = dict((slug, label) for label, slug in words.CATEGORIES)
    products = []
    for slug, (code, items, variants) in CATALOGUE.items():
        number = 0
        for name, price in items:
            for variant, factor in variants:
                number += 1
                cents = int(round(price * factor)) * 100 - (10 if number % 3 == 0 else 0)
                products.append(
                    (f"{SKU_PREFIX}{code}-{number:03d}", f"{name} {variant}", labels[slug], cents)
                )
    return products


@dataclass(frozen=True)
class Context:
    # (product id, category index, list price in cents, popularity weight), by SKU
    products: tuple[tuple[int, int, int, float], ...]
    currency: str  # the orders' usual currency
    rate: str  # its base rate, as written
    foreign: tuple[tuple[str, str], ...]  # other convertible currencies and rates


def prepare(seed: int, admin_id: int) -> Context:
    """The catalogue in the database (added once, idempotent by SKU)."""
    rows = catalogue()
    have = set(
        Product.all_objects.filter(sku__in=[r[0] for r in rows]).values_list("sku", flat=True)
    )
    Product.objects.bulk_create(
        Product(sku=sku, name=name, category=category, list_price=decimal.Decimal(cents) / 100)
        for sku, name, category, cents in rows
        if sku not in have
    )
    ids = dict(Product.all_objects.filter(sku__in=[r[0] for r in rows]).values_list("sku", "id"))
    category_index = {label: n for n, (label, _slug) in enumerate(words.CATEGORIES)}
    products = []
    for n, (sku, _name, category, cents) in enumerate(rows):
        rank = n % 20  # Zipf-like popularity within a category
        products.append(
            (ids[sku], category_index[category], cents, 1 / (1 + rank // 2) / (1 + rank % 2))
        )
    currency, rate = _currency()
    foreign = []
    for code in FOREIGN:
        if code != currency:
            with contextlib.suppress(ValueError):  # no rate configured
                foreign.append((code, str(base_rate(code))))
    return Context(tuple(products), currency, rate, tuple(foreign))


def _currency() -> tuple[str, str]:
    """CNY, the catalogue's currency, unless it cannot be converted to the base currency."""
    try:
        return "CNY", str(base_rate("CNY"))
    except ValueError:
        return settings.KEHU_BASE_CURRENCY, "1"


def _lookup(weights: list[float]) -> list[int]:
    """A table of LOOKUP indexes into ``weights``, each as often as its weight."""
    total = sum(weights)
    table, acc = [], 0.0
    for index, weight in enumerate(weights):
        acc += weight
        table.extend([index] * (round(acc / total * LOOKUP) - len(table)))
    return table


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


class _Prices(dict):
    """Cents -> text, remembered: line prices and amounts recur (a few hundred
    thousand values), and a lookup costs a tenth of formatting."""

    def __missing__(self, cents: int) -> str:
        text = self[cents] = _money(cents)
        return text


_prices = _Prices()


def rows(stories: history.Stories, context: Context, rng) -> dict[str, list[tuple]]:
    products = context.products
    every = _lookup([p[3] for p in products])
    by_category = []
    for c in range(len(words.CATEGORIES)):
        members = [n for n, p in enumerate(products) if p[1] == c]
        by_category.append([members[i] for i in _lookup([products[m][3] for m in members])])
    stamp = stories.stamp
    prices = _prices
    rand, bits, expo = rng.random, rng.getrandbits, rng.expovariate
    line_counts = LINE_COUNTS
    counts_n = len(line_counts)
    epoch = history.EPOCH_TS
    orders, lines, refunds, summaries = [], [], [], []
    counted = {str(s) for s in COUNTED}
    paid, cancelled = str(OrderStatus.PAID), str(OrderStatus.CANCELLED)
    refunded, partly = str(OrderStatus.REFUNDED), str(OrderStatus.PARTIALLY_REFUNDED)
    for cid, kind, buys, interest, complaint in zip(
        stories.ids,
        stories.kinds,
        stories.purchases,
        stories.interests,
        stories.complaints,
        strict=True,
    ):
        if not buys:
            continue
        currency, rate = context.currency, context.rate
        if context.foreign and rand() < FOREIGN_SHARE:
            currency, rate = context.foreign[int(rand() * len(context.foreign))]
        factor = decimal.Decimal(rate)
        # Prices in another currency: the list price converted through the base currency.
        scale = float(decimal.Decimal(context.rate) / factor)
        organization = kind == "organization"
        premium = rand()  # how often this customer takes the bigger variant
        favourite = by_category[interest]
        n_orders = 0
        total = decimal.Decimal(0) if factor != 1 else 0
        first = last = None
        last_index = len(buys) - 1
        for k, moment in enumerate(buys):
            order_no = len(orders)
            picked = set()
            amount = 0
            for _ in range(line_counts[int(rand() * counts_n)]):
                table = favourite if rand() < FROM_INTEREST else every
                p = table[bits(10)]
                if p % 2 == 0 and rand() < premium:
                    p += 1  # the bigger variant
                if p in picked:
                    continue
                picked.add(p)
                product_id, category, price, _weight = products[p]
                if scale != 1:
                    price = max(1, int(price * scale))
                if rand() < 0.1:
                    price = price * 95 // 100  # member price
                if organization:
                    quantity = 1 + int(expo(1 / 6))
                else:
                    u = rand()
                    quantity = 1 if u < 0.8 else 2 if u < 0.94 else 3 + int(rand() * 4)
                gross = price * quantity
                discount = gross * (5 * (1 + bits(2))) // 100 if rand() < 0.18 else 0
                amount += gross - discount
                lines.append(
                    (
                        order_no,
                        product_id,
                        quantity,
                        prices[price],
                        prices[discount],
                        prices[gross - discount],
                    )
                )
            status, refund_rows, cancel_reason = paid, [], ""
            if moment < epoch - 3 * history.DAY:
                u = rand()
                if k == last_index and complaint == "product_quality" and u < 0.6:
                    status = partly
                    refund_rows = [
                        (
                            max(1, amount * (10 + int(rand() * 21)) // 100),
                            False,
                            QUALITY_COMPENSATION,
                        )
                    ]
                elif u < 0.02:
                    status = cancelled
                    # from the ids, not the generator: the rest of the data stays as it was
                    cancel_reason = CANCEL_REASONS[(cid + k) % len(CANCEL_REASONS)]
                elif u < 0.035:
                    status = refunded
                    reason = REFUND_REASONS[int(rand() * 5)]
                    if rand() < 0.2:
                        part = amount * (30 + int(rand() * 41)) // 100
                        refund_rows = [(part, True, reason), (amount - part, True, reason)]
                    else:
                        refund_rows = [(amount, rand() < 0.7, reason)]
                elif u < 0.065:
                    status = partly
                    share = amount * (5 + int(rand() * 36)) // 100
                    refund_rows = [
                        (
                            max(1, share),
                            rand() < 0.5,
                            REFUND_REASONS[int(rand() * len(REFUND_REASONS))],
                        )
                    ]
            refunded_cents = 0
            updated = moment
            for j, (cents, is_return, reason) in enumerate(refund_rows):
                updated = min(
                    updated + 86400 + int(rand() * 20 * 86400), epoch - 60 * (len(refund_rows) - j)
                )
                refunded_cents += cents
                at = stamp(updated)
                refunds.append(
                    (
                        order_no,
                        f"DEMO-R-{cid:08d}-{k + 1:03d}-{j + 1}",
                        at,
                        _money(cents),
                        reason,
                        is_return,
                        at,
                        at,
                        1,
                        None,
                        None,
                    )
                )
            ordered = stamp(moment)
            orders.append(
                (
                    f"DEMO-O-{cid:08d}-{k + 1:03d}",
                    cid,
                    ordered,
                    currency,
                    status,
                    cancel_reason,
                    _money(amount),
                    _money(refunded_cents),
                    rate,
                    ordered,
                    stamp(updated),
                    1 + len(refund_rows),
                    None,
                    None,
                )
            )
            if status in counted:
                n_orders += 1
                net = amount - refunded_cents
                total += net if factor == 1 else net * factor
                first = first or ordered
                last = ordered
        if factor == 1:
            spent = _money(total)
        else:
            spent = str((total / 100).quantize(decimal.Decimal("0.01")))
        summaries.append((cid, n_orders, spent, first, last))
    return {
        "orders": orders,
        "order_lines": lines,
        "refunds": refunds,
        "purchase_summaries": summaries,
    }


_BUSINESS = ("created_at", "updated_at", "version", "deleted_at", "deleted_by_id")
PART = history.Part(
    key="sales",
    tables=(
        history.Table(
            "orders",
            Order,
            (
                "external_id",
                "customer_id",
                "ordered_at",
                "currency",
                "status",
                "cancel_reason",
                "amount",
                "refunded_amount",
                "base_rate",
                *_BUSINESS,
            ),
        ),
        history.Table(
            "order_lines",
            OrderLine,
            ("order_id", "product_id", "quantity", "unit_price", "discount", "amount"),
            refs=(("order_id", "orders"),),
        ),
        history.Table(
            "refunds",
            Refund,
            ("order_id", "external_id", "refunded_at", "amount", "reason", "is_return", *_BUSINESS),
            refs=(("order_id", "orders"),),
        ),
        history.Table(
            "purchase_summaries",
            PurchaseSummary,
            ("customer_id", "order_count", "total_spent", "first_purchase_at", "last_purchase_at"),
            numbered=False,
        ),
    ),
    prepare=prepare,
    rows=rows,
)
