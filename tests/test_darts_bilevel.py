"""The bilevel search: which step changes what, the second-order hypergradient, resume,
divergence handling, and the per-epoch history."""

import math

import pytest
import torch
from torch import nn
from torch.func import functional_call
from torch.utils.data import TensorDataset

from snnlib.darts import (
    EPOCH_SEED_STRIDE,
    SearchConfig,
    SearchDiverged,
    SearchNetwork,
    SupernetSpec,
    arch_step,
    epoch_record,
    load_bilevel_checkpoint,
    search,
    search_loaders,
    seeded_search,
    seeded_search_checkpoint,
    split_weight_arch_indices,
    unrolled_arch_gradients,
    weight_step,
)
from snnlib.darts.bilevel import EpochSteps, make_search_optimizers
from snnlib.darts.search_data import EpochShuffle
from snnlib.darts.search_state import CHECKPOINT_FORMAT
from snnlib.encoding import Encoder
from snnlib.validation import ConfigError

TINY = dict(C=2, layers=3, steps=2, multiplier=2)


def _data(n=48, channels=1, size=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    x = torch.rand(n, channels, size, size, generator=g) + y.view(-1, 1, 1, 1).float() * 0.5
    return TensorDataset(x, y)


def _snapshot(model):
    return {
        n: t.detach().clone()
        for n, t in list(model.named_parameters()) + list(model.named_buffers())
    }


def test_split_is_deterministic_disjoint_and_complete():
    a, b = split_weight_arch_indices(101, seed=3)
    assert (a, b) == split_weight_arch_indices(101, seed=3)
    assert a != split_weight_arch_indices(101, seed=4)[0]
    assert (
        len(a) == 50 and len(b) == 51 and not set(a) & set(b) and set(a) | set(b) == set(range(101))
    )
    with pytest.raises(ConfigError, match="empty"):
        split_weight_arch_indices(1)


def test_arch_step_changes_only_alphas_and_weight_step_only_weights():
    torch.manual_seed(0)
    net = SearchNetwork(1, 3, time_steps=2, **TINY)
    w_opt, _, a_opt = make_search_optimizers(net, SearchConfig(epochs=1))
    crit = nn.CrossEntropyLoss()
    x, y = 3 * torch.rand(2, 8, 1, 8, 8), torch.arange(8) % 3
    arch_names = {"alphas_normal", "alphas_reduce"}

    for order in ("first", "second"):
        before = _snapshot(net)
        loss, _ = arch_step(
            net, a_opt, crit, x, y, order=order, x_train=x.flip(1), y_train=y.flip(0), xi=0.025
        )
        assert math.isfinite(float(loss))
        after = _snapshot(net)
        changed = {n for n in before if not torch.equal(before[n], after[n])}
        assert changed == arch_names, order  # weights and BN running statistics untouched

    before = _snapshot(net)
    alpha_grads = [a.grad.clone() for a in net.arch_parameters()]
    weight_step(net, w_opt, crit, x, y, grad_clip=5.0)
    after = _snapshot(net)
    changed = {n for n in before if not torch.equal(before[n], after[n])}
    assert not changed & arch_names
    assert any(n.endswith("weight") for n in changed) and any("running_mean" in n for n in changed)
    # the weight step's backward pass leaves the architecture gradients alone
    assert all(torch.equal(g, a.grad) for g, a in zip(alpha_grads, net.arch_parameters()))


class ToyMixed(nn.Module):
    """A smooth two-edge 'supernet' on vectors (tanh / sin / identity candidates), so that
    second derivatives exist and autograd can give the exact unrolled gradient."""

    def __init__(self):
        super().__init__()
        self.alpha = nn.Parameter(0.5 * torch.randn(2, 3, dtype=torch.float64))
        self.a = nn.Linear(4, 4, dtype=torch.float64)
        self.b = nn.Linear(4, 4, dtype=torch.float64)
        self.out = nn.Linear(4, 3, dtype=torch.float64)

    def arch_parameters(self):
        return [self.alpha]

    def named_weight_parameters(self):
        return [(n, p) for n, p in self.named_parameters() if n != "alpha"]

    def weight_parameters(self):
        return [p for _, p in self.named_weight_parameters()]

    def forward(self, x):
        w = torch.softmax(self.alpha, -1)
        h = w[0, 0] * torch.tanh(self.a(x)) + w[0, 1] * torch.sin(self.b(x)) + w[0, 2] * x
        h = w[1, 0] * torch.tanh(self.b(h)) + w[1, 1] * torch.sin(self.a(h)) + w[1, 2] * h
        return self.out(h)


def _exact_unrolled_gradient(model, crit, xt, yt, xv, yv, xi):
    """d/d alpha of L_val(w - xi * grad_w L_train(w, alpha), alpha), through create_graph."""
    named = dict(model.named_weight_parameters())
    g = torch.autograd.grad(crit(model(xt), yt), list(named.values()), create_graph=True)
    unrolled = {n: p - xi * gi for (n, p), gi in zip(named.items(), g)}
    loss = crit(functional_call(model, unrolled, (xv,)), yv)
    return torch.autograd.grad(loss, model.arch_parameters())[0]


def test_second_order_hypergradient_matches_exact_autograd():
    """The finite-difference Hessian-vector product is a central difference with step
    eps * ||v|| = fd_eps in weight space: its error is O(fd_eps^2) times third derivatives of
    the loss (rounding, ~1e-16 / fd_eps, is negligible in float64). For this smooth model and
    fd_eps = 0.01 the error of the hypergradient is below 1e-4 of its norm; we allow 1e-3, and
    check that the error shrinks ~100x when fd_eps shrinks 10x (second-order convergence).
    The second-order term itself is made large (xi = 0.5) so that the check is not trivial."""
    torch.manual_seed(0)
    model = ToyMixed()
    crit = nn.CrossEntropyLoss()
    xt, yt = torch.randn(16, 4, dtype=torch.float64), torch.randint(0, 3, (16,))
    xv, yv = torch.randn(16, 4, dtype=torch.float64), torch.randint(0, 3, (16,))
    xi = 0.5
    exact = _exact_unrolled_gradient(model, crit, xt, yt, xv, yv, xi)
    _, _, (fd,) = unrolled_arch_gradients(model, crit, xt, yt, xv, yv, xi, fd_eps=0.01)
    _, _, (fd_fine,) = unrolled_arch_gradients(model, crit, xt, yt, xv, yv, xi, fd_eps=0.001)
    first_order = torch.autograd.grad(crit(model(xv), yv), model.arch_parameters())[0]

    err, err_fine = float((fd - exact).norm()), float((fd_fine - exact).norm())
    assert err <= 1e-3 * float(exact.norm())
    assert err_fine < err / 30
    assert float((first_order - exact).norm()) > 0.05 * float(
        exact.norm()
    )  # the correction matters
    for p in model.parameters():  # the model's own parameters are never modified
        assert p.grad is None


def _search(
    tmp_path,
    epochs=3,
    callbacks=(),
    resume=False,
    ckpt="search.pt",
    seed=0,
    order="first",
    init_seed=0,
    **cfg_kw,
):
    torch.manual_seed(init_seed)
    net = SearchNetwork(1, 3, time_steps=2, attention="tcsa", **TINY)
    wl, al = search_loaders(_data(), batch_size=8, seed=seed)
    val = torch.utils.data.DataLoader(_data(24, seed=1), batch_size=12)
    cfg = SearchConfig(epochs=epochs, arch_lr=3e-2, order=order, spike_batches=1, **cfg_kw)
    res = search(
        net,
        wl,
        al,
        Encoder("direct", 2),
        cfg,
        val_loader=val,
        checkpoint=tmp_path / ckpt,
        resume=resume,
        callbacks=callbacks,
        progress=False,
    )
    return net, res


def test_history_records_everything_per_epoch(tmp_path):
    net, res = _search(tmp_path, epochs=2)
    assert len(res.history) == 2
    h = res.history[-1]
    for key in (
        "lr",
        "train_loss",
        "train_acc",
        "arch_loss",
        "arch_acc",
        "val_loss",
        "val_acc",
        "alphas_normal",
        "alphas_reduce",
        "genotype",
        "layout",
        "nos_train",
        "nos_val",
        "nos_per_cell_train",
        "nos_per_cell_val",
        "sops_train",
        "sops_val",
        "energy_uj_train",
        "energy_uj_val",
        "step_seconds",
    ):
        assert key in h, key
    assert set(h["nos_per_cell_val"]) == {"cell0", "cell1", "cell2", "head"}
    assert h["nos_val"] == pytest.approx(sum(h["nos_per_cell_val"].values()))
    assert h["nos_train"] > 0 and h["sops_val"] > 0 and h["energy_uj_val"] > 0
    for row in h["alphas_normal"] + h["alphas_reduce"]:
        assert sum(row) == pytest.approx(1.0)
    assert res.history[0]["lr"] == pytest.approx(0.025) and h["lr"] < 0.025  # cosine schedule
    assert h["genotype"]["normal"] == [list(e) for e in res.genotype.normal]
    assert res.history[0]["alphas_normal"] != h["alphas_normal"]


def test_arch_steps_count_only_epochs_with_architecture_steps(tmp_path):
    # 24 weight / 24 architecture items, batches of 8: 3 steps per epoch, capped at 2
    _, res = _search(tmp_path, epochs=3, arch_start_epoch=1, max_batches=2)
    assert [h["arch_steps"] for h in res.history] == [0, 2, 2]
    assert res.arch_steps == 4
    assert res.history[0]["arch_loss"] is None and res.history[1]["arch_loss"] is not None


class Interrupt(RuntimeError):
    pass


def test_resume_after_interruption_gives_the_same_result(tmp_path):
    _, full = _search(tmp_path, epochs=3, ckpt="full.pt")

    def stop_at_2(epoch, record):
        if epoch == 2:
            raise Interrupt("simulated crash")

    with pytest.raises(Interrupt):
        _search(tmp_path, epochs=3, ckpt="part.pt", callbacks=[stop_at_2])
    assert load_bilevel_checkpoint(tmp_path / "part.pt")["epoch"] == 2
    net, resumed = _search(
        tmp_path, epochs=3, ckpt="part.pt", resume=True, init_seed=123
    )  # overwritten
    assert resumed.resumed_from_epoch == 2
    assert resumed.genotype == full.genotype
    assert resumed.arch_weights == full.arch_weights  # bit for bit
    assert [h["val_acc"] for h in resumed.history] == [h["val_acc"] for h in full.history]
    assert [h["nos_val"] for h in resumed.history] == [h["nos_val"] for h in full.history]

    with pytest.raises(ConfigError, match=r"differing: search\.arch_lr\)"):
        torch.manual_seed(0)
        net = SearchNetwork(1, 3, time_steps=2, attention="tcsa", **TINY)
        wl, al = search_loaders(_data(), batch_size=8)
        search(
            net,
            wl,
            al,
            Encoder("direct", 2),
            SearchConfig(epochs=3, arch_lr=1e-3, spike_batches=1),
            checkpoint=tmp_path / "part.pt",
            resume=True,
            progress=False,
        )


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_checkpoint(tmp_path):
    holder = {}

    def poison_after_1(epoch, record):
        if epoch == 1:
            with torch.no_grad():
                holder["net"].head.fc.weight.fill_(float("nan"))

    torch.manual_seed(0)
    net = SearchNetwork(1, 3, time_steps=2, **TINY)
    holder["net"] = net
    wl, al = search_loaders(_data(), batch_size=8)
    ckpt = tmp_path / "nan.pt"
    with pytest.raises(
        SearchDiverged,
        match=r"architecture loss became nan at epoch 2, step 1.*after epoch 1\) is kept",
    ):
        search(
            net,
            wl,
            al,
            Encoder("direct", 2),
            SearchConfig(epochs=3, spike_batches=1),
            checkpoint=ckpt,
            callbacks=[poison_after_1],
            progress=False,
        )
    state = load_bilevel_checkpoint(ckpt)
    assert state["epoch"] == 1 and len(state["history"]) == 1
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())


def test_second_order_search_takes_other_architecture_steps_than_first_order(tmp_path):
    """From the same start and data, both orders move the alphas, the unrolled one
    differently (its hypergradient has the second-order term); the weights' data and the
    weight step are the same, so only the architecture gradient differs."""
    torch.manual_seed(0)
    start = SearchNetwork(1, 3, time_steps=2, attention="tcsa", **TINY).arch_weights()
    _, first = _search(tmp_path, epochs=1, order="first", max_batches=2, ckpt="first.pt")
    _, second = _search(tmp_path, epochs=1, order="second", max_batches=2, ckpt="second.pt")
    assert math.isfinite(second.history[0]["arch_loss"])
    assert first.history[0]["arch_steps"] == second.history[0]["arch_steps"] == 2
    for cell in ("normal", "reduce"):
        a0 = start[cell]
        a1 = torch.tensor(first.arch_weights[cell])
        a2 = torch.tensor(second.arch_weights[cell])
        assert not torch.allclose(a1, a0, atol=1e-6) and not torch.allclose(a2, a0, atol=1e-6)
        assert not torch.allclose(a1, a2, atol=1e-7)


def test_adamw_and_macro_depth_search(tmp_path):
    torch.manual_seed(0)
    net = SearchNetwork(
        1, 3, C=2, steps=2, multiplier=2, time_steps=1, macro="depth", max_stage_depth=2
    )
    wl, al = search_loaders(_data(), batch_size=8)
    cfg = SearchConfig(
        epochs=1, w_optimizer="adamw", w_lr=5e-3, w_lr_min=0.0, max_batches=2, spike_batches=1
    )
    res = search(net, wl, al, Encoder("direct", 1), cfg, progress=False)
    assert "depth_weights" in res.history[0] and len(res.layout.cells) in range(5, 9)


def test_epoch_order_is_a_function_of_seed_and_epoch():
    sampler = EpochShuffle(20, seed=3)
    orders = []
    for epoch in (0, 1, 0):
        sampler.set_epoch(epoch)
        orders.append(list(sampler))
    g = torch.Generator().manual_seed(3 * EPOCH_SEED_STRIDE + 1)
    assert orders[1] == torch.randperm(20, generator=g).tolist()
    assert orders[0] == orders[2] != orders[1] and sorted(orders[0]) == list(range(20))
    assert list(EpochShuffle(20, seed=4)) != orders[0]  # seed 4, epoch 0: another order


def test_epoch_record_lists_losses_then_architecture_then_evaluation():
    stats = EpochSteps(lr=0.1, arch=True, train_loss=4.0, train_correct=1, train_n=4)
    stats.arch_loss, stats.arch_correct, stats.arch_n = 2.0, 2, 2
    stats.step_times = [0.5, 1.5]
    rec = epoch_record(
        3, stats, {"nos_val": 7.0, "val_acc": 0.5, "val_loss": 1.0}, {"genotype": "g"}, 9.0
    )
    assert list(rec) == [
        "epoch", "lr", "train_loss", "train_acc", "arch_loss", "arch_acc", "val_loss",
        "val_acc", "genotype", "nos_val", "arch_steps", "step_seconds", "epoch_seconds",
    ]  # fmt: skip
    assert (rec["train_loss"], rec["train_acc"], rec["arch_loss"], rec["arch_acc"]) == (
        1.0,
        0.25,
        1.0,
        1.0,
    )
    assert rec["arch_steps"] == 2 and rec["step_seconds"] == 1.0 and rec["epoch"] == 3
    warmup = epoch_record(1, EpochSteps(lr=0.1, arch=False, step_times=[1.0]), {}, {}, 1.0)
    assert warmup["arch_steps"] == 0 and warmup["arch_loss"] is None


def test_the_per_epoch_evaluation_is_passed_in(tmp_path):
    calls = []

    def count_val(run, loader):
        calls.append((run.cfg.epochs, loader))
        return {"val_acc": 0.25, "n_val": len(loader.dataset)}

    torch.manual_seed(0)
    net = SearchNetwork(1, 3, time_steps=2, **TINY)
    wl, al = search_loaders(_data(), batch_size=8)
    cfg = SearchConfig(epochs=2, max_batches=1)
    res = search(
        net,
        wl,
        al,
        Encoder("direct", 2),
        cfg,
        evaluate=count_val,
        checkpoint=tmp_path / "eval.pt",
        progress=False,
    )
    assert len(calls) == 2 and all(loader is al for _, loader in calls)  # default: arch half
    assert [h["val_acc"] for h in res.history] == [0.25, 0.25]
    assert res.history[0]["n_val"] == 24 and "nos_val" not in res.history[0]
    state = load_bilevel_checkpoint(tmp_path / "eval.pt")
    assert state["format"] == CHECKPOINT_FORMAT and state["history"] == res.history
    assert set(state) == {
        "format", "identity", "identity_hash", "epoch", "config", "model", "w_opt", "a_opt",
        "scheduler", "rng", "history", "seconds",
    }  # fmt: skip
    assert state["identity"] == {"search": cfg.to_dict()}


def test_seeded_search_builds_the_spec_from_its_seed():
    spec = SupernetSpec(C=2, layers=3, steps=2, time_steps=2, attention="eca", gate="sigmoid")
    assert spec.with_attention("none").attention == "none" and spec.attention == "eca"
    net = spec.build(1, 3)
    assert net.attention_type == "eca" and net.cells[0].attention.gate == "sigmoid"
    wl, al = search_loaders(_data(), batch_size=8)
    kw = dict(
        in_channels=1,
        num_classes=3,
        weight_loader=wl,
        arch_loader=al,
        val_loader=al,
        encoder=Encoder("direct", 2),
        cfg=SearchConfig(epochs=1, max_batches=1, spike_batches=1, eval_batches=1),
    )
    runs = [seeded_search(spec, seed=s, **kw)[1].arch_weights for s in (0, 0, 1)]
    assert runs[0] == runs[1] != runs[2]


def test_seeded_search_checkpoint_names_the_file_by_stem_seed_attention_and_hash(
    tmp_path, monkeypatch
):
    spec = SupernetSpec(C=2, layers=3, steps=2, time_steps=2, attention="eca")
    kw = dict(
        stem="20_madarts_search__digits__smoke",
        cfg=SearchConfig(epochs=1, max_batches=1),
        seed=3,
        in_channels=1,
        num_classes=10,
        identity=dict(scale="smoke", device="cpu", data=dict(dataset="digits", image_size=8)),
    )
    path = seeded_search_checkpoint(spec, directory="/ck", **kw)
    assert str(path) == "/ck/20_madarts_search__digits__smoke__seed3__eca__0f152f6909a3.pt"
    plain = seeded_search_checkpoint(spec.with_attention("none"), directory="/ck", **kw)
    assert plain.name == "20_madarts_search__digits__smoke__seed3__none__0c2b676e62b2.pt"
    # any setting of the record changes the hash; the folder defaults to checkpoints_dir()
    other = seeded_search_checkpoint(spec, directory="/ck", **{**kw, "num_classes": 3})
    assert other.name.startswith("20_madarts_search__digits__smoke__seed3__eca__")
    assert other != path
    monkeypatch.setenv("SNNLIB_CHECKPOINTS", str(tmp_path))
    assert seeded_search_checkpoint(spec, **kw) == tmp_path / path.name
