"""Reading a shop's metadata file (CSV or JSONL) without losing a row silently.

Rows that cannot be read (a wrong number of fields, bad encoding, invalid JSON) are skipped
and reported with their line numbers; the rest are returned as string dicts.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import os
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

METADATA_NAMES = ("metadata.csv", "metadata.jsonl")
# a folder's only file of these kinds is its metadata (a Kaggle styles.csv, a shop's export;
# a feed as TSV or XML where the folder has no CSV or JSONL)
METADATA_SUFFIXES = ((".csv", ".jsonl"), (".tsv", ".xml"))
ALL_METADATA_SUFFIXES = tuple(s for group in METADATA_SUFFIXES for s in group)
MISSING = {"", "na", "n/a", "nan", "null", "none", "-"}  # values that mean "not given"
FEED_ITEMS = ("item", "entry")  # an XML feed's products: RSS 2.0 items, Atom entries
SHOWN_LINES = 5  # line numbers listed per problem in a report
DELIMITERS = ",;\t|"  # the CSV delimiters sniffed, the most usual first
SNIFF_CHARS, SNIFF_LINES = 65_536, 50  # the sample the delimiter is sniffed from
BINARY_SHARE = 0.05  # control characters and undecodable bytes beyond this: not text
BYTE_ORDER_MARKS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass
class Problems:
    """Skipped rows and images, by kind: {kind: [(line or path, detail), ...]}."""

    found: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was done about the file as a whole

    def add(self, kind: str, where: str | int, detail: str = "") -> None:
        self.found.setdefault(kind, []).append((str(where), detail))

    def count(self, kind: str) -> int:
        return len(self.found.get(kind, []))

    def lines(self) -> list[str]:
        """One line per kind: '2 malformed rows skipped (lines 7, 12: has 11 fields, ...)';
        entries whose details differ each with its own ('line 7: id 'a'; line 9: id 'b'')."""
        out = list(self.notes)
        for kind, entries in self.found.items():
            shown = entries[:SHOWN_LINES]
            more = f" and {len(entries) - SHOWN_LINES} more" if len(entries) > SHOWN_LINES else ""
            details = list(dict.fromkeys(d for _, d in shown if d))
            if len(details) > 1:
                listed = "; ".join(f"{w}: {d}" if d else w for w, d in shown)
            else:
                listed = ", ".join(w for w, _ in shown) + (f": {details[0]}" if details else "")
            out.append(f"{len(entries)} {kind} ({listed}{more})")
        return out

    def as_dict(self) -> dict[str, dict]:
        return {
            kind: {"count": len(entries), "first": [w for w, _ in entries[:SHOWN_LINES]]}
            for kind, entries in self.found.items()
        }


@dataclass
class Metadata:
    """The rows of a metadata file: columns in file order, rows as {column: value}."""

    path: Path
    columns: list[str]
    rows: list[dict[str, str]]
    lines: list[int]  # the file line each row starts on
    problems: Problems


def find_metadata(root: Path, metadata: str | Path | None = None) -> Path | None:
    """The metadata file: the one named, else metadata.csv / .jsonl in the folder, else the
    folder's only .csv or .jsonl file (a Kaggle-style styles.csv), else its only .tsv or .xml
    file (a product feed)."""
    if metadata:
        path = Path(metadata)
        if path.is_dir():
            raise ValueError(
                f"metadata file {path} is a folder: give --metadata the CSV or JSONL file in it"
            )
        if not path.is_file():
            raise FileNotFoundError(f"metadata file {path} does not exist: check --metadata")
        return path
    for name in METADATA_NAMES:
        if (root / name).is_file():
            return root / name
    with os.scandir(root) as listing:  # names only: no Path object for each photo
        files = [
            root / e.name
            for e in listing
            if e.name.lower().endswith(ALL_METADATA_SUFFIXES) and not e.name.startswith(".")
        ]
    for suffixes in METADATA_SUFFIXES:
        candidates = sorted(p for p in files if p.suffix.lower() in suffixes)
        if len(candidates) == 1:
            log.info("using %s as the catalogue's metadata", candidates[0])
            return candidates[0]
        if candidates:
            return None
    return None


def read_metadata(path: Path) -> Metadata:
    """Rows of a .csv (.tsv), .jsonl or feed .xml file; unreadable rows are skipped and listed in `problems`.

    ValueError naming the file when it cannot be read at all (not text, no permission)."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ValueError(
            f"metadata file {path} cannot be read ({err.strerror or err}): check its permissions"
        ) from None
    problems = Problems()
    text = _decode(data, problems)
    if _binary(text):
        raise ValueError(
            f"metadata file {path} is not text (binary data, or an encoding other than "
            "UTF-8, UTF-16, UTF-32 or Windows-1252): save it as CSV or JSONL, UTF-8 encoded"
        )
    if path.suffix.lower() == ".jsonl":
        return _read_jsonl(path, text, problems)
    if path.suffix.lower() == ".xml":  # a product feed (Google Merchant Center RSS / Atom)
        return _read_xml(path, text, problems)
    _refuse_json(path, text)
    return _read_csv(path, text, problems)


def _decode(data: bytes, problems: Problems) -> str:
    """The text of a metadata file: by its byte-order mark (UTF-32, UTF-16, UTF-8, as Excel
    writes them), else line by line UTF-8 or, where a line is not, Windows-1252. Bytes that
    no candidate decodes become U+FFFD so that the rows holding them can be reported."""
    for mark, codec in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return data[len(mark) :].decode(codec, errors="replace")
    lines, legacy, non_ascii = [], [], 0
    for number, line in enumerate(data.split(b"\n"), 1):
        if line.isascii():
            lines.append(line.decode("ascii"))
            continue
        non_ascii += 1
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            try:
                lines.append(line.decode("cp1252"))
                legacy.append(number)
            except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D mean nothing in it
                lines.append(line.decode("utf-8", errors="replace"))
    if legacy and len(legacy) == non_ascii:
        problems.notes.append("the file is not UTF-8: it was read as Windows-1252")
    elif legacy:
        shown = ", ".join(map(str, legacy[:SHOWN_LINES]))
        more = f" and {len(legacy) - SHOWN_LINES} more" if len(legacy) > SHOWN_LINES else ""
        problems.notes.append(
            f"{len(legacy)} lines are not UTF-8 (lines {shown}{more}): read as Windows-1252"
        )
    return "\n".join(lines)


def _binary(text: str) -> bool:
    """True for data that is not text in any encoding tried: control characters (other than
    tab and line ends) and undecodable bytes make up more than BINARY_SHARE of it."""
    if not text:
        return False
    odd = sum(1 for c in text if (c < " " and c not in "\t\r\n") or c == "\ufffd")
    return odd > BINARY_SHARE * len(text)


def sniff_delimiter(text: str) -> str:
    """The delimiter of CSV text: the sniffer's pick among DELIMITERS when the header holds it,
    else the one the header holds most of, else a comma."""
    head = "".join(io.StringIO(text[:SNIFF_CHARS], newline="").readlines()[:SNIFF_LINES])
    first = next((line for line in head.splitlines() if line.strip()), "")
    try:
        sniffed = csv.Sniffer().sniff(head, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    if sniffed and sniffed in first:
        return sniffed
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def clean_cell(value: object) -> str:
    """A cell's text, stripped; '' for the values that mean 'not given'."""
    text = "" if value is None else str(value).strip()
    return "" if text.lower() in MISSING else text


def _refuse_repeated_columns(path: Path, header: list[str]) -> None:
    """ValueError for a header naming a column twice: one would silently replace the other."""
    first: dict[str, int] = {}
    for number, name in enumerate(header, 1):
        if name and name in first:
            raise ValueError(
                f"metadata file {path}: the column {name!r} is named twice (columns "
                f"{first[name]} and {number}): give each column its own name"
            )
        first.setdefault(name, number)


def _refuse_json(path: Path, text: str) -> None:
    """ValueError for JSON saved under a CSV name: read as CSV, it has no columns."""
    start = text.lstrip()
    if not start.startswith(("[", "{")):
        return
    for candidate in (start, start.splitlines()[0]):
        try:
            json.loads(candidate)
        except json.JSONDecodeError:
            continue
        raise ValueError(
            f"metadata file {path} holds JSON, not CSV: save it as JSON lines (one object "
            "per line) in a .jsonl file, or as CSV"
        )


def _read_csv(path: Path, text: str, problems: Problems) -> Metadata:
    delimiter = sniff_delimiter(text)
    raw = io.StringIO(text, newline="").readlines()  # the lines as the reader counts them
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows, lines, end = [], [], 0
    while True:
        line = end + 1  # the line the record starts on (a quoted field may hold newlines)
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as err:  # a field over the csv module's size limit, ...
            end = reader.line_num
            problems.add("malformed rows skipped", f"line {line}", f"not readable ({err})")
            continue
        end = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            header = [cell.strip() for cell in record]
            _refuse_repeated_columns(path, header)
            continue
        if end > line and end == len(raw) and _never_closed(raw[line - 1 : end], delimiter):
            problems.add(
                "malformed rows skipped",
                f"line {line}",
                f"a quote opened on it is never closed: lines {line} to {end} read as one row",
            )
        elif len(record) != len(header):
            runs_on = f" (it runs on to line {end}: a quote left open?)" if end > line else ""
            problems.add(
                "malformed rows skipped",
                f"line {line}",
                f"has {len(record)} fields, the header has {len(header)}{runs_on}",
            )
        elif any("\ufffd" in cell for cell in record):
            problems.add(
                "malformed rows skipped",
                f"line {line}",
                "bad encoding (neither UTF-8 nor Windows-1252)",
            )
        else:
            rows.append({c: clean_cell(v) for c, v in zip(header, record)})
            lines.append(line)
    if header is None:
        raise ValueError(
            f"metadata file {path} is empty: give it a header row and one row per image"
        )
    return Metadata(path, header, rows, lines, problems)


def _never_closed(lines: list[str], delimiter: str) -> bool:
    """True when a quote opened in these last lines of a file is never closed."""
    try:
        text = io.StringIO("".join(lines), newline="")
        list(csv.reader(text, delimiter=delimiter, strict=True))
    except csv.Error as err:
        return "unexpected end of data" in str(err)
    return False


def _read_jsonl(path: Path, text: str, problems: Problems) -> Metadata:
    columns: dict[str, None] = {}
    rows, lines = [], []
    # lines end at \n only: JSON strings may hold U+2028 and the other breaks splitlines() knows
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            problems.add("malformed rows skipped", f"line {number}", "not valid JSON")
            continue
        if not isinstance(row, dict):
            problems.add("malformed rows skipped", f"line {number}", "not a JSON object")
            continue
        columns.update(dict.fromkeys(row))
        rows.append({str(k): clean_cell(v) for k, v in row.items()})
        lines.append(number)
    return Metadata(path, list(columns), rows, lines, problems)


def _read_xml(path: Path, text: str, problems: Problems) -> Metadata:
    """The items of an RSS or Atom feed as rows: {attribute: value}, namespaces dropped,
    repeated attributes (additional_image_link) joined with commas; attributes with
    sub-attributes (shipping) left out."""
    try:
        root = ElementTree.fromstring(text)  # decoded already
    except ElementTree.ParseError as err:
        raise ValueError(
            f"metadata file {path} is not well-formed XML ({err}): export the feed again"
        ) from None
    columns: dict[str, None] = {}
    rows, lines = [], []
    items = [e for e in root.iter() if _local(e.tag) in FEED_ITEMS]
    for number, item in enumerate(items, 1):
        row: dict[str, str] = {}
        for element in item:
            if len(element):
                continue
            name, value = _local(element.tag), clean_cell(element.text)
            if name == "link" and not value:
                value = clean_cell(element.get("href"))  # Atom's <link href="..."/>
            if value:
                row[name] = f"{row[name]},{value}" if name in row else value
        columns.update(dict.fromkeys(row))
        rows.append(row)
        lines.append(number)
    if not items:
        problems.notes.append("the feed holds no <item> or <entry> elements")
    return Metadata(
        path, list(columns), [{c: r.get(c, "") for c in columns} for r in rows], lines, problems
    )


def _local(tag: str) -> str:
    """An element's name without its namespace: '{http://base.google.com/ns/1.0}id' -> 'id'."""
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""
