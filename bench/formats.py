"""python -m bench.formats --config NAME: does `python -m core protect` hold on files that are
not 16-kHz, 1-s clips?

The folder tool optimizes only noise that gets written: none in the zero padding of a short
file's last window, none above a low-rate file's Nyquist. This measures what that buys. The
config's training clips are written as files in three formats, `16k_1s` (as they are),
`8k` (resampled to 8 kHz) and `0.4s` (the loudest 0.4 s of each clip, at 16 kHz), each set
is protected with the config's recipe by `core.protect.protect_folder`, and M5 victims are
trained on the protected files as a thief would read them (16-kHz mono, zero-padded to 1 s)
and tested on the clean test clips in the same format. The clean victim of each format says
what the format itself costs; the protection is the gap. The hope (trust issue): a format's
protected peak no more than 5 points above `16k_1s`'s.

Everything lands in --out (default runs/formats/<config>): the class folders, the protected
copies (a rerun reuses their noise), and results.json / summary.md; a format already in
results.json is not measured again.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr
import torch

from bench.__main__ import overrides_from
from bench.config import BenchConfig, load_config
from bench.data import load_split
from core import CLIP_SAMPLES, SAMPLE_RATE_HZ
from core.budgets import budget_from_dict
from core.atomic import write_text_atomic
from core.data.audio_io import fix_length, read_audio
from core.data.clips import ClipSet
from core.device import pick_device
from core.protect import protect_folder
from core.train import train_victim

FORMATS: dict[str, tuple[int, float | None]] = {"16k_1s": (SAMPLE_RATE_HZ, None), "8k": (8_000, None), "0.4s": (SAMPLE_RATE_HZ, 0.4)}
"""name -> (file rate in Hz, seconds kept: the loudest stretch of that length, None for all)."""
ALLOWED_GAP = 0.05
"""How far above `16k_1s` a format's protected peak may reach (the trust issue's 5 points)."""


def loudest(audio: np.ndarray, seconds: float) -> np.ndarray:
    """The stretch of `seconds` (at 16 kHz) with the most energy: where the word is."""
    n = int(round(seconds * SAMPLE_RATE_HZ))
    if n >= len(audio):
        return audio
    energy = np.convolve(audio.astype(np.float64) ** 2, np.ones(n), mode="valid")
    start = int(np.argmax(energy))
    return audio[start : start + n]


def in_format(audio: np.ndarray, rate_hz: int, seconds: float | None) -> np.ndarray:
    """A 16-kHz clip [T] as the samples of a file in that format (float64)."""
    if seconds is not None:
        audio = loudest(audio, seconds)
    if rate_hz != SAMPLE_RATE_HZ:
        audio = soxr.resample(audio.astype(np.float64), SAMPLE_RATE_HZ, rate_hz, quality="HQ")
    return np.clip(audio.astype(np.float64), -1.0, 1.0)


def write_folder(clips: ClipSet, root: Path, rate_hz: int, seconds: float | None) -> list[Path]:
    """Each clip as root/<class>/<name>.wav (16-bit PCM) in the format; existing files are kept."""
    paths = []
    for x, label, clip_id in zip(clips.waveforms.numpy(), clips.labels.tolist(), clips.ids):
        path = root / clips.classes[label] / Path(clip_id).with_suffix(".wav").name
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, in_format(x, rate_hz, seconds), rate_hz, subtype="PCM_16")
        paths.append(path)
    return paths


def read_clips(paths: list[Path]) -> torch.Tensor:
    """Files as a thief reads them: 16-kHz mono, zero-padded (or cut) to 1 s; [N, CLIP_SAMPLES]."""
    return torch.from_numpy(np.stack([fix_length(read_audio(p), CLIP_SAMPLES) for p in paths]))


def measure_format(cfg: BenchConfig, name: str, train: ClipSet, test: ClipSet, out: Path, device: torch.device, progress: bool) -> dict[str, Any]:
    """Protect the format's training files, then train M5 on clean and protected files; peaks."""
    rate_hz, seconds = FORMATS[name]
    folder = out / name
    train_paths = write_folder(train, folder / "train", rate_hz, seconds)
    test_paths = write_folder(test, folder / "test", rate_hz, seconds)
    start = time.perf_counter()
    summary = protect_folder(folder / "train", folder / "protected", budget_from_dict(cfg.budget), cfg.generation.minmin(),
                             surrogate=cfg.generation.surrogate, device=device, progress=progress, perceptual=False)
    protect_s = time.perf_counter() - start
    protected_paths = [folder / "protected" / p.relative_to(folder / "train") for p in train_paths]
    test_x, test_y = read_clips(test_paths).to(device), test.labels.to(device)
    peaks = {}
    for kind, paths in (("clean", train_paths), ("protected", protected_paths)):
        victim = cfg.victims.victim("m5")
        result = train_victim(read_clips(paths).to(device), train.labels.to(device), test_x, test_y, len(train.classes),
                              victim, seed=cfg.victims.seeds[0], progress=progress, desc=f"{name} {kind}")
        peaks[kind] = result.peak
    return {"rate_hz": rate_hz, "seconds": seconds, "clean_peak": peaks["clean"], "protected_peak": peaks["protected"],
            "protect_seconds": protect_s, "windows": summary.windows, "noise_reused": summary.noise_reused}


def render(config: str, results: dict[str, dict[str, Any]]) -> str:
    """summary.md: one row per format, and whether each stays within ALLOWED_GAP of 16k_1s."""
    base = results.get("16k_1s", {}).get("protected_peak")
    lines = [f"# Protection across file formats: `{config}`", "",
             "| format | clean M5 peak | protected M5 peak | vs 16k_1s | protect time |", "|---|---|---|---|---|"]
    for name, r in results.items():
        gap = "" if base is None else f"{100 * (r['protected_peak'] - base):+.1f} pts" + (" (over 5)" if r["protected_peak"] > base + ALLOWED_GAP else "")
        lines.append(f"| {name} | {100 * r['clean_peak']:.1f}% | {100 * r['protected_peak']:.1f}% | {gap} | {r['protect_seconds']:.0f} s |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.formats", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default="dynamic_013", help="config name in bench/configs or a TOML file (default dynamic_013)")
    p.add_argument("--data-root", help="Speech Commands root (default: the config's data)")
    p.add_argument("--formats", default=",".join(FORMATS), help=f"comma-separated, of {list(FORMATS)}")
    p.add_argument("--out", type=Path, help="output folder (default runs/formats/<config>[_quick])")
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda")
    p.add_argument("--quick", action="store_true", help="smoke run on a tiny slice")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(seeds=None, victims=None, epochs=None)  # the config's own (bench's other overrides)
    args = p.parse_args(argv)
    try:
        formats = [f.strip() for f in args.formats.split(",") if f.strip()]
        unknown = [f for f in formats if f not in FORMATS]
        if unknown or not formats:
            raise ValueError(f"--formats: unknown {unknown}; expected some of {list(FORMATS)}")
        cfg = load_config(args.config, overrides_from(args))
        if not cfg.has_noise:
            raise ValueError(f"config {cfg.name!r} has no noise budget; expected a protection config")
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = args.out or Path("runs") / "formats" / (cfg.name + ("_quick" if args.quick else ""))
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else {}
    device = pick_device(args.device)
    torch.set_flush_denormal(True)  # denormal input gradients once tripled a min-min step on CPU
    train, test = load_split(cfg.data, progress=not args.no_progress)
    for name in formats:
        if name in results:
            print(f"{name}: measured before ({results_path})")
            continue
        results[name] = measure_format(cfg, name, train, test, out, device, not args.no_progress)
        results = {f: results[f] for f in FORMATS if f in results}
        write_text_atomic(results_path, json.dumps(results, indent=1) + "\n")
        print(f"{name}: clean {results[name]['clean_peak']:.3f}, protected {results[name]['protected_peak']:.3f}")
    write_text_atomic(out / "summary.md", render(cfg.name, results))
    print(render(cfg.name, results), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
