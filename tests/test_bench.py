"""The benchmark harness's pure-Python parts on tiny inputs, so bench/ does not rot.

No wall time is asserted here: the figures themselves come from `python -m bench`.
"""

import json
import os

import numpy as np
import pytest
import torch

import vae_core as vc
from bench import app, browser, concurrency, report, run, training
from helpers.data import synthetic_digits


def test_rows_compare_with_their_goal_and_render_as_tables(tmp_path):
    rows = [report.Row("app", "click p50", 120.0, "ms", 150.0, "<=", fmt="{:.0f}", note="in-page"),
            report.Row("training", "speed-up", 1.5, "×", 2.0, ">=", baseline="a vs b"),
            report.Row("memory", "peak", None, "MB", 600.0),
            report.Row("load", "seen", 3.0)]
    assert [r.status for r in rows] == ["pass", "MISS", "MISS", "info"]
    assert rows[0].shown(rows[0].value) == "120 ms" and rows[0].goal_text == "≤ 150 ms"
    assert rows[1].shown(1.5) == "1.5×" and rows[1].goal_text == "≥ 2×"
    text = report.table(rows)
    assert text.splitlines()[0].split() == ["section", "figure", "value", "goal", "baseline", "/", "ratio", "result"]
    assert "click p50  120 ms" in text and "[app] click p50: in-page" in text
    md = report.markdown(rows)
    assert md.count("\n") == len(rows) + 1 and "| training | speed-up | 1.5× | ≥ 2× | a vs b | MISS |" in md

    path = tmp_path / "results.json"
    info = {"cpu_count": 2, "torch": torch.__version__}
    report.write_results({"app": report.section_result(rows[:1], {"click_ms": [np.float64(1.5)]}, 3.21)}, info,
                         "quick", path)
    report.write_results({"memory": report.section_result(rows[2:3], {}, 1.0)}, info, "full", path)
    saved = json.loads(path.read_text())
    assert set(saved["sections"]) == {"app", "memory"}  # a later run keeps the sections it did not redo
    assert saved["sections"]["app"]["mode"] == "quick" and saved["sections"]["app"]["details"]["click_ms"] == [1.5]
    assert saved["sections"]["app"]["rows"][0]["status"] == "pass" and saved["machine"] == info


def test_machine_info_names_what_the_figures_depend_on():
    info = report.machine_info()
    for key in ("cpu_count", "cpu_model", "torch", "torch_threads", "python", "date"):
        assert info[key], key
    assert str(info["cpu_count"]) in report.machine_line(info)


def test_reference_loop_and_project_trainer_run_one_epoch_each():
    images, _ = synthetic_digits(512, seed=0)
    test_images, _ = synthetic_digits(200, seed=1)
    ref = training.reference_loop(images, test_images, epochs=1)
    assert len(ref.epoch_seconds) == 1 and ref.samples == 512 and ref.samples_per_second > 0
    # a trained tutorial model beats predicting p = 0.5 for every pixel (784 ln 2 = 543 nats)
    assert 0 < ref.test_neg_elbo[0] < 543
    run_ = training.project_run(vc.VAEConfig(hidden=(32,)), vc.TrainConfig(epochs=3, batch_size=128), images,
                                test_images, target=1e6)
    assert run_.reached_epoch == 1 and len(run_.epoch_seconds) == 1  # stops as soon as the target is reached
    assert run_.seconds_to_target == run_.epoch_seconds[0] and run_.steps_per_epoch == 4


def test_the_tutorial_loss_is_the_project_loss_summed_over_the_batch():
    torch.manual_seed(0)
    x = torch.rand(5, 784)
    logits, mu, logvar = torch.randn(5, 784), torch.randn(5, 2), torch.randn(5, 2)
    summed = training.tutorial_loss(logits, x, mu, logvar)
    torch.testing.assert_close(summed, 5 * vc.vae_loss(logits, x, mu, logvar).loss)


def test_quick_mode_takes_its_target_from_the_last_full_run(tmp_path):
    path = tmp_path / "results.json"
    assert training.previous_target(path)[0] == training.ISSUE_TARGET  # nothing on record
    ref = {"epochs": 30, "extrapolated": False, "test_neg_elbo": [160.0, 152.5]}
    path.write_text(json.dumps({"sections": {"training": {"details": {"reference": ref}}}}))
    assert training.previous_target(path)[0] == 152.5
    path.write_text(json.dumps({"sections": {"training": {"details": {"reference": {**ref, "extrapolated": True}}}}}))
    assert training.previous_target(path)[0] == training.ISSUE_TARGET  # a quick run's reference is no target


def test_step_flops_count_forward_and_twice_that_backward():
    model = vc.build_model(vc.VAEConfig(hidden=(8,)))  # 784-8-(2x2) / 2-8-784
    forward = 2 * 10 * (784 * 8 + 8 * 4 + 2 * 8 + 8 * 784)
    assert training.step_matmul_flops(model, batch=10) == 3 * forward
    assert training.matmul_gflops(n=64, repeats=2) > 0


def test_click_split_and_memory_per_training_cycle_are_computed_from_samples():
    traces = [{"ms": 100, "sent": 30, "first_in": 50}, {"ms": 200, "sent": 40, "first_in": 90}, None]
    assert app.split(traces) == {"browser_before_request": 35.0, "request_to_first_reply": 35.0,
                                 "first_reply_to_image": 80.0}
    # a training every 100 s: +60 MB for its data, +100 MB in its evaluation, then back down
    cycle = [60.0] * 10 + [160.0] * 3 + [0.0] * 7
    flat = [(t, 400.0 + cycle[(t % 100) // 5]) for t in range(0, 400, 5)]
    assert concurrency.cycle_rss(flat, [0, 100, 200, 300]) == [(400.0, 560.0)] * 3
    leaking = [(t, mb + t / 10) for t, mb in flat]  # 6 MB a minute
    lows = [low for low, _ in concurrency.cycle_rss(leaking, [0, 100, 200, 300])]
    assert lows == pytest.approx([406.5, 416.5, 426.5])  # each cycle's low, 10 MB above the last


def test_own_process_memory_is_read_from_proc():
    if not os.path.exists("/proc/self/status"):
        pytest.skip("no /proc")
    assert 10 < browser.rss_mb(os.getpid()) <= browser.peak_rss_mb(os.getpid())


def test_command_line_picks_sections_and_modes():
    args = run.parse_args(["app", "memory", "--quick"])
    assert args.sections == ["app", "memory"] and args.quick
    assert run.parse_args([]).sections == [] and run.DEFAULT_SECTIONS[0] == "training"
    assert "load" not in run.DEFAULT_SECTIONS and "load" in run.SECTIONS
    with pytest.raises(SystemExit):
        run.parse_args(["everything"])


def test_plane_helpers_spread_their_spots_and_count_visitors():
    from bench import plane

    box = {"x": 100.0, "y": 50.0, "width": 500.0, "height": 500.0}
    path = plane.hover_path(300, box)
    assert len(path) == 300 and len(set(path)) == 300  # every move a new spot
    assert all(box["x"] + 0.1 * 500 < x < box["x"] + 0.95 * 500 and box["y"] + 0.05 * 500 < y < box["y"] + 0.9 * 500
               for x, y in path)  # inside the plotting area, away from the axes' margins
    steps = [np.hypot(x1 - x0, y1 - y0) for (x0, y0), (x1, y1) in zip(path, path[1:])]
    assert 1 < min(steps) and max(steps) < 30  # a mouse sweeping the plane, a few pixels a move
    assert plane.visitors_per_server(0.5) == 240 and plane.visitors_per_server(6.0, cores=2) == 20
    assert plane.visitors_per_server(0.0) > 1e4  # no CPU measured: many, not a division by zero


def test_interpolation_endpoint_spots_never_repeat_and_jump_far():
    spots = app.spiral_spots(40, 3.0)
    assert len(set(spots)) == 40 and all(np.hypot(*s) <= 3.0 + 1e-9 for s in spots)
    assert min(np.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(spots, spots[1:])) > 1.0


def test_the_load_tests_warm_up_is_what_the_train_page_says_a_session_keeps():
    text = "Pick a preset and press Start training. … Your session keeps your 6 newest models; download one …"
    assert concurrency.models_kept(text) == 6
    assert concurrency.models_kept("Train your own model") is None  # the page did not say: no warm-up assumed
    assert concurrency.warm_up_cycles(6, 8) == 6  # two cycles left to compare after it
    assert concurrency.warm_up_cycles(6, 7) == 0 and concurrency.warm_up_cycles(None, 20) == 0


def test_bench_imports_no_app_internals():
    import ast
    from pathlib import Path

    for path in sorted(Path(run.__file__).parent.glob("*.py")):
        tree = ast.parse(path.read_text())
        modules = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        modules += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
        assert not [m for m in modules if m.split(".")[0] in ("ui", "pages", "app")], path.name


def test_data_folder_follows_vae_cores_search_order(monkeypatch, tmp_path, capsys):
    from vae_core.data import cache_dir

    with pytest.raises(SystemExit):
        run.parse_args(["--help"])
    assert "/work/" not in capsys.readouterr().out  # no one machine's folder as a default
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    assert "VAE_DATA_DIR" not in browser.AppServer(tmp_path).env  # the app then searches as it does for anyone
    assert run.data_line().endswith(f"it will be downloaded into {cache_dir('mnist')}")  # HOME is empty here
    (tmp_path / "mnist").mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (tmp_path / "mnist" / f"{name}.gz").write_bytes(b"")
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path))
    assert browser.AppServer(tmp_path).env["VAE_DATA_DIR"] == str(tmp_path)
    assert run.data_line() == f"MNIST in {tmp_path / 'mnist'}"
    assert run.data_line(str(tmp_path)).startswith(f"MNIST not found in {tmp_path};")
