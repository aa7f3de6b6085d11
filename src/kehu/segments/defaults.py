"""The classification standards Kehu ships (分类标准): seven dimensions with
their values and rules, which an admin may change, switch off or delete. Names
are English and translated for display (``ShippedName``); labels.py marks them
for translation. Used by migration 0009 and by tests."""


def _starts(*prefixes: str) -> dict:
    tests = [{"field": "province", "operator": "starts_with", "value": p} for p in prefixes]
    return {"op": "or", "conditions": tests}


def _contains(*words: str) -> dict:
    tests = [{"field": "industry", "operator": "contains", "value": w} for w in words]
    return {"op": "or", "conditions": tests}


def _test(field: str, operator: str, value=None) -> dict:
    found = {"field": field, "operator": operator}
    if value is not None:
        found["value"] = value
    return found


def _size(low: int, high: int | None, code: str) -> dict:
    employees = (
        _test("employees", "between", [low, high]) if high else _test("employees", "gte", low)
    )
    return {"op": "or", "conditions": [employees, _test("company_size", "eq", code)]}


NO_PURCHASE = {
    "op": "or",
    "conditions": [_test("order_count", "empty"), _test("order_count", "eq", 0)],
}

# (key, name, applies to, several values, [(value key, value name, conditions)])
# Rules get priorities 10, 20 … in the order given; the first that matches wins.
DIMENSIONS = [
    ("customer_type", "Customer type", "both", False, [
        ("individual", "Individual", _test("kind", "eq", "person")),
        ("company", "Company", _test("kind", "eq", "organization")),
    ]),
    ("region", "Location", "both", False, [
        ("east", "East China", _starts("上海", "江苏", "浙江", "安徽", "福建", "江西", "山东")),
        ("south", "South China", _starts("广东", "广西", "海南")),
        ("north", "North China", _starts("北京", "天津", "河北", "山西", "内蒙古")),
        ("central", "Central China", _starts("河南", "湖北", "湖南")),
        ("southwest", "Southwest China", _starts("重庆", "四川", "贵州", "云南", "西藏")),
        ("northwest", "Northwest China", _starts("陕西", "甘肃", "青海", "宁夏", "新疆")),
        ("northeast", "Northeast China", _starts("辽宁", "吉林", "黑龙江")),
        ("hk_mo_tw", "Hong Kong, Macao and Taiwan", _starts("香港", "澳门", "台湾")),
    ]),
    ("industry", "Industry", "organization", False, [
        ("manufacturing", "Manufacturing", _contains("制造", "工业", "加工")),
        ("trade", "Wholesale and retail", _contains("批发", "零售", "贸易", "商贸")),
        ("it", "Information technology", _contains("信息", "软件", "互联网", "科技")),
        ("finance", "Finance", _contains("金融", "银行", "保险", "证券")),
        ("real_estate", "Real estate and construction", _contains("房地产", "建筑")),
        ("education", "Education", _contains("教育", "培训")),
        ("health", "Health care", _contains("医疗", "医药", "健康")),
        ("other", "Other industries", _test("industry", "not_empty")),
    ]),
    ("company_size", "Company size", "organization", False, [
        ("micro", "Micro (under 10)", _size(0, 9, "micro")),
        ("small", "Small (10–99)", _size(10, 99, "small")),
        ("medium", "Medium (100–999)", _size(100, 999, "medium")),
        ("large", "Large (1000 and more)", _size(1000, None, "large")),
    ]),
    ("relationship", "Business relationship", "both", False, [
        ("churned", "Churned", _test("lifecycle_stage", "eq", "churned")),
        ("long_term", "Long-term partner", _test("order_count", "gte", 3)),
        ("partner", "Partner", _test("order_count", "gte", 1)),
        ("potential", "Potential", NO_PURCHASE),
    ]),
    ("purchase_behaviour", "Purchase behaviour", "both", False, [
        ("repeat", "Repeat buyer", _test("order_count", "gte", 2)),
        ("first", "First-time buyer", _test("order_count", "eq", 1)),
        ("prospect", "Prospect", NO_PURCHASE),
    ]),
    ("service_needs", "Service needs", "both", True, [
        ("open_complaint", "Open complaint", _test("open_complaints", "gte", 1)),
        ("unhappy", "Low satisfaction", {"op": "or", "conditions": [
            _test("csat", "lte", 2), _test("nps", "lte", 6),
        ]}),
        ("promoter", "Promoter", _test("nps", "gte", 9)),
    ]),
]  # fmt: skip


def ship(Dimension, DimensionValue, Rule) -> None:
    """Create the shipped standards that are not there yet (by key)."""
    for position, (key, name, applies_to, multiple, values) in enumerate(DIMENSIONS, start=1):
        if Dimension.objects.filter(key=key).exists():
            continue
        dimension = Dimension.objects.create(
            key=key, name=name, applies_to=applies_to, multiple=multiple, position=position * 10
        )
        for n, (value_key, value_name, conditions) in enumerate(values, start=1):
            value = DimensionValue.objects.create(
                dimension=dimension, key=value_key, name=value_name, position=n
            )
            Rule.objects.create(
                name=value_name, value=value, conditions=conditions, priority=n * 10
            )
