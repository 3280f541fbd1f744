"""Run the benchmarks: `python -m bench [section ...] [--quick]` or `python bench/run.py`.

Sections: training, inference, generation, app, plane, memory, concurrency (all seven by default); load
(issue 6's several-minute load test), workshop (issue 25: 8 visitors train at once) and replicas (issue
25: app processes behind a proxy) only when named. Prints a table and merges the
results into bench/results.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):  # `python bench/run.py`: make the repository importable
    ROOT = Path(__file__).resolve().parents[1]
    sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

DEFAULT_SECTIONS = ("training", "inference", "generation", "app", "plane", "memory", "concurrency")
SECTIONS = DEFAULT_SECTIONS + ("load", "room", "workshop", "replicas")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("sections", nargs="*", metavar="section",
                        help=f"what to run: {', '.join(SECTIONS)} (default: {', '.join(DEFAULT_SECTIONS)})")
    parser.add_argument("--quick", action="store_true",
                        help="fewer epochs, clicks and sessions (under 3 minutes); the table says what was shortened")
    parser.add_argument("--data-dir", default=None,
                        help="folder with the MNIST IDX files, for the benchmarks and the app servers they start "
                             "(default: vae_core's search order: $VAE_DATA_DIR, then ~/.cache/vae-explorer/mnist/; "
                             "missing files are downloaded there)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads in this process (default: torch's)")
    parser.add_argument("--minutes", type=float, default=5.0, help="load: how long (default 5)")
    parser.add_argument("--sessions", type=int, default=8, help="load: concurrent visitor sessions (default 8)")
    parser.add_argument("--phones", type=int, default=None,
                        help="room: phones at once in each storm (default 300; 50 with --quick)")
    parser.add_argument("--out", type=Path, default=None, help="results file (default bench/results.json)")
    args = parser.parse_args(argv)
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {unknown[0]!r}; choose from: {', '.join(SECTIONS)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.data_dir:  # the app servers the benchmarks start read it too; without it, VAE_DATA_DIR is left alone
        os.environ["VAE_DATA_DIR"] = args.data_dir

    import torch

    from bench import report

    if args.threads:
        torch.set_num_threads(args.threads)
    sections = args.sections or list(DEFAULT_SECTIONS)
    info = report.machine_info()
    mode = "quick" if args.quick else "full"
    print(f"machine: {report.machine_line(info)}")
    print(f"data: {data_line(args.data_dir)}")
    print(f"mode: {mode}; sections: {', '.join(sections)}", flush=True)

    def log(message: str) -> None:
        print(message, flush=True)

    rows: list[report.Row] = []
    results: dict[str, dict] = {}
    started = time.perf_counter()
    path = args.out or report.RESULTS
    failed = 0
    for name in sections:
        log(f"[{name}]")
        t = time.perf_counter()
        try:
            section_rows, details = run_section(name, args, log)
        except Exception as e:  # one broken section must not cost the others' figures
            failed += 1
            traceback.print_exc()
            section_rows = [report.Row(name, f"section failed: {type(e).__name__}: {str(e).splitlines()[0][:80]}",
                                       None, goal=0.0)]
            details = {"error": traceback.format_exc()}
        rows += section_rows
        results[name] = report.section_result(section_rows, details, time.perf_counter() - t)
        report.write_results({name: results[name]}, info, mode, path)  # saved as we go
        log(f"[{name}] {time.perf_counter() - t:.0f} s")
    print()
    print(report.table(rows))
    print(f"\n{len(sections)} sections in {time.perf_counter() - started:.0f} s ({mode})")
    print(f"results: {path}")
    return 1 if failed else 0


def data_line(data_dir: str | None = None) -> str:
    """Where MNIST will be read from, by vae_core's own search order (or the folder given)."""
    from vae_core.data import available, cache_dir, candidate_dirs

    folders = candidate_dirs("mnist", data_dir)
    found = next((folder for folder in folders if available("mnist", folder)), None)
    if found is not None:
        return f"MNIST in {found}"
    dest = folders[0] if data_dir is not None else cache_dir("mnist")
    return f"MNIST not found in {', '.join(map(str, folders))}; it will be downloaded into {dest}"


def run_section(name: str, args: argparse.Namespace, log) -> tuple[list, dict]:
    data_dir = args.data_dir  # None: vae_core's search order, which starts at $VAE_DATA_DIR
    if name == "training":
        from bench import training
        return training.run(args.quick, data_dir, log)
    if name == "inference":
        from bench import inference
        return inference.run(args.quick, data_dir, log)
    if name == "generation":
        from bench import generation
        return generation.run(args.quick, data_dir, log)
    if name == "app":
        from bench import app
        return app.run(args.quick, log)
    if name == "plane":
        from bench import plane
        return plane.run(args.quick, log)
    if name == "memory":
        from bench import memory
        return memory.run(args.quick, log)
    if name == "concurrency":
        from bench import concurrency
        return concurrency.run(args.quick, log)
    if name == "load":
        from bench import concurrency
        return concurrency.run_load(args.minutes, args.sessions, log)
    if name == "room":
        from bench import room
        return room.run(args.quick, log, args.phones)
    if name == "workshop":
        from bench import workshop
        return workshop.run(args.quick, log)
    if name == "replicas":
        from bench import replicas
        return replicas.run(args.quick, log)
    raise ValueError(name)


if __name__ == "__main__":
    sys.exit(main())
