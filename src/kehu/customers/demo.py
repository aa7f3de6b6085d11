"""Deterministic demo data, loaded in bulk.

The same ``(seed, count)`` gives the same customers on any database. Rows are
generated in chunks, each with its own random stream derived from the seed and
the chunk number, and written with ``executemany`` (SQLite) or ``COPY``
(PostgreSQL) while the large indexes are dropped and rebuilt afterwards.
Generated values are valid by construction (phone numbers from real mobile
ranges, check characters computed), so the bulk path stays consistent with the
service-layer rules; tests check samples against the validators.
"""

import datetime
import functools
import json
import multiprocessing
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import phonenumbers
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from kehu.accounts.models import Role, Team, User
from kehu.core.models import AppliesTo, CustomFieldDefinition, FieldType
from kehu.core.normalize import id_check_char, uscc_check_char
from kehu.core.pinyin import (
    email_keys,
    minimal_keys,
    phone_keys,
    pinyin_full,
    pinyin_syllables,
    surname_syllables,
    text_keys,
)

from . import demo_data as words
from .models import Contact, Customer, CustomerSearchKey, CustomerTag, Note, Tag

CHUNK = 20_000
DEMO_PASSWORD = "kehu-demo-2026"
EPOCH = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)

CUSTOMER_COLUMNS = [
    "id",
    "kind",
    "name",
    "name_sort",
    "gender",
    "birthday",
    "phones",
    "emails",
    "id_number",
    "credit_code",
    "country",
    "province",
    "city",
    "district",
    "street",
    "postal_code",
    "company_name",
    "job_title",
    "registered_address",
    "main_business",
    "industry",
    "company_size",
    "employees",
    "annual_revenue",
    "revenue_currency",
    "website",
    "source",
    "status",
    "owner_id",
    "team_id",
    "custom_fields",
    "created_at",
    "updated_at",
    "version",
    "deleted_at",
    "deleted_by_id",
]
CONTACT_COLUMNS = [
    "id",
    "customer_id",
    "name",
    "title",
    "phones",
    "email",
    "role",
    "is_primary",
    "created_at",
    "updated_at",
    "version",
    "deleted_at",
    "deleted_by_id",
]
NOTE_COLUMNS = [
    "id",
    "customer_id",
    "author_id",
    "body",
    "created_at",
    "updated_at",
    "version",
    "deleted_at",
    "deleted_by_id",
]
SOURCES = (
    ["sales"] * 30
    + ["website"] * 20
    + ["social"] * 15
    + ["referral"] * 15
    + ["third_party"] * 8
    + ["event"] * 7
    + ["import"] * 5
)
STATUSES = ["active"] * 45 + ["prospect"] * 20 + ["lead"] * 20 + ["inactive"] * 10 + ["lost"] * 5
SIZES = [("micro", 1, 9), ("small", 10, 99), ("medium", 100, 999), ("large", 1000, 20000)]


@dataclass
class Chunk:
    customers: list[tuple] = field(default_factory=list)
    keys: list[tuple] = field(default_factory=list)
    tags: list[tuple] = field(default_factory=list)
    contacts: list[tuple] = field(default_factory=list)
    notes: list[tuple] = field(default_factory=list)


@dataclass
class Setup:
    owners: list[tuple[int, int | None]]  # (user id, team id) of sales reps and managers
    tag_ids: list[int]
    admin_id: int


def ensure_setup(seed: int) -> Setup:
    """Teams, users, tags and a custom field; idempotent."""
    rng = random.Random(seed)
    password = make_password(DEMO_PASSWORD)
    teams = []
    for name, description in words.TEAMS:
        team, _ = Team.objects.get_or_create(name=name, defaults={"description": description})
        teams.append(team)
    admin = User.objects.filter(username="admin").first()
    if admin is None:
        admin = User.objects.create(
            username="admin",
            password=password,
            role=Role.ADMIN,
            is_staff=True,
            is_superuser=True,
            first_name="管理员",
        )
    owners = []
    for t_index, team in enumerate(teams[:4]):
        manager = _user(f"manager{t_index + 1}", Role.MANAGER, team, password, rng)
        owners.append((manager.pk, team.pk))
        for s in range(5):
            rep = _user(f"sales{t_index * 5 + s + 1}", Role.SALES, team, password, rng)
            owners.append((rep.pk, team.pk))
    _user("support1", Role.SUPPORT, teams[4], password, rng)
    _user("analyst1", Role.ANALYST, None, password, rng)
    _user("viewer1", Role.READONLY, teams[0], password, rng)
    tag_ids = [Tag.objects.get_or_create(name=name)[0].pk for name in words.TAGS]
    CustomFieldDefinition.objects.get_or_create(
        key="vip_level",
        defaults={
            "label": "会员等级",
            "field_type": FieldType.CHOICE,
            "choices": words.VIP_LEVELS,
            "applies_to": AppliesTo.BOTH,
            "position": 1,
        },
    )
    CustomFieldDefinition.objects.get_or_create(
        key="wechat",
        defaults={
            "label": "微信号",
            "field_type": FieldType.TEXT,
            "applies_to": AppliesTo.PERSON,
            "position": 2,
        },
    )
    return Setup(owners=owners, tag_ids=tag_ids, admin_id=admin.pk)


def _user(username, role, team, password, rng) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        surname = words.SURNAMES[rng.randrange(len(words.SURNAMES))]
        given = words.GIVEN_CHARS[rng.randrange(len(words.GIVEN_CHARS))]
        user = User.objects.create(
            username=username,
            password=password,
            role=role,
            team=team,
            first_name=given,
            last_name=surname,
        )
    return user


class Generator:
    def __init__(self, seed: int, setup: Setup):
        self.seed = seed
        self.setup = setup
        self._pending_rows: list[tuple] = []
        self._pending_contacts: list[set[str]] = []

    def chunk(self, index: int, first_id: int, count: int, contact_id: int, note_id: int) -> Chunk:
        """Rows of one chunk; contacts and notes are numbered from the ids given."""
        rng = random.Random(f"{self.seed}:{index}")
        out = Chunk()
        for offset in range(count):
            self._customer(rng, first_id + offset, out)
        out.contacts = [(contact_id + i, *row[1:]) for i, row in enumerate(out.contacts)]
        out.notes = [(note_id + i, *row[1:]) for i, row in enumerate(out.notes)]
        return out

    def _customer(self, rng: random.Random, cid: int, out: Chunk) -> None:
        province, cities = rng.choice(words.REGIONS)
        city, districts, area_code = rng.choice(cities)
        district = rng.choice(districts)
        street = f"{rng.choice(words.STREETS)}{rng.randint(1, 999)}号"
        created = EPOCH - datetime.timedelta(seconds=rng.randrange(3 * 365 * 86400))
        age = int((EPOCH - created).total_seconds())
        updated = created + datetime.timedelta(seconds=rng.randrange(max(1, age)))
        owner_id, team_id = (None, None) if rng.random() < 0.03 else rng.choice(self.setup.owners)
        phones = [self._mobile(rng)]
        if rng.random() < 0.06:
            phones.append(self._mobile(rng))
        custom = {}
        if rng.random() < 0.4:
            custom["vip_level"] = rng.choice(words.VIP_LEVELS)
        industry = rng.choice(words.INDUSTRIES)
        row = dict.fromkeys(CUSTOMER_COLUMNS, "")
        row.update(
            id=cid,
            country="CN",
            province=province,
            city=city,
            district=district,
            street=street,
            revenue_currency="CNY",
            source=rng.choice(SOURCES),
            status=rng.choice(STATUSES),
            owner_id=owner_id,
            team_id=team_id,
            created_at=created,
            updated_at=updated,
            version=1,
            birthday=None,
            employees=None,
            annual_revenue=None,
            deleted_at=None,
            deleted_by_id=None,
        )
        keys: set[str] = set()
        if rng.random() < 0.25:
            syllables = self._organization(rng, row, cid, industry, area_code, phones, keys)
        else:
            syllables = self._person(rng, row, industry, custom)
        name = row["name"]
        keys |= text_keys(name, syllables)
        row["name_sort"] = (
            " ".join(syllables).replace(" ", "") + " " + name.lower() if syllables else name.lower()
        )[:200]
        row["phones"] = json.dumps(phones)
        row["emails"] = json.dumps(row["emails"] or [])
        row["custom_fields"] = json.dumps(custom, ensure_ascii=False)
        if row["company_name"] and row["company_name"] != name:
            keys |= text_keys(row["company_name"])
        for phone in phones:
            keys |= phone_keys(phone[3:])
        for email in json.loads(row["emails"]):
            keys |= email_keys(email)
        if row["credit_code"]:
            keys.add(row["credit_code"].lower())
        out.customers.append(tuple(row[c] for c in CUSTOMER_COLUMNS))
        for tag_id in rng.sample(self.setup.tag_ids, rng.choice((0, 0, 1, 1, 1, 2, 3))):
            out.tags.append((cid, tag_id))
        for contact in self._pending_contacts:
            keys |= contact
        self._pending_contacts = []
        out.contacts.extend(self._pending_rows)
        self._pending_rows = []
        out.keys.extend((cid, k) for k in minimal_keys(keys))
        if rng.random() < 0.05:
            out.notes.append(
                (
                    0,
                    cid,
                    owner_id or self.setup.admin_id,
                    rng.choice(words.NOTES),
                    updated,
                    updated,
                    1,
                    None,
                    None,
                )
            )

    def _organization(self, rng, row, cid, industry, area_code, phones, keys):
        row["kind"] = "organization"
        word = rng.choice(words.COMPANY_WORDS)
        if rng.random() < 0.92:
            name = f"{row['city'].rstrip('市')}{word}{words.COMPANY_SUFFIX[industry]}有限公司"
            syllables = None
        else:
            name = f"{rng.choice(words.EN_COMPANY)} Trading Co., Ltd."
            syllables = ()
        domain = _domain(name)
        if rng.random() < 0.5:
            digits = local_number_length(area_code)
            phones.insert(0, f"+86{area_code}{rng.randint(2 * 10 ** (digits - 1), 10**digits - 1)}")
        size, low, high = rng.choice(SIZES)
        employees = rng.randint(low, high)
        row.update(
            name=name,
            company_name=name,
            industry=industry,
            credit_code=_uscc(rng),
            registered_address=f"{row['province']}{row['city']}{row['district']}{row['street']}",
            main_business=words.MAIN_BUSINESS[industry],
            company_size=size,
            employees=employees,
            annual_revenue=f"{employees * rng.randint(20, 200) * 1000}.00",
            website=f"www.{domain}",
            emails=[f"info{cid}@{domain}"] if rng.random() < 0.7 else [],
        )
        self._pending_rows = []
        self._pending_contacts = []
        for k in range(1 if rng.random() < 0.7 else 2):
            cname, csyllables = self._chinese_name(rng)
            mobile = self._mobile(rng)
            email = f"{''.join(csyllables)}{rng.randint(1, 999)}@{domain}"
            self._pending_rows.append(
                (
                    0,
                    cid,
                    cname,
                    rng.choice(words.CONTACT_TITLES),
                    json.dumps([mobile]),
                    email,
                    rng.choice(words.CONTACT_ROLES),
                    k == 0,
                    row["created_at"],
                    row["created_at"],
                    1,
                    None,
                    None,
                )
            )
            self._pending_contacts.append(
                text_keys(cname, csyllables) | phone_keys(mobile[3:]) | email_keys(email)
            )
        return syllables if syllables is not None else pinyin_syllables(name)

    def _person(self, rng, row, industry, custom):
        row["kind"] = "person"
        self._pending_rows = []
        self._pending_contacts = []
        if rng.random() < 0.08:
            name = f"{rng.choice(words.EN_FIRST)} {rng.choice(words.EN_LAST)}"
            syllables = ()
            local = name.lower().replace(" ", ".")
        else:
            name, syllables = self._chinese_name(rng)
            local = "".join(syllables)
        local += str(rng.randint(1, 9999))
        born = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(20000))
        row.update(name=name, gender=rng.choice(("female", "male", "male", "female", "")))
        if rng.random() < 0.6:
            row["birthday"] = born
            if rng.random() < 0.3:
                row["id_number"] = _resident_id(rng, born)
        if rng.random() < 0.6:
            row["emails"] = [f"{local}@{rng.choice(words.EMAIL_DOMAINS)}"]
        if rng.random() < 0.3:
            city = row["city"].rstrip("市")
            row["company_name"] = (
                f"{city}{rng.choice(words.COMPANY_WORDS)}{words.COMPANY_SUFFIX[industry]}有限公司"
            )
            row["job_title"] = rng.choice(words.CONTACT_TITLES)
            row["industry"] = industry
        if rng.random() < 0.2:
            custom["wechat"] = f"wx_{local}"
        return syllables

    @staticmethod
    def _mobile(rng) -> str:
        return f"+86{rng.choice(words.MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"

    @staticmethod
    def _chinese_name(rng) -> tuple[str, tuple[str, ...]]:
        """A name and its pinyin, composed from the surname's and the given name's."""
        surname = (
            rng.choice(words.COMPOUND_SURNAMES)
            if rng.random() < 0.01
            else words.SURNAMES[min(int(rng.expovariate(1 / 18)), len(words.SURNAMES) - 1)]
        )
        n = 1 if rng.random() < 0.35 else 2
        given = "".join(rng.choice(words.GIVEN_CHARS) for _ in range(n))
        return surname + given, surname_syllables(surname) + pinyin_syllables(given)


@functools.cache
def local_number_length(area_code: str) -> int:
    """Most Chinese cities dial 8 local digits, some smaller ones 7; ask phonenumbers."""
    number = phonenumbers.parse(f"+86{area_code}22345678", None)
    return 8 if phonenumbers.is_valid_number(number) else 7


def _domain(name: str) -> str:
    spelled = pinyin_full(name)[:12] or "".join(c for c in name.lower() if c.isalnum())[:12]
    return f"{spelled or 'company'}.com.cn"


def _uscc(rng) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = (
        "91"
        + f"{rng.randrange(110000, 660000):06d}"
        + "".join(rng.choice(alphabet) for _ in range(9))
    )
    return body + uscc_check_char(body)


def _resident_id(rng, born: datetime.date) -> str:
    body = f"{rng.randrange(110000, 660000):06d}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + id_check_char(body)


# ---- writing -----------------------------------------------------------------

BULK_THRESHOLD = 200_000
BULK_INDEXES = {
    # Rebuilding these after a large load is several times faster than keeping them.
    CustomerSearchKey: ["custkey_key"],
    Customer: [
        "cust_updated",
        "cust_created",
        "cust_name",
        "cust_owner",
        "cust_team",
        "cust_status",
        "cust_region",
        "cust_industry",
        "cust_source",
    ],
    CustomerTag: ["custtag_tag"],
}


def load(count: int, seed: int, progress: Callable[[int], None] | None = None) -> dict:
    """Add ``count`` demo customers; returns counts of what was written.

    Worker processes generate chunks while this process writes them; the chunks
    come back in order, so the result does not depend on the number of workers.
    """
    setup = ensure_setup(seed)
    start_id = (Customer.all_objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    contact_id = (Contact.all_objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    note_id = (Note.all_objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    totals = {"customers": 0, "contacts": 0, "notes": 0, "search_keys": 0, "tags": 0}
    big = count >= BULK_THRESHOLD
    jobs = [
        (seed, setup, i, start_id + first, min(CHUNK, count - first))
        for i, first in enumerate(range(0, count, CHUNK))
    ]
    workers = min(os.cpu_count() or 1, 4) if len(jobs) > 2 else 0
    pool = multiprocessing.get_context("fork").Pool(workers) if workers else None
    chunks = pool.imap(_generate, jobs) if pool else map(_generate, jobs)
    sqlite = connection.vendor == "sqlite"
    if sqlite:
        # Rows are consistent by construction; per-row foreign key checks would
        # triple the load time. (The pragma only takes effect outside a transaction.)
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys = OFF")
    try:
        with transaction.atomic():
            if big:
                _drop_indexes()
            for chunk in chunks:
                chunk.contacts = [(contact_id + i, *r[1:]) for i, r in enumerate(chunk.contacts)]
                chunk.notes = [(note_id + i, *r[1:]) for i, r in enumerate(chunk.notes)]
                contact_id += len(chunk.contacts)
                note_id += len(chunk.notes)
                _write(Customer, CUSTOMER_COLUMNS, chunk.customers)
                _write(Contact, CONTACT_COLUMNS, chunk.contacts)
                _write(Note, NOTE_COLUMNS, chunk.notes)
                _write(CustomerSearchKey, ["customer_id", "key"], chunk.keys)
                _write(CustomerTag, ["customer_id", "tag_id"], chunk.tags)
                totals["customers"] += len(chunk.customers)
                totals["contacts"] += len(chunk.contacts)
                totals["notes"] += len(chunk.notes)
                totals["search_keys"] += len(chunk.keys)
                totals["tags"] += len(chunk.tags)
                if progress:
                    progress(len(chunk.customers))
            if big:
                _create_indexes()
            _reset_sequences()
    finally:
        if pool:
            pool.terminate()
        if sqlite:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA foreign_keys = ON")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return totals


def _generate(job) -> Chunk:
    seed, setup, index, first_id, n = job
    return Generator(seed, setup).chunk(index, first_id, n, 0, 0)


def _write(model, columns: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cols = ", ".join(columns)
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows
            )


def _bulk_indexes():
    # The editor only renders SQL here: SQLite refuses a schema editor context
    # inside a transaction, and these statements need none.
    editor = connection.SchemaEditorClass(connection)
    editor.deferred_sql = []
    for model, names in BULK_INDEXES.items():
        for index in model._meta.indexes:
            if index.name in names:
                yield model, index, editor


def _drop_indexes() -> None:
    with connection.cursor() as cursor:
        for model, index, editor in _bulk_indexes():
            cursor.execute(str(index.remove_sql(model, editor)))


def _create_indexes() -> None:
    with connection.cursor() as cursor:
        for model, index, editor in _bulk_indexes():
            cursor.execute(str(index.create_sql(model, editor)))


def _reset_sequences() -> None:
    if connection.vendor != "postgresql":
        return
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Customer, Contact, Note]):
            cursor.execute(sql)


__all__ = ["DEMO_PASSWORD", "load", "timezone"]
