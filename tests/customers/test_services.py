"""Customer services: validation, normalisation, change log, versions, soft delete."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.core.changelog import Actor
from kehu.core.errors import VersionConflict
from kehu.core.models import ChangeAction, ChangeLogEntry, Channel, CustomFieldDefinition
from kehu.customers import services
from kehu.customers.models import Contact, Customer, Tag
from kehu.customers.queries import search_customers

from ..conftest import make_customer, system_actor

pytestmark = pytest.mark.django_db


def ui(user):
    return Actor(user=user, channel=Channel.UI)


def test_create_normalises_every_field():
    customer = make_customer(
        name="  张三丰 ",
        phones="１３８００１３８０００；+1 650 253 0000",
        emails=["Zhang@Example.com", "zhang@example.com"],
        id_number="11010519491231002x",
        province=" 广东省 ",
        tags="VIP, 老客户, VIP",
    )
    customer.refresh_from_db()
    assert customer.name == "张三丰"
    assert customer.phones == ["+8613800138000", "+16502530000"]
    assert customer.emails == ["zhang@example.com"]
    assert customer.id_number == "11010519491231002X"
    assert customer.province == "广东省"
    assert sorted(t.name for t in customer.tags.all()) == ["VIP", "老客户"]
    assert customer.name_sort.startswith("zhangsanfeng")
    assert customer.version == 1


def test_bad_input_names_every_field_and_saves_nothing():
    with pytest.raises(ValidationError) as info:
        make_customer(
            name="",
            phones=["12345"],
            emails=["not-an-email"],
            credit_code="123",
            birthday="2999-01-01",
            status="bogus",
        )
    errors = info.value.message_dict
    assert set(errors) >= {"name", "phones", "emails", "credit_code", "birthday", "status"}
    assert "12345" in errors["phones"][0]
    assert Customer.all_objects.count() == 0
    assert ChangeLogEntry.objects.count() == 0


def test_create_writes_the_change_log_with_values():
    customer = make_customer(name="李四", phones=["13900000001"])
    entry = ChangeLogEntry.objects.get(object_id=customer.pk, action=ChangeAction.CREATE)
    assert entry.changes["name"] == [None, "李四"]
    assert entry.changes["phones"] == [None, ["+8613900000001"]]
    assert entry.channel == Channel.SYSTEM


def test_update_logs_before_and_after_and_bumps_version(people):
    customer = make_customer(owner=people["sales"], name="王五", city="北京")
    updated = services.customer_update(
        actor=ui(people["sales"]),
        customer=customer,
        data={"city": "上海", "tags": ["重点"]},
        version=1,
    )
    assert updated.version == 2
    entry = ChangeLogEntry.objects.filter(action=ChangeAction.UPDATE).get()
    assert entry.changes["city"] == ["北京", "上海"]
    assert entry.changes["tags"] == [[], ["重点"]]
    assert entry.user == people["sales"] and entry.channel == Channel.UI
    assert entry.version == 2


def test_an_update_that_changes_nothing_keeps_the_version(people):
    customer = make_customer(owner=people["sales"], name="王五")
    same = services.customer_update(
        actor=ui(people["sales"]), customer=customer, data={"name": " 王五 "}, version=1
    )
    assert same.version == 1
    assert not ChangeLogEntry.objects.filter(action=ChangeAction.UPDATE).exists()


def test_stale_version_conflicts_and_names_the_changed_fields(people):
    customer = make_customer(owner=people["sales"], name="赵六")
    services.customer_update(
        actor=ui(people["sales"]), customer=customer, data={"city": "广州"}, version=1
    )
    with pytest.raises(VersionConflict) as info:
        services.customer_update(
            actor=ui(people["sales"]), customer=customer, data={"name": "赵七"}, version=1
        )
    assert info.value.current_version == 2
    assert info.value.changed_fields == ["city"]
    customer.refresh_from_db()
    assert customer.name == "赵六"


def test_update_validation_error_changes_nothing(people):
    customer = make_customer(owner=people["sales"], name="钱七", phones=["13800000077"])
    with pytest.raises(ValidationError):
        services.customer_update(
            actor=ui(people["sales"]),
            customer=customer,
            data={"name": "钱八", "phones": ["bad"]},
            version=1,
        )
    customer.refresh_from_db()
    assert customer.name == "钱七" and customer.version == 1


def test_soft_delete_restore_and_purge(people):
    customer = make_customer(owner=people["sales"], name="孙八")
    services.customer_delete(actor=ui(people["sales"]), customer=customer)
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert Customer.all_objects.get(pk=customer.pk).deleted_by == people["sales"]
    services.customer_restore(actor=ui(people["admin"]), customer=customer)
    assert Customer.objects.filter(pk=customer.pk).exists()

    services.customer_delete(actor=ui(people["admin"]), customer=customer)
    now = datetime.datetime.now(datetime.UTC)
    assert services.customers_purge(actor=system_actor(), older_than_days=30, now=now) == 0
    later = now + datetime.timedelta(days=31)
    assert services.customers_purge(actor=system_actor(), older_than_days=30, now=later) == 1
    assert not Customer.all_objects.filter(pk=customer.pk).exists()
    purge = ChangeLogEntry.objects.get(object_id=customer.pk, action=ChangeAction.PURGE)
    assert purge.changes["name"] == ["孙八", None]
    actions = list(
        ChangeLogEntry.objects.filter(object_id=customer.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "delete", "restore", "delete", "purge"]


def test_sales_may_only_own_their_customers(people):
    with pytest.raises(ValidationError) as info:
        services.customer_create(
            actor=ui(people["sales"]), data={"name": "周九", "owner": people["sales_peer"].pk}
        )
    assert "owner" in info.value.message_dict
    mine = services.customer_create(actor=ui(people["sales"]), data={"name": "周九"})
    assert mine.owner == people["sales"] and mine.team == people["sales"].team
    other = make_customer(owner=people["sales_peer"], name="吴十")
    with pytest.raises(PermissionDenied):
        services.customer_update(
            actor=ui(people["sales"]), customer=other, data={"name": "x"}, version=1
        )


def test_manager_reassigns_within_team_only(people):
    customer = make_customer(owner=people["sales"], name="郑十一")
    changed = services.customers_bulk_reassign(
        actor=ui(people["manager"]), customer_ids=[customer.pk], owner_id=people["sales_peer"].pk
    )
    assert changed == 1
    customer.refresh_from_db()
    assert customer.owner == people["sales_peer"] and customer.version == 2
    with pytest.raises(ValidationError):
        services.customers_bulk_reassign(
            actor=ui(people["manager"]),
            customer_ids=[customer.pk],
            owner_id=people["sales_west"].pk,
        )


def test_read_only_roles_cannot_create(people):
    for role in ("analyst", "readonly", "support"):
        with pytest.raises(PermissionDenied):
            services.customer_create(actor=ui(people[role]), data={"name": "x"})


def test_bulk_tag_touches_only_editable_records(people):
    mine = make_customer(owner=people["sales"], name="甲")
    theirs = make_customer(owner=people["sales_west"], name="乙")
    changed = services.customers_bulk_tag(
        actor=ui(people["sales"]), customer_ids=[mine.pk, theirs.pk], add=["跟进"]
    )
    assert changed == 1
    assert list(mine.tags.values_list("name", flat=True)) == ["跟进"]
    assert not theirs.tags.exists()
    services.customers_bulk_tag(actor=ui(people["sales"]), customer_ids=[mine.pk], remove=["跟进"])
    assert not mine.tags.exists()
    assert Tag.objects.filter(name="跟进").exists()


def found(customer, query) -> bool:
    return search_customers(Customer.objects.all(), query).filter(pk=customer.pk).exists()


def test_search_keys_follow_edits_and_contacts(people):
    customer = make_customer(owner=people["sales"], name="欧阳娜娜", phones=["13812345678"])
    for query in ["欧阳娜娜", "ouyangnana", "oynn", "5678"]:
        assert found(customer, query), query
    assert not found(customer, "李雷")
    services.contact_create(
        actor=ui(people["sales"]),
        customer=customer,
        data={"name": "李雷", "phones": "13698765432", "email": "lilei@corp.cn"},
    )
    for query in ["李雷", "lilei", "5432", "lilei@corp.cn", "corp.cn"]:
        assert found(customer, query), query
    services.customer_update(
        actor=ui(people["sales"]), customer=customer, data={"name": "欧阳锋"}, version=1
    )
    assert found(customer, "ouyangfeng") and not found(customer, "ouyangnana")


def test_full_company_names_are_found_with_their_legal_form(people):
    evergreen = make_customer(
        owner=people["sales"], kind="organization", name="Evergreen Trading Co., Ltd."
    )
    acme = make_customer(owner=people["sales"], kind="organization", name="Acme Robotics Inc.")
    huaxin = make_customer(owner=people["sales"], kind="organization", name="华信科技有限公司")
    for query in ["Evergreen Trading Co., Ltd.", "evergreen trading co ltd", "Evergreen Ltd"]:
        assert found(evergreen, query) and not found(acme, query), query
    assert found(acme, "Acme Robotics Inc.") and not found(evergreen, "Acme Robotics Inc.")
    assert found(huaxin, "华信科技有限公司") and found(huaxin, "华信 有限公司")
    assert not found(huaxin, "Evergreen Trading Co., Ltd.")


def test_contact_primary_flag_is_unique_and_changes_logged_on_customer(people):
    customer = make_customer(owner=people["sales"], kind="organization", name="华信科技有限公司")
    first = services.contact_create(
        actor=ui(people["sales"]), customer=customer, data={"name": "甲", "is_primary": True}
    )
    second = services.contact_create(
        actor=ui(people["sales"]), customer=customer, data={"name": "乙", "is_primary": True}
    )
    first.refresh_from_db()
    assert not first.is_primary and second.is_primary
    with pytest.raises(ValidationError) as info:
        services.contact_create(
            actor=ui(people["sales"]), customer=customer, data={"name": "丙", "email": "x@"}
        )
    assert "email" in info.value.message_dict
    services.contact_delete(actor=ui(people["sales"]), contact=second)
    assert not Contact.objects.filter(pk=second.pk).exists()
    history = services.history_entries(customer)
    assert {e.action for e in history if e.content_type.model == "contact"} == {"create", "delete"}


@pytest.fixture
def custom_fields(db):
    defs = [
        ("vip", "会员等级", "choice", ["金卡", "银卡"], False),
        ("hobbies", "爱好", "multichoice", ["茶", "酒", "书"], False),
        ("budget", "预算", "decimal", [], False),
        ("visits", "来访次数", "integer", [], False),
        ("since", "合作开始", "date", [], False),
        ("agreed", "已签约", "boolean", [], False),
        ("wechat", "微信", "text", [], True),
    ]
    return [
        CustomFieldDefinition.objects.create(
            key=key, label=label, field_type=ftype, choices=choices, required=required
        )
        for key, label, ftype, choices, required in defs
    ]


def test_custom_fields_are_validated_and_coerced(custom_fields):
    customer = make_customer(
        name="冯一",
        custom_fields={
            "vip": "金卡",
            "hobbies": ["茶", "书", "茶"],
            "budget": "1,234.50",
            "visits": "3",
            "since": "2024/03/01",
            "agreed": "是",
            "wechat": " wx_feng ",
        },
    )
    assert customer.custom_fields == {
        "vip": "金卡",
        "hobbies": ["茶", "书"],
        "budget": "1234.50",
        "visits": 3,
        "since": "2024-03-01",
        "agreed": True,
        "wechat": "wx_feng",
    }


def test_custom_field_errors_are_keyed_per_field(custom_fields):
    with pytest.raises(ValidationError) as info:
        make_customer(
            name="冯二",
            custom_fields={
                "vip": "铜卡",
                "visits": "3.5",
                "since": "yesterday",
                "agreed": "maybe",
                "nope": 1,
            },
        )
    errors = info.value.message_dict
    assert set(errors) == {
        "custom_fields.vip",
        "custom_fields.visits",
        "custom_fields.since",
        "custom_fields.agreed",
        "custom_fields.nope",
        "custom_fields.wechat",  # required and missing
    }
    assert Customer.all_objects.count() == 0
