"""Reading survey exports and writing tagged output atomically.

Exports come as CSV/TSV (any of UTF-8, UTF-8 with BOM, UTF-16 with BOM, cp1252;
delimiter sniffed; Qualtrics 3-row and legacy 2-row headers reduced to one),
XLSX, Parquet or JSONL. They are read in chunks so memory does not grow with
the file. Output format follows the output file's extension.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError, OutputError

READ_FORMATS = {".csv": "csv", ".tsv": "csv", ".tab": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
                ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
WRITE_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet", ".xlsx": "xlsx"}
TEXT_COLUMN_NAMES = ("comment", "comments", "verbatim", "verbatims", "feedback", "remarks", "remark", "text",
                     "response", "responses", "comment_text", "customer_comment", "customer_comments",
                     "additional_comments", "open_ended", "open_text", "free_text", "answer", "review",
                     "message", "body")
TEXT_COLUMN_HINTS = ("comment", "verbatim", "feedback", "remark", "free text", "open text", "tell us", "why")
_SAMPLE_BYTES = 1 << 16


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


# --------------------------------------------------------------------- encoding
def detect_encoding(path: Path) -> str:
    """BOM first (UTF-8-sig, UTF-16), then strict UTF-8 over the whole file, else cp1252."""
    with open(path, "rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while block := f.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            return "cp1252"


def _check_not_binary(path: Path, encoding: str) -> None:
    with open(path, "rb") as f:
        sample = f.read(8192)
    if not encoding.startswith("utf-16") and b"\x00" in sample:
        raise InputError(f"{path}: looks like a binary file, not a text export; "
                         "save it as CSV, TSV, XLSX, Parquet or JSONL")


# ------------------------------------------------------------------- the export
@dataclass
class Export:
    """An opened export: its columns, the chosen text/id columns and a chunk reader."""

    path: Path
    format: str
    columns: list[str]
    text_column: str
    id_column: str | None
    chunksize: int
    options: dict = field(default_factory=dict)
    qualtrics: str | None = None
    head: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def chunks(self) -> Iterator[pd.DataFrame]:
        """Yield the export as DataFrames of at most `chunksize` rows, with a 0-based ``_row`` index."""
        offset = 0
        for chunk in _read_chunks(self):
            chunk.index = pd.RangeIndex(offset, offset + len(chunk))
            offset += len(chunk)
            yield chunk


def _sniff_delimiter(sample: str, path: Path) -> str:
    if path.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        return max(",\t;|", key=first.count) if first else ","


def _csv_options(path: Path) -> dict:
    encoding = detect_encoding(path)
    _check_not_binary(path, encoding)
    with open(path, encoding=encoding, errors="replace", newline="") as f:
        sample = f.read(_SAMPLE_BYTES)
    if not sample.strip():
        raise InputError(f"{path}: the file is empty; export the survey responses again")
    delimiter = _sniff_delimiter(sample, path)
    rows = list(csv.reader(io.StringIO(sample), delimiter=delimiter))[:3]
    qualtrics, skip, questions = None, [], {}
    if len(rows) >= 3 and any('"ImportId"' in c or "{'ImportId'" in c for c in rows[2]):
        qualtrics, skip = "qualtrics", [1, 2]
        questions = dict(zip(rows[0], rows[1]))
    elif len(rows) >= 2 and rows[0] and re.fullmatch(r"V\d+", rows[0][0] or "") and \
            any(c.strip().lower() == "responseid" for c in rows[1]):
        qualtrics, skip = "qualtrics-legacy", [1]
        questions = dict(zip(rows[0], rows[1]))
    return {"encoding": encoding, "sep": delimiter, "skiprows": skip, "qualtrics": qualtrics,
            "questions": questions}


def _read_chunks(export: Export) -> Iterator[pd.DataFrame]:
    path, fmt, n = export.path, export.format, export.chunksize
    try:
        if fmt == "csv":
            o = export.options
            yield from pd.read_csv(path, sep=o["sep"], encoding=o["encoding"], encoding_errors="replace",
                                   skiprows=o["skiprows"], dtype=str, keep_default_na=False,
                                   chunksize=n, engine="c")
        elif fmt == "jsonl":
            for chunk in pd.read_json(path, lines=True, chunksize=n, dtype=False):
                yield chunk
        elif fmt == "parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(path).iter_batches(batch_size=n):
                yield batch.to_pandas()
        elif fmt == "xlsx":
            frame = _read_xlsx(path)
            for start in range(0, len(frame), n):
                yield frame.iloc[start:start + n]
    except InputError:
        raise
    except (pd.errors.ParserError, ValueError, UnicodeError, OSError) as e:
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else e.__class__.__name__
        raise InputError(f"{path}: cannot parse as {fmt} ({first}); check the file is a valid {fmt} export") from None


def _read_xlsx(path: Path) -> pd.DataFrame:
    try:
        return pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
    except Exception as e:  # openpyxl raises many types for bad files
        raise InputError(f"{path}: cannot read as XLSX ({e.__class__.__name__}); re-save it from Excel as .xlsx") from None


def _peek(path: Path, fmt: str, options: dict) -> pd.DataFrame:
    export = Export(path, fmt, [], "", None, 2000, options)
    try:
        return next(_read_chunks(export))
    except StopIteration:
        return pd.DataFrame()


def detect_text_column(frame: pd.DataFrame, questions: dict | None = None) -> str | None:
    """The comment column: a well-known name, a Qualtrics question that asks for comments, else the longest free text."""
    cols = [c for c in frame.columns]
    by_norm = {_norm(c): c for c in cols}
    for name in TEXT_COLUMN_NAMES:
        if name in by_norm:
            return by_norm[name]
    for c in cols:
        label = f"{c} {(questions or {}).get(c, '')}".lower()
        if any(h in label for h in TEXT_COLUMN_HINTS[:5]):
            return c
    best, best_len = None, 0.0
    for c in cols:
        values = frame[c].dropna().astype(str)
        values = values[values.str.strip() != ""]
        if values.empty:
            continue
        wordy = values.str.contains(r"[A-Za-z\u0900-\u097F]{2,}\s+\S", regex=True).mean()
        if wordy < 0.2:
            continue
        length = values.str.len().mean()
        if length > best_len:
            best, best_len = c, length
    return best


def open_export(path: str | Path, text_column: str | None = None, id_column: str | None = None,
                chunksize: int = 20000) -> Export:
    """Open an export: check it, detect format, encoding, header style and columns."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found; check the path")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; pass one export file")
    fmt = READ_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: unknown extension {path.suffix!r}; use one of "
                         f"{', '.join(sorted(READ_FORMATS))}")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty; export the survey responses again")
    options = _csv_options(path) if fmt == "csv" else {}
    if fmt == "jsonl":
        _check_not_binary(path, detect_encoding(path))
    head = _peek(path, fmt, options)
    columns = [str(c) for c in head.columns]
    if not columns:
        raise InputError(f"{path}: no columns found; the export needs a header row")
    shown = ", ".join(columns[:30]) + (" ..." if len(columns) > 30 else "")
    if text_column is not None:
        if text_column not in columns:
            raise InputError(f"{path}: text column {text_column!r} not found; columns are: {shown}")
        chosen = text_column
    else:
        chosen = detect_text_column(head, options.get("questions"))
        if chosen is None:
            raise InputError(f"{path}: no free-text comment column found among: {shown}; "
                             "pass --text-column NAME")
    if id_column is not None and id_column not in columns:
        raise InputError(f"{path}: id column {id_column!r} not found; columns are: {shown}")
    return Export(path, fmt, columns, chosen, id_column, chunksize, options, options.get("qualtrics"), head)


# ----------------------------------------------------------------------- output
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_RE = r"^[=+\-@\t\r]"
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralise_formula(value):
    """Prefix a quote to text a spreadsheet would run as a formula (plain numbers stay)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists joined with ';' and dicts as JSON text, formulas neutralised, for CSV and XLSX cells."""
    columns = {}
    dumps = json.dumps
    for col in frame.columns:
        series = frame[col]
        if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            first = _first(series)
            if isinstance(first, (list, tuple, np.ndarray)):
                series = pd.Series([";".join(map(str, v)) if v is not None else "" for v in series], index=series.index)
            elif isinstance(first, dict):
                series = pd.Series([dumps(v, ensure_ascii=False) if v is not None else "" for v in series],
                                   index=series.index)
            risky = series.str.match(_FORMULA_RE)
            risky = risky.fillna(False).astype(bool) if risky.dtype != bool else risky
            if risky.any():
                series = series.copy()
                series[risky] = series[risky].map(neutralise_formula)
        columns[col] = series
    return pd.DataFrame(columns, index=frame.index)


def _first(series: pd.Series):
    sample = series.dropna()
    return sample.iloc[0] if not sample.empty else None


def _arrow_schema(frame: pd.DataFrame):
    """Arrow schema: lists as list<string>, dicts as map<string, double|string>, other text as string."""
    import pyarrow as pa

    fields = []
    for col in frame.columns:
        series = frame[col]
        name = str(col)
        if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            v = _first(series) if series.dtype == object else None
            if isinstance(v, (list, tuple, np.ndarray)):
                fields.append(pa.field(name, pa.list_(pa.string())))
            elif isinstance(v, dict) or (v is None and col in ("theme_scores", "evidence", "theme_sentiment")):
                numeric = col == "theme_scores" or all(isinstance(x, (int, float)) for d in series.dropna()
                                                       for x in d.values())
                fields.append(pa.field(name, pa.map_(pa.string(), pa.float64() if numeric else pa.string())))
            elif v is not None and not isinstance(v, str):
                fields.append(pa.field(name, pa.array(series.dropna().iloc[:1000], from_pandas=True).type))
            else:
                fields.append(pa.field(name, pa.string()))
        else:
            try:
                fields.append(pa.field(name, pa.from_numpy_dtype(series.dtype)))
            except (TypeError, NotImplementedError, pa.ArrowNotImplementedError):
                fields.append(pa.field(name, pa.array(series.iloc[:1000], from_pandas=True).type))
    return pa.schema(fields)


def _arrow_ready(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object and isinstance(_first(out[col]), dict):
            out[col] = out[col].map(lambda d: list(d.items()) if isinstance(d, dict) else d)
    return out


@dataclass
class Rendered:
    """A chunk prepared for one output format: text for CSV/JSONL, a frame for Parquet/XLSX."""

    rows: int
    columns: list
    data: object


def render(frame: pd.DataFrame, fmt: str) -> Rendered:
    """Serialise a chunk for `fmt` ("csv", "jsonl", "parquet", "xlsx"); cheap to send between processes."""
    columns = [str(c) for c in frame.columns]
    if fmt == "csv":
        data = _flat(frame).to_csv(index=False, header=False) if len(frame) else ""
    elif fmt == "jsonl":
        data = frame.to_json(orient="records", lines=True, force_ascii=False, date_format="iso") if len(frame) else ""
        if data and not data.endswith("\n"):
            data += "\n"
    elif fmt == "xlsx":
        data = _flat(frame)
    else:
        data = frame
    return Rendered(len(frame), columns, data)


def publish(tmp: str | Path, path: str | Path) -> None:
    """Move a finished temp file into place, with the permissions a plain ``open()`` would have given it.

    ``mkstemp`` creates files readable by their owner only; outputs are meant to be shared.
    """
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)
    os.replace(tmp, path)


class AtomicWriter:
    """Write DataFrame chunks to a temp file beside `path`; rename into place on success.

    Use as a context manager: on an exception the temp file is removed and an
    existing `path` is left untouched.
    """

    XLSX_MAX_ROWS = 1_048_575

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.format = WRITE_FORMATS.get(self.path.suffix.lower())
        if self.format is None:
            raise OutputError(f"{self.path}: unknown output extension {self.path.suffix!r}; use one of "
                              f"{', '.join(sorted(WRITE_FORMATS))}")
        if not self.path.parent.exists():
            raise OutputError(f"{self.path}: folder {self.path.parent} does not exist; create it first")
        self.rows = 0

    def __enter__(self) -> "AtomicWriter":
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        except OSError as e:
            raise OutputError(f"{self.path}: cannot write there ({e.strerror}); choose another output path") from None
        os.close(fd)
        self.tmp = Path(tmp)
        self._handle = self._pq = self._wb = self._ws = None
        self._header = False
        return self

    def write(self, frame: pd.DataFrame) -> None:
        """Append one chunk."""
        self.write_rendered(render(frame, self.format))

    def write_rendered(self, chunk: "Rendered") -> None:
        """Append a chunk already rendered by :func:`render` (e.g. in a worker process)."""
        if self.format == "csv":
            with open(self.tmp, "a", encoding="utf-8", newline="") as f:
                if not self._header:
                    f.write(pd.DataFrame(columns=chunk.columns).to_csv(index=False))
                    self._header = True
                f.write(chunk.data)
        elif self.format == "jsonl":
            with open(self.tmp, "a", encoding="utf-8") as f:
                f.write(chunk.data)
        elif self.format == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            frame = chunk.data
            if self._pq is None:
                self._schema = _arrow_schema(frame)
                self._pq = pq.ParquetWriter(self.tmp, self._schema)
            table = pa.Table.from_pandas(_arrow_ready(frame), schema=self._schema, preserve_index=False)
            self._pq.write_table(table)
        elif self.format == "xlsx":
            from openpyxl import Workbook

            if self._wb is None:
                self._wb = Workbook(write_only=True)
                self._ws = self._wb.create_sheet("tagged")
                self._ws.append([str(c) for c in chunk.columns])
            if self.rows + chunk.rows > self.XLSX_MAX_ROWS:
                raise OutputError(f"{self.path}: more than {self.XLSX_MAX_ROWS} rows do not fit in XLSX; "
                                  "write .csv or .parquet instead")
            for row in chunk.data.itertuples(index=False):
                self._ws.append([None if (isinstance(v, float) and v != v) else v for v in row])
        self.rows += chunk.rows

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                if self._pq is not None:
                    self._pq.close()
                if self._wb is not None:
                    self._wb.save(self.tmp)
                elif self.format == "xlsx":
                    from openpyxl import Workbook

                    Workbook().save(self.tmp)
                publish(self.tmp, self.path)
        finally:
            if self.tmp.exists():
                self.tmp.unlink()
