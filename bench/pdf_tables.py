"""Which PDF extraction keeps tables: pypdf (default and layout mode), pdfplumber as is, and our reader.

    .venv/bin/python bench/pdf_tables.py [--pdfs ../shared/pdfs]

For each real PDF in shared/pdfs (never copied into the repo) it reports, per method:
- FMT report: named rows (row label -> the values the shared/pdfs README gives) found with every value in
  its own cell, and rows read with all 8 cells (body rows plus totals);
- ICDAR eu-015: (row label, value) cells of the published ground truth (the .str.xml beside the PDF) found
  as a label cell followed by its value cell, per table;
- EPRS briefing (no table): the three README facts found verbatim, and words broken apart ("s hipping");
and the seconds per page. Text methods are read as tables by splitting lines at runs of 2+ spaces, the
best a text extraction allows; pdfplumber "as is" is `page.find_tables()` then `extract()`.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FMT_FACTS = {  # row label -> values that must be cells of that row (shared/pdfs/README.md)
    "Georgia Fiscal Year 2020 Totals": ["761", "$9,869,025"],
    "United States Military Academy Semester Abroad Program": ["4", "AUSTRIA THERESIAN MILITARY ACADEMY",
                                                               "$36,000", "6/1/2019", "12/20/2019"],
    "International Defense Management Course": ["1", "Monterey, CA, US", "Ministry Of Defense", "$45,368",
                                                "10/7/2019", "12/13/2019"],
    "Ukraine Fiscal Year 2020 Totals": ["402", "$3,371,389"],
}
EPRS_FACTS = ["US$9.4 billion in 2023 or approximately 2.3 % of Egypt's GDP", "Djibouti (6 % of exports",
              "32.4 % of vessels"]
EPRS_BROKEN = ["s hipping", "Th is", "r ela t", "in cr eas", "co u ld"]


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s).lower()


def _text_rows(pages: list[str]) -> list[list[str]]:
    return [[c.strip() for c in re.split(r"\s{2,}", ln.strip()) if c.strip()] for p in pages for ln in p.splitlines()]


def _pypdf(path: Path, layout: bool) -> tuple[list[list[str]], str]:
    from pypdf import PdfReader

    pages = [p.extract_text(extraction_mode="layout") if layout else p.extract_text() or ""
             for p in PdfReader(str(path)).pages]
    return _text_rows(pages), "\n".join(pages)


def _plumber(path: Path) -> tuple[list[list[str]], str]:
    import pdfplumber

    rows, text = [], []
    with pdfplumber.open(str(path)) as pdf:
        for p in pdf.pages:
            for t in p.find_tables():
                rows += [[re.sub(r"\s+", " ", c or "").strip() for c in r] for r in t.extract()]
            text.append(p.extract_text() or "")
    return [[c for c in r if c] for r in rows], "\n".join(text)


def _ours(path: Path) -> tuple[list[list[str]], str]:
    from assistant.ingest.pdf import read_pdf

    text, _, tables = read_pdf(path)
    rows = [[label, *values] for t in tables for label, values in [(t.row_header, t.columns), *t.rows]]
    return [[c for c in r if c] for r in rows], text


METHODS = {"pypdf default": lambda p: _pypdf(p, False), "pypdf layout": lambda p: _pypdf(p, True),
           "pdfplumber as is": _plumber, "ours (pdfplumber + grid)": _ours}


def _has_row(rows: list[list[str]], label: str, values: list[str]) -> bool:
    return any(r and _squash(r[0]) == _squash(label) and all(v in r[1:] for v in values) for r in rows)


def _icdar_truth(xml: Path) -> list[list[tuple[str, str]]]:
    tables = []
    for t in ET.parse(xml).getroot().iter("table"):
        cells: dict[tuple[int, int], str] = {}
        for c in t.iter("cell"):
            cells[(int(c.get("start-row")), int(c.get("start-col")))] = (c.findtext("content") or "").strip()
        nrows = max(r for r, _ in cells) + 1
        tables.append([(cells.get((r, 0), ""), cells.get((r, 1), "")) for r in range(1, nrows)
                       if cells.get((r, 1))])
    return tables


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pdfs", default=str(ROOT.parent / "shared" / "pdfs"))
    folder = Path(ap.parse_args().pdfs)
    fmt, eprs = folder / "fmt_fy2020_europe_state_dod.pdf", folder / "eprs_2024_red_sea_threats.pdf"
    icdar = folder / "icdar2013_eu-015_enquiries_by_topic.pdf"
    truth = _icdar_truth(icdar.with_suffix(".str.xml"))
    print("| method | FMT named rows | FMT 8-cell rows | ICDAR cells T1..T5 | EPRS facts | EPRS broken words "
          "| s/page FMT, EPRS, ICDAR |")
    print("|---|---|---|---|---|---|---|")
    for name, read in METHODS.items():
        secs = []
        t0 = time.perf_counter()
        rows, _ = read(fmt)
        secs.append((time.perf_counter() - t0) / 35)
        named = sum(_has_row(rows, k, v) for k, v in FMT_FACTS.items())
        full = sum(1 for r in rows if len(r) == 8)
        t0 = time.perf_counter()
        _, text = read(eprs)
        secs.append((time.perf_counter() - t0) / 8)
        facts = sum(_squash(f) in _squash(text) for f in EPRS_FACTS)
        broken = sum(text.count(b) for b in EPRS_BROKEN)
        t0 = time.perf_counter()
        rows, _ = read(icdar)
        secs.append((time.perf_counter() - t0) / 2)
        pairs = [{(_squash(a), _squash(b)) for r in rows for a, b in zip(r, r[1:], strict=False)}]
        per = [f"{sum((_squash(a), _squash(b)) in pairs[0] for a, b in t)}/{len(t)}" for t in truth]
        print(f"| {name} | {named}/{len(FMT_FACTS)} | {full} | {' '.join(per)} | {facts}/{len(EPRS_FACTS)} | "
              f"{broken} | {', '.join(f'{s:.2f}' for s in secs)} |")


if __name__ == "__main__":
    main()
