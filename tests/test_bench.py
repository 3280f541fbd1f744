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


# ---------------------------------------------------------------- bench room (issue 24)

ROOM_HTML = """<!doctype html><html><head>
<base href="/room/0123456789ab/">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="room/room.css">
<link rel="modulepreload" href="room/main.js">
<script type="module" src="room/main.js"></script>
<script src="https://cdn.example.org/lib.js"></script>
<script type="module">import "./boot.js";</script>
</head><body><img src="logo.svg" alt=""></body></html>"""

ROOM_TEXTS = {
    "http://127.0.0.1:8501/room": ROOM_HTML,
    "http://127.0.0.1:8501/room/0123456789ab/room/main.js":
        '// see: import { x } from "./not-a-file.js" in the docs\n'
        'import { View } from "../view.js";\nimport {\n  checkPayload,\n} from \'../payload.js\';\n'
        'import three from "three";\nconst later = () => import("./later.js");\n',
    "http://127.0.0.1:8501/room/0123456789ab/view.js":
        'import{a as b,c}from"./geometry.js";export*from"./draw.js";export const v = import.meta.url;',
    "http://127.0.0.1:8501/room/0123456789ab/payload.js": 'export { draw } from "./draw.js";',
    "http://127.0.0.1:8501/room/0123456789ab/geometry.js": "export const g = 1;",
    "http://127.0.0.1:8501/room/0123456789ab/draw.js": 'import "./geometry.js";',
    "http://127.0.0.1:8501/room/0123456789ab/boot.js": "",
    "http://127.0.0.1:8501/room/0123456789ab/room.json": json.dumps(
        {"format": "vae-explorer-room", "decoder": "decoder-aa.safetensors", "points": "points-bb.safetensors",
         "conditional": "conditional-cc.safetensors", "title": "MNIST"}),
}


def test_a_pages_files_are_found_in_its_html_its_modules_and_the_room_manifest():
    from bench import page_files

    fetched = []

    def fetch(url):
        fetched.append(url)
        return ROOM_TEXTS[url]

    files = page_files.discover("http://127.0.0.1:8501/room", fetch)
    base = "/room/0123456789ab/"
    assert files.paths() == ["/room", base + "room/room.css", base + "room/main.js", base + "logo.svg",
                             base + "boot.js", base + "view.js", base + "payload.js", base + "geometry.js",
                             base + "draw.js", base + "room.json", base + "decoder-aa.safetensors",
                             base + "points-bb.safetensors", base + "conditional-cc.safetensors"]
    kinds = dict(files.files)
    assert kinds["http://127.0.0.1:8501" + base + "room/room.css"] == "style"
    assert kinds["http://127.0.0.1:8501" + base + "logo.svg"] == "image"
    assert [kinds["http://127.0.0.1:8501" + base + f] for f in ("decoder-aa.safetensors", "points-bb.safetensors",
                                                               "conditional-cc.safetensors")] == \
        ["decoder", "points", "conditional"]
    assert files.paths(tap_ready_only=True) == files.paths()[:-1]  # tap-ready: all but the conditional decoder
    assert files.other_hosts == ["https://cdn.example.org/lib.js"]  # listed, never fetched
    assert "https://cdn.example.org/lib.js" not in fetched and len(fetched) == len(set(fetched)) == 8
    assert all(not u.endswith((".css", ".svg", ".safetensors")) for u in fetched)  # only texts it parses


def test_module_imports_and_the_manifest_are_read_as_a_browser_reads_them():
    from bench import page_files

    assert page_files.module_imports('import a from "./a.js";import"/b.js";}export{c}from"../c.js"') == \
        ["./a.js", "/b.js", "../c.js"]
    assert page_files.module_imports('import x from "lit"; import("./lazy.js"); // import y from "./y.js"') == []
    assert page_files.manifest_files('{"decoder": "d.st", "points": "p.st", "conditional": null}') == \
        {"decoder": "d.st", "points": "p.st"}
    with pytest.raises(ValueError):
        page_files.manifest_files("[1, 2]")
    refs = page_files.html_refs('<link rel="preload" href="f.woff2" as="font"><link rel="canonical" href="/x">'
                                '<img src="data:image/png;base64,AA==">')
    assert refs.refs == [("f.woff2", "preload")] and refs.base is None


@pytest.fixture
def three_files(tmp_path):
    """A local HTTP server on 127.0.0.1 serving three files; it records each request's
    Accept-Encoding and counts the connections it accepted."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    sizes = {"index.html": 1_000, "main.js": 20_000, "decoder.bin": 150_000}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(bytes(range(256)) * (size // 256) + b"x" * (size % 256))
    seen = {"encodings": [], "connections": 0}

    class Handler(SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            seen["connections"] += 1
            super().setup()

        def do_GET(self):
            seen["encodings"].append(self.headers.get("Accept-Encoding"))
            super().do_GET()

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # a burst of phones must not wait on the listen backlog
        daemon_threads = True

    server = Server(("127.0.0.1", 0), functools.partial(Handler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", sizes, seen, Handler
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.mark.parametrize("protocol", ["HTTP/1.1", "HTTP/1.0"])
def test_the_storm_fetches_every_file_for_every_phone(three_files, protocol):
    import asyncio

    from bench import storm

    url, sizes, seen, handler = three_files
    handler.protocol_version = protocol  # HTTP/1.0: the server closes after each file, the phone reconnects
    paths = ["/" + name for name in sizes]
    result = asyncio.run(storm.storm(lambda traffic: storm.fetch_page(url, paths, traffic), 5, timeout=60,
                                     server_pid=os.getpid()))
    assert result.failures == [] and len(result.phones) == 5
    for phone in result.phones:
        assert phone.traffic.requests == 3 and phone.traffic.body_bytes == sum(sizes.values())
        assert sum(sizes.values()) < phone.traffic.wire_bytes < sum(sizes.values()) + 3 * 1000  # + status and headers
        assert 0 < phone.seconds <= result.wall_seconds
    assert seen["encodings"] == ["gzip"] * 15
    # keep-alive: the HTML on one connection, then the other two files over two connections
    assert seen["connections"] == (10 if protocol == "HTTP/1.1" else 15)
    summary = result.summary()
    assert summary["phones"] == 5 and summary["failed"] == 0 and summary["requests_per_phone"] == 3
    assert summary["wire_mb"] == pytest.approx(result.wire_bytes / 1e6) and summary["p95_s"] <= summary["max_s"]
    assert result.server_cpu_seconds >= 0 and result.cpu_ms_per_phone == 1000 * result.server_cpu_seconds / 5
    assert result.client_cpu_seconds > 0  # the phones' own work, to tell whether they or the server set the pace


def test_a_phone_that_misses_a_file_fails_and_counts_as_never_done(three_files):
    import asyncio

    from bench import storm

    url, sizes, _, _ = three_files
    result = asyncio.run(storm.storm(lambda t: storm.fetch_page(url, ["/index.html", "/missing.js"], t), 3, timeout=60))
    assert result.failures == ["GET /missing.js: HTTP 404"] * 3
    assert result.seconds(50) is None and result.summary()["failed"] == 3
    assert result.server_cpu_seconds is None and result.cpu_ms_per_phone is None  # no server process named


def test_the_storm_visits_only_this_machine():
    import asyncio

    from bench import storm

    for url in ("http://example.com/", "https://127.0.0.1:8501/", "http://10.0.0.2:8501/"):
        with pytest.raises(ValueError, match="only this machine"):
            asyncio.run(storm.fetch_page(url, ["/"], storm.Traffic()))
    assert storm.loopback_address("http://127.0.0.1:8501/room") == ("127.0.0.1", 8501)


def test_phone_percentiles_are_nearest_rank_with_failed_phones_never_done():
    from bench.storm import phone_percentile

    times = [float(s) for s in range(1, 101)]
    assert phone_percentile(times, 95) == 95.0 and phone_percentile(times, 50) == 50.0
    assert phone_percentile(times, 100) == 100.0 and phone_percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert phone_percentile(times[:95] + [None] * 5, 95) == 95.0  # 5 % failed: the p95 is still a phone's time
    assert phone_percentile(times[:94] + [None] * 6, 95) is None  # 6 % failed: the p95 phone never finished
    assert phone_percentile([], 95) is None


def test_a_streamlit_phone_asks_for_a_first_run_and_knows_when_it_is_over():
    from bench import streamlit_phone
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    request = BackMsg()
    request.ParseFromString(streamlit_phone.first_run_request("http://127.0.0.1:8501/"))
    assert request.WhichOneof("type") == "rerun_script"
    state = request.rerun_script
    assert state.page_script_hash == "" and not state.cached_message_hashes and state.HasField("widget_states")
    assert state.context_info.url == "http://127.0.0.1:8501/" and state.context_info.timezone == "UTC"

    def message(**fields) -> bytes:
        forward = ForwardMsg()
        for name, value in fields.items():
            setattr(forward, name, value)
        return forward.SerializeToString()

    assert streamlit_phone.run_outcome(message(script_finished=ForwardMsg.FINISHED_SUCCESSFULLY)) == (True, None)
    assert streamlit_phone.run_outcome(message(script_finished=ForwardMsg.FINISHED_WITH_COMPILE_ERROR)) == \
        (True, "the script did not compile")
    assert streamlit_phone.run_outcome(message(script_finished=ForwardMsg.FINISHED_EARLY_FOR_RERUN)) == (False, None)
    exception = ForwardMsg()
    exception.delta.new_element.exception.type = "ValueError"
    exception.delta.new_element.exception.message = "boom"
    assert streamlit_phone.run_outcome(exception.SerializeToString()) == \
        (False, "the page showed an exception: ValueError: boom")
    text = ForwardMsg()
    text.delta.new_element.markdown.body = "Explore the latent space"
    assert streamlit_phone.run_outcome(text.SerializeToString()) == (False, None)


def test_the_wire_meter_counts_bytes_websockets_and_other_hosts():
    import base64

    from bench.room import WireMeter

    meter = WireMeter("http://127.0.0.1:8501", later=("/room/x/conditional.st",))
    for i, url in enumerate(["http://127.0.0.1:8501/room", "http://127.0.0.1:8501/room/x/main.js",
                             "data:image/png;base64,AA==", "https://fonts.example.com/a.woff2",
                             "http://127.0.0.1:8501/room/x/conditional.st"]):
        meter.request_will_be_sent({"requestId": str(i), "request": {"url": url}})
    assert meter.idle_for() == 0.0  # requests in flight
    meter.loading_finished({"requestId": "0", "encodedDataLength": 1200})
    meter.loading_finished({"requestId": "4", "encodedDataLength": 500})  # early, though needed only later
    meter.loading_finished({"requestId": "1", "encodedDataLength": 800})
    meter.mark("tap-ready", 12.5)
    meter.loading_failed({"requestId": "3"})
    meter.websocket_created({"url": "ws://127.0.0.1:8501/_stcore/stream"})
    meter.websocket_frame_received({"response": {"opcode": 2, "payloadData": base64.b64encode(b"\0" * 90).decode()}})
    meter.websocket_frame_received({"response": {"opcode": 1, "payloadData": "hello"}})
    meter.mark("tap-ready")  # a mark is taken once
    meter.mark("complete")
    assert meter.marks["tap-ready"] == {"mb": 0.0025, "needed_mb": 0.002, "http_mb": 0.0025, "ws_mb": 0.0,
                                        "requests": 4, "page_ms": 12.5}
    assert meter.marks["complete"]["mb"] == pytest.approx(0.002595) and meter.total == 2595
    assert meter.other_hosts == ["https://fonts.example.com/a.woff2"]
    assert meter.websockets == ["ws://127.0.0.1:8501/_stcore/stream"] and meter.idle_for() >= 0.0
    assert meter.summary()["kb_by_path"] == {"/room": 1.2, "/room/x/main.js": 0.8, "/room/x/conditional.st": 0.5}


def test_room_rows_stand_beside_the_streamlit_baseline_and_say_pending_without_a_room_page():
    from bench import room, storm

    def storm_of(seconds, wire):
        phones = [storm.PhoneResult(s, storm.Traffic(requests=3, wire_bytes=wire), None if s else "GET /: HTTP 500")
                  for s in seconds]
        return storm.StormResult(phones, wall_seconds=max(s or 0 for s in seconds), server_cpu_seconds=1.2)

    streamlit_visit = {"marks": {"plane drawn": {"mb": 3.5}, "idle": {"mb": 7.3}}, "websockets": ["ws://x"],
                       "other_hosts": []}
    measured = {"visits": {"streamlit": streamlit_visit}, "pending": "GET /room is not the room page",
                "storms": {"streamlit": storm_of([1.0, 2.0, None, 4.0], 2_400_000)}}
    rows = room.rows_for(measured, 4, quick=True)
    assert [r.value for r in rows] == [None] * len(rows)
    assert all(r.note.startswith("pending: GET /room is not the room page") for r in rows)
    assert "Streamlit first page to drawn plane 3.50 MB" in rows[0].baseline
    assert rows[3].baseline == "Streamlit first page 300 ms" and rows[5].baseline == "Streamlit first page: 1 failed"
    assert rows[4].baseline == "Streamlit first page p95 –"  # a failed phone is the p95: never done

    measured["visits"]["room"] = {"marks": {"tap-ready": {"mb": 1.1, "needed_mb": 0.7}, "complete": {"mb": 1.4}},
                                  "websockets": [], "other_hosts": []}
    measured["storms"]["room"] = storm_of([0.5, 1.0, 1.5, 2.0], 1_500_000)
    measured["pending"] = ""
    rows = room.rows_for(measured, 4, quick=False)
    assert [r.status for r in rows] == ["pass", "pass", "pass", "MISS", "pass", "pass", "info"]  # 300 ms > 10 ms
    assert rows[0].value == 0.7 and rows[0].baseline.endswith("ratio 0.2") and rows[2].value == 0
    assert rows[0].note.endswith("(with it: 1.10 MB)")  # the conditional decoder, on its way early, is shown apart
    assert "; room: server 1.2 and phones 0.0 CPU-s in 2.0 s" in rows[4].note  # who set the storm's pace
    assert rows[3].value == pytest.approx(300.0) and rows[4].value == 2.0 and rows[6].value == 1.5


def test_the_room_section_runs_only_when_named():
    assert "room" in run.SECTIONS and "room" not in run.DEFAULT_SECTIONS
    assert run.parse_args(["room", "--phones", "20"]).phones == 20 and run.parse_args(["room"]).phones is None
