"""Rows of figures, the printed table, machine information and bench/results.json."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass
class Row:
    """One figure: its value against a goal (``op`` is "<=" or ">="; no goal means information only)."""

    section: str
    figure: str
    value: float | None
    unit: str = ""
    goal: float | None = None
    op: str = "<="
    baseline: str = ""  # what it is compared with, or the ratio behind it
    note: str = ""  # how it was measured, and what --quick shortened
    fmt: str = "{:.3g}"

    @property
    def status(self) -> str:
        if self.goal is None:
            return "info"
        if self.value is None:
            return "MISS"
        ok = self.value <= self.goal if self.op == "<=" else self.value >= self.goal
        return "pass" if ok else "MISS"

    def shown(self, number: float | None) -> str:
        if number is None:
            return "–"
        text = self.fmt.format(number)
        return f"{text} {self.unit}".strip() if self.unit and self.unit != "×" else text + self.unit

    @property
    def goal_text(self) -> str:
        return "–" if self.goal is None else f"{'≤' if self.op == '<=' else '≥'} {self.shown(self.goal)}"

    def to_dict(self) -> dict:
        return {**asdict(self), "status": self.status, "value_text": self.shown(self.value), "goal_text": self.goal_text}


HEADER = ("section", "figure", "value", "goal", "baseline / ratio", "result")


def _cells(row: Row) -> tuple[str, ...]:
    return row.section, row.figure, row.shown(row.value), row.goal_text, row.baseline, row.status


def table(rows: list[Row]) -> str:
    """A plain-text table for the terminal, notes listed under it."""
    cells = [HEADER] + [_cells(r) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  [{r.section}] {r.figure}: {r.note}" for r in rows if r.note]
    return "\n".join(lines + (["", "notes:"] + notes if notes else []))


def markdown(rows: list[Row]) -> str:
    """The same table as Markdown, for a report such as docs/performance.md."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in _cells(r)) + " |" for r in rows]
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _chromium_version(path: str = "/usr/bin/chromium") -> str | None:
    try:
        return subprocess.run([path, "--version"], capture_output=True, text=True, timeout=20).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def machine_info() -> dict:
    """What the figures depend on: CPU, memory, library versions, thread count, load."""
    import torch

    info = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    try:
        info["cpus_usable"] = len(os.sched_getaffinity(0))
        info["memory_gb"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30, 1)
    except (AttributeError, ValueError, OSError):
        pass
    for name in ("streamlit", "plotly", "numpy"):
        try:
            info[name] = __import__(name).__version__
        except ImportError:
            info[name] = None
    info["chromium"] = _chromium_version()
    return info


def machine_line(info: dict) -> str:
    return (f"{info['cpu_count']} × {info['cpu_model']}, {info.get('memory_gb', '?')} GB, Python {info['python']}, "
            f"torch {info['torch']} ({info['torch_threads']} threads), load average "
            f"{', '.join(f'{x:.2f}' for x in info['load_average'] or [])} at start, {info['date']}")


def write_results(sections: dict[str, dict], info: dict, mode: str, path: Path = RESULTS) -> dict:
    """Merge the sections just run into ``path`` (sections run earlier keep their last result)."""
    try:
        results = json.loads(path.read_text())
        if not isinstance(results, dict):
            results = {}
    except (OSError, ValueError):
        results = {}
    results["machine"] = info
    results.setdefault("sections", {})
    for name, section in sections.items():
        results["sections"][name] = {**section, "mode": mode, "machine": info}
    path.write_text(json.dumps(results, indent=1, default=_jsonable) + "\n")
    return results


def _jsonable(value):
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:
        pass
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def section_result(rows: list[Row], details: dict, seconds: float) -> dict:
    return {"rows": [r.to_dict() for r in rows], "details": details, "seconds": round(seconds, 1)}
