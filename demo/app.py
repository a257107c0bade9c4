"""python demo/app.py [--host H] [--port P] [--root DIR]: the Gradio demo (five tabs), on the CPU, offline.

Only layout and wiring live here; every handler is a plain function in demo/handlers.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from functools import partial
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # `python demo/app.py` puts demo/, not the root, on the path
    sys.path.insert(0, str(REPO_ROOT))

import gradio as gr  # noqa: E402
import torch  # noqa: E402

from demo import handlers  # noqa: E402
from demo.examples import ASSETS_DIR, INDEX_FILE  # noqa: E402
from demo.table_editor import COLUMNS, paper_rows  # noqa: E402
from leaderboard.entries import LEADERBOARD_ROOT  # noqa: E402

CONCURRENCY_LIMIT = 2
"""Requests computed at once over the whole app; more wait in the queue (a CPU Space has two
cores). Every event shares one concurrency group (COMPUTE): Gradio's own default limit
counts per event listener, which let about 12 jobs run at once."""
COMPUTE = {"concurrency_id": "compute", "concurrency_limit": CONCURRENCY_LIMIT}
QUEUE_SIZE = 32
"""Requests waiting beyond this are refused at once rather than queued for minutes."""
MAX_UPLOAD = "20mb"
INTRO = """# Unlearnable audio
Error-minimizing noise makes a speech clip useless for *training* a classifier while a listener
still hears the words. The noise here is made against a small bundled surrogate (an M5 trained
for 8 epochs on 838 Speech Commands clips), within per-segment epsilon budgets from a mask table.
**Start here:** pick an example and a configuration below and play the protected clip; "See it
work" trains two models, on clean and on protected clips; then try your own clip in "Protect your own audio".
"""
TERMS = """- **Unlearnable / error-minimizing noise**: noise that makes a model's training loss small
  without learning the words (a shortcut), so a model trained on protected clips fails on clean ones.
- **Surrogate**: the model the noise is made against; a thief's own model is another one.
- **M5**: a small convolutional network on raw waveforms (the PyTorch speech-command tutorial's).
- **Epsilon budget (eps)**: the largest change any sample may get; waveforms lie in [-1, 1].
- **Mask table**: the paper's rule that gives quiet segments a smaller eps than loud ones: each
  1000-sample segment's mean |amplitude| picks a mask, and mask x eps_max is its eps.
- **Amplitude envelope**: a bound that rises and falls with the clip's loudness, so the noise
  hides under the speech.
- **PESQ-WB** (1-4.5) and **STOI** (0-1): how close the protected clip sounds to the clean one;
  higher is closer. **SNR**: signal-to-noise ratio in dB.
- **Worst-case peak accuracy**: the best a thief's model reached on clean test clips over the
  leaderboard's thieves (augmentation, resampling, a codec, three model families); chance is 10%.
"""


CSS = """
/* Phones: table cells wrap between words, never inside one ("SN R", "PESQ -WB"); a table
   wider than the screen scrolls sideways instead. */
.prose table { display: block; overflow-x: auto; }
.prose th, .prose td { word-break: normal; overflow-wrap: normal; hyphens: none; }
"""


def theme() -> gr.themes.Base:
    """The default theme with system fonts: the page loads nothing from the internet."""
    return gr.themes.Default(
        font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
    )


def build_app(out_root: Path | None = None, index_file: Path = INDEX_FILE, root: Path = LEADERBOARD_ROOT) -> gr.Blocks:
    """The app's Blocks. Files it writes (WAVs, figures, exports) go under `out_root`
    (a new temporary folder by default); examples come from `index_file`, the leaderboard
    from `root`."""
    out_root = Path(out_root or tempfile.mkdtemp(prefix="unlearnable-demo-"))
    examples = handlers.example_choices(index_file)
    first_example = examples[0][1]
    with gr.Blocks(title="Unlearnable audio", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(INTRO)
        with gr.Accordion("Terms used here", open=False):
            gr.Markdown(TERMS)
        _listen_tab(demo, examples, first_example, out_root, index_file, root)
        _learning_tab(demo, out_root)
        _protect_tab(out_root)
        _table_tab(examples, first_example, out_root, index_file)
        _leaderboard_tab(demo, out_root, root)
    return demo


def _listen_tab(
    demo: gr.Blocks, examples: list[tuple[str, str]], first: str, out_root: Path, index_file: Path, root: Path
) -> None:
    configs = handlers.config_choices(index_file, root)
    with gr.Tab("Listen and compare"):
        with gr.Row():
            example = gr.Dropdown(examples, value=first, label="Example clip", elem_id="listen-example")
            config = gr.Dropdown(configs, value="dynamic_013", label="Configuration", elem_id="listen-config")
        with gr.Row():
            clean = gr.Audio(label="Clean", type="filepath", interactive=False)
            protected = gr.Audio(label="Protected", type="filepath", interactive=False)
            with gr.Column():
                noise = gr.Audio(label="Noise alone", type="filepath", interactive=False)
                gain = gr.Slider(-20, 40, value=0, step=1, label="Noise gain (dB)")
                gain_note = gr.Markdown()
        metrics = gr.Markdown(elem_id="listen-metrics")
        segments = gr.Image(label="Segments: mean |amplitude| and eps per segment", type="filepath")
        spectrogram = gr.Image(label="Spectrograms: clean, protected, noise", type="filepath")
        noise_state = gr.State()
        listen = partial(handlers.listen, out_root=out_root, index_file=index_file, root=root)
        outputs = [clean, protected, noise, segments, spectrogram, metrics, noise_state]
        gr.on([demo.load, example.change, config.change], listen, [example, config, gain], outputs, api_name="listen", **COMPUTE)
        gain.release(partial(handlers.noise_audio, out_root=out_root), [noise_state, gain], noise, api_name="noise_audio", **COMPUTE)
        gain.release(handlers.clipping_note, [noise_state, gain], gain_note, **COMPUTE)


def _protect_tab(out_root: Path) -> None:
    with gr.Tab("Protect your own audio"):
        with gr.Row():
            with gr.Column():
                upload = gr.Audio(
                    sources=["upload", "microphone"],
                    type="filepath",
                    label="Your clip: up to 30 s, any sample rate, mono or stereo",
                    elem_id="protect-input",
                )
                kind = gr.Radio(
                    list(handlers.BUDGET_KINDS),
                    value=handlers.BUDGET_KINDS[0],
                    label="Budget",
                    info="The amplitude envelope keeps the noise about 19 dB under the speech wherever the speech is "
                    "(0.2 x its 25-ms mean |x|, cap 0.08, below 4 kHz: the leaderboard's inband_envelope_020_eot_ens, "
                    "PESQ-WB about 3.1 where the paper's table gives about 1.3). Here the noise is made against the "
                    "demo's one M5, not the entry's ensemble through augmentation, so it protects less.",
                )
                with gr.Row():
                    eps_max = gr.Number(0.13, label="eps_max (mask table)", minimum=0.001, maximum=0.25, step=0.01)
                    eps = gr.Number(0.08, label="eps (constant)", minimum=0.001, maximum=0.25, step=0.01, visible=False)
                label = gr.Dropdown(handlers.label_choices(), value=handlers.AUTO_LABEL, label="Label (auto: the surrogate's guess)")
                button = gr.Button("Protect", variant="primary", elem_id="protect-button")
            with gr.Column():
                status = gr.Markdown(elem_id="protect-status")
                protected = gr.Audio(label="Protected", type="filepath", interactive=False)
                download = gr.File(label="Protected WAV", interactive=False, elem_id="protect-download")
                metrics = gr.Markdown()
        protect = partial(handlers.protect_upload, out_root=out_root)
        upload.change(handlers.check_upload, [upload], [status], **COMPUTE)
        kind.change(handlers.budget_boxes, [kind], [eps_max, eps], **COMPUTE)
        button.click(protect, [upload, kind, eps, eps_max, label], [protected, download, metrics, status], api_name="protect", **COMPUTE)


def _table_tab(examples: list[tuple[str, str]], first: str, out_root: Path, index_file: Path) -> None:
    with gr.Tab("Mask table editor"):
        gr.Markdown(
            "A segment takes the mask of the first row whose threshold its level strictly exceeds (the last row "
            "takes every quieter segment); mask x eps_max bounds the noise there. Rows: thresholds strictly "
            "decreasing, masks in [0, 1]."
        )
        with gr.Row():
            with gr.Column():
                rows = gr.Dataframe(
                    value=paper_rows(),
                    headers=list(COLUMNS),
                    datatype=["number", "number"],
                    column_count=2,
                    interactive=True,
                    label="Mask table (threshold, mask)",
                    elem_id="table-rows",
                )
                with gr.Row():
                    eps_max = gr.Number(0.13, label="eps_max", elem_id="table-eps-max")
                    segment_samples = gr.Number(1000, precision=0, label="segment_samples")
                    level = gr.Radio(["mean_abs", "rms"], value="mean_abs", label="level")
                clip = gr.Dropdown(examples, value=first, label="Preview on")
                preview = gr.Button("Preview", elem_id="table-preview")
            with gr.Column():
                figure = gr.Image(label="eps per segment on the clip", type="filepath")
                status = gr.Markdown(elem_id="table-status")
        with gr.Row():
            name = gr.Textbox(label="Submission name (a-z, 0-9, _ and -)", value="my_table", elem_id="table-name")
            authors = gr.Textbox(label="Authors (comma-separated)", value="", elem_id="table-authors")
            link = gr.Textbox(label="Link (optional)", value="")
        description = gr.Textbox(label="Description", value="", elem_id="table-description")
        export = gr.Button("Export submission TOML", variant="primary", elem_id="table-export")
        exported = gr.File(label="Submission file", interactive=False, elem_id="table-download")
        export_status = gr.Markdown(elem_id="export-status")
        table = [rows, eps_max, segment_samples, level]
        preview_fn = partial(handlers.table_preview, out_root=out_root, index_file=index_file)
        preview.click(preview_fn, [*table, clip], [figure, status], api_name="table_preview", **COMPUTE)
        export_fn = partial(handlers.table_export, out_root=out_root)
        export.click(export_fn, [*table, name, authors, description, link], [exported, export_status], api_name="table_export", **COMPUTE)


def _leaderboard_tab(demo: gr.Blocks, out_root: Path, root: Path) -> None:
    with gr.Tab("Leaderboard"):
        note = gr.Markdown(elem_id="board-note")
        detail = gr.Checkbox(False, label="Every cell (each victim and thief, the budget, the date)", elem_id="board-detail")
        board = gr.Dataframe(interactive=False, label="Scored entries", elem_id="board")
        plot = gr.Image(label="Worst-case peak accuracy against PESQ-WB", type="filepath")
        refresh = gr.Button("Refresh")
        view = partial(handlers.leaderboard_view, out_root, root)
        gr.on([demo.load, refresh.click, detail.change], view, [detail], [board, plot, note], api_name="leaderboard", **COMPUTE)


def _learning_tab(demo: gr.Blocks, out_root: Path) -> None:
    with gr.Tab("See it work"):
        gr.Markdown(
            "Protection is about *training*: a model that learns from protected clips should fail on real ones. "
            "Two identical M5 models train on the embedded sample's 838 clips, one on the clips as they are, one "
            "on the same clips protected (the paper's mask table); both are tested on 202 clean clips after every epoch."
        )
        with gr.Row():
            precomputed = gr.Image(label="Precomputed: accuracy per epoch, 20 epochs", type="filepath", elem_id="learning-precomputed")
            live = gr.Image(label="Your run: accuracy per epoch, trained just now", type="filepath", elem_id="learning-live")
        with gr.Row():
            reading = gr.Markdown(elem_id="learning-reading")
            live_reading = gr.Markdown(elem_id="learning-live-reading")
        lo, hi = handlers.LIVE_EPOCHS
        with gr.Row():
            epochs = gr.Slider(lo, hi, value=8, step=1, label="Epochs (each trains both models: seconds on a CPU)", elem_id="learning-epochs")
            train = gr.Button("Train both models now", variant="primary", elem_id="learning-train")
        demo.load(partial(handlers.learning_intro, out_root), None, [precomputed, reading], api_name="learning_intro", **COMPUTE)
        train.click(partial(handlers.learning_run, out_root=out_root), [epochs], [live, live_reading], api_name="learning_run", **COMPUTE)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python demo/app.py", description=__doc__.splitlines()[0])
    p.add_argument("--host", help="address to serve on (default: Gradio's, 127.0.0.1 or $GRADIO_SERVER_NAME)")
    p.add_argument("--port", type=int, help="port (default: Gradio's, 7860 or $GRADIO_SERVER_PORT)")
    p.add_argument("--root", type=Path, default=LEADERBOARD_ROOT, help="leaderboard folder (default: the package's)")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    # One torch thread per request: with two OpenMP threads per request on a busy two-core
    # machine, protecting a 1-s clip took 1.9 s instead of 0.06 s (threads wait on each other).
    torch.set_num_threads(1)
    demo = build_app(root=args.root)
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY_LIMIT).launch(
        server_name=args.host,
        server_port=args.port,
        max_file_size=MAX_UPLOAD,
        allowed_paths=[str(ASSETS_DIR)],
        theme=theme(),
        css=CSS,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
