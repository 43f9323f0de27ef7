"""Bad input is refused with one message naming the file, the field and the problem."""

import subprocess
import sys

import pytest

from abm.config import ConfigError, load_scenario, parse_overrides

from .conftest import CONFIGS


def write(tmp_path, text, name="bad.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def refused(path, overrides=None) -> str:
    with pytest.raises(ConfigError) as info:
        load_scenario(path, overrides)
    return str(info.value)


@pytest.mark.parametrize("name", ["baseline", "classroom", "district", "city"])
def test_every_preset_is_valid(name):
    s = load_scenario(CONFIGS / f"{name}.toml")
    assert s.name == name


def test_presets_share_the_baseline_behaviour():
    base = load_scenario(CONFIGS / "baseline.toml")
    for name in ("classroom", "district", "city"):
        s = load_scenario(CONFIGS / f"{name}.toml")
        for section in ("youth", "gangs", "violence", "justice", "prison", "residents"):
            assert getattr(s, section) == getattr(base, section), (name, section)


def test_missing_file(tmp_path):
    msg = refused(tmp_path / "nope.toml")
    assert "nope.toml" in msg and "not found" in msg


def test_malformed_file(tmp_path):
    msg = refused(write(tmp_path, "[police\nofficers = 3"))
    assert "bad.toml" in msg and "not valid TOML" in msg


def test_unknown_key_names_the_path_and_the_valid_keys(tmp_path):
    msg = refused(write(tmp_path, "[police]\nofficerz = 3\n"))
    assert "bad.toml" in msg and "police.officerz" in msg and "unknown key" in msg
    assert "officers" in msg  # the valid keys are listed


def test_unknown_table(tmp_path):
    msg = refused(write(tmp_path, "[polize]\nofficers = 3\n"))
    assert "polize" in msg and "unknown key" in msg


def test_wrong_type(tmp_path):
    msg = refused(write(tmp_path, '[police]\nofficers = "many"\n'))
    assert "police.officers" in msg and "'many'" in msg


def test_out_of_range(tmp_path):
    msg = refused(write(tmp_path, "[violence]\nlethality = 1.5\n"))
    assert "violence.lethality" in msg and "<= 1" in msg and "1.5" in msg


def test_negative_count(tmp_path):
    msg = refused(write(tmp_path, "[police]\nofficers = -5\n"))
    assert "police.officers" in msg and ">= 0" in msg


def test_inconsistent_fields(tmp_path):
    msg = refused(write(tmp_path, "[run]\nsteps = 10\nburn_in = 20\n"))
    assert "run.burn_in" in msg


def test_base_chain_is_followed_and_loops_refused(tmp_path):
    write(tmp_path, 'base = "b.toml"\n', "a.toml")
    write(tmp_path, 'base = "a.toml"\n', "b.toml")
    assert "loop" in refused(tmp_path / "a.toml")


def test_missing_base(tmp_path):
    msg = refused(write(tmp_path, 'base = "gone.toml"\n'))
    assert "base" in msg and "gone.toml" in msg


def test_yaml_style_no_is_not_a_boolean(tmp_path):
    # TOML has no implicit booleans: a bare `no` is a syntax error, not False.
    msg = refused(write(tmp_path, "[city]\nsegregation = no\n"))
    assert "not valid TOML" in msg


def test_set_overrides_any_field_by_dotted_path():
    s = load_scenario(CONFIGS / "classroom.toml", parse_overrides(["police.officers=400", "violence.lethality=0.3"]))
    assert s.police.officers == 400 and s.violence.lethality == 0.3


def test_set_bad_value_is_refused():
    msg = refused(CONFIGS / "classroom.toml", parse_overrides(["police.officers=-1"]))
    assert "--set" in msg and "police.officers" in msg


def test_set_unknown_key_is_refused():
    msg = refused(CONFIGS / "classroom.toml", parse_overrides(["police.nothing=1"]))
    assert "police.nothing" in msg and "unknown key" in msg


def test_set_without_equals_is_refused():
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_overrides(["police.officers"])


@pytest.mark.parametrize(
    "args, needle",
    [
        (["run", "configs/missing.toml"], "missing.toml: file not found"),
        (["run", "configs/classroom.toml", "--set", "police.officers=-3"], "police.officers: must be >= 0"),
        (["run", "configs/classroom.toml", "--set", "police.officerz=3"], "police.officerz: unknown key"),
        (["validate", "configs/classroom.toml", "--set", "city.segregation=2"], "city.segregation: must be <= 1"),
    ],
)
def test_command_line_refuses_with_exit_2_and_no_traceback(args, needle):
    proc = subprocess.run([sys.executable, "-m", "abm", *args], capture_output=True, text=True, cwd=CONFIGS.parent)
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_command_line_bad_steps_exit_2():
    proc = subprocess.run([sys.executable, "-m", "abm", "run", "configs/classroom.toml", "--steps", "0"],
                          capture_output=True, text=True, cwd=CONFIGS.parent)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "--steps" in proc.stderr


def test_configs_are_data_never_executed(tmp_path):
    # A string that would run code if evaluated stays a string and is refused by type.
    path = write(tmp_path, '[police]\nofficers = "__import__(\'os\').system(\'touch pwned\')"\n')
    refused(path)
    assert not (tmp_path / "pwned").exists()
