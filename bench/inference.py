"""Section 2, inference on the shipped pretrained MNIST model: median times of decode one
point, a 20x20 manifold grid, a 64-step interpolation, and encoding the 10,000 test images."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

import vae_core as vc

from bench.report import Row

PRETRAINED = Path(__file__).resolve().parents[1] / "pretrained" / "mnist.safetensors"


def median_ms(fn, repeats: int, warmup: int = 3) -> tuple[float, float]:
    """(median, best) milliseconds of ``fn()`` over ``repeats`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - start))
    return float(np.median(times)), float(min(times))


def run(quick: bool = False, data_dir: str | None = None, log=print) -> tuple[list[Row], dict]:
    ckpt = vc.load_checkpoint(PRETRAINED)
    model = ckpt.model
    test = vc.load_dataset("mnist", "test", root=data_dir).images
    z = ckpt.latents.z_mean
    scale = 1 if quick else 3
    cases = [
        ("decode one point", lambda: vc.decode(model, z[0]), 100 * scale, 1.0, "{:.2f}"),
        ("decode_grid 20×20", lambda: vc.decode_grid(model, 20), 20 * scale, 10.0, "{:.1f}"),
        ("64-step interpolation decode", lambda: vc.decode(model, vc.interpolate(z[0], z[1], 64)), 30 * scale,
         None, "{:.2f}"),
        ("encode the 10,000 test images", lambda: vc.encode(model, test), 3 * scale, 1000.0, "{:.0f}"),
    ]
    rows, details = [], {"threads": torch.get_num_threads(), "timings_ms": {}}
    for name, fn, repeats, goal, fmt in cases:
        log(f"  {name} ×{repeats}…")
        med, best = median_ms(fn, repeats)
        details["timings_ms"][name] = {"median": med, "best": best, "repeats": repeats}
        rows.append(Row("inference", name, med, "ms", goal, "<=", fmt=fmt,
                        baseline=f"best {fmt.format(best)} ms of {repeats}",
                        note="" if name != "decode one point" else
                        f"median of repeats, pretrained/mnist.safetensors, {torch.get_num_threads()} torch threads"))
    return rows, details
