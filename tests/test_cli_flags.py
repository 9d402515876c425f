"""Bad flags and bad paths for every command: exit status 2, a message naming the flag or path, no traceback.

Each case runs the real command line in a subprocess. Nothing here simulates: every case must be refused before
any work starts, so the whole file takes seconds.
"""

from __future__ import annotations

import re

import pytest
from cli_runner import ROOT, bposim

HELPDESK = "models/helpdesk.yaml"
SHIFTS = "models/helpdesk_shifts.yaml"
SWEEP = "experiments/outage_staffing.yaml"
ERLANG = ("erlang", "--calls-per-hour", "200", "--handle-seconds", "300")
A_FILE = "README.md"  # a file where a directory is wanted

CASES = {
    # run
    "run-seed-negative": (("run", HELPDESK, "--seed", "-1"), "--seed"),
    "run-seed-text": (("run", HELPDESK, "--seed", "abc"), "--seed"),
    "run-replications-zero": (("run", HELPDESK, "--replications", "0"), "--replications"),
    "run-replications-negative": (("run", HELPDESK, "--replications", "-3"), "--replications"),
    "run-replications-fraction": (("run", HELPDESK, "--replications", "2.5"), "--replications"),
    "run-replications-billion": (("run", HELPDESK, "--replications", "1000000000"), "--replications"),
    "run-format-unknown": (("run", HELPDESK, "--format", "xml"), "--format"),
    "run-out-is-a-file": (("run", HELPDESK, "--out", A_FILE), A_FILE),
    "run-report-without-out": (("run", HELPDESK, "--report"), "--report"),
    "run-file-missing": (("run", "models/no_such_model.yaml"), "no_such_model.yaml: file not found"),
    "run-file-is-a-directory": (("run", "models"), "models"),
    "run-unknown-flag": (("run", HELPDESK, "--colour", "blue"), "--colour"),
    # sweep
    "sweep-workers-zero": (("sweep", SWEEP, "--workers", "0"), "--workers"),
    "sweep-workers-text": (("sweep", SWEEP, "--workers", "many"), "--workers"),
    "sweep-workers-a-hundred-thousand": (("sweep", SWEEP, "--workers", "100000"), "--workers: 100,000 worker"),
    "sweep-scheduler-nonsense": (("sweep", SWEEP, "--scheduler", "nonsense"), "--scheduler"),
    "sweep-scheduler-nobody-listens": (("sweep", SWEEP, "--scheduler", "tcp://127.0.0.1:1"), "--scheduler"),
    "sweep-scheduler-empty": (("sweep", SWEEP, "--scheduler", ""), "--scheduler"),
    "sweep-out-is-a-file": (("sweep", SWEEP, "--out", A_FILE), A_FILE),
    "sweep-file-missing": (("sweep", "experiments/no_such.yaml"), "no_such.yaml: file not found"),
    "sweep-scenario-given": (("sweep", HELPDESK), "model"),
    # report
    "report-missing-directory": (("report", "out/no_such_results"), "no_such_results"),
    "report-of-a-file": (("report", A_FILE), A_FILE),
    "report-of-an-empty-directory": (("report", "tests/__pycache_does_not_exist__"), "__pycache_does_not_exist__"),
    # validate and schema
    "validate-missing": (("validate", "models/none.yaml"), "models/none.yaml: file not found"),
    "validate-directory": (("validate", "models"), "models"),
    "validate-no-argument": (("validate",), "Missing argument"),
    "schema-extra-argument": (("schema", "extra"), "extra"),
    # erlang
    "erlang-rate-missing": (("erlang", "--handle-seconds", "300"), "--calls-per-hour"),
    "erlang-rate-negative": (("erlang", "--calls-per-hour", "-5", "--handle-seconds", "300"), "--calls-per-hour"),
    "erlang-rate-text": (("erlang", "--calls-per-hour", "lots", "--handle-seconds", "300"), "--calls-per-hour"),
    "erlang-rate-inf": (("erlang", "--calls-per-hour", "inf", "--handle-seconds", "300"), "--calls-per-hour"),
    "erlang-rate-nan": (("erlang", "--calls-per-hour", "nan", "--handle-seconds", "300"), "--calls-per-hour"),
    "erlang-handle-zero": (("erlang", "--calls-per-hour", "200", "--handle-seconds", "0"), "--handle-seconds"),
    "erlang-handle-inf": (("erlang", "--calls-per-hour", "200", "--handle-seconds", "inf"), "--handle-seconds"),
    "erlang-handle-nan": (("erlang", "--calls-per-hour", "200", "--handle-seconds", "nan"), "--handle-seconds"),
    "erlang-threshold-negative": ((*ERLANG, "--threshold-seconds", "-1"), "--threshold-seconds"),
    "erlang-threshold-nan": ((*ERLANG, "--threshold-seconds", "nan"), "--threshold-seconds"),
    "erlang-threshold-inf": ((*ERLANG, "--threshold-seconds", "inf"), "--threshold-seconds"),
    "erlang-target-above-one": ((*ERLANG, "--target", "1.5"), "--target"),
    "erlang-target-negative": ((*ERLANG, "--target", "-0.1"), "--target"),
    "erlang-target-nan": ((*ERLANG, "--target", "nan"), "--target"),
    "erlang-patience-zero": ((*ERLANG, "--patience-seconds", "0"), "--patience-seconds"),
    "erlang-patience-inf": ((*ERLANG, "--patience-seconds", "inf"), "--patience-seconds"),
    "erlang-patience-nan": ((*ERLANG, "--patience-seconds", "nan"), "--patience-seconds"),
    "erlang-agents-text": ((*ERLANG, "--agents", "many"), "--agents"),
    "erlang-agents-reversed": ((*ERLANG, "--agents", "20-10"), "--agents"),
    "erlang-agents-zero": ((*ERLANG, "--agents", "0"), "--agents"),
    "erlang-agents-huge-range": ((*ERLANG, "--agents", "1-1000000"), "--agents"),
    "erlang-format-unknown": ((*ERLANG, "--format", "xml"), "--format"),
    # staff
    "staff-target-above-one": (("staff", SHIFTS, "--target", "1.5/20"), "--target"),
    "staff-target-text": (("staff", SHIFTS, "--target", "high"), "--target"),
    "staff-target-no-threshold": (("staff", SHIFTS, "--target", "0.8/"), "--target"),
    "staff-target-threshold-negative": (("staff", SHIFTS, "--target", "0.8/-1"), "--target"),
    "staff-target-nan": (("staff", SHIFTS, "--target", "nan/20"), "--target"),
    "staff-target-threshold-inf": (("staff", SHIFTS, "--target", "0.8/inf"), "--target"),
    "staff-replications-zero": (("staff", SHIFTS, "--replications", "0"), "--replications"),
    "staff-replications-billion": (("staff", SHIFTS, "--replications", "1000000000"), "--replications"),
    "staff-max-rounds-zero": (("staff", SHIFTS, "--max-rounds", "0"), "--max-rounds"),
    "staff-trim-trials-negative": (("staff", SHIFTS, "--trim-trials", "-1"), "--trim-trials"),
    "staff-seed-negative": (("staff", SHIFTS, "--seed", "-1"), "--seed"),
    "staff-no-scheduling-section": (("staff", HELPDESK), "no scheduling section"),
    "staff-out-under-a-file": (("staff", SHIFTS, "--out", f"{A_FILE}/roster.yaml"), A_FILE),
    "staff-report-under-a-file": (("staff", SHIFTS, "--report", f"{A_FILE}/roster.html"), A_FILE),
}


def _plain(text: str) -> str:
    """The message with the boxes the command line draws around usage errors taken out, on one line."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_flag_is_refused_with_its_name(case, tmp_path):
    args, expected = CASES[case]
    results = tmp_path / "results"
    if args[0] in ("sweep", "run") and "--out" not in args and "--report" not in args:
        args = (*args, "--out", results)  # so that what a refused command writes can be seen
    result = bposim(*args, timeout=60)  # refused before any work: seconds, not minutes
    message = _plain(result.stderr + result.stdout)
    assert result.returncode == 2, (result.returncode, message)
    assert "Traceback" not in result.stderr, result.stderr
    assert expected in message, message
    assert not results.exists(), "a refused command wrote its results directory"
    assert (ROOT / A_FILE).is_file()
