"""Deterministic demo data, loaded in bulk.

The same ``(seed, count)`` gives the same customers on any database and with any
number of worker processes. Rows are generated in chunks, each with its own
random stream derived from the seed and the chunk number. Worker processes
generate chunks and encode them for the database (``COPY`` text for PostgreSQL;
for SQLite, rows for ``executemany`` and the search keys as JSON that SQLite
unpacks with ``json_each``), so the process that writes does little per-row
Python work; chunks are written in order, at most a few generated ahead.

Generated values are valid by construction (phone numbers from real mobile
ranges, check characters computed), and search keys are exactly what
``services.search_keys_for`` computes (with a person's pinyin composed from the
surname's and the given name's), so the bulk path stays consistent with the
service-layer rules; tests check samples against the validators.

Large loads (``BULK_THRESHOLD`` customers or more, or at least a chunk and at
least as many customers as the database holds: ``_is_large``) drop the secondary
indexes of the tables they fill (and, on PostgreSQL, their foreign keys, unique
keys and the search-key primary key) and rebuild them once at the end, all in one
transaction. On SQLite that transaction uses a rollback journal instead of WAL
(the new pages are not journaled, so the data is written once instead of twice)
and takes the database for itself until it commits; an interrupted load rolls
back completely.
"""

import datetime
import functools
import gc
import itertools
import json
import marshal
import math
import multiprocessing
import os
import random
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise

import phonenumbers
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from kehu.accounts.models import Role, Team, User
from kehu.core.forking import single_threaded
from kehu.core.models import AppliesTo, CustomFieldDefinition, FieldType
from kehu.core.normalize import id_check_char, uscc_check_char
from kehu.core.pinyin import (
    INITIALS_STARTS,
    KEY_MAX_LENGTH,
    PINYIN_STARTS,
    pinyin_full,
    pinyin_syllables,
    surname_syllables,
    text_keys,
)

from . import demo_data as words
from . import demo_history as history
from .demo_history import EPOCH
from .models import Contact, Customer, CustomerSearchKey, CustomerTag, Note, Tag

CHUNK = 20_000
DEMO_PASSWORD = "kehu-demo-2026"

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
KEY_COLUMNS = ["customer_id", "key"]
TAG_COLUMNS = ["customer_id", "tag_id"]
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
GENDERS = ("female", "male", "male", "female", "")
TAG_COUNTS = (0, 0, 1, 1, 1, 2, 3)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass
class Chunk:
    """The rows of one chunk; contacts and notes lack their id (it is given when written)."""

    first_id: int
    customers: list[tuple] = field(default_factory=list)
    keys: list[list[str]] = field(default_factory=list)  # per customer, in id order
    tags: list[tuple] = field(default_factory=list)
    contacts: list[tuple] = field(default_factory=list)
    notes: list[tuple] = field(default_factory=list)
    created: list[int] = field(default_factory=list)  # per customer: seconds since 1970

    @property
    def key_count(self) -> int:
        return sum(map(len, self.keys))


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


# ---- generating --------------------------------------------------------------
#
# The generator draws from ``random.Random`` through ``getrandbits`` exactly as
# ``choice``, ``randrange``, ``randint``, ``sample`` and ``expovariate`` do, so
# the data is what those calls give, at a fraction of the cost. Timestamps are
# whole seconds in UTC, written as text the way Django writes them.

# Chinese names are keyed by ``_cjk_name_keys`` below, which relies on their
# characters being plain CJK ideographs that text normalisation leaves alone.
if not all(
    "\u4e00" <= c <= "\u9fff"
    for c in words.SURNAMES + words.GIVEN_CHARS + "".join(words.COMPOUND_SURNAMES)
):
    raise ImproperlyConfigured("demo name characters must be CJK unified ideographs")
_SURNAME_LAMBDA = 1 / 18


def _bits(n: int) -> int:
    return n.bit_length()


def _days(start: datetime.date, count: int, fmt: str) -> list[str]:
    return [format(start + datetime.timedelta(days=d), fmt) for d in range(count)]


class _Tables:
    """Formatted dates and times, built once per process."""

    def __init__(self, timestamp_suffix: str):
        epoch = int(EPOCH.timestamp())
        span = 3 * 365 * 86400
        self.first_day = (epoch - span) // 86400
        first = datetime.date(1970, 1, 1) + datetime.timedelta(days=self.first_day)
        self.day = _days(first, epoch // 86400 - self.first_day + 1, "%Y-%m-%d ")
        self.clock = [
            f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{timestamp_suffix}"
            for s in range(86400)
        ]
        self.born = _days(datetime.date(1950, 1, 1), 20000, "%Y-%m-%d")
        self.born_compact = [d.replace("-", "") for d in self.born]


_tables: dict[str, _Tables] = {}


def _get_tables(timestamp_suffix: str) -> _Tables:
    if timestamp_suffix not in _tables:
        _tables[timestamp_suffix] = _Tables(timestamp_suffix)
    return _tables[timestamp_suffix]


@dataclass
class _NameCache:
    """Per-process caches of what depends only on a company or Latin name."""

    org: dict = field(default_factory=dict)  # name -> (name_sort, keys, domain)
    company_keys: dict = field(default_factory=dict)
    latin_keys: dict = field(default_factory=dict)
    given_syllables: dict = field(default_factory=dict)


def _cjk_name_keys(name: str, syllables: tuple[str, ...]) -> list[str]:
    """``text_keys(name, syllables)`` for a short name of plain CJK characters.

    Such a name is unchanged by ``clean_text``, ``lower`` and ``strip_legal_suffix``
    and has no Latin words, so only its suffixes, pinyin and initials are keyed.
    """
    keys = [name[i:] for i in range(len(name))]
    if syllables:
        n = len(syllables)
        keys.extend("".join(syllables[i:]) for i in range(min(n, PINYIN_STARTS)))
        initials = "".join([s[0] for s in syllables])
        keys.extend(initials[i:] for i in range(min(n, INITIALS_STARTS)))
    return keys


def _cut(key: str) -> str:
    return key if len(key) <= KEY_MAX_LENGTH else key[:KEY_MAX_LENGTH]


def _cached_text_keys(cache: dict, text: str, syllables=None) -> list[str]:
    keys = cache.get(text)
    if keys is None:
        keys = cache[text] = [_cut(k) for k in text_keys(text, syllables)]
    return keys


def _minimal(keys: list[str]) -> list[str]:
    """``pinyin.minimal_keys`` for keys no longer than ``KEY_MAX_LENGTH``, maybe repeated."""
    ordered = sorted(keys)
    kept = [a for a, b in pairwise(ordered) if not b.startswith(a)]
    kept.append(ordered[-1])
    return kept


class Generator:
    def __init__(self, seed: int, setup: Setup, timestamp_suffix: str = ""):
        self.seed = seed
        self.setup = setup
        self.timestamp_suffix = timestamp_suffix
        self.cache = _NameCache()

    def chunk(self, index: int, first_id: int, count: int) -> Chunk:
        """The rows of customers ``first_id`` … ``first_id + count - 1``."""
        rng = random.Random(f"{self.seed}:{index}")
        bits = rng.getrandbits
        rand = rng.random
        log = math.log
        tables = _get_tables(self.timestamp_suffix)
        day, clock, first_day = tables.day, tables.clock, tables.first_day
        born_iso, born_compact = tables.born, tables.born_compact
        epoch = int(EPOCH.timestamp())
        span = 3 * 365 * 86400
        span_bits = _bits(span)
        cache = self.cache
        owners = self.setup.owners
        owners_n, owners_b = len(owners), _bits(len(owners))
        tag_ids = self.setup.tag_ids
        tags_n = len(tag_ids)
        admin_id = self.setup.admin_id
        regions = [
            (p, [(c, d, len(d), _bits(len(d)), a) for c, d, a in cs], len(cs), _bits(len(cs)))
            for p, cs in words.REGIONS
        ]
        regions_n, regions_b = len(regions), _bits(len(regions))
        streets = words.STREETS
        streets_n, streets_b = len(streets), _bits(len(streets))
        prefixes = words.MOBILE_PREFIXES
        prefixes_n, prefixes_b = len(prefixes), _bits(len(prefixes))
        vip = words.VIP_LEVELS
        vip_n, vip_b = len(vip), _bits(len(vip))
        industries = words.INDUSTRIES
        industries_n, industries_b = len(industries), _bits(len(industries))
        sources_n, sources_b = len(SOURCES), _bits(len(SOURCES))
        statuses_n, statuses_b = len(STATUSES), _bits(len(STATUSES))
        company_words = words.COMPANY_WORDS
        cw_n, cw_b = len(company_words), _bits(len(company_words))
        en_company = words.EN_COMPANY
        enc_n, enc_b = len(en_company), _bits(len(en_company))
        sizes_n, sizes_b = len(SIZES), _bits(len(SIZES))
        titles = words.CONTACT_TITLES
        titles_n, titles_b = len(titles), _bits(len(titles))
        roles = words.CONTACT_ROLES
        roles_n, roles_b = len(roles), _bits(len(roles))
        en_first, en_last = words.EN_FIRST, words.EN_LAST
        enf_n, enf_b = len(en_first), _bits(len(en_first))
        enl_n, enl_b = len(en_last), _bits(len(en_last))
        email_domains = words.EMAIL_DOMAINS
        ed_n, ed_b = len(email_domains), _bits(len(email_domains))
        genders_n, genders_b = len(GENDERS), _bits(len(GENDERS))
        tagc_n, tagc_b = len(TAG_COUNTS), _bits(len(TAG_COUNTS))
        notes = words.NOTES
        notes_n, notes_b = len(notes), _bits(len(notes))
        compound = words.COMPOUND_SURNAMES
        compound_n, compound_b = len(compound), _bits(len(compound))
        surnames = words.SURNAMES
        surnames_last = len(surnames) - 1
        given_chars = words.GIVEN_CHARS
        given_n, given_b = len(given_chars), _bits(len(given_chars))
        given_syllables = cache.given_syllables
        suffix = words.COMPANY_SUFFIX
        main_business = words.MAIN_BUSINESS

        def below(n: int, k: int) -> int:
            r = bits(k)
            while r >= n:
                r = bits(k)
            return r

        def mobile() -> str:
            return f"+86{prefixes[below(prefixes_n, prefixes_b)]}{below(100_000_000, 27):08d}"

        def chinese_name() -> tuple[str, tuple[str, ...]]:
            if rand() < 0.01:
                surname = compound[below(compound_n, compound_b)]
            else:
                surname = surnames[min(int(-log(1.0 - rand()) / _SURNAME_LAMBDA), surnames_last)]
            if rand() < 0.35:
                given = given_chars[below(given_n, given_b)]
            else:
                given = given_chars[below(given_n, given_b)] + given_chars[below(given_n, given_b)]
            syllables = given_syllables.get(given)
            if syllables is None:
                syllables = given_syllables[given] = pinyin_syllables(given)
            return surname + given, surname_syllables(surname) + syllables

        out = Chunk(first_id=first_id)
        customers, all_keys, all_tags = out.customers, out.keys, out.tags
        contacts, notes_out, created_out = out.contacts, out.notes, out.created
        for cid in range(first_id, first_id + count):
            province, cities, cities_n, cities_b = regions[below(regions_n, regions_b)]
            city, districts, districts_n, districts_b, area_code = cities[below(cities_n, cities_b)]
            district = districts[below(districts_n, districts_b)]
            street = f"{streets[below(streets_n, streets_b)]}{below(999, 10) + 1}号"
            age = below(span, span_bits)
            created_ts = epoch - age
            updated_ts = created_ts + below(age or 1, (age or 1).bit_length())
            created = day[created_ts // 86400 - first_day] + clock[created_ts % 86400]
            created_out.append(created_ts)
            updated = day[updated_ts // 86400 - first_day] + clock[updated_ts % 86400]
            if rand() < 0.03:
                owner_id = team_id = None
            else:
                owner_id, team_id = owners[below(owners_n, owners_b)]
            phone = mobile()
            phones = [phone]
            keys = [phone[i:] for i in range(3, len(phone) - 3)]
            if rand() < 0.06:
                phone = mobile()
                phones.append(phone)
                keys += [phone[i:] for i in range(3, len(phone) - 3)]
            custom = f'"vip_level": "{vip[below(vip_n, vip_b)]}"' if rand() < 0.4 else ""
            industry = industries[below(industries_n, industries_b)]
            source = SOURCES[below(sources_n, sources_b)]
            status = STATUSES[below(statuses_n, statuses_b)]
            if rand() < 0.25:
                # organisation
                word = company_words[below(cw_n, cw_b)]
                if rand() < 0.92:
                    name = f"{city.rstrip('市')}{word}{suffix[industry]}有限公司"
                else:
                    name = f"{en_company[below(enc_n, enc_b)]} Trading Co., Ltd."
                known = cache.org.get(name)
                if known is None:
                    syllables = pinyin_syllables(name)
                    name_sort = (
                        ("".join(syllables) + " " + name.lower()) if syllables else name.lower()
                    )[:200]
                    name_keys = _cached_text_keys(cache.company_keys, name)
                    known = cache.org[name] = (name_sort, name_keys, _domain(name))
                name_sort, name_keys, domain = known
                keys.extend(name_keys)
                if rand() < 0.5:
                    digits = local_number_length(area_code)
                    low = 2 * 10 ** (digits - 1)
                    width = 10**digits - low
                    phone = valid_landline(area_code, low + below(width, width.bit_length()))
                    phones.insert(0, phone)
                    keys += [phone[i:] for i in range(3, len(phone) - 3)]
                size, low, high = SIZES[below(sizes_n, sizes_b)]
                width = high - low + 1
                employees = low + below(width, width.bit_length())
                body = f"91{110000 + below(550000, 20):06d}" + "".join(
                    [USCC_ALPHABET[below(31, 5)] for _ in range(9)]
                )
                credit_code = body + uscc_check_char(body)
                keys.append(credit_code.lower())
                revenue = f"{employees * (20 + below(181, 8)) * 1000}.00"
                if rand() < 0.7:
                    email = f"info{cid}@{domain}"
                    emails = f'["{email}"]'
                    keys.append(_cut(email))
                    keys.append(domain)
                else:
                    emails = "[]"
                customers.append(
                    (
                        cid,
                        "organization",
                        name,
                        name_sort,
                        "",
                        None,
                        '["' + '", "'.join(phones) + '"]',
                        emails,
                        "",
                        credit_code,
                        "CN",
                        province,
                        city,
                        district,
                        street,
                        "",
                        name,
                        "",
                        f"{province}{city}{district}{street}",
                        main_business[industry],
                        industry,
                        size,
                        employees,
                        revenue,
                        "CNY",
                        f"www.{domain}",
                        source,
                        status,
                        owner_id,
                        team_id,
                        "{" + custom + "}",
                        created,
                        updated,
                        1,
                        None,
                        None,
                    )
                )
                for k in range(1 if rand() < 0.7 else 2):
                    contact_name, contact_syllables = chinese_name()
                    phone = mobile()
                    email = f"{''.join(contact_syllables)}{below(999, 10) + 1}@{domain}"
                    contacts.append(
                        (
                            cid,
                            contact_name,
                            titles[below(titles_n, titles_b)],
                            f'["{phone}"]',
                            email,
                            roles[below(roles_n, roles_b)],
                            k == 0,
                            created,
                            created,
                            1,
                            None,
                            None,
                        )
                    )
                    keys.extend(_cjk_name_keys(contact_name, contact_syllables))
                    keys += [phone[i:] for i in range(3, len(phone) - 3)]
                    keys.append(_cut(email))
                    keys.append(domain)
            else:
                # person
                if rand() < 0.08:
                    name = f"{en_first[below(enf_n, enf_b)]} {en_last[below(enl_n, enl_b)]}"
                    local = name.lower().replace(" ", ".")
                    name_sort = name.lower()[:200]
                    keys.extend(_cached_text_keys(cache.latin_keys, name, ()))
                else:
                    name, syllables = chinese_name()
                    local = "".join(syllables)
                    name_sort = f"{local} {name}"[:200]
                    keys.extend(_cjk_name_keys(name, syllables))
                local += str(below(9999, 14) + 1)
                born = below(20000, 15)
                gender = GENDERS[below(genders_n, genders_b)]
                birthday = None
                id_number = ""
                if rand() < 0.6:
                    birthday = born_iso[born]
                    if rand() < 0.3:
                        body = f"{110000 + below(550000, 20):06d}{born_compact[born]}"
                        body += f"{below(1000, 10):03d}"
                        id_number = body + id_check_char(body)
                if rand() < 0.6:
                    domain = email_domains[below(ed_n, ed_b)]
                    email = f"{local}@{domain}"
                    emails = f'["{email}"]'
                    keys.append(_cut(email))
                    keys.append(domain)
                else:
                    emails = "[]"
                if rand() < 0.3:
                    company = (
                        f"{city.rstrip('市')}{company_words[below(cw_n, cw_b)]}"
                        f"{suffix[industry]}有限公司"
                    )
                    job_title = titles[below(titles_n, titles_b)]
                    person_industry = industry
                    keys.extend(_cached_text_keys(cache.company_keys, company))
                else:
                    company = job_title = person_industry = ""
                if rand() < 0.2:
                    sep = ", " if custom else ""
                    custom = f'{custom}{sep}"wechat": "wx_{local}"'
                customers.append(
                    (
                        cid,
                        "person",
                        name,
                        name_sort,
                        gender,
                        birthday,
                        '["' + '", "'.join(phones) + '"]',
                        emails,
                        id_number,
                        "",
                        "CN",
                        province,
                        city,
                        district,
                        street,
                        "",
                        company,
                        job_title,
                        "",
                        "",
                        person_industry,
                        "",
                        None,
                        None,
                        "CNY",
                        "",
                        source,
                        status,
                        owner_id,
                        team_id,
                        "{" + custom + "}",
                        created,
                        updated,
                        1,
                        None,
                        None,
                    )
                )
            # rng.sample(tag_ids, k), drawn the way ``random.sample`` draws from a small population
            k = TAG_COUNTS[below(tagc_n, tagc_b)]
            if k:
                if tags_n <= 21:
                    pool = list(tag_ids)
                    for i in range(k):
                        j = below(tags_n - i, (tags_n - i).bit_length())
                        all_tags.append((cid, pool[j]))
                        pool[j] = pool[tags_n - i - 1]
                else:
                    all_tags.extend((cid, t) for t in rng.sample(tag_ids, k))
            all_keys.append(_minimal(keys))
            if rand() < 0.05:
                notes_out.append(
                    (
                        cid,
                        owner_id or admin_id,
                        notes[below(notes_n, notes_b)],
                        updated,
                        updated,
                        1,
                        None,
                        None,
                    )
                )
        return out


@functools.cache
def valid_landline(area_code: str, local: int) -> str:
    """A landline the validators accept: some local number blocks (service
    numbers and the like) are not in use, and those get a 6 as first digit."""
    phone = f"+86{area_code}{local}"
    if phonenumbers.is_valid_number(phonenumbers.parse(phone, None)):
        return phone
    return f"+86{area_code}6{str(local)[1:]}"


def local_number_length(area_code: str) -> int:
    """Most Chinese cities dial 8 local digits, some smaller ones 7; ask phonenumbers."""
    number = phonenumbers.parse(f"+86{area_code}22345678", None)
    return 8 if phonenumbers.is_valid_number(number) else 7


def _domain(name: str) -> str:
    spelled = pinyin_full(name)[:12] or "".join(c for c in name.lower() if c.isalnum())[:12]
    return f"{spelled or 'company'}.com.cn"


# ---- encoding ----------------------------------------------------------------


@dataclass
class Encoded:
    """A chunk as the writer sends it: counts and one payload per table."""

    first_id: int
    customers: int
    contacts: int
    notes: int
    tags: int
    search_keys: int
    payloads: dict[str, str | bytes]
    # History rows per table, and [(table name, COPY text or marshalled rows with ids)].
    history: dict[str, int] = field(default_factory=dict)
    history_payloads: list[tuple[str, bytes]] = field(default_factory=list)


def _sqlite_payloads(chunk: Chunk) -> dict:
    # Wide rows go to executemany, marshalled (cheaper than pickling them); the
    # search keys, tens of millions of two-column rows, as one JSON document per
    # chunk that SQLite unpacks with json_each, which spares the writer a Python
    # object per key.
    return {
        "rows": marshal.dumps((chunk.customers, chunk.contacts, chunk.notes, chunk.tags)),
        "keys": json.dumps(chunk.keys, ensure_ascii=False, separators=(",", ":")),
    }


def _copy_text(rows: list[tuple]) -> str:
    # Generated text holds no tab, newline or backslash (word lists and digits
    # only); booleans read as True and False.
    return "".join(
        ["\t".join(["\\N" if v is None else str(v) for v in row]) + "\n" for row in rows]
    )


def _postgresql_payloads(chunk: Chunk) -> dict:
    keys = []
    for cid, customer_keys in enumerate(chunk.keys, chunk.first_id):
        prefix = f"{cid}\t"
        keys.append(prefix + f"\n{prefix}".join(customer_keys) + "\n")
    return {
        "customers": _copy_text(chunk.customers).encode(),
        # Without their id: the writer adds it.
        "contacts": [line.encode() for line in _copy_text(chunk.contacts).splitlines(True)],
        "notes": [line.encode() for line in _copy_text(chunk.notes).splitlines(True)],
        "keys": "".join(keys).encode(),
        "tags": "".join([f"{c}\t{t}\n" for c, t in chunk.tags]).encode(),
    }


@contextmanager
def _without_gc():
    """Millions of new tuples and lists, none in a reference cycle: the cyclic
    collector would only walk them again and again (about a tenth of the time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _generate(job) -> Encoded:
    seed, setup, index, first_id, n, vendor, contexts = job
    with _without_gc():
        chunk = _worker_generator(seed, setup, vendor).chunk(index, first_id, n)
        encode = _postgresql_payloads if vendor == "postgresql" else _sqlite_payloads
        encoded = Encoded(
            first_id=first_id,
            customers=len(chunk.customers),
            contacts=len(chunk.contacts),
            notes=len(chunk.notes),
            tags=len(chunk.tags),
            search_keys=chunk.key_count,
            payloads=encode(chunk),
        )
        if contexts is not None:
            _add_history(encoded, chunk, seed, index, vendor, contexts)
        return encoded


_STORY_COLUMNS = [
    CUSTOMER_COLUMNS.index(c) for c in ("id", "kind", "status", "source", "owner_id", "team_id")
]


def _add_history(encoded: Encoded, chunk: Chunk, seed: int, index: int, vendor, contexts):
    """Generate the registered parts' rows for the chunk's customers, wait for the
    ids of the chunks before, and encode the rows."""
    parts, bases_of = _history_parts, _history_bases
    i, kind, status, source, owner, team = _STORY_COLUMNS
    stories = history.draw_stories(
        seed,
        index,
        [(c[i], c[kind], c[status], c[source], c[owner], c[team]) for c in chunk.customers],
        chunk.created,
        history.stamper("+00" if vendor == "postgresql" else ""),
    )
    rows = history.generate(seed, stories, parts, contexts)
    numbered = history.numbered_tables(parts)
    starts = bases_of.take(index, [len(rows[t.name]) for t in numbered])
    bases = {t.name: base for t, base in zip(numbered, starts, strict=True)}
    encoded.history = {name: len(table_rows) for name, table_rows in rows.items()}
    payloads = history.encode(parts, rows, bases, vendor)
    if vendor == "postgresql":
        encoded.history_payloads = list(payloads)
    else:
        # Rows for SQLite marshalled, as the customers' are (cheaper than pickling),
        # a table at a time so that the writer holds one table's rows at once.
        encoded.history_payloads = [(name, marshal.dumps(data)) for name, data in payloads]


# Set by ``load`` before it starts the worker processes, which inherit them.
_history_parts: list[history.Part] = []
_history_bases: history.IdBases | None = None


_generators: dict = {}


def _worker_generator(seed: int, setup: Setup, vendor: str) -> Generator:
    # One generator per process keeps its name caches warm across chunks.
    key = (seed, vendor)
    generator = _generators.get(key)
    if generator is None or generator.setup != setup:
        _generators.clear()
        # PostgreSQL reads the timestamps as UTC whatever the session's time zone.
        suffix = "+00" if vendor == "postgresql" else ""
        generator = _generators[key] = Generator(seed, setup, suffix)
    return generator


# ---- writing -----------------------------------------------------------------

BULK_THRESHOLD = 200_000


def _is_large(count: int) -> bool:
    """Whether to rebuild the indexes after the load instead of keeping them up to
    date. Rebuilding costs time in proportion to what is there already; keeping
    them up costs more per row loaded. Into an empty database, 100,000 customers
    with their history took 38 s against 79 s on PostgreSQL (21 s against 34 s on
    SQLite), and 20,000 took 8 s against 13 s."""
    if count >= BULK_THRESHOLD:
        return True
    return count >= CHUNK and count >= Customer.all_objects.count()


# Tables a load fills: large loads drop their secondary indexes (and on PostgreSQL
# their foreign keys) and rebuild them once at the end.
BULK_MODELS = [Customer, Contact, Note, CustomerSearchKey, CustomerTag]


def load(
    count: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
    with_history: bool = True,
) -> dict:
    """Add ``count`` demo customers and, unless ``with_history`` is false, their
    history from every registered part (``demo_history``); returns counts of what
    was written, per table.

    Worker processes generate and encode chunks while this process writes them;
    the chunks come back in order, so the result does not depend on the number
    of workers. Nothing is written to the change log.
    """
    global _history_parts, _history_bases
    setup = ensure_setup(seed)
    start_id = _next_id(Customer)
    contact_id = _next_id(Contact)
    note_id = _next_id(Note)
    totals = {"customers": 0, "contacts": 0, "notes": 0, "search_keys": 0, "tags": 0}
    parts = history.parts() if with_history else []
    contexts = tuple(part.prepare(seed, setup.admin_id) for part in parts) if parts else None
    tables = [table for part in parts for table in part.tables]
    totals.update({table.name: 0 for table in tables})
    big = _is_large(count)
    models = [*BULK_MODELS, *dict.fromkeys(table.model for table in tables)]
    writer = (_PostgresWriter if connection.vendor == "postgresql" else _SQLiteWriter)(
        models, tables
    )
    jobs = [
        (seed, setup, i, start_id + first, min(CHUNK, count - first), writer.vendor, contexts)
        for i, first in enumerate(range(0, count, CHUNK))
    ]
    context = multiprocessing.get_context("fork")
    _history_parts = parts
    _history_bases = history.IdBases(
        context, len(jobs), [_next_id(t.model) for t in history.numbered_tables(parts)]
    )
    workers = min(os.cpu_count() or 1, 4) if len(jobs) > 2 and single_threaded() else 0
    pool = context.Pool(workers) if workers else None
    try:
        with writer.session(big), _without_gc():
            with transaction.atomic():
                writer.begin(big)
                for chunk in _in_order(pool, jobs, 2 * workers):
                    writer.write(chunk, contact_id, note_id)
                    contact_id += chunk.contacts
                    note_id += chunk.notes
                    for name in ("customers", "contacts", "notes", "search_keys", "tags"):
                        totals[name] += getattr(chunk, name)
                    for name, n in chunk.history.items():
                        totals[name] += n
                    if progress:
                        progress(chunk.customers)
                # Post-load steps of the parts (``demo_history.Part.finish``), before
                # the indexes are rebuilt, so that their rows are indexed once too.
                for part, part_context in zip(parts, contexts or (), strict=True):
                    if part.finish is not None:
                        ids = range(start_id, start_id + count)
                        totals.update(part.finish(seed, part_context, ids))
                writer.finish(big)
            writer.analyze()
    finally:
        if pool:
            pool.terminate()
        _history_parts, _history_bases = [], None
    return totals


def _next_id(model) -> int:
    return (model._base_manager.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1


CHUNK_TIMEOUT = 900  # seconds; a chunk takes about 2.5


def _in_order(pool, jobs, window: int):
    """Encoded chunks in job order, with at most ``window`` of them generated ahead."""
    if pool is None:
        yield from map(_generate, jobs)
        return
    waiting = iter(jobs)
    pending = deque(
        pool.apply_async(_generate, (job,)) for job in itertools.islice(waiting, window)
    )
    while pending:
        # A worker that died would leave get() waiting forever: fail instead.
        chunk = pending.popleft().get(timeout=CHUNK_TIMEOUT)
        job = next(waiting, None)
        if job is not None:
            pending.append(pool.apply_async(_generate, (job,)))
        yield chunk


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _columns(columns: list[str]) -> str:
    return ", ".join(_quote(c) for c in columns)


class _SQLiteWriter:
    vendor = "sqlite"

    def __init__(self, models: list, tables: list[history.Table]):
        self.models = models  # the tables a load fills
        self.history = {t.name: t for t in tables}  # history tables by name
        self.indexes: list[tuple[str, str]] = []  # (table, CREATE INDEX statement)

    @staticmethod
    def _pragma(cursor, pragma: str):
        cursor.execute(f"PRAGMA {pragma}")
        row = cursor.fetchone()
        return row[0] if row else None

    @contextmanager
    def session(self, big: bool):
        # Pragmas that only take effect outside a transaction. Rows are consistent
        # by construction; per-row foreign key checks would triple the load time.
        restore = {"foreign_keys": "ON"}
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys = OFF")
            if big:
                for pragma in ("temp_store", "mmap_size", "threads"):
                    restore[pragma] = self._pragma(cursor, pragma)
                # The index sorter is several times faster with its runs in temporary
                # files (the OS page cache holds them) than in process memory.
                cursor.execute("PRAGMA temp_store = FILE")
                # Reading gigabytes through the memory map would count them all in
                # this process's resident memory; it is no faster here.
                cursor.execute("PRAGMA mmap_size = 0")
                journal = self._pragma(cursor, "journal_mode")
                if journal == "wal":
                    # A rollback journal only keeps the pages that existed before the
                    # load; WAL would hold every new page and then copy it again. The
                    # switch needs the database to itself: if other connections are
                    # open, the load stays in WAL.
                    try:
                        if self._pragma(cursor, "journal_mode = DELETE") == "delete":
                            restore["journal_mode"] = "WAL"
                    except DatabaseError:
                        pass
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                for pragma, value in restore.items():
                    cursor.execute(f"PRAGMA {pragma} = {value}")

    def begin(self, big: bool) -> None:
        if not big:
            return
        tables = [m._meta.db_table for m in self.models]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, tbl_name, sql FROM sqlite_master"
                " WHERE type = 'index' AND sql IS NOT NULL"
                f" AND tbl_name IN ({', '.join(['%s'] * len(tables))})",
                tables,
            )
            for name, table, sql in cursor.fetchall():
                self.indexes.append((table, sql))
                cursor.execute(f"DROP INDEX {_quote(name)}")

    def write(self, chunk: Encoded, contact_id: int, note_id: int) -> None:
        payloads = chunk.payloads
        customers, contacts, notes, tags = marshal.loads(payloads["rows"])
        contacts = [(i, *row) for i, row in enumerate(contacts, contact_id)]
        notes = [(i, *row) for i, row in enumerate(notes, note_id)]
        with connection.cursor() as cursor:
            self._insert(cursor, Customer, CUSTOMER_COLUMNS, customers)
            self._insert(cursor, Contact, CONTACT_COLUMNS, contacts)
            self._insert(cursor, Note, NOTE_COLUMNS, notes)
            cursor.execute(
                f"INSERT INTO {_quote(CustomerSearchKey._meta.db_table)} ({_columns(KEY_COLUMNS)})"
                " SELECT %s + c.key, k.value FROM json_each(%s) AS c, json_each(c.value) AS k",
                [chunk.first_id, payloads["keys"]],
            )
            self._insert(cursor, CustomerTag, TAG_COLUMNS, tags)
            for name, rows in chunk.history_payloads:
                table = self.history[name]
                columns = ["id", *table.columns] if table.numbered else list(table.columns)
                self._insert(cursor, table.model, columns, marshal.loads(rows))

    @staticmethod
    def _insert(cursor, model, columns: list[str], rows: list[tuple]) -> None:
        if rows:
            cursor.executemany(
                f"INSERT INTO {_quote(model._meta.db_table)} ({_columns(columns)})"
                f" VALUES ({', '.join(['%s'] * len(columns))})",
                rows,
            )

    def finish(self, big: bool) -> None:
        if not self.indexes:
            return
        keys_table = CustomerSearchKey._meta.db_table
        with connection.cursor() as cursor:
            # The sorter is fastest with small in-memory runs (measured: a large
            # cache makes it slower), and for tens of millions of keys with two
            # threads merging them.
            cache_size = self._pragma(cursor, "cache_size")
            cursor.execute("PRAGMA cache_size = -2000")
            for table, sql in self.indexes:
                cursor.execute(f"PRAGMA threads = {2 if table == keys_table else 0}")
                cursor.execute(sql)
            cursor.execute(f"PRAGMA cache_size = {int(cache_size)}")

    def analyze(self) -> None:
        # Exact statistics (about 5 s for a million customers; a sampled ANALYZE
        # saves that but misjudges the search-key table by half).
        with connection.cursor() as cursor:
            for model in [*self.models, Tag, User, Team]:
                cursor.execute(f"ANALYZE {_quote(model._meta.db_table)}")


class _PostgresWriter:
    vendor = "postgresql"

    def __init__(self, models: list, tables: list[history.Table]):
        self.models = models  # the tables a load fills
        self.history = {t.name: t for t in tables}  # history tables by name
        self.foreign_keys: list[tuple[str, str, str]] = []
        self.keys: list[tuple[str, str, str]] = []
        self.indexes: list[str] = []

    @contextmanager
    def session(self, big: bool):
        yield

    def begin(self, big: bool) -> None:
        if not big:
            return
        tables = [m._meta.db_table for m in self.models]
        with connection.cursor() as cursor:
            # Work memory of the index builds and of the foreign key checks. More is
            # not faster: sorting 27 million keys took 25 s with 1 GB, 15 s with 256 MB.
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            # Foreign keys: their per-row triggers would queue tens of millions of
            # deferred checks; adding them back checks every row in one join.
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
                " FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])"
                " ORDER BY conrelid, conname",
                [tables],
            )
            self.foreign_keys = cursor.fetchall()
            # The search-key primary key and unique keys (external ids), when no
            # foreign key refers to them: built once by sorting instead of row by
            # row (a unique key during COPY cost orders and events about 2 µs a row).
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
                " FROM pg_constraint p WHERE ((contype = 'p' AND conrelid = %s::regclass)"
                " OR (contype = 'u' AND conrelid = ANY(%s::regclass[])))"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint f"
                " WHERE f.contype = 'f' AND f.confrelid = p.conrelid"
                " AND (p.contype = 'p' OR f.conindid = p.conindid))"
                " ORDER BY conrelid, conname",
                [CustomerSearchKey._meta.db_table, tables],
            )
            self.keys = cursor.fetchall()
            for table, name, _definition in self.foreign_keys + self.keys:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_quote(name)}")
            # Secondary indexes: those that back no constraint. (Names and tables come
            # as regclass text, quoted and qualified as needed.)
            cursor.execute(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i"
                " WHERE indrelid = ANY(%s::regclass[]) AND NOT EXISTS"
                " (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid"
                " AND c.conrelid = i.indrelid)"
                " ORDER BY indexrelid",
                [tables],
            )
            for name, definition in cursor.fetchall():
                self.indexes.append(definition)
                cursor.execute(f"DROP INDEX {name}")

    def write(self, chunk: Encoded, contact_id: int, note_id: int) -> None:
        payloads = chunk.payloads
        contacts = b"".join(
            b"%d\t%s" % pair for pair in enumerate(payloads["contacts"], contact_id)
        )
        notes = b"".join(b"%d\t%s" % pair for pair in enumerate(payloads["notes"], note_id))
        with connection.cursor() as cursor:
            for model, columns, data in (
                (Customer, CUSTOMER_COLUMNS, payloads["customers"]),
                (Contact, CONTACT_COLUMNS, contacts),
                (Note, NOTE_COLUMNS, notes),
                (CustomerSearchKey, KEY_COLUMNS, payloads["keys"]),
                (CustomerTag, TAG_COLUMNS, payloads["tags"]),
            ):
                if data:
                    self._copy(cursor, model, columns, data)
            for name, data in chunk.history_payloads:
                table = self.history[name]
                columns = ["id", *table.columns] if table.numbered else list(table.columns)
                self._copy(cursor, table.model, columns, data)

    @staticmethod
    def _copy(cursor, model, columns: list[str], data: bytes) -> None:
        sql = f"COPY {_quote(model._meta.db_table)} ({_columns(columns)}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            copy.write(data)

    def finish(self, big: bool) -> None:
        from django.core.management.color import no_style

        with connection.cursor() as cursor:
            for table, name, definition in self.keys:
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {_quote(name)} {definition}")
            for definition in self.indexes:
                cursor.execute(definition)
            for table, name, definition in self.foreign_keys:
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {_quote(name)} {definition}")
            numbered = [t.model for t in self.history.values() if t.numbered]
            for sql in connection.ops.sequence_reset_sql(
                no_style(), [Customer, Contact, Note, *numbered]
            ):
                cursor.execute(sql)

    def analyze(self) -> None:
        # VACUUM too: until it marks the new pages all-visible, an index-only scan
        # (counts, search keys) still visits the table for every row it returns.
        with connection.cursor() as cursor:
            for model in [*self.models, Tag, User, Team]:
                cursor.execute(f"VACUUM (ANALYZE) {_quote(model._meta.db_table)}")


__all__ = ["DEMO_PASSWORD", "load", "timezone"]
