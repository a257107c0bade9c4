"""Bench configs: includes, validation naming the key, overrides."""

import pytest

from bench.config import list_configs, load_config


def test_shipped_configs_load_and_validate():
    names = list_configs()
    assert {"clean", "constant_008", "dynamic_013", "dynamic_013_classwise", "dynamic_018_inband"} <= set(names)
    for name in names:
        cfg = load_config(name)
        assert cfg.name == name
    assert load_config("dynamic_013").budget["eps_max"] == 0.13
    assert load_config("constant_008").budget == {"kind": "constant", "eps": 0.08}
    assert load_config("dynamic_013_classwise").generation.classwise is True
    inband = load_config("dynamic_018_inband").budget
    assert inband == {**load_config("dynamic_013").budget, "eps_max": 0.18, "band_limit_hz": 4000}
    assert not load_config("clean").has_noise


def write(tmp_path, text, name="c.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_include_merges_tables_and_top_level_replaces(tmp_path):
    write(tmp_path, '[victims]\nepochs = 7\nseeds = [4]\n[budget]\nkind = "constant"\neps = 0.05\n', "base.toml")
    cfg = load_config(write(tmp_path, 'include = "base.toml"\n[victims]\nepochs = 3\n'))
    assert cfg.victims.epochs == 3 and cfg.victims.seeds == (4,)
    assert cfg.budget == {"kind": "constant", "eps": 0.05}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[victims]\nepoch = 3\n", r"unknown key\(s\) \['victims.epoch'\]"),
        ("colour = 1\n", r"unknown key\(s\) \['colour'\]"),
        ('[victims]\nepochs = "3"\n', "victims.epochs must be int"),
        ('[budget]\nkind = "constant"\neps = 2.0\n', "eps_linf must lie in"),
        ('[generation]\nsurrogate = "vgg"\n', "unknown model 'vgg'"),
        ('[[defenses]]\nkind = "jpeg"\n', "unknown defense 'jpeg'"),
        ('[data]\nsource = "speech_commands"\n', "needs data.root"),
        ('include = "c.toml"\n', "include cycle"),
        ("this is = not toml = \n", "not valid TOML"),
        ("[victims]\nlr = 1" + "0" * 400 + "\n", "victims.lr must be a number a float can hold"),
        ('[victims]\nthieves = { bc_resnet = ["none"] }\n', "names 'bc_resnet', which is not in victims.models"),
        ('[victims]\nthieves = { m5 = [] }\n', "victims.thieves.m5 must be a non-empty list"),
        ('[victims]\nthieves = { m5 = ["jpeg"] }\n', r"victims.thieves.m5: unknown thief \['jpeg'\]"),
    ],
)
def test_invalid_configs_name_the_problem(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        load_config(write(tmp_path, text))


def test_unknown_config_name_lists_known_ones():
    with pytest.raises(ValueError, match="unknown config 'nope'.*dynamic_013"):
        load_config("nope")


def test_overrides_are_applied_and_validated():
    cfg = load_config("dynamic_013", {"victims": {"epochs": 2, "seeds": [1, 2]}, "data": {"source": "speech_commands", "root": "/x"}})
    assert cfg.victims.epochs == 2 and cfg.victims.seeds == (1, 2) and cfg.data.root == "/x"
    with pytest.raises(ValueError, match="victims: victim epochs must be a positive integer, got 0"):
        load_config("dynamic_013", {"victims": {"epochs": 0}})


def test_per_model_thieves_pick_cells(tmp_path):
    text = '[victims]\nmodels = ["m5", "bc_resnet"]\nthieves = { bc_resnet = ["resample"] }\n[[defenses]]\nkind = "resample"\n'
    cfg = load_config(write(tmp_path, text))
    assert cfg.victims.trains_under("m5", "none") and cfg.victims.trains_under("bc_resnet", "resample")
    assert not cfg.victims.trains_under("bc_resnet", "none")
    assert load_config("dynamic_013").to_dict()["victims"]["thieves"] == {}


def test_hash_is_stable_and_sensitive():
    assert load_config("dynamic_013").hash() == load_config("dynamic_013").hash()
    assert load_config("dynamic_013").hash() != load_config("dynamic_013", {"victims": {"epochs": 2}}).hash()
