"""Multiply the real ClinicalTrials.gov API v2 fixture studies into a full-download-style zip.

    python benchmarks/generate_ctgov.py --studies 600000 --out benchmarks/out/ctgov_600000.zip

Each member is ``NCTxxxxxxxx.json``: one fixture study (chosen at random) with a fresh unique
NCT id (every occurrence of the old id is rewritten; ``nctIdAliases`` get fresh ids too) and
perturbed fields: the status dates shift together by a random number of days (formats kept:
YYYY-MM or YYYY-MM-DD), the last-update date moves a little more, the enrollment count is
jittered, conditions and locations are shuffled and sub-sampled. The same ``--seed`` gives the
same bytes. Generation runs in worker processes (JSON + deflate); the main process only appends
the compressed members to the zip, so memory stays flat whatever ``--studies`` is. The zip is
written directly (local headers, central directory, ZIP64 records when needed) because
``zipfile`` cannot take members that are already compressed.
"""
from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import random
import struct
import sys
import time
import zlib
from collections import deque
from pathlib import Path

import orjson
from tqdm import tqdm

FIXTURES = Path("/work/shared/fixtures/registries/clinicaltrials_gov_v2/studies")
ID_START = 90_000_000  # NCT9xxxxxxx: no real study has such an id yet
CHUNK = 500

_TEMPLATES: list[tuple[str, bytes]] = []
_OPTS: dict = {}


def load_templates(folder: Path) -> list[tuple[str, bytes]]:
    out = []
    for f in sorted(folder.glob("*.json")):
        obj = orjson.loads(f.read_bytes())
        nct = obj["protocolSection"]["identificationModule"]["nctId"]
        out.append((nct, orjson.dumps(obj)))
    if not out:
        raise SystemExit(f"no study JSON files in {folder}")
    return out


# -- perturbation ------------------------------------------------------------------------------
def _shift(value: str, days: int) -> str:
    if len(value) == 10:
        return (dt.date.fromisoformat(value) + dt.timedelta(days=days)).isoformat()
    if len(value) == 7:
        return (dt.date.fromisoformat(value + "-15") + dt.timedelta(days=days)).isoformat()[:7]
    return value


def _shift_dates(node: dict, days: int) -> None:
    for key, value in node.items():
        if isinstance(value, dict):
            _shift_dates(value, days)
        elif isinstance(value, str) and (key == "date" or key.endswith("Date")):
            try:
                node[key] = _shift(value, days)
            except ValueError:
                pass


def _sample(rng: random.Random, items: list, keep_min: float) -> list:
    if len(items) < 2:
        return items
    items = items[:]
    rng.shuffle(items)
    if rng.random() < 0.5:
        return items
    return items[:rng.randint(max(1, int(len(items) * keep_min)), len(items))]


def make_study(i: int, seed: int, id_start: int, indent: bool) -> tuple[str, bytes]:
    rng = random.Random(seed * 1_000_000_007 + i)
    old_id, template = _TEMPLATES[rng.randrange(len(_TEMPLATES))]
    new_id = f"NCT{id_start + i:08d}"
    study = orjson.loads(template)
    ps = study["protocolSection"]
    ident = ps["identificationModule"]
    ident["nctId"] = new_id
    if "nctIdAliases" in ident:
        if rng.random() < 0.5:
            del ident["nctIdAliases"]
        else:
            ident["nctIdAliases"] = [f"NCT8{(id_start + i + k) % 10**7:07d}" for k in range(len(ident["nctIdAliases"]))]
    status = ps.get("statusModule") or {}
    _shift_dates(status, rng.randint(-3 * 365, 365))
    last = status.get("lastUpdatePostDateStruct")
    if isinstance(last, dict) and isinstance(last.get("date"), str):
        last["date"] = _shift(last["date"], rng.randint(0, 60))
    enroll = (ps.get("designModule") or {}).get("enrollmentInfo")
    if isinstance(enroll, dict) and isinstance(enroll.get("count"), int):
        enroll["count"] = max(0, round(enroll["count"] * rng.uniform(0.8, 1.25)))
    cond = ps.get("conditionsModule")
    if isinstance(cond, dict) and isinstance(cond.get("conditions"), list):
        cond["conditions"] = _sample(rng, cond["conditions"], 0.5)
    locs = ps.get("contactsLocationsModule")
    if isinstance(locs, dict) and isinstance(locs.get("locations"), list):
        locs["locations"] = _sample(rng, locs["locations"], 0.5)
    data = orjson.dumps(study, option=orjson.OPT_INDENT_2 if indent else 0)
    if old_id.encode() in data:  # anywhere else the old id appears (descriptions, document names)
        data = data.replace(old_id.encode(), new_id.encode())
    return new_id, data


def _init(templates, opts) -> None:
    _TEMPLATES[:] = templates
    _OPTS.update(opts)


def make_chunk(bounds: tuple[int, int]) -> list[tuple[bytes, int, int, int, bytes]]:
    """(name, crc32, uncompressed size, compressed size, raw deflate data) for studies [a, b)."""
    out = []
    for i in range(*bounds):
        nct, data = make_study(i, _OPTS["seed"], _OPTS["id_start"], _OPTS["indent"])
        c = zlib.compressobj(_OPTS["level"], zlib.DEFLATED, -15)
        comp = c.compress(data) + c.flush()
        out.append((f"{nct}.json".encode(), zlib.crc32(data), len(data), len(comp), comp))
    return out


# -- the zip container -------------------------------------------------------------------------
_DOS_TIME, _DOS_DATE = (12 << 11), ((2026 - 1980) << 9) | (6 << 5) | 1
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_MAX32 = 0xFFFFFFFF


class ZipWriter:
    """Append pre-deflated members; ``close`` writes the central directory (ZIP64 if needed)."""

    def __init__(self, fh):
        self.fh, self.pos, self.central = fh, 0, []

    def add(self, name: bytes, crc: int, usize: int, csize: int, comp: bytes) -> None:
        header = _LOCAL.pack(0x04034B50, 20, 0x800, 8, _DOS_TIME, _DOS_DATE, crc, csize, usize, len(name), 0)
        self.fh.write(header + name)
        self.fh.write(comp)
        self.central.append((name, crc, usize, csize, self.pos))
        self.pos += len(header) + len(name) + csize

    def close(self) -> None:
        start = self.pos
        for name, crc, usize, csize, offset in self.central:
            extra = b""
            if offset >= _MAX32:
                extra = struct.pack("<HHQ", 0x0001, 8, offset)
            rec = _CENTRAL.pack(0x02014B50, 45 if extra else 20, 45 if extra else 20, 0x800, 8, _DOS_TIME,
                                _DOS_DATE, crc, csize, usize, len(name), len(extra), 0, 0, 0, 0o100644 << 16,
                                min(offset, _MAX32))
            self.fh.write(rec + name + extra)
            self.pos += len(rec) + len(name) + len(extra)
        size, n = self.pos - start, len(self.central)
        if n >= 0xFFFF or start >= _MAX32 or size >= _MAX32:
            self.fh.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, size, start))
            self.fh.write(struct.pack("<IIQI", 0x07064B50, 0, start + size, 1))
        self.fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(n, 0xFFFF), min(n, 0xFFFF),
                                  min(size, _MAX32), min(start, _MAX32), 0))


def generate(studies: int, out: Path, seed: int = 0, indent: bool = False, level: int = 6,
             workers: int | None = None, id_start: int = ID_START, fixtures: Path = FIXTURES,
             progress: bool = True) -> dict:
    templates = load_templates(fixtures)
    opts = {"seed": seed, "indent": indent, "level": level, "id_start": id_start}
    workers = workers or os.cpu_count() or 1
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    chunks = ((a, min(a + CHUNK, studies)) for a in range(0, studies, CHUNK))
    t0, usize = time.perf_counter(), 0
    bar = tqdm(total=studies, unit=" studies", desc="generating", disable=not progress, smoothing=0.05)
    with open(tmp, "wb", buffering=1 << 20) as fh:
        zw = ZipWriter(fh)
        ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()
        with ctx.Pool(workers, initializer=_init, initargs=(templates, opts)) as pool:
            window: deque = deque()  # ordered, at most 2 chunks per worker in flight: constant memory
            while True:
                while len(window) < 2 * workers and (nxt := next(chunks, None)) is not None:
                    window.append(pool.apply_async(make_chunk, (nxt,)))
                if not window:
                    break
                members = window.popleft().get()
                for m in members:
                    zw.add(*m)
                    usize += m[2]
                bar.update(len(members))
        zw.close()
    bar.close()
    os.replace(tmp, out)
    return {"studies": studies, "zip_bytes": out.stat().st_size, "json_bytes": usize,
            "seconds": time.perf_counter() - t0, "seed": seed, "indent": indent}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--studies", type=int, required=True)
    p.add_argument("--out", type=Path, required=True, help="the zip to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--indent", action="store_true", help="pretty-print members (2 spaces) instead of compact JSON")
    p.add_argument("--level", type=int, default=6, help="deflate level (default %(default)s)")
    p.add_argument("--workers", type=int, default=None, help="generator processes (default: all cores)")
    p.add_argument("--id-start", type=int, default=ID_START, help="first NCT number (default %(default)s)")
    p.add_argument("--fixtures", type=Path, default=FIXTURES, help="folder of real API v2 study JSON files")
    a = p.parse_args(argv)
    if a.studies < 1 or a.id_start + a.studies > 10**8:
        p.error("--studies must be >= 1 and the ids must fit in NCT + 8 digits")
    r = generate(a.studies, a.out, a.seed, a.indent, a.level, a.workers, a.id_start, a.fixtures)
    print(f"{r['studies']:,} studies -> {a.out} ({r['zip_bytes'] / 1e6:,.0f} MB zipped, "
          f"{r['json_bytes'] / 1e6:,.0f} MB JSON) in {r['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
