"""EncoderProbe: a thief who pretrains an encoder on the protected clips without labels
(SimCLR: two random views per clip, NT-Xent loss) and fits a linear probe on its frozen
representations, so a shortcut planted for supervised training may never be learned.

What this thief has, and nothing more: the protected training clips WITHOUT labels for
pretraining, and the protected training labels (with those clips) for the linear probe.
No clean clips, no outside data or pretrained weights. The clean test clips only score it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from core import SAMPLE_RATE_HZ
from core.defenses.base import Defense
from core.models import build_model
from core.train import VictimConfig, VictimResult


def shift_and_stretch(x: torch.Tensor, shift_samples: torch.Tensor, rate: torch.Tensor) -> torch.Tensor:
    """Delay each clip by shift_samples[i] (fractional, may be negative) and play it at speed
    rate[i] about its centre, by linear interpolation; samples from outside the clip are zero.

    x [N, T]; shift_samples, rate [N] on x's device. Returns [N, T].
    """
    n, t = x.shape
    centre = (t - 1) / 2
    grid = torch.arange(t, dtype=x.dtype, device=x.device) - centre
    pos = grid * rate[:, None] + centre - shift_samples[:, None]
    # grid_sample does the linear interpolation about 4x faster than two gathers on CPU;
    # with align_corners=True, -1 and +1 are the centres of samples 0 and T - 1.
    where = torch.stack([pos * (2 / (t - 1)) - 1, torch.zeros_like(pos)], dim=-1)[:, None]
    out = F.grid_sample(x[:, None, None, :], where, mode="bilinear", padding_mode="zeros", align_corners=True)
    return out[:, 0, 0]


def random_views(
    x: torch.Tensor,
    generator: torch.Generator,
    sample_rate_hz: int = SAMPLE_RATE_HZ,
    max_shift_s: float = 0.1,
    max_speed_change: float = 0.1,
    max_gain_db: float = 6.0,
    snr_db_range: tuple[float, float] = (5.0, 30.0),
    lowpass_hz_range: tuple[float, float] = (2000.0, 7000.0),
    lowpass_probability: float = 0.5,
) -> torch.Tensor:
    """One random view of each clip: time shift (up to +-max_shift_s) with a speed change
    (factor 1 +- max_speed_change), a brick-wall low-pass at a random cutoff for a random
    lowpass_probability of clips, a gain of +-max_gain_db, then white noise at a random SNR.

    x [N, T] waveforms; every random number comes from `generator` (CPU), so a seed fixes the
    views on any device. Returns [N, T] on x's device and dtype.
    """
    n, t = x.shape

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return (lo + (hi - lo) * torch.rand(n, generator=generator)).to(device=x.device, dtype=x.dtype)

    max_shift = max_shift_s * sample_rate_hz
    views = shift_and_stretch(x, uniform(-max_shift, max_shift), uniform(1 - max_speed_change, 1 + max_speed_change))
    # Low-pass in the frequency domain: one rfft per batch, cheaper than a per-clip filter.
    cutoff_hz = uniform(*lowpass_hz_range)
    filtered = torch.rand(n, generator=generator).to(x.device) < lowpass_probability
    cutoff_hz = torch.where(filtered, cutoff_hz, torch.full_like(cutoff_hz, sample_rate_hz))
    freqs_hz = torch.fft.rfftfreq(t, 1 / sample_rate_hz).to(device=x.device, dtype=x.dtype)
    spectrum = torch.fft.rfft(views) * (freqs_hz[None] <= cutoff_hz[:, None])
    views = torch.fft.irfft(spectrum, n=t) * 10 ** (uniform(-max_gain_db, max_gain_db)[:, None] / 20)
    power = views.square().mean(1, keepdim=True)
    noise_power = power * 10 ** (-uniform(*snr_db_range)[:, None] / 10)
    noise = torch.randn(n, t, generator=generator).to(device=x.device, dtype=x.dtype)
    return views + noise * noise_power.sqrt()


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """SimCLR's NT-Xent loss: row i of z1 and of z2 ([B, D], two views of clip i) must find
    each other among the 2B - 1 other embeddings, by cosine similarity / temperature.
    Returns a scalar (mean over the 2B anchors); log(2B - 1) for uninformative embeddings."""
    b = len(z1)
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = (z @ z.T / temperature).masked_fill(torch.eye(2 * b, dtype=torch.bool, device=z.device), float("-inf"))
    partner = torch.cat([torch.arange(b, 2 * b), torch.arange(b)]).to(z.device)
    return F.cross_entropy(logits, partner)


def last_linear(model: nn.Module) -> nn.Linear:
    """The model's last registered nn.Linear: the output layer of every family we build."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"model {type(model).__name__} has no nn.Linear to take a representation from")
    return linears[-1]


@torch.no_grad()
def representations(model: nn.Module, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """The input of the model's last nn.Linear (its pooled features), in eval mode: x [N, T]
    -> [N, D]. A forward pre-hook takes it, so this works for any model family."""
    captured: list[torch.Tensor] = []
    handle = last_linear(model).register_forward_pre_hook(lambda _m, args: captured.append(args[0].flatten(1)))
    was_training = model.training
    model.eval()
    try:
        for lo in range(0, len(x), batch_size):
            model(x[lo : lo + batch_size])
    finally:
        handle.remove()
        model.train(was_training)
    return torch.cat(captured)


def probe_accuracy(
    train_z: torch.Tensor, train_y: torch.Tensor, test_z: torch.Tensor, test_y: torch.Tensor, max_iter: int = 5000
) -> float:
    """Fit a standardized multinomial logistic regression on (train_z [N, D], train_y [N]) and
    return its accuracy on (test_z [M, D], test_y [M]). L-BFGS: deterministic, no seed needed.
    scikit-learn is imported here, not with the module: every min-min run imports the defenses,
    and scikit-learn alone adds about 130 MB and seconds of start-up."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    probe.fit(train_z.double().cpu().numpy(), train_y.cpu().numpy())
    return float(probe.score(test_z.double().cpu().numpy(), test_y.cpu().numpy()))


def pretrain(train_x: torch.Tensor, model_name: str, probe: EncoderProbe, seed: int) -> Iterator[tuple[nn.Module, float]]:
    """SimCLR-pretrain a fresh `model_name` with probe.embed_dim outputs on train_x [N, T]
    alone (no labels): yields (the model, its last batch's NT-Xent loss) after each of
    probe.epochs epochs. The model lives on train_x's device; deterministic on CPU for a seed.
    """
    torch.manual_seed(seed)
    model = build_model(model_name, probe.embed_dim).to(train_x.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=probe.lr, weight_decay=probe.weight_decay)
    order = torch.Generator().manual_seed(seed)
    views = torch.Generator().manual_seed(seed + 1_000_003)  # apart from the batch order
    loss = torch.tensor(float("nan"))
    for _ in range(probe.epochs):
        model.train()
        perm = torch.randperm(len(train_x), generator=order).to(train_x.device)
        for lo in range(0, len(perm), probe.batch_size):
            clips = train_x[perm[lo : lo + probe.batch_size]]
            if len(clips) < 2:  # a lone clip has no negatives, and batch norm needs two
                continue
            # Both views in one forward pass, so batch norm sees one set of statistics.
            z = model(torch.cat([random_views(clips, views), random_views(clips, views)]))
            loss = nt_xent(*z.chunk(2), probe.temperature)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        yield model, loss.item()


def pretrain_and_probe(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    test_x: torch.Tensor,
    test_y: torch.Tensor,
    model_name: str,
    probe: EncoderProbe,
    seed: int,
    progress: bool = True,
    desc: str = "ssl",
) -> VictimResult:
    """Pretrain on train_x without labels (`pretrain`), and after every probe.probe_every
    epochs and after the last, fit a linear probe on the frozen train_x representations with
    train_y; the result holds one clean-test accuracy per probe, and the seconds of it all.

    Tensors: x [N, T] float, y [N] int64 on one device. Deterministic on CPU for a seed.
    """
    start = time.perf_counter()
    accuracies: list[float] = []
    epochs = tqdm(
        enumerate(pretrain(train_x, model_name, probe, seed), start=1),
        desc=desc, total=probe.epochs, unit="epoch", disable=not progress, leave=False,
    )  # fmt: skip
    for epoch, (model, loss) in epochs:
        if epoch % probe.probe_every == 0 or epoch == probe.epochs:
            train_z, test_z = representations(model, train_x), representations(model, test_x)
            accuracies.append(probe_accuracy(train_z, train_y, test_z, test_y))
            epochs.set_postfix(loss=f"{loss:.3f}", probe_acc=f"{accuracies[-1]:.3f}")
    return VictimResult(tuple(accuracies), time.perf_counter() - start, seed)


@dataclass(frozen=True)
class EncoderProbe(Defense):
    """Self-supervised pretraining on the protected clips, then a linear probe.

    The encoder is the victim's model family (`victim.model`) built with embed_dim outputs:
    its last nn.Linear is the SimCLR projection head, and the probe reads that layer's input.
    The victim's batch size and lr are not used (these fields replace them); its epochs
    are the SSL passes unless `epochs` is set, so `--epochs` and `--quick` scale this thief too.
    Thief's knowledge: protected training clips (unlabeled) for pretraining, protected labels
    for the probe; no clean data, no outside data.

    Defaults: on the clean 10-word set (3,278 clips, one CPU thread) 10 epochs take about
    2.5 min for m5 and about 6 min for logmel_cnn, probes included, and reach about 62% (m5)
    and 64% (logmel_cnn) clean-test accuracy, still rising at the last epoch.

    Attributes:
        epochs: SSL passes over the training clips; None takes the victim's epochs.
        embed_dim: projection-head outputs (the NT-Xent space).
        temperature: NT-Xent temperature, > 0.
        batch_size: clips per step (2 x batch_size views, each with 2 x batch_size - 2 negatives).
        lr: Adam learning rate.
        weight_decay: Adam weight decay, >= 0.
        probe_every: probe after every this many epochs (and after the last).
    """

    epochs: int | None = None
    embed_dim: int = 64
    temperature: float = 0.2
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-5
    probe_every: int = 2

    def __post_init__(self) -> None:
        for field in ("epochs", "embed_dim", "batch_size", "probe_every"):
            value = getattr(self, field)
            if field == "epochs" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"encoder_probe {field} must be a positive integer, got {value!r}")
        if self.batch_size < 2:
            raise ValueError(f"encoder_probe batch_size must be >= 2 (NT-Xent needs negatives), got {self.batch_size}")
        for field, lowest in (("temperature", "> 0"), ("lr", "> 0"), ("weight_decay", ">= 0")):
            value = getattr(self, field)
            is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not is_number or not (value > 0 if lowest == "> 0" else value >= 0):  # NaN fails too
                raise ValueError(f"encoder_probe {field} must be a number {lowest}, got {value!r}")

    @property
    def name(self) -> str:
        return "ssl_probe"

    def train(
        self,
        train_x: torch.Tensor,
        train_y: torch.Tensor,
        test_x: torch.Tensor,
        test_y: torch.Tensor,
        n_classes: int,
        victim: VictimConfig,
        seed: int,
        progress: bool = True,
        desc: str = "victim",
    ) -> VictimResult:
        """Pretrain `victim.model` on train_x without labels, probe with train_y; clean-test
        accuracy per probe checkpoint (n_classes is implied by the labels)."""
        probe = self if self.epochs is not None else replace(self, epochs=victim.epochs)
        return pretrain_and_probe(train_x, train_y, test_x, test_y, victim.model, probe, seed, progress, desc)
