"""What the demo's widgets call: plain functions over core, bench and leaderboard.

Each takes the widgets' values plus where to write files (`out_root`) and returns the
values to show. A user's mistake (an unreadable upload, a clip too long, a bad number)
raises `gr.Error` with a message meant for the page; anything else is a bug and raises
as usual. Nothing is cached between calls: the surrogate checkpoint is 100 KB and loads in
milliseconds, and the example files are read when asked for.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import NamedTuple

import gradio as gr
import numpy as np
import pandas as pd

from core.budgets import (
    PAPER_TABLE,
    Budget,
    ConstantBudget,
    Envelope,
    SegmentMask,
    budget_from_dict,
)
from core import SAMPLE_RATE_HZ
from core.api import protect_audio
from core.data import read_audio
from core.data.windows import window_count
from core.surrogate import load_surrogate
from demo.compare import (
    bands_markdown,
    metrics_markdown,
    pair_metrics,
    segment_plot,
    spectrogram_plot,
)
from demo.configs import config_budget, config_names, shipped_config
from demo.examples import CLEAN, INDEX_FILE, read_index
from demo.files import request_dir, write_wav
from demo.learning import CURVES_FILE, LIVE_EPOCHS, curves_figure, read_curves, reading, train_pair
from demo.ranking_view import ranking_frame
from demo.table_editor import (
    rows_from_frame,
    submission_data,
    submission_toml,
    table_budget,
)
from demo.upload import read_upload, write_protected
from leaderboard.entries import LEADERBOARD_ROOT, valid_entries
from leaderboard.figure import tradeoff_figure
from leaderboard.protocol import PROTECTION_BAR
from leaderboard.ranking import latest_scorings, rank_entries
from leaderboard.submission import (
    EPS_LIMIT,
    budget_problems,
    load_submission,
    parse_bytes,
    submission_problems,
)

AUTO_LABEL = "auto"
BUDGET_KINDS = (
    "mask table (paper Table 1)",
    "mask table, noise below 4 kHz",
    "constant eps",
    "amplitude envelope, below 4 kHz (quietest)",
)
"""The Protect tab's budgets: the paper's table over the full band or below IN_BAND_HZ, one
eps, or the budget of the leaderboard's quietest entry on its Pareto front, QUIET_ENTRY."""
QUIET_ENTRY = "inband_envelope_020_eot_ens"
"""eps(t) = 0.2 x the clip's mean |x| over 25 ms, capped at 0.08, noise below 4 kHz: PESQ-WB
about 3.1 where the paper's table gives 1.3 (leaderboard/LEADERBOARD.md)."""
QUIET = budget_from_dict(load_submission(LEADERBOARD_ROOT / "submissions" / f"{QUIET_ENTRY}.toml")[0].budget)
IN_BAND_HZ = 4000.0
"""The band that resampling to 8 kHz keeps and wide-band listening weighs least
(leaderboard/README.md, "Band limits")."""


# -- 1. Listen and compare ---------------------------------------------------------------


def example_choices(index_file: Path = INDEX_FILE) -> list[tuple[str, str]]:
    """(label, value) of every shipped example, e.g. ("yes — 1acc97de_nohash_0", "yes/1acc97de_nohash_0")."""
    return [(f"{e.word} — {e.name.split('/')[-1]}", e.name) for e in read_index(index_file).examples]


def config_choices(index_file: Path = INDEX_FILE, root: Path = LEADERBOARD_ROOT) -> list[str]:
    """The shipped configs, then "entry: NAME" for every leaderboard entry with a noise budget."""
    return config_names(read_index(index_file), root)


class ListenView(NamedTuple):
    """What the Listen tab shows; `noise` is kept in the page's state for the gain control."""

    clean: str
    protected: str
    noise_audio: str
    segments: str | None
    spectrogram: str
    metrics: str
    noise: np.ndarray


def listen(
    example: str, config: str, gain_db: float, out_root: Path, index_file: Path = INDEX_FILE, root: Path = LEADERBOARD_ROOT
) -> ListenView:
    """One example under one config. Shipped configs (and entries whose budget equals one)
    are read from the precomputed files; other entries are protected now with the surrogate."""
    index = read_index(index_file)
    try:
        clip = index.example(example)
        budget = config_budget(config, index, root)
    except ValueError as err:
        raise gr.Error(str(err)) from None
    clean = read_audio(clip.clean)
    shipped = None if budget is None else shipped_config(budget, index)
    folder = request_dir(out_root)
    if budget is None:
        protected_path, metrics = clip.clean, clip.metrics[CLEAN]
    elif shipped is not None:
        protected_path, metrics = clip.protected[shipped], clip.metrics[shipped]
    else:
        protected = protect_audio(clean, SAMPLE_RATE_HZ, budget=budget, label=clip.word, perceptual=False)
        protected_path = write_wav(folder / "protected.wav", protected.audio)
        metrics = pair_metrics(clean, read_audio(protected_path), budget)
    noise = read_audio(protected_path) - clean
    title = f"{clip.name} · {config}"
    segments = None if budget is None else segment_plot(clean, budget, title, folder)
    spectrogram = spectrogram_plot(clean, clean + noise, folder)
    note = "" if budget is not None else "\n_No noise: the protected clip is the clean one._\n"
    return ListenView(
        clean=str(clip.clean),
        protected=str(protected_path),
        noise_audio=noise_audio(noise, gain_db, out_root),
        segments=None if segments is None else str(segments),
        spectrogram=str(spectrogram),
        metrics=metrics_markdown(title, metrics) + note,
        noise=noise,
    )


def noise_audio(noise: np.ndarray | None, gain_db: float, out_root: Path) -> str | None:
    """The noise alone, amplified by `gain_db` (clipped to [-1, 1]), as a WAV to play."""
    if noise is None:
        return None
    gain_db = float(gain_db or 0.0)
    return str(write_wav(request_dir(out_root) / f"noise_{gain_db:+.0f}dB.wav", noise * 10.0 ** (gain_db / 20.0)))


def clipping_note(noise: np.ndarray | None, gain_db: float) -> str:
    """A warning when the amplified noise clips at full scale ('' when nothing clips): the
    clipped noise is not the noise any more, only louder and distorted."""
    if noise is None:
        return ""
    gain_db = float(gain_db or 0.0)
    clipped = float(np.mean(np.abs(noise * 10.0 ** (gain_db / 20.0)) > 1.0))
    if clipped == 0.0:
        return ""
    return f"At {gain_db:+.0f} dB, {100 * clipped:.1f}% of the noise's samples clip at full scale: you hear it distorted."


# -- 2. Protect your own audio ------------------------------------------------------------


def upload_budget(kind: str, eps: float | None, eps_max: float | None) -> Budget:
    """The budget chosen in the Protect tab; gr.Error for an out-of-range epsilon."""
    if kind not in BUDGET_KINDS:
        raise gr.Error(f"Unknown budget {kind!r}; expected one of {list(BUDGET_KINDS)}.")
    if kind == BUDGET_KINDS[3]:
        return QUIET  # fixed: the leaderboard entry's budget, so its figures describe it
    constant = kind == BUDGET_KINDS[2]
    name, value = ("eps", eps) if constant else ("eps_max", eps_max)
    if value is None or not 0.0 < float(value) <= EPS_LIMIT:
        raise gr.Error(f"{name} must lie in (0, {EPS_LIMIT}], got {value}.")
    if constant:
        return ConstantBudget(float(value))
    band = IN_BAND_HZ if kind == BUDGET_KINDS[1] else None
    return SegmentMask(eps_max=float(value), table=PAPER_TABLE, band_limit_hz=band)


def budget_boxes(kind: str) -> tuple[dict, dict]:
    """Show only the eps box the chosen budget reads: eps_max for the mask tables, eps for the
    constant budget, neither for the envelope budget (fixed: the entry's own)."""
    uses_max = kind in BUDGET_KINDS[:2]
    return gr.update(visible=uses_max), gr.update(visible=kind == BUDGET_KINDS[2])


def label_choices() -> list[str]:
    """"auto" and the surrogate's classes."""
    return [AUTO_LABEL, *load_surrogate().classes]


class ProtectView(NamedTuple):
    """What the Protect tab shows: the protected WAV (played and offered for download), its
    metrics and a status line."""

    protected: str | None
    download: str | None
    metrics: str
    status: str


def check_upload(path: str | None) -> str:
    """The Protect tab's status as soon as a clip is uploaded or recorded: what will be
    protected, or why it cannot be (the same checks as Protect, so a bad file is refused
    before anyone waits for it). Nothing is decoded beyond what `read_upload` needs."""
    if not path:
        return ""
    try:
        upload = read_upload(path)
    except ValueError as err:
        return f"**Cannot protect this clip:** {err}"
    return (
        f"Ready: **{upload.name}**, {upload.duration_s:.1f} s, {upload.sample_rate_hz} Hz, {upload.channels} "
        f"channel(s). Pick a budget and press Protect."
    )


def protect_upload(
    path: str | None, kind: str, eps: float | None, eps_max: float | None, label: str, out_root: Path
) -> ProtectView:
    """Protect an uploaded or recorded clip against the bundled surrogate with
    `core.protect_audio` (the library's own call: the noise is made at 16 kHz mono and added
    to every channel at the file's own rate), written as WAV in the file's subtype where WAV
    has it (16-bit PCM otherwise). Metrics compare the 16 kHz mono mix of the written file.

    A user's mistake (an unusable clip, a bad budget or label) comes back as the status, with
    nothing to play: it stays on the page until the next action, where a toast would fade."""
    try:
        return _protect(path, kind, eps, eps_max, label, out_root)
    except gr.Error as err:
        return ProtectView(None, None, "", f"**Cannot protect:** {err.message}")


def _protect(path: str | None, kind: str, eps: float | None, eps_max: float | None, label: str, out_root: Path) -> ProtectView:
    try:
        upload = read_upload(path)
    except ValueError as err:
        raise gr.Error(str(err)) from None
    budget = upload_budget(kind, eps, eps_max)
    start = time.perf_counter()
    try:
        chosen = None if label in (None, "", AUTO_LABEL) else label
        result = protect_audio(upload.samples, upload.sample_rate_hz, budget=budget, label=chosen, perceptual=False)
    except ValueError as err:  # an unknown label, a float file beyond full scale
        raise gr.Error(f"Cannot protect {upload.name}: {err}.") from None
    seconds = time.perf_counter() - start
    out = write_protected(upload, result, request_dir(out_root) / f"{upload.path.stem}_protected.wav")
    metrics = pair_metrics(upload.audio, read_audio(out), budget)
    before, after = result.confidence
    status = (
        f"Protected **{upload.name}** ({upload.duration_s:.1f} s, {upload.sample_rate_hz} Hz, {upload.channels} "
        f"channel(s)) as **{result.label}** ({'predicted by the surrogate' if label == AUTO_LABEL else 'chosen'}) under "
        f"{_budget_text(budget)}: {window_count(len(upload.audio))} 1-s window(s) in {seconds:.1f} s. The "
        f"surrogate's confidence in *{result.label}*: {before:.0%} on the original, {after:.0%} on the protected clip. "
        f"The largest change to any sample is {float(abs(result.noise).max()):.3f}; {_bound_text(budget, result.eps)}"
    )
    return ProtectView(str(out), str(out), metrics_markdown("Protected vs original", metrics), status)


def _bound_text(budget: Budget, eps: np.ndarray) -> str:
    """Why the largest change may sit below the budget's nominal bound."""
    if isinstance(budget, ConstantBudget):
        return f"the bound is {budget.eps_linf:g} everywhere."
    if isinstance(budget, Envelope):
        return (
            f"the envelope budget's bound follows the clip's loudness, up to the cap {budget.eps_max:g}: on this clip "
            f"its median is {float(np.median(eps)):.4f} and its largest {float(eps.max()):.3f}."
        )
    values, counts = np.unique(np.round(eps, 4), return_counts=True)
    used = ", ".join(f"{v:.3f} on {c / len(eps):.0%}" for v, c in sorted(zip(values, counts), reverse=True) if c)
    return (
        f"eps_max {budget.eps_max:g} is only for the loudest segments: the table gives quieter ones smaller bounds, "
        f"and this clip's largest bound is {float(eps.max()):.3f}. Bounds used on this clip (share of its samples): {used}."
    )


def _budget_text(budget: Budget) -> str:
    band = f", noise below {budget.band_limit_hz / 1000:g} kHz" if budget.band_limit_hz else ""
    if isinstance(budget, ConstantBudget):
        return f"a constant eps {budget.eps_linf:g}{band}"
    if isinstance(budget, Envelope):
        return f"the amplitude-envelope budget of the leaderboard's {QUIET_ENTRY} (L-inf cap {budget.eps_max:g}){band}"
    return f"the paper's mask table with eps_max {budget.eps_max:g}{band}"


# -- 3. Mask table editor ------------------------------------------------------------------


def _problems_markdown(title: str, problems: list[str]) -> str:
    return f"**{title}** ({len(problems)} problem(s)):\n\n" + "\n".join(f"- `{p}`" for p in problems)


def table_preview(
    frame: pd.DataFrame | None,
    eps_max: float | None,
    segment_samples: float | None,
    level: str,
    example: str,
    out_root: Path,
    index_file: Path = INDEX_FILE,
) -> tuple[str | None, str]:
    """The Figure-1 plot of the edited table on an example clip, and a Markdown status
    (the eps of each band, or every problem with the table)."""
    budget = table_budget(rows_from_frame(frame), eps_max, segment_samples, level)
    problems = budget_problems(budget)
    if problems:
        return None, _problems_markdown("Invalid table", problems)
    mask = budget_from_dict(budget)
    try:
        clip = read_index(index_file).example(example)
    except ValueError as err:
        raise gr.Error(str(err)) from None
    clean = read_audio(clip.clean)
    folder = request_dir(out_root)
    segments = segment_plot(clean, mask, f"{clip.name} · edited table", folder)
    return str(segments), "**Valid table.**\n\n" + bands_markdown(clean, mask)


def table_export(
    frame: pd.DataFrame | None,
    eps_max: float | None,
    segment_samples: float | None,
    level: str,
    name: str,
    authors: str,
    description: str,
    link: str,
    out_root: Path,
) -> tuple[str | None, str]:
    """A leaderboard submission TOML of the edited table, validated by leaderboard.submission
    (the written bytes are re-read and validated as `python -m leaderboard validate` would);
    (None, the problems) when invalid."""
    budget = table_budget(rows_from_frame(frame), eps_max, segment_samples, level)
    data = submission_data(name, authors, description, link, budget)
    problems = submission_problems(data)
    if problems:
        return None, _problems_markdown("Not exported", problems)
    raw = submission_toml(data).encode("utf-8")
    parsed, problems = parse_bytes(raw)
    problems = problems or submission_problems(parsed, data["name"])
    if problems:
        return None, _problems_markdown("Not exported", problems)
    path = request_dir(out_root) / f"{data['name']}.toml"
    path.write_bytes(raw)
    return str(path), (
        f"**Valid submission `{data['name']}`.** Save it as `leaderboard/submissions/{data['name']}.toml`, then "
        f"`python -m leaderboard submit leaderboard/submissions/{data['name']}.toml` scores it."
    )


# -- 5. See it work -------------------------------------------------------------------------


def learning_intro(out_root: Path, curves_file: Path = CURVES_FILE) -> tuple[str, str]:
    """The precomputed curves (20 epochs) as a figure, and what they say and how they were made."""
    curves, settings = read_curves(curves_file)
    figure = curves_figure(curves, request_dir(out_root) / "curves.png")
    text = (
        f"{reading(curves)}\n\n_Precomputed by `python -m demo.build_assets`: M5 victims, seed {settings['seed']}, "
        f"{settings['train_clips']} training clips of the embedded sample, noise `{settings['config']}` "
        f"({settings['rounds']} min-min rounds). Press the button to train them yourself._"
    )
    return str(figure), text


def learning_run(epochs: float, out_root: Path, progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple[str, str]:
    """Train both victims live for `epochs` epochs (a few seconds each on a CPU) and plot them."""
    lo, hi = LIVE_EPOCHS
    if epochs is None or not lo <= epochs <= hi or int(epochs) != epochs:
        return None, f"**Cannot train:** epochs must be a whole number from {lo} to {hi}, got {epochs!r}."
    progress(0, desc="loading the embedded sample")
    start = time.perf_counter()
    curves = train_pair(int(epochs))
    figure = curves_figure(curves, request_dir(out_root) / "live.png")
    return str(figure), f"{reading(curves)}\n\n_Trained here in {time.perf_counter() - start:.0f} s._"


# -- 4. Leaderboard ------------------------------------------------------------------------


def leaderboard_view(out_root: Path, root: Path = LEADERBOARD_ROOT, detail: bool = False) -> tuple[pd.DataFrame, str | None, str]:
    """The ranked entries (the summary columns, or every cell with `detail`), the
    accuracy-vs-PESQ plot (None without entries) and a note."""
    try:
        version, entries = latest_scorings(valid_entries(root))
        rows = rank_entries(entries)
    except ValueError as err:
        return pd.DataFrame(), None, f"**The leaderboard entries cannot be read:**\n\n```\n{err}\n```"
    if not rows:
        note = (
            "_No scored entries yet._ Export a mask table from the editor tab and score it with "
            "`python -m leaderboard submit`; see leaderboard/README.md."
        )
        return pd.DataFrame(), None, note
    plot = request_dir(out_root) / "leaderboard.png"
    tradeoff_figure(rows, plot)
    note = (
        f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'} scored under protocol version {version}, ranked among those that protect (worst-case peak accuracy "
        f"<= {100 * PROTECTION_BAR:g}%) by PESQ-WB, higher (less audible) first; to sort, click a column's header, then its ⋮ menu. "
        "\"Every cell\" adds each victim and thief, the budget and the date."
    )
    return ranking_frame(rows, detail), str(plot), note
