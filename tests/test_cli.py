"""The command line as a user runs it (a fresh process): a run that diverges ends the
command with exit status 1 and a message naming the method and the step, no traceback,
and writes no results."""

import os
import subprocess
import sys

import pytest

from improved_gradients.__main__ import main


def run_command(*argv, cwd):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "improved_gradients", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_sip_heat_reproduce_that_diverges_exits_with_status_1(tmp_path):
    """The test hook --test-diverge-at blows up the training batch of one step: the loss of
    that step is NaN and the run stops there (one method, batch 1, two steps: the cost is
    compiling the U-Net's training step)."""
    out = tmp_path / "out"
    done = run_command("sip-heat-reproduce", "--steps", "2", "--log-every", "1", "--batch", "1",
                       "--val-size", "1", "--methods", "Adam", "--test-diverge-at", "1",
                       "--out", str(out), cwd=tmp_path)
    assert done.returncode == 1, done.stderr[-2000:]
    assert ("sip-heat-reproduce: error: training diverged: non-finite loss at step 1 "
            "(method 'Adam')") in done.stderr
    assert "Traceback" not in done.stderr
    assert not (out / "heat_results.json").exists()


def test_sip_bench_that_diverges_exits_with_status_1(tmp_path):
    """No hook needed: SGD's learning rate 1e-2/ξ² diverges at ξ = 0.01."""
    done = run_command("sip-bench", "--xi", "0.01", "--steps", "20", "--repeats", "1",
                       cwd=tmp_path)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "sip-bench: error: SGD: the loss became non-finite at step" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_test_hook_is_documented_as_for_tests_only(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["sip-heat-reproduce", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--test-diverge-at STEP" in text and "for tests only" in text
