"""Reading audio and datasets into ClipSets: Speech Commands, class folders, the embedded sample."""

from core.data.audio_io import (
    AudioError,
    fix_length,
    load_clip,
    read_audio,
    write_audio_atomic,
)
from core.data.class_folders import load_class_folders
from core.data.clips import ClipSet
from core.data.embedded import EMBEDDED_ROOT, load_embedded
from core.data.speech_commands import download_speech_commands, load_speech_commands

__all__ = [
    "EMBEDDED_ROOT",
    "AudioError",
    "ClipSet",
    "download_speech_commands",
    "fix_length",
    "load_class_folders",
    "load_clip",
    "load_embedded",
    "load_speech_commands",
    "read_audio",
    "write_audio_atomic",
]
