"""Reading a transactions file (CSV or XLSX, one row per purchase) into the
engine's frame: ``customer`` (text), ``day`` (date), ``amount`` (integer
ten-thousandths). Built for exports from any system: UTF-8 or GB18030 text,
comma, tab or semicolon separated, dates as 2026-01-05, 2026/1/5, 20260105 or
2026年1月5日 (with or without a time), amounts with currency signs or
thousands separators. Rows that cannot be read are counted and described, never
dropped silently."""

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from .engine import UNITS_PER_CURRENCY

MAX_PROBLEMS_SHOWN = 5
_DATE = r"^\s*(\d{4})\s*[-/.年]?\s*(\d{1,2})\s*[-/.月]?\s*(\d{1,2})"
_MONEY_NOISE = r"[\s,，¥￥$€£]|CNY|RMB|USD|元"


class FileError(ValueError):
    """The file or its columns cannot be used at all."""


@dataclass
class Loaded:
    transactions: pl.DataFrame
    rows: int  # data rows in the file
    skipped: int = 0
    problems: list[str] = field(default_factory=list)  # the first few, with row numbers


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileError("the file is neither UTF-8 nor GB18030 (GBK) text")


def _read_csv(path: Path) -> pl.DataFrame:
    text = _decode(path.read_bytes())
    try:
        dialect = csv.Sniffer().sniff(text[:65536], delimiters=",\t;|")
        separator = dialect.delimiter
    except csv.Error:
        separator = ","
    try:
        return pl.read_csv(
            io.StringIO(text), separator=separator, infer_schema=False, truncate_ragged_lines=True
        )
    except pl.exceptions.PolarsError as error:
        raise FileError(f"cannot read the file as CSV: {error}") from None


def _read_xlsx(path: Path) -> pl.DataFrame:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise FileError(f"cannot open the file as XLSX: {error}") from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        raise FileError("the first sheet is empty")
    names = [str(h).strip() if h is not None else f"column_{n + 1}" for n, h in enumerate(header)]
    values = [list(row[: len(names)]) + [None] * (len(names) - len(row)) for row in rows]
    book.close()
    columns = {
        name: [None if v is None else _cell_text(v) for v in (row[n] for row in values)]
        for n, name in enumerate(names)
    }
    return pl.DataFrame(columns, schema=dict.fromkeys(names, pl.String))


def _cell_text(value) -> str:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_file(path: str | Path) -> pl.DataFrame:
    """The file's rows as text columns, by its extension."""
    path = Path(path)
    if not path.is_file():
        raise FileError(f"{path}: no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    return _read_csv(path)


def _column(frame: pl.DataFrame, wanted: str, role: str) -> str:
    if wanted in frame.columns:
        return wanted
    folded = {c.strip().lower(): c for c in frame.columns}
    if wanted.strip().lower() in folded:
        return folded[wanted.strip().lower()]
    raise FileError(
        f"--{role}: the file has no column {wanted!r}; its columns are: "
        + ", ".join(repr(c) for c in frame.columns)
    )


def _amount_units(text: pl.Expr) -> pl.Expr:
    """Text to integer ten-thousandths; null when not a finite number."""
    signed = text.str.replace(r"^\((.*)\)$", "-$1")  # (12.00): an accounting minus
    number = signed.cast(pl.Float64, strict=False)
    units = (number * UNITS_PER_CURRENCY).round(0)
    finite = number.is_finite() & (units.abs() < 2**62)
    return pl.when(finite).then(units.cast(pl.Int64, strict=False))


def load(path: str | Path, *, customer: str, date: str, amount: str) -> Loaded:
    """Read and parse a transactions file; raise FileError when it cannot be
    used at all (missing file or column, no readable row)."""
    frame = read_file(path)
    columns = {
        "customer": _column(frame, customer, "customer"),
        "date": _column(frame, date, "date"),
        "amount": _column(frame, amount, "amount"),
    }
    raw = frame.select(
        pl.col(columns["customer"]).cast(pl.String).str.strip_chars().alias("customer"),
        pl.col(columns["date"]).cast(pl.String).str.strip_chars().alias("raw_date"),
        pl.col(columns["amount"]).cast(pl.String).str.strip_chars().alias("raw_amount"),
    ).with_row_index("row", offset=2)  # the header is row 1
    parts = pl.col("raw_date").str.extract_groups(_DATE)
    cleaned_amount = pl.col("raw_amount").str.replace_all(_MONEY_NOISE, "")
    parsed = raw.with_columns(
        pl.format(
            "{}-{}-{}",
            parts.struct.field("1"),
            parts.struct.field("2").str.zfill(2),
            parts.struct.field("3").str.zfill(2),
        )
        .str.to_date("%Y-%m-%d", strict=False)
        .alias("day"),
        _amount_units(cleaned_amount).alias("amount"),
    )
    problem = (
        pl.when(pl.col("customer").is_null() | (pl.col("customer") == ""))
        .then(pl.lit("no customer"))
        .when(pl.col("day").is_null())
        .then(pl.format("date {} is not a date (use 2026-01-31)", pl.col("raw_date")))
        .when(pl.col("amount").is_null())
        .then(pl.format("amount {} is not a number", pl.col("raw_amount")))
    )
    checked = parsed.with_columns(problem.alias("problem"))
    bad = checked.filter(pl.col("problem").is_not_null())
    good = checked.filter(pl.col("problem").is_null()).select("customer", "day", "amount")
    if good.is_empty():
        shown = "; ".join(f"row {r}: {p}" for r, p in bad.head(3).select("row", "problem").rows())
        raise FileError(f"no row could be read ({shown or 'the file has no data rows'})")
    problems = [
        f"row {r}: {p}" for r, p in bad.head(MAX_PROBLEMS_SHOWN).select("row", "problem").rows()
    ]
    return Loaded(good, rows=frame.height, skipped=bad.height, problems=problems)
