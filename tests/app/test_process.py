"""The server process's settings (ui/process.py), each in a fresh interpreter: they change
process-wide state (glibc's malloc, the garbage collector) that tests must not leak."""

import subprocess
import sys
import textwrap

import pytest

from helpers.data import ROOT


# 100 blocks of 2 MB, each followed by a small block that stays (as a long-lived object
# would), then all the big ones freed: how much memory does the process keep?
HOLD_AND_FREE = """
import sys, numpy as np
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
if sys.argv[1] == "tuned":
    from ui.process import return_freed_memory
    assert return_freed_memory()
big, pins = [], []
a = np.ones(2 << 20, np.uint8); del a  # the first free raises glibc's dynamic mmap threshold
base = rss()
for _ in range(100):
    big.append(np.ones(2 << 20, np.uint8))
    pins.append(np.ones(256, np.float32))
held = rss() - base
big.clear()
print(round(held), round(rss() - base))
"""


def run(code: str, *args: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc is tuned on Linux only")
def test_freed_blocks_go_back_to_the_system():
    held, kept = map(int, run(HOLD_AND_FREE, "default").split())
    assert held >= 190 and kept >= 150  # glibc's default: the freed 200 MB stay with the process
    held, kept = map(int, run(HOLD_AND_FREE, "tuned").split())
    assert held >= 190 and kept <= 10  # tuned: given back


def test_settle_process_freezes_the_imports_so_a_collection_is_cheap():
    out = run("""
        import gc
        import torch, plotly.graph_objects, streamlit
        from ui.process import settle_process
        done = settle_process()
        gc.collect()
        print(done["gc_frozen"], done["malloc_tuned"], gc.get_freeze_count() > 100_000, len(gc.get_objects()) < 1000)
    """)
    assert out.split() == ["True", str(sys.platform.startswith("linux")), "True", "True"]


def test_ui_figures_imports_pandas_whole_before_any_figure_is_built():
    """Plotly looks pandas up in sys.modules without the import lock, so a figure built while another
    thread (ui.warmup's) was still importing pandas found a half-made module. ui.figures imports pandas
    itself, so Python's import lock makes it wait for such an import to finish: checked here with no
    thread at all, so the answer does not depend on which thread wins a race."""
    out = run("""
        import sys
        assert "pandas" not in sys.modules
        import ui.figures
        print(hasattr(sys.modules.get("pandas"), "Series"))
    """)
    assert out.split() == ["True"]
