import math

import numpy as np
import pytest
import torch

from vae_core import training
from vae_core.errors import ConfigError
from vae_core.evaluation import negative_elbo
from vae_core.model import VAEConfig, build_model
from vae_core.training import (TrainConfig, lr_at, make_optimizer, random_shift, resolve_device, resolve_precision,
                                train)

FAST = dict(epochs=2, batch_size=100, lr=3e-3, warmup_epochs=0.5, device="cpu", eval_batch_size=500)


def _train(digits, seed=0, callback=None, **overrides):
    model = build_model(VAEConfig(hidden=(32,)), seed=seed)
    config = TrainConfig(**{**FAST, "seed": seed, **overrides})
    return train(model, digits["train_x"], digits["test_x"], config, callback)


def _weights(model) -> list[torch.Tensor]:
    return [p.detach().clone().double() for p in model.parameters()]


def _moving_average(initial: list[torch.Tensor], trajectory: list[list[torch.Tensor]], decay: float):
    """The exponential moving average of the weights after each step, written out: the average
    starts at the initial weights and takes in step s's weights with weight 1 - d_s, where
    d_s = min(decay, (1 + s) / (10 + s)) (a short warm-up of the decay)."""
    average = [w.clone() for w in initial]
    for s, weights in enumerate(trajectory):
        d = min(decay, (1 + s) / (10 + s))
        average = [d * a + (1 - d) * w for a, w in zip(average, weights)]
    return average


def _train_recording_steps(digits, stop_at_step=None, **overrides):
    """A tiny training that records the live model's weights after every step; returns
    (result, initial weights, the weights after each step)."""
    model = build_model(VAEConfig(hidden=(32,)), seed=0)
    initial, trajectory = _weights(model), []

    def record(event):
        if event.kind == "step":
            trajectory.append(_weights(model))
            return event.step == stop_at_step

    result = train(model, digits["train_x"], digits["test_x"], TrainConfig(**{**FAST, **overrides}), record)
    return result, initial, trajectory


def _max_distance(weights_a, weights_b) -> float:
    return max((a - b).abs().max().item() for a, b in zip(weights_a, weights_b))


def test_training_lowers_the_loss_and_records_history(digits):
    result = _train(digits, epochs=4)
    assert result.status == "done" and result.steps == 4 * 12
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4]
    first, last = result.history[0], result.history[-1]
    assert last["train_loss"] < first["train_loss"] and last["test_loss"] < first["test_loss"]
    for h in result.history:
        assert h["train_loss"] == pytest.approx(h["train_recon"] + h["train_kl"], rel=1e-6)
        assert h["test_loss"] == pytest.approx(h["test_recon"] + h["test_kl"], rel=1e-6)
        assert h["seconds"] > 0
    assert not result.model.training


def test_same_seed_gives_identical_weights_on_cpu(digits):
    a, b = _train(digits, seed=3), _train(digits, seed=3)
    for pa, pb in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(pa, pb)
    assert a.history[-1]["test_loss"] == b.history[-1]["test_loss"]
    c = _train(digits, seed=4)
    assert not torch.equal(next(a.model.parameters()), next(c.model.parameters()))


def test_accepts_torch_tensors_as_well_as_numpy(digits):
    model = build_model(VAEConfig(hidden=(16,)), seed=0)
    result = train(model, torch.from_numpy(digits["train_x"][:200]), None, TrainConfig(**{**FAST, "epochs": 1}))
    assert result.status == "done" and "test_loss" not in result.history[0]


def test_events_carry_progress_losses_lr_and_eta(digits):
    events = []
    _train(digits, callback=events.append)
    steps = [e for e in events if e.kind == "step"]
    epochs = [e for e in events if e.kind == "epoch"]
    assert len(steps) == 24 and len(epochs) == 2 and events[-1].kind == "done"
    assert [e.step for e in steps] == list(range(1, 25))
    assert all(e.total_steps == 24 and e.epochs == 2 for e in events)
    assert steps[0].epoch == 1 and steps[-1].epoch == 2
    assert all(math.isfinite(e.loss) and e.loss == pytest.approx(e.recon + e.kl, rel=1e-5) for e in steps)
    assert steps[5].eta > steps[-1].eta > 0 and epochs[-1].eta == 0  # the last step: its evaluation is left
    assert all(b.elapsed >= a.elapsed for a, b in zip(events, events[1:]))
    assert epochs[0].test is not None and set(epochs[0].test) == {"loss", "recon", "kl"}
    peak = max(e.lr for e in steps)
    assert peak == pytest.approx(3e-3, rel=0.05) and steps[-1].lr < peak / 10


def test_the_eta_counts_the_test_evaluations_left(digits, monkeypatch):
    """On a clock where a step takes 1 s and an epoch's test evaluation 4 s, every ETA from the
    first evaluation on is the time that is really left, and those before it count evaluations too."""
    clock = [0.0]
    monkeypatch.setattr(training.time, "perf_counter", lambda: clock[0])

    def timed(function, seconds):
        def run(*args, **kwargs):
            clock[0] += seconds
            return function(*args, **kwargs)
        return run

    monkeypatch.setattr(training, "vae_loss", timed(training.vae_loss, 1.0))
    monkeypatch.setattr(training, "negative_elbo", timed(training.negative_elbo, 4.0))
    events = []
    _train(digits, callback=events.append)
    done = events[-1].elapsed
    assert done == 24 * 1.0 + 2 * 4.0  # 24 steps, 2 evaluations
    progress = [e for e in events if e.kind in ("step", "epoch")]
    first_eval = next(i for i, e in enumerate(progress) if e.kind == "epoch")
    for e in progress[first_eval:]:
        assert e.eta == pytest.approx(done - e.elapsed)
    assert all(e.eta > 24 - e.step for e in progress[:first_eval])  # more than the steps alone


def test_stop_keeps_the_weights_of_the_last_completed_step(digits):
    snapshots = {}
    model = build_model(VAEConfig(hidden=(32,)), seed=0)

    def stop_at_7(event):
        if event.kind == "step":
            snapshots[event.step] = [p.detach().clone() for p in model.parameters()]
            return event.step == 7

    result = train(model, digits["train_x"], digits["test_x"], TrainConfig(**FAST), stop_at_7)
    assert result.status == "stopped" and result.steps == 7 and result.history == []
    assert result.message == "stopped at epoch 1, step 7; the model keeps the weights of that step."
    for p, saved in zip(model.parameters(), snapshots[7]):
        assert torch.equal(p.detach(), saved)


def test_a_stop_with_ema_keeps_the_moving_average_and_says_so(digits):
    result, initial, trajectory = _train_recording_steps(digits, stop_at_step=7, ema=0.9)
    assert result.status == "stopped" and result.steps == 7 and len(trajectory) == 7
    assert result.message == ("stopped at epoch 1, step 7; "
                              "the model keeps the moving average of its weights up to that step.")
    kept = _weights(result.model)
    assert _max_distance(kept, _moving_average(initial, trajectory, 0.9)) < 1e-6
    assert _max_distance(kept, trajectory[-1]) > 1e-3  # not the weights of step 7


def test_nan_loss_stops_training_and_rolls_back_to_the_last_good_epoch(digits):
    model = build_model(VAEConfig(hidden=(32,)), seed=0)
    saved = {}
    events = []

    def poison_in_epoch_2(event):
        events.append(event)
        if event.kind == "epoch" and event.epoch == 1:
            saved.update({k: v.clone() for k, v in model.state_dict().items()})
        if event.kind == "step" and event.epoch == 2 and event.step == 15:
            with torch.no_grad():
                model.to_stats.weight.fill_(float("nan"))

    result = train(model, digits["train_x"], digits["test_x"], TrainConfig(**{**FAST, "epochs": 3}), poison_in_epoch_2)
    assert result.status == "diverged"
    assert "diverged" in result.message and "nan" in result.message and "rolled back to the end of epoch 1" in result.message
    assert events[-1].kind == "diverged" and events[-1].message == result.message
    assert len(result.history) == 1
    for k, v in model.state_dict().items():
        assert torch.equal(v, saved[k])


def test_a_huge_learning_rate_is_caught_with_finite_weights(digits):
    result = _train(digits, lr=1e4, warmup_epochs=0, epochs=3)
    assert result.status == "diverged" and "lower learning rate" in result.message
    assert all(torch.isfinite(p).all() for p in result.model.parameters())


def test_kl_warmup_ramps_beta_and_beta_scales_the_kl(digits):
    events = []
    result = _train(digits, kl_warmup_epochs=2, beta=2.0, callback=events.append)
    assert result.history[0]["beta"] == pytest.approx(2.0 * 12 / 24)
    assert result.history[1]["beta"] == pytest.approx(2.0)
    # Every step minimises recon + beta * KL, beta ramping linearly from 2/24 to 2 over the 24 steps.
    steps = [e for e in events if e.kind == "step"]
    assert len(steps) == 24
    assert [e.loss for e in steps] == pytest.approx([e.recon + 2.0 * e.step / 24 * e.kl for e in steps], rel=1e-6)
    late = steps[12:]  # a KL large enough to read beta off the loss in float32
    assert [(e.loss - e.recon) / e.kl for e in late] == pytest.approx([2.0 * e.step / 24 for e in late], rel=1e-2)
    # A heavier KL term buys a posterior closer to the prior with a worse reconstruction.
    low, high = _train(digits, beta=0.25).history[-1], _train(digits, beta=4.0).history[-1]
    assert high["test_kl"] < 0.8 * low["test_kl"] and high["test_recon"] > low["test_recon"]
    assert high["train_loss"] == pytest.approx(high["train_recon"] + 4.0 * high["train_kl"], rel=1e-4)


def test_learning_rate_schedule_warms_up_then_decays_by_cosine():
    config = TrainConfig(lr=1.0, final_lr_ratio=0.1)
    lrs = [lr_at(s, 100, 10, config) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    assert lrs[55] == pytest.approx(0.55, abs=0.02) and lrs[-1] == pytest.approx(0.1, abs=1e-3)


def test_device_resolution():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA GPU"):
            resolve_device("cuda")
    with pytest.raises(ConfigError, match="unknown device"):
        resolve_device("tpu9")


@pytest.mark.parametrize("kwargs, fragment", [
    ({"epochs": 0}, "epochs"), ({"lr": -1.0}, "learning rate"), ({"lr": float("nan")}, "learning rate"),
    ({"optimizer": "sgd"}, "optimizer"), ({"beta": -1.0}, "beta"), ({"batch_size": 0}, "batch size"),
    ({"precision": "fp8"}, "precision"),
])
def test_bad_training_settings_are_rejected(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        TrainConfig(**kwargs)


def test_wrong_image_dtype_is_rejected(tiny_model):
    with pytest.raises(ConfigError, match="uint8"):
        train(tiny_model, np.zeros((10, 28, 28), np.float32), config=TrainConfig(epochs=1, device="cpu"))


def test_random_shift_translates_each_image_by_its_own_offset():
    images = torch.zeros(64, 28, 28, dtype=torch.uint8)
    images[:, 14, 14] = 255
    shifted = random_shift(images, 2, torch.Generator().manual_seed(0))
    assert shifted.shape == images.shape and shifted.dtype == torch.uint8
    positions = [tuple(int(v) - 14 for v in torch.nonzero(img)[0]) for img in shifted]
    assert all(abs(dy) <= 2 and abs(dx) <= 2 for dy, dx in positions)
    assert len(set(positions)) > 10  # offsets differ across the batch
    assert (shifted.reshape(64, -1).sum(1) == 255).all()  # nothing but a move
    edge = torch.zeros(1, 28, 28, dtype=torch.uint8)
    edge[0, 0, :] = 9
    assert random_shift(edge, 3, torch.Generator().manual_seed(1)).sum() <= 9 * 28  # zeros come in


def test_ema_returns_and_evaluates_the_moving_average_of_the_trajectory(digits):
    result, initial, trajectory = _train_recording_steps(digits, epochs=3, ema=0.9)
    assert result.status == "done" and len(trajectory) == result.steps == 36
    kept = _weights(result.model)
    assert _max_distance(kept, _moving_average(initial, trajectory, 0.9)) < 1e-6
    assert _max_distance(kept, trajectory[-1]) > 1e-4  # not the last step's weights (100 times the tolerance)
    # the test loss of each epoch is the averaged model's: the last one is the returned model's
    test_loss = negative_elbo(result.model, digits["test_x"], batch_size=FAST["eval_batch_size"], seed=0)["loss"]
    assert result.history[-1]["test_loss"] == test_loss
    assert result.history[-1]["test_loss"] < result.history[0]["test_loss"]


def test_shift_augmentation_trains_on_moved_images(digits):
    plain = _train(digits, seed=0, epochs=3)
    shifted = _train(digits, seed=0, epochs=3, shift=1)
    assert shifted.status == "done" and len(shifted.history) == 3
    assert shifted.history[-1]["test_loss"] < shifted.history[0]["test_loss"]
    # the same seed and data: only the moved images make the weights differ
    assert not torch.equal(next(plain.model.parameters()), next(shifted.model.parameters()))


def test_bf16_matmuls_train_as_well_and_keep_float32_weights(digits):
    fp32 = _train(digits, seed=0, epochs=4, precision="fp32")
    bf16 = _train(digits, seed=0, epochs=4, precision="bf16")
    assert bf16.status == "done" and bf16.history[-1]["precision"] == "bf16"
    assert all(p.dtype == torch.float32 for p in bf16.model.parameters())
    assert bf16.history[-1]["test_loss"] < bf16.history[0]["test_loss"]
    # Same run but for rounding: within a few percent of the float32 result.
    assert bf16.history[-1]["test_loss"] == pytest.approx(fp32.history[-1]["test_loss"], rel=0.03)
    assert not torch.equal(next(fp32.model.parameters()), next(bf16.model.parameters()))


def test_adam_is_fused_where_the_device_has_a_kernel(tiny_model):
    optimizer = make_optimizer(tiny_model, TrainConfig(device="cpu"))
    assert isinstance(optimizer, torch.optim.Adam) and optimizer.defaults["fused"]
    assert isinstance(make_optimizer(tiny_model, TrainConfig(optimizer="adamw", weight_decay=0.01)),
                      torch.optim.AdamW)


def test_precision_auto_picks_bf16_only_where_it_is_native(monkeypatch):
    cpu = torch.device("cpu")
    assert resolve_precision("fp32", cpu) == "fp32" and resolve_precision("bf16", cpu) == "bf16"
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    assert resolve_precision("auto", cpu) == "fp32"
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True, raising=False)
    assert resolve_precision("auto", cpu) == "bf16"
    assert resolve_precision("auto", torch.device("mps")) == "fp32"


def test_one_wild_batch_is_skipped_and_training_goes_on(digits, monkeypatch):
    calls = {"n": 0}
    real_loss = training.vae_loss

    def one_spike(*args, **kwargs):  # the 20th batch alone blows up, as an outlier can
        calls["n"] += 1
        terms = real_loss(*args, **kwargs)
        return terms._replace(loss=terms.loss * 1e9, recon=terms.recon * 1e9) if calls["n"] == 20 else terms

    monkeypatch.setattr(training, "vae_loss", one_spike)
    result = _train(digits, epochs=3)
    assert result.status == "done" and result.steps == 3 * 12 - 1
    assert [h["skipped_batches"] for h in result.history] == [0, 1, 0]
    assert all(math.isfinite(h["train_loss"]) and h["train_loss"] < 1e3 for h in result.history)


def test_a_streak_across_an_epoch_end_rolls_back_past_that_epoch(digits):
    model = build_model(VAEConfig(hidden=(32,)), seed=0)
    saved = {}

    def poison_at_the_end_of_epoch_2(event):
        if event.kind == "epoch" and event.epoch == 1:
            saved.update({k: v.clone() for k, v in model.state_dict().items()})
        if event.kind == "step" and event.epoch == 2 and event.step == 22:  # 2 batches before the epoch ends
            with torch.no_grad():
                model.to_stats.weight.fill_(float("inf"))

    result = train(model, digits["train_x"], digits["test_x"], TrainConfig(**{**FAST, "epochs": 3}),
                   poison_at_the_end_of_epoch_2)
    assert result.status == "diverged" and "rolled back to the end of epoch 1" in result.message
    assert "at epoch 2, step 23" in result.message and len(result.history) == 1
    assert all(torch.equal(v, saved[k]) for k, v in model.state_dict().items())


def test_the_importance_weighted_objective_trains_a_tighter_bound(digits):
    from vae_core.evaluation import iwae_nll
    elbo = _train(digits, seed=0, epochs=4)
    iwae = _train(digits, seed=0, epochs=4, iwae_samples=8)
    assert iwae.status == "done" and iwae.history[-1]["test_loss"] < iwae.history[0]["test_loss"]
    for h in iwae.history:  # the log keeps the ELBO's parts, whatever the objective
        assert h["train_loss"] <= h["train_recon"] + h["train_kl"] + 1e-3
    x = digits["test_x"]
    assert iwae_nll(iwae.model, x, k=50) < iwae_nll(elbo.model, x, k=50)
    with pytest.raises(ConfigError, match="no beta"):
        TrainConfig(iwae_samples=5, beta=0.5)
    with pytest.raises(ConfigError, match="from 1 to 1000"):
        TrainConfig(iwae_samples=0)
    with pytest.raises(ConfigError, match="autoencoder"):
        train(build_model(VAEConfig(hidden=(8,), variational=False)), digits["train_x"][:10], None,
              TrainConfig(epochs=1, iwae_samples=2, device="cpu"))
