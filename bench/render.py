"""issuer.render: certificates drawn per second (PNG at 300 dpi, vector PDF), their bytes,
where the time goes with and without the caches, the PNG compression level, memory per
worker process (and what reading the fonts for the PDF costs), and the speed-up of two
worker processes."""

from __future__ import annotations

import io
import itertools
import multiprocessing
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from time import process_time
from typing import Any

from . import report
from .timing import Rate, Settings, calls_per_second, measure

TITLE = "certificate rendering: goals, throughput, time per stage, PNG level, memory, two processes"
NOTE = (
    "one core unless stated; rates are the median of --runs runs of --seconds over 16 different "
    "certificates (typical values, placeholder photo); 'cold' figures come from fresh processes"
)

VIEWS = 16
STAGES = ("fonts", "static", "text", "photo", "qr", "seal", "png")
PDF_STAGES = ("fonts", "static", "text", "qr", "pdf")
PROFILE_RENDERS = 12
MEMORY_RENDERS = 12
POOL_RENDERS = 48
PNG_LEVELS = (1, 3, 6, 9)
PILLOW_LEVELS = (1, 6)


PNG_GOAL = 18.0
"""Issue 15: PNG A4 at 300 dpi, certificates per CPU-second of one core."""
PDF_GOAL = 80.0
"""The vector PDF: PDFs per CPU-second of one core."""
PDF_GOAL_KB = 80
"""The vector PDF: kB (1000 bytes) a PDF may take besides its photo's bytes."""
ARCHIVE_GOAL_KB = 350
"""Issue 15: bytes a certificate adds to a batch archive, in kB (1000 bytes)."""


def run(settings: Settings) -> dict[str, Any]:
    return {
        "goals": _goals(settings),
        "throughput": _throughput(settings),
        "stages_ms": _stages(),
        "png_levels": _png_levels(),
        "memory": _memory(),
        "processes": _processes(),
    }


# Certificates ----------------------------------------------------------------------------


def views(count: int = VIEWS, *, english: bool = False) -> list[Any]:
    """``count`` different certificates of the test organization (signed beforehand)."""
    from issuer.render.samples import placeholder_photo
    from issuer.render.view import view_for
    from tests import factories

    world, photo, names = factories.world(), placeholder_photo(), ("张三丰", "李四", "欧阳明月", "王小二")
    out = []
    for i in range(count):
        cred = factories.credential(name=names[i % len(names)], number=f"Y000123000001263{i + 1:06d}")
        out.append(
            view_for(
                cred,
                qr_text=world.qr(cred),
                organization_name=factories.ORG_NAME,
                document_number=factories.ID_NUMBER,
                photo=photo,
                english=english,
            )
        )
    return out


def _cycle(fn: Callable[[Any], object], items: list[Any]) -> Callable[[], object]:
    it = itertools.cycle(items)
    return lambda: fn(next(it))


# Goals ---------------------------------------------------------------------------------


def _goals(settings: Settings) -> dict[str, Any]:
    """Certificates per CPU-second (this process's CPU time: other load on a shared machine
    barely moves it) as PNG, as PDF and as both (what the drawing service writes for
    ``formats=png,pdf``), each PDF's bytes with and without its photo, and what a
    certificate adds to a batch archive in each choice of formats."""
    from issuer.render import Renderer

    typical, renderer = views(), Renderer()
    makers: dict[str, tuple[str, Callable[[Any], object]]] = {
        "png": ("PNG", lambda v: renderer.encode(v)),
        "pdf": ("PDF", lambda v: renderer.encode(v, "pdf")),
        "png+pdf": ("PNG and PDF of one page", lambda v: renderer.encode_all(v, ("png", "pdf"))),
    }
    goals = {"png": PNG_GOAL, "pdf": PDF_GOAL, "png+pdf": PNG_GOAL}
    targets = {key: f"≥ {goal:.0f}/s/core" for key, goal in goals.items()}
    archive_target = f"≤ {ARCHIVE_GOAL_KB} kB"
    report.heading("goals: A4 at 300 dpi per CPU-second of one core (portrait); bytes per certificate")
    out: dict[str, Any] = {"per_cpu_second": {}, "pdf_kb": {}, "archive_kb": {}}
    for key, (label, make) in makers.items():
        rate = Rate(
            tuple(calls_per_second(_cycle(make, typical), settings.seconds, process_time) for _ in range(settings.runs))
        )
        met = rate.median >= goals[key]
        report.row(label, f"{rate.median:.1f} /s", f"per CPU-second, portrait, {report.spread(rate.spread)}")
        report.goal(f"{label}, A4 300 dpi", f"{rate.median:.1f}/s", "per CPU-second, portrait", targets[key], met)
        out["per_cpu_second"][key] = {**rate.to_json(), "goal": goals[key], "meets_goal": met}
    for layout, batch in (("portrait", typical), ("landscape", views(english=True))):
        sizes = _sizes_kb(renderer, layout, batch)
        photo_kb = len(batch[0].photo) / 1000
        for case, kb, allowed in (
            ("photo", sizes["pdf"], PDF_GOAL_KB + photo_kb),
            ("no photo", sizes["pdf_no_photo"], PDF_GOAL_KB),
        ):
            met = kb <= allowed
            target = f"≤ {PDF_GOAL_KB} kB" + (f" + the photo's {photo_kb:.1f} kB" if case == "photo" else "")
            report.row(f"PDF, {layout}, {case}", f"{kb:.1f} kB")
            report.goal(f"PDF bytes ({layout}, {case})", f"{kb:.1f} kB", "16 typical certificates", target, met)
            out["pdf_kb"][f"{layout}:{case}"] = {"kb": round(kb, 1), "meets_goal": met}
        for formats in (("png",), ("pdf",), ("png", "pdf")):
            kb = sum(sizes[f] for f in formats)
            met = kb <= ARCHIVE_GOAL_KB
            name = "+".join(formats)
            report.row(f"archive, {layout}, {name}", f"{kb:.1f} kB")
            if formats == ("png", "pdf"):
                reference = "PNG + PDF, as the drawing service writes them"
                report.goal(f"archive per certificate ({layout})", f"{kb:.1f} kB", reference, archive_target, met)
            out["archive_kb"][f"{layout}:{name}"] = {"kb": round(kb, 1), "meets_goal": met}
    return out


def _sizes_kb(renderer: Any, layout: str, batch: list[Any]) -> dict[str, float]:
    """Mean kB of a certificate's PNG and PDF (the archive stores them as they are), and of
    its PDF without the photo."""
    files = [renderer.encode_all(view, ("png", "pdf"), layout=layout) for view in batch]
    bare = [renderer.encode(replace(view, photo=None), "pdf", layout=layout) for view in batch]
    return {
        "png": statistics.mean(len(f["png"]) for f in files) / 1000,
        "pdf": statistics.mean(len(f["pdf"]) for f in files) / 1000,
        "pdf_no_photo": statistics.mean(map(len, bare)) / 1000,
    }


# Throughput ------------------------------------------------------------------------------


def _throughput(settings: Settings) -> dict[str, Any]:
    from issuer.render import Renderer

    typical, bilingual = views(), views(english=True)
    warm, uncached = Renderer(), Renderer(static_cache_bytes=0)
    cases: dict[str, tuple[str, Callable[[], object]]] = {
        "png_300dpi": ("PNG 300 dpi, portrait", _cycle(lambda v: warm.encode(v), typical)),
        "pdf_300dpi": ("PDF (vector), portrait", _cycle(lambda v: warm.encode(v, "pdf"), typical)),
        "pdf_300dpi_landscape": (
            "PDF (vector), landscape bilingual",
            _cycle(lambda v: warm.encode(v, "pdf", layout="landscape"), bilingual),
        ),
        "png_300dpi_landscape": (
            "PNG 300 dpi, landscape bilingual",
            _cycle(lambda v: warm.encode(v, layout="landscape"), bilingual),
        ),
        "png_150dpi": ("PNG 150 dpi preview", _cycle(lambda v: warm.encode(v, dpi=150), typical)),
        "png_300dpi_no_static_cache": (
            "PNG 300 dpi, static layer not cached",
            _cycle(lambda v: uncached.encode(v), typical),
        ),
    }
    report.heading("certificates rendered per second (one process, one thread)")
    out = {}
    for key, (label, fn) in cases.items():
        rate = measure(fn, settings)
        report.row(label, f"{rate.median:.2f} /s", f"{rate.ms_per_call:.0f} ms each, {report.spread(rate.spread)}")
        out[key] = rate.to_json()
    return out


# Time per stage --------------------------------------------------------------------------


def profile_renders(count: int, static_cache: bool = True, fmt: str = "png") -> dict[str, float]:
    """Milliseconds per stage, averaged over ``count`` renders (``fmt``) in this process."""
    from issuer.render import Renderer
    from issuer.render.renderer import STATIC_CACHE_BYTES

    renderer = Renderer(static_cache_bytes=STATIC_CACHE_BYTES if static_cache else 0)
    total: dict[str, float] = {}
    for view in views(count):
        profile: dict[str, float] = {}
        renderer.encode(view, fmt, profile=profile)
        for stage, seconds in profile.items():
            total[stage] = total.get(stage, 0.0) + seconds
    return {stage: 1000 * seconds / count for stage, seconds in total.items()}


def _cold_profile(fmt: str = "png") -> dict[str, float]:
    """In a fresh process: importing the renderer, then the first certificate."""
    started = time.perf_counter()
    import issuer.render  # noqa: F401

    imported = time.perf_counter() - started
    first = profile_renders(1, fmt=fmt)
    return {"import": 1000 * imported, **first}


def _cold_pdf_profile() -> dict[str, float]:
    return _cold_profile("pdf")


def _in_fresh_process(fn: Callable[[], Any]) -> Any:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn)


def _stages() -> dict[str, Any]:
    cold = _in_fresh_process(_cold_profile)
    profile_renders(2)  # fonts and layouts loaded in this process
    uncached = profile_renders(PROFILE_RENDERS, static_cache=False)
    warm = profile_renders(PROFILE_RENDERS)
    columns = {"cold process": cold, "no static cache": uncached, "all caches warm": warm}
    report.heading("milliseconds per stage of one PNG at 300 dpi (portrait)")
    report.row("stage", "cold", "   no static cache    all caches warm")
    for stage in ("import", *STAGES):
        values = [c.get(stage) for c in columns.values()]
        cells = [f"{v:.1f}" if v is not None else "-" for v in values]
        report.row(_STAGE_NAMES.get(stage, stage), cells[0], f"{cells[1]:>17}  {cells[2]:>17}")
    totals = [sum(v for k, v in c.items() if k != "import") for c in columns.values()]
    report.row("total (without import)", f"{totals[0]:.1f}", f"{totals[1]:>17.1f}  {totals[2]:>17.1f}")
    pdf_cold = _in_fresh_process(_cold_pdf_profile)
    pdf_warm = profile_renders(PROFILE_RENDERS, fmt="pdf")
    report.heading("milliseconds per stage of one vector PDF (portrait; no pixels drawn)")
    report.row("stage", "cold", "   all caches warm")
    for stage in ("import", *PDF_STAGES):
        cells = [f"{c[stage]:.1f}" if stage in c else "-" for c in (pdf_cold, pdf_warm)]
        report.row(_STAGE_NAMES.get(stage, stage), cells[0], f"{cells[1]:>17}")
    pdf_totals = [sum(v for k, v in c.items() if k != "import") for c in (pdf_cold, pdf_warm)]
    report.row("total (without import)", f"{pdf_totals[0]:.1f}", f"{pdf_totals[1]:>17.1f}")
    columns = {**columns, "pdf cold process": pdf_cold, "pdf all caches warm": pdf_warm}
    return {name: {k: round(v, 2) for k, v in c.items()} for name, c in columns.items()}


_STAGE_NAMES = {
    "import": "import issuer.render",
    "fonts": "fonts (face lookup, glyph coverage)",
    "static": "static layer (build, or copy)",
    "text": "fit (and for a PNG draw) the values",
    "photo": "photo (decode, crop, paste)",
    "qr": "QR code (zxing-cpp encode, paste)",
    "seal": "seal (multiply)",
    "png": "PNG encoding",
    "pdf": "PDF writing (fonts, content, images)",
}


# PNG compression -------------------------------------------------------------------------


def _png_levels() -> dict[str, Any]:
    from issuer.render import Renderer
    from issuer.render import png as png_writer
    from issuer.render.renderer import PNG_COMPRESS_LEVEL

    image = Renderer().page(views(1)[0]).image
    rows: dict[str, Any] = {}
    report.heading(f"PNG encoding of one 300-dpi page (the renderer uses level {PNG_COMPRESS_LEVEL})")
    for level in PNG_LEVELS:
        ms, size = _time_encode(lambda lv=level: png_writer.encode(image, 300, lv))
        rows[f"rows_up_level_{level}"] = {"ms": round(ms, 1), "kib": round(size / 1024)}
        report.row(f"ours: rows filtered Up, level {level}", f"{ms:.0f} ms", f"{size / 1024:.0f} KiB")
    for level in PILLOW_LEVELS:
        ms, size = _time_encode(lambda lv=level: _pillow_png(image, lv))
        rows[f"pillow_adaptive_level_{level}"] = {"ms": round(ms, 1), "kib": round(size / 1024)}
        report.row(f"Pillow: adaptive filters, level {level}", f"{ms:.0f} ms", f"{size / 1024:.0f} KiB")
    return rows


def _pillow_png(image: Any, level: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=level)
    return out.getvalue()


def _time_encode(fn: Callable[[], bytes], repeat: int = 3) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        size = len(fn())
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times), size


# Memory ----------------------------------------------------------------------------------


def _max_rss_mib() -> float:
    """Peak resident set size of this process. ``VmHWM`` where Linux has it: ``ru_maxrss``
    survives ``exec``, so a spawned child would report its parent's peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _memory_probe() -> dict[str, float]:
    """In a fresh process: peak RSS after imports, after one render, after more; the
    Python-side allocation peak (tracemalloc) of one warm render."""
    from issuer.render import Renderer

    batch = views(MEMORY_RENDERS + 1)
    base = _max_rss_mib()
    renderer = Renderer()
    renderer.encode(batch[0])
    first = _max_rss_mib()
    for view in batch[1:]:
        renderer.encode(view)
    many = _max_rss_mib()
    tracemalloc.start()
    renderer.encode(batch[0])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"after_import": base, "after_first": first, "after_many": many, "traced_peak": peak / 2**20}


def _rss_mib() -> float:
    """Resident set size of this process now (``VmRSS``)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _font_probe() -> dict[str, float]:
    """In a fresh process: reading the faces a PDF embeds glyphs of (time, resident
    memory), the first PDF (every glyph made), and fontTools' own CFF parser on the same
    faces for comparison (the way not taken)."""
    from fontTools.ttLib import TTFont

    from issuer.render import Renderer
    from issuer.render.outlines import outlines

    renderer, view = Renderer(), views(1)[0]
    faces = [renderer.fonts.face(role) for role in ("serif", "serif-bold", "sans")]
    for face in faces:
        face.missing("")  # the coverage (cmap) every renderer reads first
    marks = [(time.perf_counter(), _rss_mib())]
    for face in faces:
        outlines(face)
    marks.append((time.perf_counter(), _rss_mib()))
    renderer.encode(view, "pdf")
    marks.append((time.perf_counter(), _rss_mib()))
    for face in faces:
        TTFont(face.path, fontNumber=face.index, lazy=True).getGlyphSet()
    marks.append((time.perf_counter(), _rss_mib()))
    names = ("open_faces", "first_pdf", "fonttools_cff")
    out = {}
    for name, (t0, m0), (t1, m1) in zip(names, marks[:-1], marks[1:], strict=True):
        out[f"{name}_ms"], out[f"{name}_mib"] = 1000 * (t1 - t0), m1 - m0
    return out


def _memory() -> dict[str, Any]:
    fonts = _in_fresh_process(_font_probe)
    report.heading("reading the fonts for the PDF, in a fresh process (resident memory added, VmRSS)")
    opened = f"+{fonts['open_faces_mib']:.1f} MiB"
    report.row("open serif, serif-bold, sans", f"{fonts['open_faces_ms']:.0f} ms", opened)
    report.row(
        "first PDF (its glyphs made)",
        f"{fonts['first_pdf_ms']:.0f} ms",
        f"+{fonts['first_pdf_mib']:.1f} MiB (font files memory-mapped: their pages are the OS's file cache)",
    )
    report.row(
        "fontTools' CFF parser, same faces",
        f"{fonts['fonttools_cff_ms']:.0f} ms",
        f"+{fonts['fonttools_cff_mib']:.0f} MiB (not used: reads whole CFF tables, names 65,535 glyphs a face)",
    )
    probe = _in_fresh_process(_memory_probe)
    report.heading("memory of a fresh worker process (peak RSS, VmHWM; an A4 page at 300 dpi is 25 MiB raw)")
    report.row("after imports and test data", f"{probe['after_import']:.0f} MiB")
    report.row("after the first certificate", f"{probe['after_first']:.0f} MiB", "fonts, layout, static layer cached")
    report.row(f"after {MEMORY_RENDERS} more", f"{probe['after_many']:.0f} MiB", "steady: nothing grows per render")
    report.row("added by rendering", f"{probe['after_many'] - probe['after_import']:.0f} MiB")
    report.row("Python allocations, one render", f"{probe['traced_peak']:.0f} MiB", "tracemalloc peak (raw rows, PNG)")
    figures: dict[str, Any] = {key: round(value, 1) for key, value in probe.items()}
    return {**figures, "fonts": {key: round(value, 1) for key, value in fonts.items()}}


# Processes -------------------------------------------------------------------------------

_worker_state: dict[str, Any] = {}


def _worker_init() -> None:
    from issuer.render import Renderer

    renderer, batch = Renderer(), views()
    renderer.encode(batch[0])
    _worker_state.update(renderer=renderer, views=batch)


def _worker_render(i: int) -> int:
    batch = _worker_state["views"]
    return len(_worker_state["renderer"].encode(batch[i % len(batch)]))


def _pool_rate(processes: int) -> float:
    with multiprocessing.get_context("spawn").Pool(processes, initializer=_worker_init) as pool:
        pool.map(_worker_render, range(processes * 2))  # every worker warmed up
        started = time.perf_counter()
        pool.map(_worker_render, range(POOL_RENDERS), chunksize=1)
        return POOL_RENDERS / (time.perf_counter() - started)


def _processes() -> dict[str, Any]:
    import os

    load = os.getloadavg()[0]
    one, two = _pool_rate(1), _pool_rate(2)
    report.heading(f"worker processes (multiprocessing, {POOL_RENDERS} PNGs at 300 dpi; {os.cpu_count()} CPUs here)")
    report.row("1 process", f"{one:.2f} /s")
    report.row("2 processes", f"{two:.2f} /s", f"speed-up {two / one:.2f}×")
    report.row("load average before (1 min)", f"{load:.2f}", "other work on the machine lowers the speed-up")
    return {
        "one_per_second": round(one, 2),
        "two_per_second": round(two, 2),
        "speed_up": round(two / one, 2),
        "load_average_before": round(load, 2),
    }
