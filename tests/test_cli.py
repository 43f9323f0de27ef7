"""Every command, given bad arguments, ends in one line and exit status 2; never a
traceback unless --debug. The commands and their options are read from the parser, so
a new command or option is walked too.

Exit statuses: 0 done, 1 a failed run or an internal error, 2 bad input, 130
interrupted (SIGINT), 143 terminated (SIGTERM).
"""

import argparse
import errno
import math
import os
import signal
import subprocess
import sys
import time

import pytest

from abm import cli
from abm.schema import ConfigError
from abm.signals import Terminated

from .conftest import ROOT

PATH_TYPES = (cli.name_or_file, cli.existing_folder, cli.existing_file, cli.output_folder)
INPUT_TYPES = (cli.name_or_file, cli.existing_folder, cli.existing_file)


def commands() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def positionals(parser) -> list[argparse.Action]:
    """The arguments a command cannot run without."""
    return [a for a in parser._actions if not a.option_strings and a.nargs not in ("?", "*")]


def options(parser) -> list[argparse.Action]:
    return [a for a in parser._actions if a.option_strings and not isinstance(a, argparse._HelpAction)]


@pytest.fixture
def files(tmp_path, monkeypatch):
    """Paths the walk uses; the working folder is a temporary one, so a command that
    ran by mistake would write nothing into the checkout."""
    monkeypatch.chdir(tmp_path)
    binary = tmp_path / "garbage.bin"
    binary.write_bytes(bytes(range(256)) * 8)
    text = tmp_path / "garbage.txt"
    text.write_text("{{{ this is ]] not = [ a config\n\x7f\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    return {"binary": binary, "text": text, "missing": tmp_path / "missing" / "nothing.toml",
            "folder": folder, "out": tmp_path / "out"}


@pytest.fixture(autouse=True)
def no_server(monkeypatch):
    """`abm dashboard` replaces the process by Solara's server: never in these tests."""

    class Started(BaseException):
        pass

    def execve(*args):
        raise Started("abm dashboard would have started the server")

    monkeypatch.setattr(os, "execve", execve)


def filler(action, files) -> str:
    """A value that passes this positional's parsing (a command that runs with it fails
    fast or does little)."""
    if action.type is cli.existing_folder:
        return str(files["folder"])
    if action.type is cli.existing_file:
        return str(files["text"])
    if action.type is cli.output_folder:
        return str(files["out"])
    return "classroom"


def run_main(argv, capsys) -> tuple[int, str]:
    """``abm ARGV`` in this process: its exit status and stderr."""
    try:
        status = cli.main(argv)
    except SystemExit as exc:  # argparse
        status = exc.code
    return status, capsys.readouterr().err


def assert_refused(argv, status, err, mentions: str | None = None):
    where = f"abm {' '.join(a[:60] for a in argv)}"
    assert status == 2, f"{where}: exit status {status}, stderr {err[-500:]!r}"
    assert err.strip(), f"{where}: no message"
    assert "Traceback" not in err, f"{where}: {err}"
    lines = err.strip().splitlines()
    assert len(lines) <= 6, f"{where}: {len(lines)} lines: {err}"
    errors = [line for line in lines if line.startswith("abm") and "error" in line]
    assert len(errors) == 1 and lines[-1] == errors[0], f"{where}: {err}"
    assert len(errors[0]) < 2200, f"{where}: an error line of {len(errors[0])} characters"
    if mentions:
        assert mentions in err, f"{where}: the error does not name {mentions}: {err}"
    if len(lines) > 1:  # the usage shown is the command's own
        command = argv[0] if argv and argv[0] in commands() else None
        assert lines[0].startswith(f"usage: abm {command}" if command else "usage: abm"), f"{where}: {err}"


def invalid_for(action, text: str) -> bool:
    """Whether ``text`` is outside the option's declared range (worked out here, not by
    the parser's own type)."""
    kind = action.type.kind
    try:
        value = kind(text.strip())
    except (ValueError, OverflowError):
        return True
    if not math.isfinite(value):
        return True
    low, high = action.type.bounds
    too_low = low is not None and (value <= low if action.type.low_open else value < low)
    return too_low or (high is not None and value > high)


BAD_NUMBERS = ("abc", "", " ", "1.5", "1,000", "0x10", "nan", "inf", "-inf", "1e400", "-1", "0",
               str(2**64), "9" * 5000)


def test_every_numeric_option_has_bounds():
    for name, parser in commands().items():
        for action in options(parser) + positionals(parser):
            assert action.type not in (int, float), f"abm {name} {action.dest}: a number without bounds (cli.Number)"


def test_missing_required_argument_and_unknown_option_of_every_command(files, capsys):
    for name, parser in commands().items():
        required = positionals(parser)
        if required:
            argv = [name]
            assert_refused(argv, *run_main(argv, capsys), mentions="required")
        argv = [name, *(filler(a, files) for a in required), "--no-such-option"]
        assert_refused(argv, *run_main(argv, capsys), mentions="--no-such-option")
    for argv in ([], ["no-such-command"], ["--no-such-option", "list"]):
        assert_refused(argv, *run_main(argv, capsys))


def test_bad_numbers_for_every_numeric_option(files, capsys):
    tried = 0
    for name, parser in commands().items():
        base = [name, *(filler(a, files) for a in positionals(parser))]
        for action in options(parser):
            if not isinstance(action.type, cli.Number):
                continue
            low, high = action.type.bounds
            edges = [str(low - 1) if low is not None else None, str(low) if action.type.low_open else None,
                     str(high + 1) if high is not None else None]
            for text in [*BAD_NUMBERS, *filter(None, edges)]:
                if not invalid_for(action, text):
                    continue
                argv = [*base, f"{action.option_strings[-1]}={text}"]
                assert_refused(argv, *run_main(argv, capsys), mentions=action.option_strings[-1])
                tried += 1
    assert tried > 50


def test_missing_and_garbage_files_for_every_path_argument(files, capsys):
    tried = 0
    for name, parser in commands().items():
        required = positionals(parser)
        for action in required + options(parser):
            if action.type not in PATH_TYPES:
                continue
            bad = [files["binary"], files["text"]]
            if action.type in INPUT_TYPES:
                bad.append(files["missing"])
            for path in bad:
                values = [str(path) if a is action else filler(a, files) for a in required]
                argv = [name, *values] if not action.option_strings else [name, *values, action.option_strings[-1],
                                                                          str(path)]
                assert_refused(argv, *run_main(argv, capsys))
                tried += 1
    assert tried >= 20


@pytest.mark.parametrize("manifest", ["{bad json", "{}", "[1, 2]", '{"experiment": 3, "arms": {}, "baseline": "b"}',
                                      '{"experiment": "x", "arms": {}, "baseline": "b", "windows": {"long": 5}}',
                                      '{"scenario": "classroom", "seed": 1}', b"\xff\xfe\x00garbage"])
def test_report_refuses_a_malformed_manifest(tmp_path, capsys, manifest):
    path = tmp_path / "manifest.json"
    path.write_bytes(manifest if isinstance(manifest, bytes) else manifest.encode())
    (tmp_path / "runs.csv").write_text("arm,replicate,seed,status\nbaseline,0,1,ok\n")
    argv = ["report", str(tmp_path)]
    assert_refused(argv, *run_main(argv, capsys))
    assert not (tmp_path / "report.html").exists()


def test_report_refuses_a_folder_without_runs_or_with_foreign_tables(tmp_path, capsys):
    (tmp_path / "manifest.json").write_text('{"experiment": "x", "arms": {"baseline": {}}, "baseline": "baseline"}')
    argv = ["report", str(tmp_path)]
    status, err = run_main(argv, capsys)
    assert_refused(argv, status, err, mentions="runs.csv")
    (tmp_path / "runs.csv").write_text("arm,replicate,seed,status\nbaseline,0,1,ok\n")
    (tmp_path / "comparison.csv").write_text("some,other,table\n1,2,3\n")
    assert_refused(argv, *run_main(argv, capsys), mentions="comparison.csv")
    (tmp_path / "comparison.csv").write_bytes(b"\xff\xfe" * 100)
    assert_refused(argv, *run_main(argv, capsys), mentions="comparison.csv")
    (tmp_path / "comparison.csv").write_text("arm,metric,window,n,mean\nbaseline,homicides,all,1,3\n")
    assert run_main(argv, capsys)[0] == 0 and (tmp_path / "report.html").exists()


@pytest.fixture
def failing_list(monkeypatch):
    """`abm list` raising what the test says."""
    def use(exc):
        def fail(args):
            raise exc
        monkeypatch.setattr(cli, "cmd_list", fail)
    return use


def test_an_unexpected_error_is_one_line_and_exit_1_and_debug_shows_it(failing_list, capsys):
    failing_list(KeyError("boom"))
    status, err = run_main(["list"], capsys)
    assert status == 1
    assert err == "abm: internal error: KeyError: 'boom' (run with --debug for the traceback)\n"
    for argv in (["--debug", "list"], ["list", "--debug"]):
        with pytest.raises(KeyError, match="boom"):
            cli.main(argv)
    failing_list(ConfigError("x.toml: bad"))
    with pytest.raises(ConfigError):
        cli.main(["--debug", "list"])


def test_os_errors_name_the_file_and_say_whether_input_or_run_failed(failing_list, capsys):
    failing_list(OSError(errno.ENOSPC, "No space left on device", "out/runs.csv"))
    assert run_main(["list"], capsys) == (1, "abm: error: out/runs.csv: No space left on device\n")
    failing_list(PermissionError(errno.EACCES, "Permission denied", "/etc/x"))
    assert run_main(["list"], capsys) == (2, "abm: error: /etc/x: Permission denied\n")


def test_a_long_message_stays_one_line_of_bounded_length(failing_list, capsys):
    failing_list(ConfigError("x.toml: unknown keys " + ", ".join(f"k{i}" for i in range(100_000)) + "\nsecond line"))
    status, err = run_main(["list"], capsys)
    assert status == 2 and err.count("\n") == 1 and len(err) < 2200 and "more characters" in err


def test_sigterm_raises_terminated_so_finally_blocks_run(failing_list, monkeypatch, capsys):
    cleaned = []

    def work(args):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        finally:
            cleaned.append(True)

    monkeypatch.setattr(cli, "cmd_list", work)
    before = signal.getsignal(signal.SIGTERM)
    assert run_main(["list"], capsys) == (143, "abm: terminated\n")
    assert cleaned == [True]
    assert signal.getsignal(signal.SIGTERM) == before  # main() leaves the handler as it found it
    failing_list(KeyboardInterrupt())
    assert run_main(["list"], capsys) == (130, "abm: interrupted\n")
    assert issubclass(Terminated, BaseException) and not issubclass(Terminated, Exception)


def abm(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "abm", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, **kwargs)


def test_real_exit_statuses_of_the_cases_that_raised(tmp_path):
    proc = abm("run", "classroom", "--steps", "5201")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("usage: abm run") and "from 1 to 5200" in proc.stderr.splitlines()[-1]
    proc = abm("dashboard", "--port", "70000")
    assert proc.returncode == 2 and "from 1 to 65535" in proc.stderr and "Traceback" not in proc.stderr
    (tmp_path / "manifest.json").write_text("{")
    proc = abm("report", str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "malformed JSON" in proc.stderr
    proc = abm("--debug", "report", str(tmp_path))
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "ConfigError" in proc.stderr


@pytest.mark.parametrize("signum, status, line", [(signal.SIGTERM, 143, "abm: terminated"),
                                                  (signal.SIGINT, 130, "abm: interrupted")])
def test_a_signal_during_a_run_ends_it_with_its_status_and_one_line(tmp_path, signum, status, line):
    # SIGINT is restored in the child: a process started in the background may inherit it ignored.
    proc = subprocess.Popen([sys.executable, "-m", "abm", "run", "classroom", "--steps", "5200", "--out",
                             str(tmp_path / "run")], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        os.read(proc.stderr.fileno(), 1)  # the progress bar: the run has started
        time.sleep(0.5)  # not while the bar is first drawn
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = err.decode()
    assert proc.returncode == status, err
    assert err.strip().splitlines()[-1].split("\r")[-1] == line and "Traceback" not in err


def test_the_calibration_note_of_a_screening_design_stays_readable(tmp_path):
    """A design over a hundred parameters names a few and counts the rest, and names
    the design points that miss their targets rather than listing their values."""
    import json

    names = [f"youth.p{i}" for i in range(130)]
    miss = [{"metric": "homicide_rate_per_100k", "value": 3.5, "target": "40-140", "distance": 36.5,
             "tolerance": 0.0}]
    points = [{"point": k, "parameters": {n: 0.5 for n in names}, "baseline_means": miss} for k in range(5)]
    (tmp_path / "manifest.json").write_text(json.dumps({"calibration": {"moved_by": names, "points": points}}))
    note = cli.calibration_note(tmp_path)
    assert note is not None and "and 124 more changed" in note and "youth.p129" not in note
    assert "at design point 0" in note and "2 more design points" in note and len(note) < 600
