"""Build core/data/embedded/: a small, speaker-disjoint Speech Commands subset shipped as FLAC.

Usage (from the repository root):
    python -m scripts.make_embedded_data /path/to/speech_commands_v0.02_test10

Selection, deterministic and rerunnable: the source's clips are split by the speaker hash
rule (`core.data.speech_commands.hash_split`, 20% test); within each word and split, clips
are ordered by SHA-1 of their clip ID; each word gets the same number k of clips, divided
between train and test in that word's source proportion; k is the largest that keeps the
folder (FLAC files + README.md + LICENSE) under --max-bytes. Samples are copied bit-exactly
(16-bit PCM WAV -> 16-bit FLAC, lossless).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
from pathlib import Path

import soundfile as sf

from core.data.speech_commands import list_speech_commands

DEFAULT_DEST = Path(__file__).resolve().parent.parent / "core" / "data" / "embedded"
DEFAULT_MAX_BYTES = 14_800_000  # the package promise is <= 15 MB; keep a margin for encoder drift
README_BYTES_RESERVE = 4_000

README_TEMPLATE = """# Embedded sample: Speech Commands v0.02 (subset)

Real recordings from Google's Speech Commands dataset, v0.02 (Pete Warden, 2018,
"Speech Commands: A Dataset for Limited-Vocabulary Speech Recognition",
arXiv:1804.03209), licensed under CC BY 4.0 (see LICENSE). Original archive:
http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz

Taken from the dataset's official companion test set (`speech_commands_test_set_v0.02`),
ten core words: {words}.

How the files were chosen (`python -m scripts.make_embedded_data SOURCE`):
- speakers are split by SHA-1 of the speaker hash (the file name before `_nohash_`),
  as an integer, modulo 100; below {test_percent} means test, so no speaker is on both sides;
- within each word and split, clips are ordered by SHA-1 of their clip ID
  (`<word>/<file>.wav`) and the first ones are taken: {per_word} per word, divided
  between train and test in that word's source proportion;
- samples are unchanged: each 16 kHz, 16-bit mono WAV was re-encoded losslessly as
  16-bit FLAC, keeping its folder and file stem (`yes/0a7c2a8d_nohash_0.wav` ->
  `yes/0a7c2a8d_nohash_0.flac`).

{total} clips: {train} train, {test} test.

| word | train | test |
|------|-------|------|
{table}
"""


def flac_bytes(wav_path: Path) -> bytes:
    """The WAV's samples as a 16-bit FLAC file, bit-exact."""
    samples, rate_hz = sf.read(wav_path, dtype="int16")
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate_hz, format="FLAC", subtype="PCM_16", compression_level=1.0)
    return buffer.getvalue()


def sha1_order(clip_ids: list[str]) -> list[str]:
    return sorted(clip_ids, key=lambda c: hashlib.sha1(c.encode()).hexdigest())


def choose(
    by_word: dict[str, dict[str, list[str]]], sizes: dict[str, int], budget_bytes: int
) -> dict[str, dict[str, list[str]]]:
    """The largest equal-per-word selection whose FLAC sizes fit `budget_bytes`."""

    def take(k: int) -> dict[str, dict[str, list[str]]]:
        out = {}
        for word, split in by_word.items():
            n_all = len(split["train"]) + len(split["test"])
            n_test = round(k * len(split["test"]) / n_all)
            out[word] = {"train": split["train"][: k - n_test], "test": split["test"][:n_test]}
        return out

    def size(sel: dict[str, dict[str, list[str]]]) -> int:
        return sum(sizes[c] for s in sel.values() for ids in s.values() for c in ids)

    max_k = min(len(s["train"]) + len(s["test"]) for s in by_word.values())
    best = 0
    for k in range(1, max_k + 1):
        if size(take(k)) > budget_bytes:
            break
        best = k
    if best == 0:
        raise ValueError(f"budget of {budget_bytes} bytes fits not even one clip per word")
    return take(best)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", type=Path, help="Speech Commands folder (root/<word>/*.wav, LICENSE)")
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST)
    parser.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES)
    parser.add_argument("--test-percent", type=int, default=20)
    args = parser.parse_args()

    listing = list_speech_commands(args.source, test_percent=args.test_percent)
    words = sorted({c.split("/")[0] for pairs in listing.values() for c, _ in pairs})
    by_word = {
        w: {s: sha1_order([c for c, _ in listing[s] if c.startswith(w + "/")]) for s in ("train", "test")}
        for w in words
    }
    license_text = (args.source / "LICENSE").read_bytes()
    encoded = {c: flac_bytes(args.source / c) for pairs in listing.values() for c, _ in pairs}
    sizes = {c: len(b) for c, b in encoded.items()}
    selection = choose(by_word, sizes, args.max_bytes - len(license_text) - README_BYTES_RESERVE)

    args.dest.mkdir(parents=True, exist_ok=True)
    for word in words:
        shutil.rmtree(args.dest / word, ignore_errors=True)
        (args.dest / word).mkdir()
        for clip_id in selection[word]["train"] + selection[word]["test"]:
            (args.dest / clip_id).with_suffix(".flac").write_bytes(encoded[clip_id])
    (args.dest / "LICENSE").write_bytes(license_text)
    counts = {w: (len(selection[w]["train"]), len(selection[w]["test"])) for w in words}
    train, test = sum(c[0] for c in counts.values()), sum(c[1] for c in counts.values())
    readme = README_TEMPLATE.format(
        words=", ".join(words),
        test_percent=args.test_percent,
        per_word=sum(counts[words[0]]),
        total=train + test,
        train=train,
        test=test,
        table="\n".join(f"| {w} | {a} | {b} |" for w, (a, b) in counts.items()),
    )
    (args.dest / "README.md").write_text(readme)
    total_bytes = sum(p.stat().st_size for p in args.dest.rglob("*") if p.is_file())
    print(f"wrote {train + test} clips ({train} train, {test} test), {total_bytes} bytes, to {args.dest}")


if __name__ == "__main__":
    main()
