"""The protocol: data file + bench base config -> one BenchConfig; overrides only when given."""

from __future__ import annotations

import pytest

from bench.config import CONFIG_DIR
from core.config import from_dict, read_merged
from core.data.ten_words import ten_words_root
from core.noise.recipe import GenerationConfig
from leaderboard.protocol import (
    PROTOCOL_FILE,
    QUICK,
    REPO_ROOT,
    protocol_config,
    protocol_data,
    protocol_hash,
)

BUDGET = {"kind": "constant", "eps": 0.08}


def test_protocol_settings():
    cfg = protocol_config(BUDGET)
    assert cfg.data.source == "speech_commands"
    assert cfg.data.root == str(ten_words_root())  # ../shared beside the repository, else the fetch's cache
    assert cfg.victims.models == ("m5", "logmel_cnn", "bc_resnet") and cfg.victims.seeds == (0,) and cfg.victims.epochs == 20
    core = read_merged(CONFIG_DIR / "thieves_core.toml")  # the thief matrix's core
    assert cfg.defenses == tuple(core["defenses"]) and cfg.victims.thieves == core["victims"]["thieves"]
    assert cfg.metrics.max_perceptual_clips == 500 and cfg.metrics.perceptual
    assert cfg.budget == BUDGET and cfg.has_noise


def test_generation_comes_from_the_bench_base_config():
    base = read_merged(CONFIG_DIR / "_base.toml")["generation"]
    assert protocol_config(BUDGET).generation == from_dict(GenerationConfig, base, "generation.")


def test_overrides_and_data_root(tmp_path):
    quick = protocol_config(BUDGET, overrides=QUICK)
    assert quick.data.source == "embedded" and quick.data.max_train_per_class == 4
    assert quick.generation.max_rounds == 1 and quick.victims.epochs == 1
    moved = protocol_config(BUDGET, data_root=tmp_path)
    assert moved.data.source == "speech_commands" and moved.data.root == str(tmp_path)
    assert protocol_config(BUDGET, data_root="rel", repo_root=tmp_path).data.root == str(tmp_path / "rel")


def test_hash_ignores_budget_and_data_location_but_not_settings(tmp_path):
    plain = protocol_hash(protocol_config(BUDGET))
    assert plain == protocol_hash(protocol_config({"kind": "none"}, data_root=tmp_path))
    assert plain != protocol_hash(protocol_config(BUDGET, overrides=QUICK))


def test_protocol_file_version_must_match_the_code(tmp_path):
    assert "protocol" not in protocol_data()
    edited = tmp_path / "protocol.toml"
    edited.write_text(PROTOCOL_FILE.read_text().replace("version = 2", "version = 3").replace("../bench", str(REPO_ROOT / "bench")))
    with pytest.raises(ValueError, match=r"\[protocol\] must be exactly"):
        protocol_data(edited)


def test_a_submissions_generation_choices_reach_the_run_but_not_the_protocol_hash():
    chosen = protocol_config(BUDGET, {"augment": True, "surrogate": "m5+logmel_cnn"}, overrides=QUICK)
    assert chosen.generation.augment and chosen.generation.surrogate == "m5+logmel_cnn"
    assert chosen.generation.max_rounds == 1  # the rest of the recipe stays the protocol's
    assert not protocol_config(BUDGET).generation.augment
