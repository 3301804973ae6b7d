import pytest

from ganforge.config import parse_overrides, preset_names
from ganforge.errors import GanforgeError
from ganforge.families import load_config


def test_default_config_is_the_digits_preset():
    cfg = load_config()
    assert cfg.preset == "default" and cfg.data.name == "digits"


def test_a_step_count_clears_the_presets_time_budget(tmp_path):
    assert load_config().train.minutes == 4.5 and load_config().train.amp == "auto"
    for options, overrides in (({"train": {"steps": 7}}, None), (None, ["train.steps=7"])):
        cfg = load_config("default", options=options, overrides=overrides)
        assert cfg.train.steps == 7 and cfg.train.minutes is None
    cfg = load_config("default", overrides=["train.steps=7", "train.minutes=2"])
    assert cfg.train.minutes == 2  # both asked: the budget stays
    assert load_config("default", overrides=["train.seed=3"]).train.minutes == 4.5  # other keys leave it
    run_config = tmp_path / "config.yaml"  # a budgeted run's record keeps its budget
    run_config.write_text("train:\n  steps: 4379\n  minutes: 4.5\n")
    assert load_config("default", run_config).train.minutes == 4.5


def test_overrides_are_typed_and_nested():
    assert parse_overrides(["optim.g_lr=1e-4", "data.augment=[flip, rotate]", "train.amp=bf16"]) == {
        "optim": {"g_lr": 1e-4},
        "data": {"augment": ["flip", "rotate"]},
        "train": {"amp": "bf16"},
    }
    cfg = load_config("default", overrides=["optim.g_lr=1e-4", "optim.d_betas=[0.0, 0.9]"])
    assert cfg.optim.g_lr == 1e-4 and cfg.optim.d_betas == (0.0, 0.9)


def test_unknown_key_gets_a_suggestion():
    with pytest.raises(GanforgeError, match=r"unknown key 'optim.g_lrr'; did you mean 'optim.g_lr'"):
        load_config(overrides=["optim.g_lrr=1e-4"])
    with pytest.raises(GanforgeError, match=r"did you mean 'model.g_width'"):
        load_config(overrides=["model.g_widht=32"])


def test_wrong_type_names_the_key():
    with pytest.raises(GanforgeError, match=r"optim.g_lr"):
        load_config(overrides=["optim.g_lr=fast"])
    with pytest.raises(GanforgeError, match=r"data.batch_size"):
        load_config(overrides=["data.batch_size=-3"])


def test_switching_arch_drops_the_old_arch_keys():
    cfg = load_config("article-mlp-mnist", overrides=["model.arch=resnet"])
    assert cfg.model.arch == "resnet"
    with pytest.raises(GanforgeError, match="unknown model arch 'transformer'.*dcgan"):
        load_config(overrides=["model.arch=transformer"])


def test_every_preset_validates_and_round_trips(tmp_path):
    for name in preset_names():
        cfg = load_config(name)
        path = tmp_path / f"{name}.yaml"
        path.write_text(cfg.to_yaml())
        assert load_config(None, path) == cfg


def test_config_file_layer_and_errors(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  steps: 7\n")
    assert load_config("default", path).train.steps == 7
    with pytest.raises(GanforgeError, match="not found"):
        load_config("default", tmp_path / "missing.yaml")
    path.write_text("- a list\n")
    with pytest.raises(GanforgeError, match="mapping"):
        load_config("default", path)


def test_unknown_preset_lists_known_ones():
    with pytest.raises(GanforgeError, match="article-mlp-mnist"):
        load_config("nosuchpreset")
    with pytest.raises(GanforgeError, match="KEY=VALUE"):
        parse_overrides(["justakey"])
