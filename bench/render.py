"""issuer.render: certificates drawn per second (PNG at 300 dpi, PDF), where the time goes
with and without the caches, the PNG compression level, memory per worker process, and
the speed-up of two worker processes."""

from __future__ import annotations

import io
import itertools
import multiprocessing
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable
from time import process_time
from typing import Any

from . import report
from .timing import Rate, Settings, calls_per_second, measure

TITLE = "certificate rendering: throughput, time per stage, PNG level, memory, two processes"
NOTE = (
    "one core unless stated; rates are the median of --runs runs of --seconds over 16 different "
    "certificates (typical values, placeholder photo); 'cold' figures come from fresh processes"
)

VIEWS = 16
STAGES = ("fonts", "static", "text", "photo", "qr", "seal", "png")
PROFILE_RENDERS = 12
MEMORY_RENDERS = 12
POOL_RENDERS = 48
PNG_LEVELS = (1, 3, 6, 9)
PILLOW_LEVELS = (1, 6)


PNG_GOAL = 18.0
"""Issue 15: PNG A4 at 300 dpi, certificates per CPU-second of one core."""
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


# Goals of issue 15 -----------------------------------------------------------------------


def _goals(settings: Settings) -> dict[str, Any]:
    """PNGs per CPU-second (this process's CPU time: other load on a shared machine barely
    moves it) and what a certificate adds to a batch archive in each choice of formats."""
    from issuer.render import Renderer

    typical, renderer = views(), Renderer()
    rate = Rate(
        tuple(
            calls_per_second(_cycle(renderer.encode, typical), settings.seconds, process_time)
            for _ in range(settings.runs)
        )
    )
    report.heading("issue 15 goals: PNG A4 300 dpi per core (CPU time), archive bytes per certificate")
    report.row("PNG 300 dpi, portrait", f"{rate.median:.1f} /s", f"per CPU-second, {report.spread(rate.spread)}")
    png_met = rate.median >= PNG_GOAL
    report.goal(
        "PNG A4 300 dpi", f"{rate.median:.1f}/s", "per CPU-second, portrait", f"≥ {PNG_GOAL:.0f}/s/core", png_met
    )
    out: dict[str, Any] = {"png_per_cpu_second": rate.to_json(), "png_goal_met": png_met, "archive_kb": {}}
    for layout, batch in (("portrait", typical), ("landscape", views(english=True))):
        sizes = _sizes_kb(renderer, layout, batch)
        for formats in (("png",), ("pdf",), ("png", "pdf")):
            kb = sum(sizes[f] for f in formats)
            met = kb <= ARCHIVE_GOAL_KB
            name = "+".join(formats)
            report.row(f"archive, {layout}, {name}", f"{kb:.0f} kB")
            if formats == ("png", "pdf"):
                report.goal(
                    f"archive per certificate ({layout})", f"{kb:.0f} kB", "PNG + PDF", f"≤ {ARCHIVE_GOAL_KB} kB", met
                )
            out["archive_kb"][f"{layout}:{name}"] = {"kb": round(kb), "meets_goal": met}
    return out


def _sizes_kb(renderer: Any, layout: str, batch: list[Any]) -> dict[str, float]:
    """Mean kB of a certificate's PNG and PDF (the archive stores them as they are)."""
    pages = [renderer.page(view, layout=layout) for view in batch]
    pngs = [page.png() for page in pages]
    pdfs = [page.pdf(encoded=data) for page, data in zip(pages, pngs, strict=True)]
    return {"png": statistics.mean(map(len, pngs)) / 1000, "pdf": statistics.mean(map(len, pdfs)) / 1000}


# Throughput ------------------------------------------------------------------------------


def _throughput(settings: Settings) -> dict[str, Any]:
    from issuer.render import Renderer

    typical, bilingual = views(), views(english=True)
    warm, uncached = Renderer(), Renderer(static_cache_bytes=0)
    cases: dict[str, tuple[str, Callable[[], object]]] = {
        "png_300dpi": ("PNG 300 dpi, portrait", _cycle(lambda v: warm.encode(v), typical)),
        "pdf_300dpi": ("PDF (300 dpi image), portrait", _cycle(lambda v: warm.encode(v, "pdf"), typical)),
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


def profile_renders(count: int, static_cache: bool = True) -> dict[str, float]:
    """Milliseconds per stage, averaged over ``count`` PNG renders in this process."""
    from issuer.render import Renderer
    from issuer.render.renderer import STATIC_CACHE_BYTES

    renderer = Renderer(static_cache_bytes=STATIC_CACHE_BYTES if static_cache else 0)
    total: dict[str, float] = {}
    for view in views(count):
        profile: dict[str, float] = {}
        renderer.encode(view, profile=profile)
        for stage, seconds in profile.items():
            total[stage] = total.get(stage, 0.0) + seconds
    return {stage: 1000 * seconds / count for stage, seconds in total.items()}


def _cold_profile() -> dict[str, float]:
    """In a fresh process: importing the renderer, then the first certificate."""
    started = time.perf_counter()
    import issuer.render  # noqa: F401

    imported = time.perf_counter() - started
    first = profile_renders(1)
    return {"import": 1000 * imported, **first}


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
    return {name: {k: round(v, 2) for k, v in c.items()} for name, c in columns.items()}


_STAGE_NAMES = {
    "import": "import issuer.render",
    "fonts": "fonts (face lookup, glyph coverage)",
    "static": "static layer (build, or copy)",
    "text": "fit and draw the values",
    "photo": "photo (decode, crop, paste)",
    "qr": "QR code (zxing-cpp encode, paste)",
    "seal": "seal (multiply)",
    "png": "PNG encoding",
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


def _memory() -> dict[str, Any]:
    probe = _in_fresh_process(_memory_probe)
    report.heading("memory of a fresh worker process (peak RSS, VmHWM; an A4 page at 300 dpi is 25 MiB raw)")
    report.row("after imports and test data", f"{probe['after_import']:.0f} MiB")
    report.row("after the first certificate", f"{probe['after_first']:.0f} MiB", "fonts, layout, static layer cached")
    report.row(f"after {MEMORY_RENDERS} more", f"{probe['after_many']:.0f} MiB", "steady: nothing grows per render")
    report.row("added by rendering", f"{probe['after_many'] - probe['after_import']:.0f} MiB")
    report.row("Python allocations, one render", f"{probe['traced_peak']:.0f} MiB", "tracemalloc peak (raw rows, PNG)")
    return {key: round(value, 1) for key, value in probe.items()}


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
