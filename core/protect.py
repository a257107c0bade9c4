"""Protect a folder of recordings: min-min noise on 1-s windows, written back in each file's format.

IN_DIR holds one folder per class (labels are the top-level folder names; files may sit
deeper). Every file is read as 16 kHz mono and cut into 1-s windows (the last one
zero-padded); min-min noise is generated over all windows at once, stitched back per file
(padding dropped), resampled to the file's own rate, added to every channel, clipped to
[-1, 1] and written to OUT_DIR under the same relative path, format and subtype. Min-min
optimizes only noise that gets written: none in the padding, and none above the file's own
Nyquist frequency (an 8 kHz file keeps nothing above 4 kHz), so the surrogate cannot lean on
noise that the written file loses.

The budget eps(x, t) is computed on the 16 kHz mono mix and holds exactly there. Resampling
the noise to another rate changes its waveform (down to 8 kHz its peaks grew by a quarter in
the tests), so the resampled noise is clamped again to eps held at the file's rate; the
written file can still miss the budget, by quantisation to the file's subtype: half an LSB
for 16-bit and finer PCM, which counts as within budget (BUDGET_SLACK), but far more for
8-bit PCM and lossy formats such as OGG or MP3. Such a file is written all the same and
marked `over budget` (never `protected`), with the factor by which it misses; convert the
input to FLAC or WAV for a protected copy. Float files that peak above full scale are
skipped: x + noise must stay inside [-1, 1], so min-min would move such samples by more
than eps. The manifest reports the L-inf measured on the written file: `linf_native` at the
file's own rate over all channels (the delivered noise), and `linf` at 16 kHz mono like
every other metric (for a file at another rate this re-resamples the noise, so it may read
above the budget).

Memory: files are decoded, protected, written and checked in blocks (READ_BLOCK_FRAMES),
so a file's own rate and channels never sit in memory whole; what stays is every file's
16-kHz mono audio, packed once as min-min's windows, and min-min's eps and noise beside it
(3.8 MB per minute of audio each), plus the surrogate's batch. A one-hour 44.1-kHz
stereo file peaked at 1.39 GiB. `work` says where those arrays live (core.workspace):
"memory", "disk" (memory-mapped files in OUT_DIR/.protect/work, filled as the files are read,
deleted at the end; the process's own memory is then that of a batch, and the disk must
hold the arrays) or "auto", the default: disk when the headers' durations say that memory
would not hold them. A folder whose arrays fit neither is refused before any work.

Resume: the noise is stored by window ID in OUT_DIR/.protect/noise-<key>.pt, the key
hashing the noise recipe (budget, min-min settings, surrogate) and the input bytes, so a
rerun on the same input reuses it; outputs the manifest lists as protected under the same
key are not rewritten. The manifest grows by one row as each file is written, so a run killed
while writing resumes with the files it had not finished; min-min itself checkpoints every
round beside the noise file, so a kill during generation resumes from the last round.

Several processes (`torchrun --nproc-per-node N -m core protect ...`, core.noise.distributed):
each rank reads a contiguous run of the files holding about 1/N of the audio (by the headers' durations), makes the noise of its windows (the surrogate
trained across ranks), and writes and checks its own files; rank 0 stores the noise file and
the manifest. The windows, in rank order, are those one process packs.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

import numpy as np
import soundfile as sf
import torch
from tqdm import tqdm

from core import SAMPLE_RATE_HZ
from core.atomic import atomic_path, remove_stale_temporaries, write_text_atomic
from core.budgets.band import NYQUIST_HZ, written_cutoff
from core.budgets.base import Budget
from core.data.audio_io import AudioError, fix_length, read_audio, read_audio_info, read_blocks
from core.data.class_folders import list_audio_files
from core.hashing import cache_keys
from core.data.windows import WINDOWS_FORMAT, WindowPacker, held_samples, stitch, window_count, window_ids
from core.metrics.recording import METRIC_MAX_S, recording_metrics
from core.noise import CorruptNoiseFile, MinMinConfig, load_noise
from core.noise.adding import NoiseAtRate, eps_16k, eps_held, noisy_block
from core.noise.distributed import Ranks, all_gather, all_merged
from core.noise.store import save_noise_shards
from core.noise.make import WINDOW_BYTES_IN_MINMIN, check_memory, fits_in_memory, make_noise
from core.workspace import IN_MEMORY, Workspace

MANIFEST_NAME = "manifest.csv"
STATE_DIR_NAME = ".protect"
NO_AUDIO = np.zeros(0, np.float32)
"""A source's audio until packing hands out its view (not `audio[:0]`, which would keep the
decoded array alive: 60 KB a file, 6 GB for 100,000 files)."""
WORK_MODES = ("auto", "memory", "disk")
"""Where min-min's per-window arrays live (see the module's "Memory")."""
BUDGET_SLACK = 2.0**-15
"""How far past eps a written sample may land and still count as within budget: one 16-bit
LSB, the rounding of 16-bit PCM (twice its worst case). 8-bit and lossy files miss by far more."""
PROTECTED = "protected"
OVER_BUDGET = "over budget"
MANIFEST_FIELDS = (
    "path", "class", "status", "sample_rate_hz", "channels", "duration_s",
    "snr_db", "linf", "linf_native", "pesq_wb", "stoi", "noise_key",
)  # fmt: skip
Row = dict[str, str]


@dataclass(frozen=True)
class Source:
    """One readable input file: path relative to IN_DIR, class label, audio [T] at 16 kHz mono."""

    rel: str
    label: int
    audio: np.ndarray
    sample_rate_hz: int = SAMPLE_RATE_HZ
    """The file's own rate: noise above its Nyquist would never be written."""


@dataclass(frozen=True)
class ProtectSummary:
    """What a run did: files written now, kept from an earlier run, skipped (unreadable) and
    failed (write errors); windows generated or reused; wall-clock seconds."""

    protected: int
    reused: int
    skipped: int
    failed: int
    windows: int
    noise_reused: bool
    seconds: float
    manifest: Path
    over_budget: int = 0

    def __str__(self) -> str:
        noise = "reused" if self.noise_reused else "generated"
        lines = [
            f"protected {self.protected}, reused {self.reused}, skipped {self.skipped}, "
            f"failed {self.failed} file(s); noise {noise} for {self.windows} window(s); "
            f"{self.seconds:.1f} s; manifest {self.manifest}"
        ]
        if self.over_budget:
            lines.append(
                f"over budget {self.over_budget} file(s): written, but their format (8-bit or lossy) moves "
                "samples by more than eps; see the manifest, and convert them to FLAC or WAV for protected copies"
            )
        return "\n".join(lines)


def check_folders(in_dir: str | Path, out_dir: str | Path) -> tuple[Path, Path]:
    """Both folders resolved; ValueError unless IN_DIR exists and the two do not overlap."""
    in_root, out_root = Path(in_dir).resolve(), Path(out_dir).resolve()
    if not in_root.is_dir():
        raise ValueError(f"input folder {in_dir} does not exist; expected a folder with one subfolder per class")
    if out_root == in_root or in_root in out_root.parents:
        raise ValueError(f"output folder {out_dir} is inside input folder {in_dir}; expected a folder outside it")
    if out_root in in_root.parents:
        raise ValueError(f"input folder {in_dir} is inside output folder {out_dir}; expected separate folders")
    if out_root.exists() and not out_root.is_dir():
        raise ValueError(f"output folder {out_dir} is a file; expected a folder (new or existing)")
    return in_root, out_root


def prepare_output(out_root: Path) -> None:
    """Create OUT_DIR and prove it writable by writing a file in it, so that a folder that
    cannot take the results fails now, not after the noise is made."""
    try:
        out_root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_root):
            pass
    except OSError as err:
        raise ValueError(f"output folder {out_root} cannot be written: {err.strerror or err}") from None


def class_of(rel: str) -> str | None:
    """The class of a file: its top-level folder; None for a file directly in IN_DIR."""
    parts = PurePosixPath(rel).parts
    return parts[0] if len(parts) > 1 else None


def noise_keys(
    budget: Budget, minmin: MinMinConfig, surrogate: str, digests: dict[str, str], device: torch.device | str
) -> tuple[str, ...]:
    """Hashes of what determines the noise, one per cache format read (newest first,
    core.hashing.cache_keys): the recipe, every input file's path and bytes, and the compute
    context (device kind, torch version)."""
    data = {"budget": budget.to_dict(), "minmin": minmin.to_dict(), "surrogate": surrogate, "files": digests}
    return cache_keys({**data, "windows": WINDOWS_FORMAT}, device)


def check_full_scale(path: Path) -> None:
    """AudioError for a float file whose samples reach beyond [-1, 1] (only float subtypes
    can): min-min keeps x + noise inside [-1, 1], which would move those samples by more
    than eps, so such a file could not be protected within its budget."""
    try:
        with sf.SoundFile(path) as f:
            if f.subtype not in ("FLOAT", "DOUBLE"):
                return
            peak = max((float(np.abs(b).max()) for b in read_blocks(f) if b.size), default=0.0)
    except (sf.SoundFileError, RuntimeError):
        return  # not readable as audio: read_audio reports it
    if peak > 1.0:
        raise AudioError(
            f"{path}: samples reach {peak:.3g}, beyond full scale [-1, 1]; the noise could not stay within "
            "eps there (x + noise is kept inside [-1, 1]); normalise the file to a peak of at most 1 and run again"
        )


def audio_seconds(path: Path) -> float:
    """A file's duration from its header (0 for one that cannot be read: it will be skipped),
    to size min-min's arrays before reading and to give every process an equal share of the
    audio, not of the files."""
    try:
        return float(sf.info(path).duration)
    except (sf.SoundFileError, OSError, RuntimeError):
        return 0.0


def file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def read_sources(
    in_root: Path, rels: list[str], classes: list[str], progress: bool, workspace: Workspace = IN_MEMORY
) -> tuple[list[Source], np.ndarray, dict[str, str], dict[str, str]]:
    """Decode every file as 16 kHz mono and pack it into 1-s windows as it is read (in
    `workspace`); returns (sources, whose audio are views into the windows, the windows
    [W, CLIP_SAMPLES], skip reasons by path, SHA-256 by path).

    Unreadable files and files outside a class folder are skipped, reported on stderr.
    """
    sources, skipped, digests = [], {}, {}
    packer = WindowPacker(workspace)
    for rel in tqdm(rels, desc="reading", unit="file", disable=not progress):
        path = in_root / rel
        name = class_of(rel)
        try:
            try:
                digests[rel] = file_sha256(path)
            except OSError as err:  # permissions, I/O errors: this file only, not the run
                raise AudioError(f"{path}: cannot be read ({err.strerror or err})") from None
            if name is None:
                raise AudioError(f"{path}: not inside a class folder; expected IN_DIR/<class>/...")
            check_full_scale(path)
            audio = read_audio(path)
            if audio.size == 0:
                raise AudioError(f"{path}: under one sample at {SAMPLE_RATE_HZ} Hz; expected longer audio")
            source = Source(rel, classes.index(name), NO_AUDIO, read_audio_info(path)[0])  # a view comes at the end
            packer.add(audio)
            sources.append(source)
        except AudioError as err:
            skipped[rel] = str(err)
            tqdm.write(f"skipped: {err}", file=sys.stderr)
    windows, views = packer.finish()
    return [replace(s, audio=v) for s, v in zip(sources, views)], windows, skipped, digests


def choose_workspace(
    out_root: Path, seconds: list[float], minmin: MinMinConfig, device: torch.device, work: str, ranks: Ranks
) -> Workspace:
    """Where min-min's arrays live for files of these durations (see "Memory"): in memory,
    or memory-mapped in OUT_DIR/.protect/work (one folder per rank under torchrun; a killed
    run's is removed first). ValueError, before any work, for an unknown mode or a disk that
    cannot hold them."""
    if work not in WORK_MODES:
        raise ValueError(f"work must be one of {WORK_MODES}, got {work!r}")
    folder = ranks.own(out_root / STATE_DIR_NAME / "work")
    Workspace(folder).remove()  # what a killed run left there
    windows = sum(max(1, math.ceil(s)) for s in seconds)  # each file starts a window of its own
    if work == "memory" or (work == "auto" and fits_in_memory(windows, minmin, device)):
        return IN_MEMORY
    need, free = windows * WINDOW_BYTES_IN_MINMIN, shutil.disk_usage(out_root).free
    if need > free:
        raise ValueError(
            f"min-min's arrays for {windows} windows need about {need / 2**30:.1f} GiB on disk in {folder} "
            f"and that disk has {free / 2**30:.1f} GiB free; protect the folder in parts"
        )
    return Workspace(folder)


def noise_for(
    sources: list[Source],
    windows: np.ndarray,
    n_classes: int,
    budget: Budget,
    minmin: MinMinConfig,
    surrogate: str,
    path: Path,
    device: torch.device,
    progress: bool,
    ranks: Ranks = Ranks(),
    workspace: Workspace = IN_MEMORY,
) -> tuple[dict[str, np.ndarray], bool]:
    """Noise [T] at 16 kHz per source path, loaded from `path` or generated over the sources'
    packed `windows` (`pack_windows`) and saved there; the flag says whether it was loaded.
    Under torchrun the sources are this rank's and so is the noise returned."""
    counts = [window_count(len(s.audio)) for s in sources]
    ids = [i for s, k in zip(sources, counts) for i in window_ids(s.rel, k)]
    delta = None
    if path.is_file():
        try:
            delta = load_noise(path, ids)[0]
        except KeyError as err:
            raise ValueError(f"{path} does not match the input ({err}); delete it to regenerate") from None
        except CorruptNoiseFile as err:
            tqdm.write(f"noise: {err}; generating it again", file=sys.stderr)
    reused = all(all_gather(delta is not None, ranks))
    if not reused:
        labels = [s.label for s, k in zip(sources, counts) for _ in range(k)]
        n_labels = len(set().union(*all_gather(set(labels), ranks)))
        if n_labels < 2:
            raise ValueError(f"min-min noise needs readable files in at least 2 class folders, got {n_labels}")
        cutoffs = np.array([written_cutoff(budget.band_limit_hz, s.sample_rate_hz) or NYQUIST_HZ for s, k in zip(sources, counts) for _ in range(k)])
        if not workspace.on_disk:
            check_memory(windows.shape[0], minmin, device)
        checkpoint = path.with_suffix(".checkpoint.pt")
        valid = held_samples([len(s.audio) for s in sources], workspace)
        delta, meta = make_noise(
            windows, labels, n_classes, budget, minmin, surrogate, device, progress, valid, cutoffs, checkpoint,
            ranks=ranks, workspace=workspace,
        )
        del valid
        save_noise_shards(path, ids, delta, meta, ranks, workspace)
        ranks.own(checkpoint).unlink(missing_ok=True)  # the noise is stored: nothing left to resume
    delta = delta.numpy()
    bounds = np.cumsum([0, *counts])
    return {s.rel: stitch(delta[lo:hi], len(s.audio)) for s, lo, hi in zip(sources, bounds, bounds[1:])}, reused


def protect_file(
    src: Path, dst: Path, clean_16k: np.ndarray, noise_16k: np.ndarray, budget: Budget, perceptual: bool
) -> Row:
    """Write the protected copy of `src` to `dst` in src's rate, channels, format and subtype
    (the format's default subtype where soundfile cannot write src's); return its manifest fields.

    Streams: the file is read, protected and written READ_BLOCK_FRAMES at a time, then read
    back the same way to measure what the written samples moved, so memory stays that of the
    16-kHz mono audio and noise, whatever the file's rate, channels and length."""
    rate_hz, channels, subtype, fmt = read_audio_info(src)
    if fmt not in sf.available_formats():
        known = sorted(sf.available_formats())
        raise ValueError(f"{src}: soundfile cannot write format {fmt!r}; expected one of {known}")
    eps = eps_16k(budget, clean_16k)
    noise = NoiseAtRate(noise_16k, rate_hz)
    frames = 0
    with atomic_path(dst) as tmp:
        writable = subtype if sf.check_format(fmt, subtype) else sf.default_subtype(fmt)
        with sf.SoundFile(src) as fin, sf.SoundFile(tmp, "w", rate_hz, channels, writable, format=fmt) as fout:
            for block in read_blocks(fin):
                n = block.shape[0]
                fout.write(noisy_block(block, noise.take(n), eps_held(eps, n, rate_hz, frames)))
                frames += n
    moved, factor = written_shift(src, dst, eps, rate_hz)
    scores = recording_metrics(clean_16k, read_audio(dst, max_seconds=METRIC_MAX_S), perceptual)
    scores["linf_native"] = moved
    fields = {"sample_rate_hz": rate_hz, "channels": channels, "duration_s": frames / rate_hz, **scores}
    row = {k: _text(v) for k, v in fields.items()}
    row["status"] = PROTECTED
    if factor is not None:
        row["status"] = f"{OVER_BUDGET}: samples move by up to {factor:.2f} x eps after writing {fmt}/{writable}"
    return row


def written_shift(src: Path, dst: Path, eps: np.ndarray, rate_hz: int) -> tuple[float, float | None]:
    """How far the written file `dst` moved `src`'s samples, read block by block: (largest
    move over all channels, None when every sample stayed within its eps + BUDGET_SLACK,
    else the largest move / eps). A written file of another length (lossy codecs pad or trim)
    counts as cut or zero-padded to src's length."""
    largest, factor, start, over = 0.0, 0.0, 0, False
    with sf.SoundFile(src) as fin, sf.SoundFile(dst) as fout:
        for block in read_blocks(fin):
            n = block.shape[0]
            written = fout.read(n, dtype="float64", always_2d=True)
            moved = np.abs(fix_length(written.T, n).T - block).max(axis=1)
            held = eps_held(eps, n, rate_hz, start)
            largest = max(largest, float(moved.max()))
            factor = max(factor, float((moved / np.maximum(held, 1e-12)).max()))
            over |= bool((moved > held + BUDGET_SLACK).any())
            start += n
    return largest, (factor if over else None)


def _text(value: float | int | None) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else f"{value:.6g}"


def read_manifest(path: Path) -> dict[str, Row]:
    """Rows of an earlier run's manifest by input path; {} when there is none."""
    if not path.is_file():
        return {}
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != MANIFEST_FIELDS:
            raise ValueError(
                f"{path}: columns {reader.fieldnames} are not {list(MANIFEST_FIELDS)}; "
                "expected a manifest written by this tool (delete it to start over)"
            )
        return {row["path"]: row for row in reader}


def write_manifest(path: Path, rows: list[Row]) -> None:
    """Write the manifest CSV atomically (temporary file + rename)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buffer.getvalue())


def append_manifest_row(path: Path, row: Row) -> None:
    """Add one file's row to the manifest as soon as the file is written (flushed and
    fsync'ed), so a killed run's resume finds every finished file; a later row for the same
    path wins when the manifest is read, and the run's end rewrites it in order."""
    with path.open("a", newline="") as f:
        csv.DictWriter(f, fieldnames=MANIFEST_FIELDS, lineterminator="\n").writerow(row)
        f.flush()
        os.fsync(f.fileno())


def is_written(status: str) -> bool:
    """A manifest status for a file this tool wrote: protected, or over budget."""
    return status == PROTECTED or status.startswith(OVER_BUDGET)


def write_outputs(
    in_root: Path,
    out_root: Path,
    sources: list[Source],
    noise: dict[str, np.ndarray],
    budget: Budget,
    key: str,
    perceptual: bool,
    progress: bool,
    manifest: Path,
) -> dict[str, Row]:
    """Protect every source, each row appended to `manifest` as its file is done; a file that
    cannot be written gets an `error: ...` row, not an exception."""
    rows = {}
    for s in tqdm(sources, desc="writing", unit="file", disable=not progress):
        row = {"path": s.rel, "class": class_of(s.rel) or "", "noise_key": key}
        try:
            row |= protect_file(in_root / s.rel, out_root / s.rel, s.audio, noise[s.rel], budget, perceptual)
        except (ValueError, OSError, sf.SoundFileError) as err:
            row["status"] = f"error: {err}"
            tqdm.write(f"error: {err}", file=sys.stderr)
        rows[s.rel] = row
        append_manifest_row(manifest, row)
    return rows


def protect_folder(
    in_dir: str | Path,
    out_dir: str | Path,
    budget: Budget,
    minmin: MinMinConfig,
    surrogate: str = "m5",
    device: torch.device | str = "cpu",
    progress: bool = True,
    perceptual: bool = True,
    ranks: Ranks = Ranks(),
    work: str = "auto",
) -> ProtectSummary:
    """Write a protected copy of every audio file under `in_dir` to `out_dir`, plus manifest.csv.

    Args:
        in_dir: one folder per class; never written to.
        out_dir: created if needed; must not overlap `in_dir`.
        budget, minmin, surrogate: the noise recipe (budget, min-min settings, surrogate model name).
        device: where the noise is generated.
        progress: tqdm bars for reading, generation rounds and writing.
        perceptual: compute PESQ-WB and STOI per file (slow on large folders).
        ranks: this process's place under torchrun (core.noise.distributed.init_ranks).
        work: where min-min's arrays live: "auto", "memory" or "disk" (see "Memory").
    """
    start = time.perf_counter()
    in_root, out_root = check_folders(in_dir, out_dir)
    rels = list_audio_files(in_root)
    if not rels:
        raise ValueError(f"input folder {in_dir} holds no audio files; expected IN_DIR/<class>/<audio files>")
    if ranks.rank == 0:
        prepare_output(out_root)
        remove_stale_temporaries(out_root)
    manifest = out_root / MANIFEST_NAME
    previous = read_manifest(manifest)
    ranks.barrier()  # nobody writes before every rank has read what was there
    classes = sorted({c for c in map(class_of, rels) if c is not None})
    seconds = [audio_seconds(in_root / rel) for rel in rels]
    share = ranks.share(seconds) if ranks.distributed else slice(None)
    with choose_workspace(out_root, seconds[share], minmin, torch.device(device), work, ranks) as workspace:
        sources, windows, skipped, digests = read_sources(in_root, rels[share], classes, progress and ranks.rank == 0, workspace)
        keys = noise_keys(budget, minmin, surrogate, all_merged(digests, ranks), device)
        key = keys[0]
        done = {
            s.rel
            for s in sources
            if (row := previous.get(s.rel)) and is_written(row["status"]) and row["noise_key"] in keys and (out_root / s.rel).is_file()
        }
        to_write = [s for s in sources if s.rel not in done]
        noise, noise_reused = {}, True
        if any(all_gather(bool(to_write), ranks)):
            stored = [out_root / STATE_DIR_NAME / f"noise-{k}.pt" for k in keys]
            path = next((p for p in stored if p.is_file()), stored[0])
            device = torch.device(device)
            noise, noise_reused = noise_for(
                sources, windows, len(classes), budget, minmin, surrogate, path, device, progress, ranks, workspace
            )
        rows = {rel: previous[rel] for rel in done}
        for rel, why in skipped.items():
            rows[rel] = {"path": rel, "class": class_of(rel) or "", "status": f"skipped: {why}"}
        rows = all_merged(rows, ranks)
        if ranks.rank == 0:
            write_manifest(manifest, [rows[rel] for rel in rels if rel in rows])  # what is known before writing
        ranks.barrier()  # rows are appended to that manifest from here on
        written = write_outputs(in_root, out_root, to_write, noise, budget, key, perceptual, progress and ranks.rank == 0, manifest)
        every_written = all_merged(written, ranks)
        rows |= every_written
        if ranks.rank == 0:
            write_manifest(manifest, [rows[rel] for rel in rels])
        failed = sum(not is_written(row["status"]) for row in every_written.values())
        over = sum(row["status"].startswith(OVER_BUDGET) for row in every_written.values())
        return ProtectSummary(
            protected=len(every_written) - failed - over,
            over_budget=over,
            reused=sum(all_gather(len(done), ranks)),
            skipped=sum(all_gather(len(skipped), ranks)),
            failed=failed,
            windows=sum(all_gather(len(windows), ranks)),
            noise_reused=noise_reused,
            seconds=time.perf_counter() - start,
            manifest=manifest,
        )
