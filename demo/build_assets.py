"""python -m demo.build_assets: train the bundled surrogate and precompute the shipped examples.

Rerunnable; every file is rewritten atomically and the result is deterministic on the CPU.
  (a) an M5 trained for a few epochs on the embedded train split (under a minute on two CPU
      cores), saved as a state_dict `core/assets/surrogate_m5.pt` with `surrogate_m5.json`;
  (b) one test clip for each of EXAMPLE_WORDS, protected under every shipped config with
      the fixed surrogate (exactly what the "Protect your own audio" tab does), as 16-bit
      FLAC under `demo/assets/examples/` with `index.json` (budgets, metrics of the files as written);
  (c) for the "See it work" tab, class-wise min-min noise on the embedded train split under
      LEARNING_CONFIG (one pattern per word, float16) and the 20-epoch curves of M5 victims
      trained on clean and on protected clips, under `demo/assets/learning/` (`--learning-only`
      builds just this part).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

import torch
from torch.nn import functional as F

from bench.config import load_config
from core import SAMPLE_RATE_HZ
from core.atomic import atomic_path, write_text_atomic
from core.budgets import budget_from_dict
from core.data import ClipSet, load_embedded, read_audio, write_audio_atomic
from core.api import protect_audio
from core.models import build_model
from core.surrogate import CHECKPOINT, CHECKPOINT_INFO, NoiseSettings, load_surrogate
from core.train import accuracy_on
from demo.compare import pair_metrics
from core.noise import generate
from demo.examples import CLEAN, EXAMPLES_DIR, INDEX_FILE, SHIPPED_CONFIGS
from demo.learning import CLASS_NOISE_FILE, CURVES_FILE, train_pair

EXAMPLE_WORDS = ("yes", "no", "up", "down", "stop", "go")
MIN_PEAK = 0.2
"""An example clip must peak at least this high: clearly audible, several amplitude bands."""
LEARNING_CONFIG = "dynamic_013_classwise"
"""The noise of the "See it work" tab: the paper's table, one noise pattern per word."""
CURVE_EPOCHS = 20
PEAK_LR = 5e-3
BATCH_SIZE = 32


def train_surrogate(train: ClipSet, test: ClipSet, epochs: int, seed: int) -> tuple[torch.nn.Module, float]:
    """A fresh M5 trained with Adam under a one-cycle schedule (peak lr 5e-3, weight decay
    1e-4, batch 32); returns it in eval mode with its clean test accuracy.

    Not the bench's victim recipe (constant lr 1e-2, batch 64): with 838 clips and a
    minute of CPU that one is still erratic after 8 epochs, the schedule ends settled.
    """
    torch.manual_seed(seed)
    model = build_model("m5", len(train.classes))
    optimizer = torch.optim.Adam(model.parameters(), lr=PEAK_LR, weight_decay=1e-4)
    batches = -(-len(train) // BATCH_SIZE)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=PEAK_LR, total_steps=epochs * batches)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(train), generator=generator)
        for lo in range(0, len(perm), BATCH_SIZE):
            idx = perm[lo : lo + BATCH_SIZE]
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(train.waveforms[idx]), train.labels[idx]).backward()
            optimizer.step()
            schedule.step()
    model.eval()
    return model, accuracy_on(model, test.waveforms, test.labels)


def pick_examples(test: ClipSet) -> list[int]:
    """Per word in EXAMPLE_WORDS, the first test clip (by ID) that peaks at least MIN_PEAK,
    from a speaker not picked yet (the speaker is the file name before `_nohash_`)."""
    picks, speakers = [], set()
    for word in EXAMPLE_WORDS:
        label = test.classes.index(word)
        candidates = [
            i for i in range(len(test))
            if int(test.labels[i]) == label and float(test.waveforms[i].abs().max()) >= MIN_PEAK
            and _speaker(test.ids[i]) not in speakers
        ]  # fmt: skip
        if not candidates:
            raise ValueError(f"no test clip of {word!r} from a new speaker peaks at {MIN_PEAK} or more")
        picks.append(min(candidates, key=lambda i: test.ids[i]))
        speakers.add(_speaker(test.ids[picks[-1]]))
    return picks


def _speaker(clip_id: str) -> str:
    return clip_id.rsplit("/", 1)[-1].split("_nohash_")[0]


def build_examples(test: ClipSet, settings: NoiseSettings) -> dict:
    """Write the example FLACs and return the index data (see demo.examples)."""
    surrogate = load_surrogate()  # the saved weights, exactly as the app will load them
    budgets = {CLEAN: {}} | {name: load_config(name).budget for name in SHIPPED_CONFIGS if name != CLEAN}
    clips = []
    for i in pick_examples(test):
        name = test.ids[i].rsplit(".", 1)[0]
        word = test.classes[int(test.labels[i])]
        stem = name.replace("/", "_")
        clean = test.waveforms[i].numpy()
        write_audio_atomic(EXAMPLES_DIR / f"{stem}.flac", clean, SAMPLE_RATE_HZ, subtype="PCM_16")
        clean = read_audio(EXAMPLES_DIR / f"{stem}.flac")
        entry = {"name": name, "word": word, "clean": f"{stem}.flac", "protected": {}, "metrics": {}}
        entry["metrics"][CLEAN] = pair_metrics(clean, clean, None)
        for config, spec in budgets.items():
            if config == CLEAN:
                continue
            budget = budget_from_dict(spec)
            protected = protect_audio(clean, SAMPLE_RATE_HZ, budget=budget, surrogate=surrogate, label=word, settings=settings, perceptual=False)
            file = f"{stem}.{config}.flac"
            write_audio_atomic(EXAMPLES_DIR / file, protected.audio, SAMPLE_RATE_HZ, subtype="PCM_16")
            entry["protected"][config] = file
            entry["metrics"][config] = pair_metrics(clean, read_audio(EXAMPLES_DIR / file), budget)
        clips.append(entry)
    return {"budgets": budgets, "noise": dataclasses.asdict(settings), "clips": clips}


def build_learning(train: ClipSet, seed: int) -> dict:
    """Write the class-wise noise and the precomputed curves (see demo.learning); returns the curves' data."""
    cfg = load_config(LEARNING_CONFIG)
    start = time.perf_counter()
    torch.manual_seed(cfg.generation.seed)
    model = build_model(cfg.generation.surrogate, len(train.classes))
    budget = budget_from_dict(cfg.budget)
    result = generate(model, train.waveforms, train.labels, budget, cfg.generation.minmin(), n_classes=len(train.classes), progress=False)
    generated_s = time.perf_counter() - start
    stored = {"noise": result.class_delta.half(), "classes": list(train.classes), "budget": json.dumps(cfg.budget)}
    CLASS_NOISE_FILE.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(CLASS_NOISE_FILE) as tmp, tmp.open("wb") as f:
        torch.save(stored, f)
    start = time.perf_counter()
    curves = train_pair(CURVE_EPOCHS, seed, CLASS_NOISE_FILE, progress=False)  # from the stored float16 noise, as the app reads it
    settings = {
        "config": LEARNING_CONFIG,
        "budget": cfg.budget,
        "rounds": result.rounds,
        "generation_seconds": round(generated_s, 1),
        "victim": "m5, the bench's recipe (Adam lr 0.01, batch 64)",
        "epochs": CURVE_EPOCHS,
        "seed": seed,
        "train_clips": len(train),
        "training_seconds": round(time.perf_counter() - start, 1),
    }
    data = {"curves": curves.to_dict(), "settings": settings}
    write_text_atomic(CURVES_FILE, json.dumps(data, indent=1) + "\n")
    return data


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m demo.build_assets", description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=8, help="surrogate training epochs (default 8)")
    p.add_argument("--seed", type=int, default=0, help="seed of the surrogate's init and batch order")
    p.add_argument("--learning-only", action="store_true", help="build only the See-it-work assets (c)")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    torch.set_flush_denormal(True)  # denormal gradients slow CPU steps severalfold (see core.protect)
    # One thread: on a busy two-core box, two OpenMP threads made training 5x slower (82 s vs 15 s).
    torch.set_num_threads(1)
    start = time.perf_counter()
    data = load_embedded()
    learning = build_learning(data["train"], args.seed)
    peaks = {k: max(v) for k, v in learning["curves"].items()}
    print(f"see it work: class-wise noise in {learning['settings']['generation_seconds']} s; M5 peaks {peaks}")
    if args.learning_only:
        return 0
    model, accuracy = train_surrogate(data["train"], data["test"], args.epochs, args.seed)
    trained_s = time.perf_counter() - start
    with atomic_path(CHECKPOINT) as tmp, tmp.open("wb") as f:
        torch.save(model.state_dict(), f)  # to a file object: the archive is not named after the temp file
    info = {
        "model": "m5",
        "classes": list(data["train"].classes),
        "epochs": args.epochs,
        "optimizer": f"Adam, one-cycle peak lr {PEAK_LR}, weight decay 1e-4, batch {BATCH_SIZE}",
        "seed": args.seed,
        "train_clips": len(data["train"]),
        "test_accuracy": accuracy,
        "data_fingerprint": data["train"].fingerprint()[:16],
    }
    write_text_atomic(CHECKPOINT_INFO, json.dumps(info, indent=1) + "\n")
    print(f"surrogate: {args.epochs} epochs in {trained_s:.1f} s, test accuracy {accuracy:.3f}")
    index = build_examples(data["test"], NoiseSettings())
    write_text_atomic(INDEX_FILE, json.dumps(index, indent=1) + "\n")
    kept = {clip["clean"] for clip in index["clips"]} | {f for clip in index["clips"] for f in clip["protected"].values()}
    for stale in EXAMPLES_DIR.glob("*.flac"):
        if stale.name not in kept:  # examples of an earlier build with other words or configs
            stale.unlink()
    size = sum(f.stat().st_size for f in CHECKPOINT.parent.rglob("*") if f.is_file())
    print(f"{len(index['clips'])} examples; assets {size / 1e6:.2f} MB; {time.perf_counter() - start:.1f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
