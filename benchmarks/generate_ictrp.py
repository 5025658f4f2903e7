"""Multiply the real WHO ICTRP rows into a 63-column full-export CSV (no header row).

    python benchmarks/generate_ictrp.py --rows 100000 --out benchmarks/out/ictrp_100000.csv

The templates are the real rows of ``data/ictrp/ictrp_full_export_fields_processed_subset.csv``
and of every ``data/ictrp/*/ictrp_full_fields_processed_rows.csv`` (header-bearing files with the
processing author's extra columns; ``Unknown`` is the export's undocumented ``last_updated`` and
``Date_enrollment`` its ``Date_enrollement``), deduplicated by TrialID and mapped into the column
order of ``ictrp_fields.FULL_EXPORT_COLUMNS`` (the 62 fields of ``ICTRP_export_datafields.txt``
plus ``last_updated`` as column 2). The file is UTF-8 with CRLF record ends, like the export.

Each row is one template (chosen at random) with a fresh unique TrialID that keeps its registry's
id pattern (ACTRN + 14 digits, ChiCTR + 10, CTRI/YYYY/MM/NNNNNN, DRKS + 8, IRCT<date><n>N<k>,
JPRN-UMIN + 9 / JPRN-jRCTs + 9 / JPRN-JapicCTI-NNNNNN, KCT + 7, PACTR + 15, RBR-xxxxxx, TCTR + 11,
NCT + 8, ISRCTN + 8, PER-NNN-YY, EUCTR<YYYY-NNNNNN-CC>-<country>); every other occurrence of the
old id in the row (url, bridging links) is rewritten too. An EU CTR trial gives 1 to 6 rows, one
per member state (``EUCTR2019-912345-34-DE``, ``...-FR``): they share one study id, so the file
holds fewer studies than rows, as the real export does. Perturbations: the row's dates shift by
one random number of days in the format each cell had ("14/03/2019", "20/5/2019", "2019-04-02",
"2019/08/01", "11-02-2019", "May 17, 2019", "15 July 2019", "25-Nov-19", "Jan  1 2019 12:00AM"),
``last_updated`` moves on a little more, the target size is jittered (plain counts, "1,000" and
ChiCTR "group:n;group:n;"). Rows are written as they are made (constant memory); the same
``--seed`` gives the same bytes.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

from tqdm import tqdm

import trialpanorama_dagster
from trialpanorama_dagster.registries.ictrp_fields import FULL_EXPORT_COLUMNS, canonical_id, registry_of

DATA = Path(trialpanorama_dagster.__file__).resolve().parent / "data" / "ictrp"
COL = {c: i for i, c in enumerate(FULL_EXPORT_COLUMNS)}
# the processed files' names for two full-export columns
_RENAMED = {"last_updated": "unknown", "date_enrollement": "date_enrollment"}
_DATE_COLUMNS = ("Date_registration", "Date_enrollement", "results_date_posted", "results_date_completed",
                 "results_date_first_publication", "Ethics_Approval_Date")
EU_COUNTRIES = ("DE", "FR", "ES", "IT", "NL", "BE", "PL", "AT", "DK", "SE", "CZ", "HU", "FI", "PT", "IE",
                "GR", "SK", "BG", "RO", "LT", "LV", "EE", "SI", "HR", "NO", "GB")
EU_ROWS_PER_TRIAL = ((1, 40), (2, 25), (3, 15), (4, 10), (5, 6), (6, 4))  # (rows, weight)


def template_files(data: Path = DATA) -> list[Path]:
    return [data / "ictrp_full_export_fields_processed_subset.csv",
            *sorted(data.glob("*/ictrp_full_fields_processed_rows.csv"))]


def load_templates(files: list[Path] | None = None) -> list[list[str]]:
    """The real rows, in full-export column order, one per TrialID (first file wins)."""
    out, seen = [], set()
    for path in files or template_files():
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        index = {h.strip().lower(): i for i, h in enumerate(rows[0])}
        for ours, theirs in _RENAMED.items():
            index.setdefault(ours, index[theirs])
        missing = [c for c in FULL_EXPORT_COLUMNS if c.lower() not in index]
        if missing:
            raise SystemExit(f"{path}: no column for {missing}")
        for r in rows[1:]:
            row = [r[index[c.lower()]] for c in FULL_EXPORT_COLUMNS]
            tid = row[0].strip()
            if tid and tid not in seen:
                seen.add(tid)
                out.append(row)
    if not out:
        raise SystemExit("no ICTRP template rows found")
    return out


# -- dates, kept in the format each cell had -------------------------------------------------------
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_MONTH_NO = {m.lower(): i for i, m in enumerate(_MONTHS, 1)} | {m[:3].lower(): i for i, m in enumerate(_MONTHS, 1)}
_NUMERIC = re.compile(r"^(\d{1,4})([/.-])(\d{1,2})\2(\d{1,4})$")
_D_MONTH_Y = re.compile(r"^(\d{1,2})([ -])([A-Za-z]+)\2(\d{4}|\d{2})$")          # 15 July 2019, 25-Nov-19
_MONTH_D_Y = re.compile(r"^([A-Za-z]+) (\d{1,2}), (\d{4})$")                      # May 17, 2019
_SQL = re.compile(r"^([A-Za-z]{3}) ([ \d]\d) (\d{4})( \d{1,2}:\d{2}[AP]M)?$")      # Jan  1 2019 12:00AM


def _num(value: int, like: str, pad: bool) -> str:
    """``value`` written like ``like``: zero-padded to 2 when ``like`` was ("03"), or when it had 2
    digits and the format pads (``pad``); "5" stays unpadded."""
    return f"{value:02d}" if like.startswith("0") or (len(like) == 2 and pad) else str(value)


def _month(m: int, like: str, abbr: bool) -> str:
    """Month name in the style of ``like``: "Nov" / "November" ("May" is both: ``abbr`` decides)."""
    name = _MONTHS[m - 1]
    return name[:3] if (len(like) == 3 and like.lower() != "may") or (like.lower() == "may" and abbr) else name


def shift_date(text: str, days: int) -> str:
    """``text`` moved by ``days`` in its own format; unrecognised text, 1900 fillers and dates that
    do not exist (they stay invalid on purpose) come back unchanged."""
    s = text.strip()
    try:
        if m := _NUMERIC.match(s):
            if len(m[1]) == 4:
                d = dt.date(int(m[1]), int(m[3]), int(m[4]))
                pm, pd = len(m[4]) > 1, len(m[3]) > 1
                fmt = lambda n: f"{n.year}{m[2]}{_num(n.month, m[3], pm)}{m[2]}{_num(n.day, m[4], pd)}"  # noqa: E731
            elif len(m[4]) == 4:
                d = dt.date(int(m[4]), int(m[3]), int(m[1]))
                pd, pm = len(m[3]) > 1, len(m[1]) > 1
                fmt = lambda n: f"{_num(n.day, m[1], pd)}{m[2]}{_num(n.month, m[3], pm)}{m[2]}{n.year}"  # noqa: E731
            else:
                return text
        elif (m := _D_MONTH_Y.match(s)) and m[3].lower() in _MONTH_NO:
            year = int(m[4]) if len(m[4]) == 4 else 2000 + int(m[4]) if int(m[4]) < 70 else 1900 + int(m[4])
            d = dt.date(year, _MONTH_NO[m[3].lower()], int(m[1]))
            dash = m[2] == "-"  # 25-Nov-19 pads and abbreviates; 3 June 2019 does neither
            fmt = lambda n: (f"{_num(n.day, m[1], dash)}{m[2]}{_month(n.month, m[3], dash)}{m[2]}"  # noqa: E731
                             f"{n.year if len(m[4]) == 4 else f'{n.year % 100:02d}'}")
        elif (m := _MONTH_D_Y.match(s)) and m[1].lower() in _MONTH_NO:
            d = dt.date(int(m[3]), _MONTH_NO[m[1].lower()], int(m[2]))
            fmt = lambda n: f"{_month(n.month, m[1], False)} {_num(n.day, m[2], False)}, {n.year}"  # noqa: E731
        elif (m := _SQL.match(s)) and m[1].lower() in _MONTH_NO:
            d = dt.date(int(m[3]), _MONTH_NO[m[1].lower()], int(m[2]))
            fmt = lambda n: f"{_month(n.month, m[1], True)} {n.day:>2} {n.year}{m[4] or ''}"  # noqa: E731
        else:
            return text
    except ValueError:
        return text
    if d.year <= 1900:
        return text
    return fmt(d + dt.timedelta(days=days))


def _date_of(text: str) -> dt.date | None:
    """A numeric date cell (every template's Date_registration is one) for the ids that carry a
    year or month; None when unreadable."""
    m = _NUMERIC.match(text.strip())
    try:
        if m and len(m[1]) == 4:
            return dt.date(int(m[1]), int(m[3]), int(m[4]))
        if m and len(m[4]) == 4:
            return dt.date(int(m[4]), int(m[3]), int(m[1]))
    except ValueError:
        pass
    return None


# -- target size --------------------------------------------------------------------------------
_GROUP_N = re.compile(r":(\d+)(?=;|$)")


def jitter_size(text: str, rng: random.Random) -> str:
    s = text.strip()

    def j(n: int) -> int:
        return max(1, round(n * rng.uniform(0.8, 1.25))) if n > 0 else n

    if re.fullmatch(r"\d+", s):
        return str(j(int(s)))
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", s):
        return f"{j(int(s.replace(',', ''))):,}"
    if _GROUP_N.search(s):
        return _GROUP_N.sub(lambda m: f":{j(int(m[1]))}", text)
    return text


# -- ids ----------------------------------------------------------------------------------------
def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


def _fit(j: int, limit: int, what: str) -> int:
    if j >= limit:
        raise SystemExit(f"too many {what} rows for its id pattern ({limit:,} at most): use fewer --rows")
    return j


def new_trial_id(old: str, registry: str, j: int, day: dt.date, rng: random.Random) -> str:
    """A fresh id for the j-th generated trial of ``registry`` in the pattern of ``old``."""
    y, mo = day.year, day.month
    if registry == "anzctr":
        return f"ACTRN1299{_fit(j, 10**10, 'ANZCTR'):010d}"
    if registry == "chictr":
        return f"ChiCTR{y % 100:02d}9{_fit(j, 10**7, 'ChiCTR'):07d}"
    if registry == "ctri":
        return f"CTRI/{y}/{mo:02d}/{_fit(j, 10**6, 'CTRI'):06d}"
    if registry == "drks":
        return f"DRKS9{_fit(j, 10**7, 'DRKS'):07d}"
    if registry == "irct":
        return f"IRCT{y}{mo:02d}{day.day:02d}{_fit(j, 10**6, 'IRCT'):06d}N{rng.randint(1, 30)}"
    if registry == "jprn":
        if "jRCTs" in old:
            return f"JPRN-jRCTs9{_fit(j, 10**8, 'jRCT'):08d}"
        if "jRCT" in old:
            return f"JPRN-jRCT9{_fit(j, 10**9, 'jRCT'):09d}"
        if "JapicCTI" in old:
            return f"JPRN-JapicCTI-9{_fit(j, 10**5, 'JapicCTI'):05d}"
        return f"JPRN-UMIN9{_fit(j, 10**8, 'UMIN'):08d}"
    if registry == "cris":
        return f"KCT9{_fit(j, 10**6, 'CRIS'):06d}"
    if registry == "pactr":
        return f"PACTR{y}{mo:02d}9{_fit(j, 10**8, 'PACTR'):08d}"
    if registry == "rebec":
        return f"RBR-{_b36(36**5 + _fit(j, 36**6 - 36**5, 'ReBEC'))}"
    if registry == "tctr":
        return f"TCTR{y}9{_fit(j, 10**6, 'TCTR'):06d}"
    if registry == "ctgov":
        return f"NCT9{_fit(j, 10**7, 'ClinicalTrials.gov'):07d}"
    if registry == "isrctn":
        return f"ISRCTN9{_fit(j, 10**7, 'ISRCTN'):07d}"
    if registry == "repec":
        _fit(j, 10**5, "REPEC")
        return f"PER-{j % 1000:03d}-{j // 1000:02d}"
    if registry == "euctr":
        return f"EUCTR{y}-{_fit(j, 10**6, 'EU CTR'):06d}-{rng.randint(10, 99)}"  # + "-CC" per row
    # any other registry: the last run of digits becomes the counter, same width
    m = list(re.finditer(r"\d+", old))
    if not m:
        raise SystemExit(f"cannot make ids like {old!r}")
    last = m[-1]
    return f"{old[:last.start()]}{_fit(j, 10 ** len(last[0]), registry):0{len(last[0])}d}{old[last.end():]}"


# -- rows ---------------------------------------------------------------------------------------
class RowMaker:
    def __init__(self, templates: list[list[str]], seed: int):
        self.templates = templates
        self.registries = [registry_of(t[0]) for t in templates]
        self.rng = random.Random(seed)
        self.counters: Counter = Counter()

    def trial(self) -> list[list[str]]:
        """The rows of one new trial (several for an EU CTR trial, one per member state)."""
        rng = self.rng
        k = rng.randrange(len(self.templates))
        template, registry = self.templates[k], self.registries[k]
        old_id = template[0].strip()
        old_canon = canonical_id(old_id)
        shift = rng.randint(-3 * 365, 365)
        reg = _date_of(template[COL["Date_registration"]])
        day = (reg + dt.timedelta(days=shift)) if reg else dt.date(2019, 1, 1)
        j = self.counters[registry]
        self.counters[registry] += 1
        new_id = new_trial_id(old_id, registry, j, day, rng)
        if registry == "euctr":
            n = rng.choices([r for r, _ in EU_ROWS_PER_TRIAL], [w for _, w in EU_ROWS_PER_TRIAL])[0]
            countries = rng.sample(EU_COUNTRIES, n)
            new_canon = canonical_id(new_id)
            return [self._row(template, old_canon, new_canon, f"{new_id}-{cc}", shift + rng.randint(-20, 20))
                    for cc in countries]
        return [self._row(template, old_canon, canonical_id(new_id), new_id, shift)]

    def _row(self, template: list[str], old_canon: str, new_canon: str, new_id: str, shift: int) -> list[str]:
        rng = self.rng
        row = [v.replace(old_canon, new_canon) if old_canon in v else v for v in template]
        row[0] = new_id
        for c in _DATE_COLUMNS:
            v = row[COL[c]]
            if v:
                row[COL[c]] = ";".join(shift_date(p, shift) for p in v.split(";"))
        row[COL["last_updated"]] = shift_date(row[COL["last_updated"]], shift + rng.randint(0, 60))
        row[COL["Target_size"]] = jitter_size(row[COL["Target_size"]], rng)
        return row


def generate(rows: int, out: Path, seed: int = 0, quote_cells: bool = False, progress: bool = True,
             templates: list[list[str]] | None = None) -> dict:
    """Write ``rows`` rows to ``out``; returns what was written (rows, studies, rows per registry)."""
    maker = RowMaker(templates or load_templates(), seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    t0, n, studies = time.perf_counter(), 0, 0
    by_source: Counter = Counter()
    bar = tqdm(total=rows, unit=" rows", desc="generating", disable=not progress, smoothing=0.05)
    with open(tmp, "w", encoding="utf-8", newline="", buffering=1 << 20) as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        while n < rows:
            trial = maker.trial()[:rows - n]
            studies += 1
            for row in trial:
                by_source[registry_of(row[0])] += 1
                writer.writerow([f'"{v}"' for v in row] if quote_cells else row)
            n += len(trial)
            if n % 1000 < len(trial) or n == rows:
                bar.update(n - bar.n)
    bar.close()
    tmp.replace(out)
    return {"rows": n, "studies": studies, "sources": len(by_source), "rows_by_source": dict(by_source.most_common()),
            "bytes": out.stat().st_size, "seconds": time.perf_counter() - t0, "seed": seed,
            "templates": len(maker.templates), "quote_cells": quote_cells}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--out", type=Path, required=True, help="the CSV to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quote-cells", action="store_true",
                   help='wrap every cell in an extra pair of quotes ("""value"""), as the raw WHO download does')
    a = p.parse_args(argv)
    if a.rows < 1:
        p.error("--rows must be >= 1")
    r = generate(a.rows, a.out, a.seed, a.quote_cells)
    print(f"{r['rows']:,} rows ({r['studies']:,} studies, {r['sources']} registries) -> {a.out} "
          f"({r['bytes'] / 1e6:,.0f} MB) in {r['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
