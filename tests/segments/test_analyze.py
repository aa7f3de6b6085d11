"""`kehu analyze` on files as analysts have them: Chinese headers, GBK text,
XLSX, messy dates and amounts; every output format; clear errors."""

import datetime
import json

import openpyxl
import polars as pl
import pytest
from django.core.management import CommandError, call_command

from kehu.segments.models import SegmentSettings

pytestmark = pytest.mark.django_db

REQUIRED = [
    "customer",
    "recency",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "rfm_class_cn",
    "lifecycle_stage",
    "p_alive",
    "expected_purchases_90",
    "clv",
]

ROWS = [
    ("王芳", "2026-01-05", "1,200.00"),
    ("王芳", "2026/3/1 14:30", "￥300"),
    ("王芳", "2026年3月1日", "100"),  # the same day: one purchase day
    ("李雷", "20260310", "80.5"),
    ("李雷", "2026-03-20", "-80.5"),  # a refund
    ("韩梅梅", "2026-03-30", "45"),
    ("张伟", "31/03/2026", "10"),  # not a readable date
    ("", "2026-03-30", "10"),  # no customer
]


def run(*args) -> dict:
    out = []

    class Sink:
        def write(self, text):
            out.append(text)

        def flush(self):
            pass

    call_command("analyze", *args, "--json", stdout=Sink())
    return json.loads("".join(out))


def write_csv(path, encoding="utf-8"):
    text = "客户,日期,金额\n" + "".join(f'{c},{d},"{a}"\n' for c, d, a in ROWS)
    path.write_bytes(text.encode(encoding))
    return path


def test_gbk_csv_to_xlsx_with_every_required_column(tmp_path):
    source = write_csv(tmp_path / "订单.csv", encoding="gbk")
    out = tmp_path / "result.xlsx"
    summary = run(
        str(source), "--customer", "客户", "--date", "日期", "--amount", "金额",
        "--as-of", "2026-03-31", "--out", str(out),
    )  # fmt: skip
    assert summary["rows"] == 8 and summary["rows_used"] == 6 and summary["rows_skipped"] == 2
    assert summary["problems"] == [
        "row 8: date 31/03/2026 is not a date (use 2026-01-31)",
        "row 9: no customer",
    ]
    assert summary["customers"] == 3 and summary["output"] == str(out)
    # three customers cannot support a fit: said, not hidden
    assert summary["bgnbd"] is None and "at least 10" in summary["prediction_error"]
    sheet = openpyxl.load_workbook(out, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header, body = list(rows[0]), rows[1:]
    assert set(REQUIRED) <= set(header)
    table = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    wang = table["王芳"]
    # RFM: 3 orders, net 1,600, last purchase 30 days before as-of
    assert (wang["rfm_frequency"], wang["rfm_monetary"], wang["rfm_recency_days"]) == (3, 1600, 30)
    # BG/NBD: two purchase days, so one repeat worth 400 (the day's total), 55 days apart
    assert (wang["frequency"], wang["recency"], wang["T"], wang["monetary"]) == (1, 55, 85, 400)
    li = table["李雷"]
    assert (li["rfm_frequency"], li["rfm_monetary"], li["rfm_recency_days"]) == (1, 0, 21)
    assert li["lifecycle_stage"] == "new" and wang["lifecycle_stage"] == "active"
    # three customers scored, M ranks 3, 2, 1: 1 + floor(5 (r - 1) / 3) gives 4, 2, 1
    assert (wang["m_score"], table["韩梅梅"]["m_score"], li["m_score"]) == (4, 2, 1)
    # R 30 days is above the mean (17.3): low; F 3 and M 1,600 above theirs: high
    assert wang["rfm_class_cn"] == "重要保持客户"


def test_xlsx_in_json_and_csv_out_agree(tmp_path):
    source = tmp_path / "orders.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Customer ID", "Order date", "Total"])
    for n in range(40):
        for k in range(1 + n % 4):
            sheet.append([1000 + n, datetime.datetime(2025, 1 + k * 3, 1 + n % 28), 10.0 + n])
    book.save(source)
    as_json = tmp_path / "r.json"
    as_csv = tmp_path / "r.csv"
    args = ["--customer", "customer id", "--date", "Order date", "--amount", "TOTAL"]
    first = run(str(source), *args, "--out", str(as_json), "--no-predict")
    second = run(str(source), *args, "--out", str(as_csv), "--no-predict")
    assert first["segments"] == second["segments"] and first["customers"] == 40
    records = json.loads(as_json.read_text(encoding="utf-8"))
    assert as_csv.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads the UTF-8
    from_csv = pl.read_csv(as_csv, infer_schema=False)
    assert [r["customer"] for r in records] == from_csv["customer"].to_list()
    assert [str(r["r_score"]) for r in records] == from_csv["r_score"].to_list()
    assert records[0]["customer"] == "1000" and records[0]["last_purchase"] == "2025-01-01"


def test_saved_settings_apply_and_options_override_them(tmp_path):
    source = write_csv(tmp_path / "t.csv")
    args = ["--customer", "客户", "--date", "日期", "--amount", "金额", "--no-predict"]
    SegmentSettings.objects.create(window_days=20)
    narrow = run(str(source), *args, "--as-of", "2026-03-31", "--out", str(tmp_path / "a.json"))
    assert narrow["window_days"] == 20
    scored = [r for r in json.loads((tmp_path / "a.json").read_text()) if r["r_score"]]
    assert {r["customer"] for r in scored} == {"李雷", "韩梅梅"}  # 王芳 bought 30 days before
    wide = run(str(source), *args, "--window-days", "0", "--out", str(tmp_path / "b.json"))
    assert wide["window_days"] == 0 and wide["customers"] == 3


@pytest.mark.parametrize(
    "args, message",
    [
        (["--customer", "顾客"], "no column '顾客'; its columns are: '客户', '日期', '金额'"),
        (["--as-of", "2026-13-01"], "--as-of: '2026-13-01' is not a date"),
        (["--out", "x.txt"], "--out must end in .xlsx, .csv, .json"),
        (["--as-of", "2026-01-01", "--calibration-end", "2026-02-01"], "must not be after"),
        (["--window-days", "-5"], "window_days must be 0"),
    ],
)
def test_clear_errors(tmp_path, args, message):
    source = write_csv(tmp_path / "t.csv")
    base = {"--customer": "客户", "--date": "日期", "--amount": "金额"}
    for option, value in zip(args[::2], args[1::2], strict=True):
        base[option] = value
    flat = [item for pair in base.items() for item in pair]
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(".", r"\.")):
        call_command("analyze", str(source), *flat, "--no-predict", "--json")


def test_a_file_with_no_readable_row_is_refused(tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text("c;d;a\nx;yesterday;1\ny;2026-01-01;many\n", encoding="utf-8")
    with pytest.raises(CommandError, match="no row could be read.*row 2: date yesterday"):
        call_command("analyze", str(source), "--customer", "c", "--date", "d", "--amount", "a")
    with pytest.raises(CommandError, match="no such file"):
        call_command(
            "analyze", str(tmp_path / "none.csv"), "--customer", "c", "--date", "d", "--amount", "a"
        )
