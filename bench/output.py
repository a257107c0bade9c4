"""Write a run folder: results.json, summary.md, plots and example WAVs. Never overwrites."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import numpy as np

from bench import plots
from bench.report import matrix_markdown, summary_markdown
from bench.run import RunOutput
from core.atomic import write_text_atomic
from core.data import write_audio_atomic


def new_run_dir(out_root: Path, config_name: str) -> Path:
    """runs/<config>/<timestamp>/, with a suffix if that folder already exists."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = out_root / config_name / stamp
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{stamp}-{n}")
    candidate.mkdir(parents=True)
    return candidate


def example_indices(n_clips: int, labels: np.ndarray, count: int) -> list[int]:
    """`count` clips of different classes where possible (first clip of each class)."""
    picked, seen = [], set()
    for i, label in enumerate(labels.tolist()):
        if label not in seen:
            picked.append(i)
            seen.add(label)
        if len(picked) == count:
            break
    return picked[: min(count, n_clips)]


def safe_name(clip_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", clip_id.rsplit(".", 1)[0])


def write_run(run_dir: Path, output: RunOutput, command: str) -> None:
    """Everything a reader needs, from the results and the tensors of one run."""
    results = output.results
    write_text_atomic(run_dir / "results.json", json.dumps(results, indent=1, allow_nan=False))
    write_text_atomic(run_dir / "summary.md", summary_markdown(results, command))
    name = results["config"]["name"]
    plots.accuracy_figure(results["victims"], run_dir / "fig4_accuracy.png", name)
    if output.delta is None:
        return
    train = output.train
    count = results["config"]["metrics"]["examples"]
    examples = run_dir / "examples"
    for k, i in enumerate(example_indices(len(train), train.labels.numpy(), count)):
        clean, delta = train.waveforms[i], output.delta[i]
        protected = (clean + delta).clamp(-1, 1)
        stem = safe_name(train.ids[i])
        for kind, signal in (("clean", clean), ("protected", protected), ("noise", delta)):
            write_audio_atomic(examples / f"{stem}_{kind}.wav", signal.numpy(), train.sample_rate_hz, subtype="FLOAT")
        if k == 0:
            plots.segment_figure(clean, output.budget, run_dir / "fig1_segments.png", f"{name}: {train.ids[i]}")
            plots.waveform_figure(clean, protected, run_dir / "fig2_waveforms.png", f"{name}: {train.ids[i]}")
            plots.spectrogram_figure(clean, protected, run_dir / "spectrograms.png", train.sample_rate_hz)


def write_matrix(run_dir: Path, results: dict, command: str) -> None:
    """A thief matrix's results.json, summary.md, heat map and, when members have noise,
    its worst case against PESQ-WB and STOI (pareto.png)."""
    write_text_atomic(run_dir / "results.json", json.dumps(results, indent=1, allow_nan=False))
    write_text_atomic(run_dir / "summary.md", matrix_markdown(results, command))
    plots.matrix_figure(results, run_dir / "matrix.png")
    plots.pareto_figure(results, run_dir / "pareto.png")
