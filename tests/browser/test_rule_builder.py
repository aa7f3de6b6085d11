"""The "no code" condition builder for classification rules (static/segments/rule-builder.js).

No Django page: a minimal form is served from a routed fake origin, with the script as a
static file, so the builder starts the way it does in the app (DOMContentLoaded). No
database either: only the session ``browser`` fixture is used.
"""

import html
import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import TIMEOUT_MS

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).resolve().parents[2] / "src/kehu/static/segments/rule-builder.js"
ORIGIN = "http://kehu.test"

NUMBER_OPS = [
    ("eq", "is"),
    ("ne", "is not"),
    ("gt", "is more than"),
    ("gte", "is at least"),
    ("lt", "is less than"),
    ("lte", "is at most"),
    ("between", "is between"),
    ("empty", "is empty"),
    ("not_empty", "is not empty"),
]
TEXT_OPS = [
    ("eq", "is"),
    ("ne", "is not"),
    ("in", "is one of"),
    ("not_in", "is none of"),
    ("contains", "contains"),
    ("starts_with", "starts with"),
    ("empty", "is empty"),
    ("not_empty", "is not empty"),
]
TAG_OPS = [("has", "has"), ("has_not", "does not have")]


def field(name, label, kind, ops, choices=None):
    found = {
        "name": name,
        "label": label,
        "kind": kind,
        "operators": [{"op": op, "label": text} for op, text in ops],
    }
    if choices is not None:
        found["choices"] = [{"value": value, "label": text} for value, text in choices]
    return found


FIELDS = [
    field("total_spent", "Total net spend", "number", NUMBER_OPS),
    field(
        "kind",
        "Customer kind",
        "text",
        TEXT_OPS,
        [("person", "Individual"), ("company", "Company")],
    ),
    field("province", "Province", "text", TEXT_OPS),
    field("city", "City", "text", TEXT_OPS),
    field("purchases_in_days", "Purchases in the last N days", "number", NUMBER_OPS),
    field("tags", "Tags", "tags", TAG_OPS, [("VIP", "VIP"), ("大客户", "大客户")]),
]
ENGLISH = {
    "all": "all of",
    "any": "any of",
    "add-condition": "Add condition",
    "add-group": "Add group",
    "remove": "Remove",
    "days": "days",
    "and": "and",
    "comma-hint": "separate values with commas",
}
CHINESE = {
    "all": "全部满足",
    "any": "任一满足",
    "add-condition": "添加条件",
    "add-group": "添加分组",
    "remove": "删除",
    "days": "天",
    "and": "至",
    "comma-hint": "用逗号分隔",
}
NESTED = {
    "op": "and",
    "conditions": [
        {"field": "total_spent", "operator": "gte", "value": 1000},
        {
            "op": "or",
            "conditions": [
                # "广东, 深圳" is one value: a loaded list is kept exactly, commas and all.
                {"field": "province", "operator": "in", "value": ["浙江", "上海", "广东, 深圳"]},
                {"field": "total_spent", "operator": "between", "value": [10.5, 200]},
                {"field": "kind", "operator": "eq", "value": "company"},
            ],
        },
        {"field": "purchases_in_days", "operator": "gte", "value": 2, "days": 30},
        {"field": "city", "operator": "empty"},
        {"field": "tags", "operator": "has", "value": "大客户"},
        {"field": "cf.retired", "operator": "eq", "value": {"kept": [1, "二"]}},
    ],
}


def builder_html(initial, texts=ENGLISH, fields=FIELDS, suffix=""):
    """One form with a builder; ``initial`` is the hidden input's raw value."""
    words = " ".join(f'data-text-{key}="{html.escape(text)}"' for key, text in texts.items())
    catalogue = json.dumps(fields, ensure_ascii=False).replace("</", "<\\/")
    return (
        f'<form id="form{suffix}" method="post" action="/saved/">'
        f'<div class="rule-builder" data-rule-builder data-fields-id="rule-fields{suffix}"'
        f' data-input="conditions" {words}></div>'
        f'<input type="hidden" name="conditions" value="{html.escape(initial)}">'
        f'<script type="application/json" id="rule-fields{suffix}">{catalogue}</script>'
        "</form>"
    )


def document(*forms):
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<script src="/static/segments/rule-builder.js"></script></head>'
        f"<body>{''.join(forms)}</body></html>"
    )


@pytest.fixture
def open_page(browser):
    """``open_page(body_html)``: a page on the fake origin, builders initialised."""
    contexts = []

    def serve(route):
        url = route.request.url
        if url.endswith("/static/segments/rule-builder.js"):
            route.fulfill(path=str(SCRIPT), content_type="text/javascript")
        elif url == f"{ORIGIN}/":
            route.fulfill(body=pages[-1], content_type="text/html; charset=utf-8")
        else:
            route.fulfill(status=404, body="")

    pages = []

    def make(body):
        context = browser.new_context(locale="en-US")
        context.set_default_timeout(TIMEOUT_MS)
        context.route(f"{ORIGIN}/**", serve)
        contexts.append(context)
        pages.append(body)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{ORIGIN}/")
        expect(page.locator(".rb-group").first).to_be_visible()
        # Counts the change events htmx would see, bubbling up to the form.
        page.evaluate(
            """() => { window.changes = 0; document.addEventListener('change', (e) => {
                if (e.target.name === 'conditions') window.changes += 1; }); }"""
        )
        page.js_errors = errors
        return page

    yield make
    for context in contexts:
        assert not [p.js_errors for p in context.pages if p.js_errors]
        context.close()


def hidden(page, form="#form"):
    return json.loads(page.locator(f"{form} input[name=conditions]").input_value())


def rows(page):
    return page.locator(".rb-test")


def test_nested_condition_round_trips_unchanged(open_page):
    page = open_page(document(builder_html(json.dumps(NESTED, ensure_ascii=False))))

    assert hidden(page) == NESTED
    assert (
        page.evaluate(
            "() => KehuRuleBuilder.serialize(document.querySelector('[data-rule-builder]'))"
        )
        == NESTED
    )
    # … and it is shown, not just passed through.
    expect(page.locator(".rb-group")).to_have_count(2)
    expect(rows(page)).to_have_count(8)
    expect(rows(page).nth(0).locator(".rb-field")).to_have_value("total_spent")
    expect(rows(page).nth(0).locator(".rb-operator")).to_have_value("gte")
    expect(rows(page).nth(0).locator(".rb-value")).to_have_value("1000")
    expect(rows(page).nth(1).locator(".rb-value")).to_have_value("浙江, 上海, 广东, 深圳")
    expect(rows(page).nth(2).locator(".rb-value")).to_have_count(2)
    expect(rows(page).nth(2).locator(".rb-value").nth(0)).to_have_value("10.5")
    expect(rows(page).nth(3).locator("select.rb-value")).to_have_value("company")
    expect(rows(page).nth(4).locator(".rb-days")).to_have_value("30")
    expect(rows(page).nth(5).locator(".rb-value")).to_have_count(0)
    expect(rows(page).nth(6).locator("select.rb-value")).to_have_value("大客户")
    expect(rows(page).nth(7).locator(".rb-field")).to_have_value("cf.retired")
    expect(rows(page).nth(7).locator(".rb-field option:checked")).to_have_text("cf.retired")
    expect(page.locator("[data-rule-builder] > .rb-group > .rb-head .rb-op")).to_have_value("and")
    expect(page.locator(".rb-items .rb-group .rb-op")).to_have_value("or")

    # Editing another row leaves the unknown field's test exactly as loaded.
    rows(page).nth(0).locator(".rb-value").fill("2000")
    assert hidden(page)["conditions"][0]["value"] == 2000
    assert hidden(page)["conditions"][1:] == NESTED["conditions"][1:]
    assert page.evaluate("window.changes") >= 1


def test_editing_fields_operators_and_values(open_page):
    initial = {
        "op": "and",
        "conditions": [{"field": "province", "operator": "in", "value": ["浙江"]}],
    }
    page = open_page(document(builder_html(json.dumps(initial, ensure_ascii=False))))
    row = rows(page).first
    test = lambda: hidden(page)["conditions"][0]  # noqa: E731

    # Same kind, no fixed choices: operator and value are kept.
    row.locator(".rb-field").select_option("city")
    assert test() == {"field": "city", "operator": "in", "value": ["浙江"]}
    # Fixed choices: the value is reset, and picked from a multi-select.
    row.locator(".rb-field").select_option("kind")
    assert test() == {"field": "kind", "operator": "in", "value": []}
    row.locator("select.rb-value").select_option(["person", "company"])
    assert test() == {"field": "kind", "operator": "in", "value": ["person", "company"]}
    row.locator(".rb-operator").select_option("eq")
    assert test() == {"field": "kind", "operator": "eq", "value": "person"}

    # Another kind: "eq" is allowed for numbers and kept; the value is not.
    row.locator(".rb-field").select_option("total_spent")
    assert test() == {"field": "total_spent", "operator": "eq", "value": None}
    row.locator(".rb-operator").select_option("not_empty")
    row.locator(".rb-field").select_option("province")
    row.locator(".rb-field").select_option("total_spent")
    assert test() == {"field": "total_spent", "operator": "not_empty"}
    row.locator(".rb-operator").select_option("gte")
    expect(row.locator("input.rb-value")).to_have_attribute("type", "number")
    expect(row.locator("input.rb-value")).to_have_value("")
    assert test() == {"field": "total_spent", "operator": "gte", "value": None}

    row.locator(".rb-value").fill("1500")
    value = test()["value"]
    assert value == 1500 and isinstance(value, int)  # a JSON number, not "1500"
    row.locator(".rb-value").fill("12.5")
    assert test()["value"] == 12.5
    row.locator(".rb-value").fill("")
    assert test() == {"field": "total_spent", "operator": "gte", "value": None}

    row.locator(".rb-value").fill("100")
    row.locator(".rb-operator").select_option("between")
    expect(row.locator(".rb-value")).to_have_count(2)
    expect(row.locator(".rb-value").first).to_have_value("100")  # carried over
    assert test()["value"] == [100, None]
    row.locator(".rb-value").nth(1).fill("200")
    assert test() == {"field": "total_spent", "operator": "between", "value": [100, 200]}

    # "between" is not a text operator: back to the first one.
    row.locator(".rb-field").select_option("province")
    assert test() == {"field": "province", "operator": "eq", "value": ""}
    row.locator(".rb-operator").select_option("in")
    expect(row.locator(".rb-value")).to_have_attribute("placeholder", "separate values with commas")
    row.locator(".rb-value").fill("浙江, 上海，北京、 ")
    assert test() == {"field": "province", "operator": "in", "value": ["浙江", "上海", "北京"]}
    row.locator(".rb-operator").select_option("eq")
    assert test()["value"] == "浙江"
    row.locator(".rb-operator").select_option("not_empty")
    expect(row.locator(".rb-value")).to_have_count(0)
    assert test() == {"field": "province", "operator": "not_empty"}  # no "value" key

    row.locator(".rb-field").select_option("purchases_in_days")
    expect(row.locator(".rb-days")).to_have_value("90")
    assert test() == {"field": "purchases_in_days", "operator": "not_empty", "days": 90}
    row.locator(".rb-days").fill("30")
    assert test()["days"] == 30

    row.locator(".rb-field").select_option("tags")
    assert test() == {"field": "tags", "operator": "has", "value": "VIP"}
    row.locator(".rb-value").select_option("大客户")
    assert test() == {"field": "tags", "operator": "has", "value": "大客户"}
    assert page.evaluate("window.changes") >= 20


def test_add_groups_and_remove_items(open_page):
    page = open_page(document(builder_html("")))  # empty: one blank test of the first field
    assert hidden(page) == {
        "op": "and",
        "conditions": [{"field": "total_spent", "operator": "eq", "value": None}],
    }
    root = page.locator("[data-rule-builder] > .rb-group")
    root_head = root.locator("> .rb-head")
    root_head.get_by_role("button", name="Add condition").click()
    root_head.get_by_role("button", name="Add group").click()
    nested = root.locator("> .rb-items > .rb-group")
    expect(nested).to_have_count(1)
    nested.locator("> .rb-head").get_by_role("button", name="Add condition").click()

    root.locator("> .rb-items > .rb-test").nth(0).locator(".rb-value").fill("5")
    root.locator("> .rb-items > .rb-test").nth(1).locator(".rb-value").fill("6")
    nested.locator(".rb-test").nth(0).locator(".rb-field").select_option("city")
    nested.locator(".rb-test").nth(0).locator(".rb-value").fill("杭州")
    nested.locator(".rb-test").nth(1).locator(".rb-value").fill("7")
    nested.locator("> .rb-head .rb-op").select_option("or")
    changes = page.evaluate("window.changes")
    root.locator("> .rb-items > .rb-test").nth(1).get_by_role("button", name="Remove").click()
    assert page.evaluate("window.changes") == changes + 1

    assert hidden(page) == {
        "op": "and",
        "conditions": [
            {"field": "total_spent", "operator": "eq", "value": 5},
            {
                "op": "or",
                "conditions": [
                    {"field": "city", "operator": "eq", "value": "杭州"},
                    {"field": "total_spent", "operator": "eq", "value": 7},
                ],
            },
        ],
    }
    root_head.locator(".rb-op").select_option("or")
    assert hidden(page)["op"] == "or"
    # The root cannot be removed; a nested group can, with everything in it.
    expect(root_head.get_by_role("button", name="Remove")).to_have_count(0)
    nested.locator("> .rb-head").get_by_role("button", name="Remove").click()
    assert hidden(page) == {
        "op": "or",
        "conditions": [{"field": "total_spent", "operator": "eq", "value": 5}],
    }
    # Buttons never submit the form.
    expect(page.locator("[data-rule-builder] button:not([type=button])")).to_have_count(0)


def test_groups_nest_at_most_five_deep(open_page):
    page = open_page(document(builder_html("not json")))
    group = page.locator("[data-rule-builder] > .rb-group")
    for _ in range(4):
        group.locator("> .rb-head").get_by_role("button", name="Add group").click()
        group = group.locator("> .rb-items > .rb-group")
    expect(page.locator(".rb-group")).to_have_count(5)
    expect(group.locator("> .rb-head").get_by_role("button", name="Add group")).to_have_count(0)
    expect(group.locator("> .rb-head").get_by_role("button", name="Add condition")).to_have_count(1)
    depth, node = 0, hidden(page)
    while True:
        depth += 1
        groups = [c for c in node["conditions"] if "conditions" in c]
        if not groups:
            break
        node = groups[0]
    assert depth == 5


def test_markup_in_values_stays_text(open_page):
    evil = '<b>"quote"</b>'
    fields = [
        *FIELDS,
        field("industry", "<b>Industry</b>", "text", TEXT_OPS, [(evil, evil), ("it", "IT")]),
    ]
    initial = {
        "op": "and",
        "conditions": [
            {"field": "province", "operator": "in", "value": [evil, "上海"]},
            {"field": "industry", "operator": "eq", "value": evil},
            {"field": f"cf.{evil}", "operator": evil, "value": evil},
        ],
    }
    page = open_page(document(builder_html(json.dumps(initial), fields=fields)))
    assert hidden(page) == initial
    expect(rows(page).nth(2).locator(".rb-raw")).to_have_text(json.dumps(evil))

    row = rows(page).first
    row.locator(".rb-operator").select_option("contains")
    row.locator(".rb-value").fill(evil)
    expect(row.locator(".rb-value")).to_have_value(evil)
    assert hidden(page)["conditions"][0] == {
        "field": "province",
        "operator": "contains",
        "value": evil,
    }
    expect(page.locator("b")).to_have_count(0)
    expect(page.locator(".rb-field option", has_text="<b>Industry</b>").first).to_be_attached()


def test_visible_words_come_from_the_data_attributes(open_page):
    initial = {
        "op": "and",
        "conditions": [
            {"field": "total_spent", "operator": "between", "value": [1, 2]},
            {"op": "or", "conditions": [{"field": "province", "operator": "in", "value": ["x"]}]},
            {"field": "purchases_in_days", "operator": "gte", "value": 1, "days": 7},
        ],
    }
    page = open_page(document(builder_html(json.dumps(initial), texts=CHINESE)))
    builder = page.locator("[data-rule-builder]")
    expect(builder.locator(".rb-op").first.locator("option")).to_have_text(["全部满足", "任一满足"])
    expect(builder.get_by_role("button", name="添加条件")).to_have_count(2)
    expect(builder.get_by_role("button", name="添加分组")).to_have_count(2)
    expect(builder.locator(".rb-group .rb-group > .rb-head button", has_text="删除")).to_have_count(
        1
    )
    expect(builder.locator(".rb-test button")).to_have_text(["删除"] * 3)
    expect(rows(page).nth(0).locator(".rb-word")).to_have_text("至")
    expect(rows(page).nth(1).locator(".rb-value")).to_have_attribute("placeholder", "用逗号分隔")
    expect(rows(page).nth(2).locator(".rb-word")).to_have_text("天")
    expect(rows(page).nth(2).locator(".rb-days")).to_have_attribute("aria-label", "天")
    text = builder.inner_text()
    # ("days" and "and" are left out: the English field labels contain them.)
    for key in ("all", "any", "add-condition", "add-group", "remove", "comma-hint"):
        assert ENGLISH[key] not in text
    # Every control has an accessible name.
    unnamed = builder.locator("select:not([aria-label]), input:not([aria-label])")
    expect(unnamed).to_have_count(0)


def test_builders_are_independent_and_htmx_swaps_are_initialised(open_page):
    one = {"op": "and", "conditions": [{"field": "city", "operator": "eq", "value": "杭州"}]}
    two = {"op": "or", "conditions": [{"field": "total_spent", "operator": "gt", "value": 1}]}
    page = open_page(
        document(
            builder_html(json.dumps(one, ensure_ascii=False), suffix="1"),
            builder_html(json.dumps(two), texts=CHINESE, suffix="2"),
        )
    )
    page.locator("#form2 .rb-value").fill("9")
    page.locator("#form1").get_by_role("button", name="Add condition").click()
    assert hidden(page, "#form1")["conditions"][0] == one["conditions"][0]
    assert len(hidden(page, "#form1")["conditions"]) == 2
    assert hidden(page, "#form2") == {**two, "conditions": [{**two["conditions"][0], "value": 9}]}

    # htmx swapped in a third form: only the new builder is initialised.
    page.evaluate(
        """(html) => {
            const box = document.createElement('div');
            box.innerHTML = html;  // the test's own markup, standing in for htmx
            document.body.appendChild(box);
            box.dispatchEvent(new CustomEvent('htmx:afterSwap', {bubbles: true}));
        }""",
        builder_html(json.dumps(one, ensure_ascii=False), suffix="3"),
    )
    expect(page.locator("#form3 .rb-test")).to_have_count(1)
    expect(page.locator("[data-rule-builder-ready]")).to_have_count(3)
    expect(page.locator("[data-rule-builder] > .rb-group")).to_have_count(3)
    assert hidden(page, "#form3") == one
    assert len(hidden(page, "#form1")["conditions"]) == 2
