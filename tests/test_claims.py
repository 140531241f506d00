"""The registry of claims (``claims``), the shared page tools (``common``) and the
long-budget record modules of the heat and oscillator pages."""

import json
import math
import pathlib
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from improved_gradients import claims, common, discussion_experiments  # noqa: E402
from improved_gradients.heat_experiments import claims as heat_claims  # noqa: E402
from improved_gradients.heat_experiments import record as heat_record  # noqa: E402
from improved_gradients.hig_oscillators_experiments import claims as hig_oscillators_claims  # noqa: E402
from improved_gradients.hig_oscillators_experiments import record as hig_oscillators_record  # noqa: E402

ROOT = pathlib.Path(__file__).parents[1]


def test_the_ladder_climbs_and_marks_the_threshold():
    assert claims.ladder(12.0, 10, 3) == ("yes", False)
    assert claims.ladder(5.0, 10, 3) == ("partly", False)
    assert claims.ladder(1.0, 10, 3) == ("no", False)
    assert claims.ladder(9.9, 10, 3) == ("partly", True)       # 1 % below yes
    assert claims.ladder(0.002095, 0.0021, 0.0042, higher=False) == ("yes", True)
    assert claims.ladder(0.515, 0.5, 0.2) == ("yes", True)
    assert claims.ladder(0.9, 1.0) == ("no", False)            # no middle rung
    with pytest.raises(ValueError, match="far side"):
        claims.ladder(1.0, 10, 30)


def test_within_factor_and_combine():
    assert claims.within_factor(15.7, 25.0)[:2] == ("yes", False)
    assert claims.within_factor(7.07, 25.0)[:2] == ("partly", False)
    assert claims.within_factor(1.0, 25.0)[:2] == ("no", False)
    assert claims.combine(("yes", False), ("partly", True)) == ("partly", True)
    assert claims.combine(("yes", True), ("no", False)) == ("no", False)
    with pytest.raises(ValueError, match="positive"):
        claims.within_factor(0.0, 1.0)


def test_a_claim_is_found_by_name_and_judged_at_every_budget():
    claim = claims.register(claims.Claim(
        name="test-claims/ratio", page="test-claims", statement="A beats B tenfold",
        source="10× {cite:p}`holl2022sip`", quantity="B / A", rule="yes ≥ 10, partly ≥ 3",
        judge=lambda e: claims.Verdict(e["r"], f"{e['r']:g}", *claims.ladder(e["r"], 10, 3))))
    assert claims.claim("test-claims/ratio") is claim
    assert claims.register(claim) is claim                  # the same record again: fine
    judged = claims.judge_page("test-claims", {"book: 5 s": {"r": 4.0}, "record (1 h)": {"r": 11.0}})
    assert [j.result.verdict for j in judged["test-claims/ratio"]] == ["partly", "yes"]
    assert claims.glue_names(judged) == {"verdict_test_claims_ratio_book": "partly",
                                         "verdict_test_claims_ratio_record": "yes"}
    table = claims.verdict_table(judged)
    assert "(Holl et al. 2022)" in table and "{cite" not in table
    assert table.splitlines()[0] == "| claim | source | book: 5 s | record (1 h) |"
    with pytest.raises(ValueError, match="share the short name"):
        claims.glue_names(claims.judge_page("test-claims", {"book: a": {"r": 1.0},
                                                           "book: b": {"r": 2.0}}))
    with pytest.raises(ValueError, match="different claim"):
        claims.register(claims.Claim(name="test-claims/ratio", page="test-claims",
                                     statement="other", source="s", quantity="q", rule="r",
                                     judge=claim.judge))
    with pytest.raises(ValueError, match="known"):
        claims.claim("test-claims/nothing")
    with pytest.raises(ValueError, match="start with its page"):
        claims.Claim(name="x/y", page="z", statement="s", source="s", quantity="q", rule="r",
                     judge=claim.judge)


def test_the_citations_are_keys_of_the_bibliography():
    keys = set(re.findall(r"^@\w+\{([^,]+),", (ROOT / "references.bib").read_text(), re.M))
    assert set(claims.CITATIONS) <= keys
    with pytest.raises(ValueError, match="citation key"):
        claims.plain("{cite:p}`nobody2020`")


def test_every_claim_cites_a_known_source_and_states_its_rule():
    for page_module in discussion_experiments.EXPERIMENT_MODULES:
        for claim in claims.page_claims(page_module.PAGE):
            claims.plain(claim.source)                       # every citation key is known
            assert "yes" in claim.rule and " no" in claim.rule, f"{claim.name}: a rule names its verdicts"


def test_best_seconds_and_save_figures(tmp_path):
    assert common.best_seconds(lambda: np.zeros(3), 2) >= 0
    fig = plt.figure()
    written = common.save_figures(tmp_path, {"a": fig, "b": plt.figure}, formats=("png", "svg"))
    assert sorted(p.name for p in written) == ["a.png", "a.svg", "b.png", "b.svg"]
    with pytest.raises(ValueError, match="format"):
        common.save_figures(tmp_path, {"a": plt.figure}, formats=("gif",))
    with pytest.raises(ValueError, match="matplotlib figure"):
        common.save_figures(tmp_path, {"a": 3})
    assert set(common.provenance(seconds=1.0)) >= {"commit", "date", "machine", "seconds"}


def test_reproduce_command_checks_its_arguments():
    import argparse

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    common.add_reproduce_command(sub, "x-reproduce", help="h", description="d",
                                 run=lambda args: 0, out="out",
                                 check=lambda args: "bad" if args.out == "no" else None)
    assert parser.parse_args(["x-reproduce", "--out", "/tmp"]).run(
        parser.parse_args(["x-reproduce", "--out", "/tmp"])) == 0


def test_thin_indices_keep_the_ends_and_space_in_log_time():
    times = np.linspace(0, 600, 6001)
    keep = hig_oscillators_record.thin_indices(times, 50)
    assert keep[0] == 0 and keep[-1] == 6000 and 40 <= keep.size <= 52
    assert np.all(np.diff(keep) > 0)
    with pytest.raises(ValueError, match="increasing"):
        hig_oscillators_record.thin_indices(times[::-1])


def fake_record():
    def run(seed, losses):
        t = np.arange(len(losses), dtype=float)
        return {"seed": seed, "steps": 2 * len(losses), "seconds": t[-1],
                "final_test_loss": losses[-1], "page_prefix": {"step": 2, "test_loss": losses[1]},
                "curve": {"step": 2 * t, "time": t, "test_loss": np.array(losses)}}
    return {"setting": "nonlinear", "seconds_per_run": 3.0, "provenance": [],
            "methods": {"Adam": {"settings": {}, "runs": [run(0, [1.0, 0.5, 0.4, 0.3])]},
                        "HIG": {"settings": {}, "runs": [run(0, [1.0, 0.8, 0.2, 0.1])]},
                        "GN": {"settings": {}, "runs": [{"seed": 0, "diverged": "x", "step": 4}]}}}


def test_crossing_time_finals_and_prefix_of_an_oscillator_record():
    record = fake_record()
    assert hig_oscillators_record.crossing_times(record) == {0: 2.0}
    finals = hig_oscillators_record.final_losses(record)
    assert finals["GN"][0] == math.inf and finals["HIG"][0] == 0.1
    page = {"HIG": [{"step": np.array([0, 2]), "test_loss": np.array([1.0, 0.8])}]}
    assert hig_oscillators_record.prefix_ratios(record, page) == {"HIG": [1.0]}
    assert "diverged at step 4" in hig_oscillators_record.record_table(record)
    evidence = hig_oscillators_claims.record_evidence({"nonlinear": record})
    verdict = claims.claim("hig-oscillators/nonlinear-gn-fails").judge(evidence)
    assert verdict.verdict == "yes"


def test_the_stored_records_have_their_provenance():
    for path in [*hig_oscillators_record.RECORD_PATHS.values(), heat_record.RECORD_PATH]:
        if path.exists():
            stored = json.loads(path.read_text())
            for entry in stored["provenance"]:
                assert {"commit", "date", "machine", "command", "wall_seconds"} <= set(entry)


def test_the_heat_claims_follow_their_rules():
    judge = claims.claim("sip-heat/sip-below-adam").judge
    values = {"Adam": 125.0, "SIP": 50.4, "SGD": 118.9, heat_claims.HIGH_FREQUENCY: 3.0}
    assert judge(values).verdict == "yes"
    assert judge({**values, "SIP": 100.0}).verdict == "partly"
    close = claims.claim("sip-heat/adam-sgd-close").judge(values)
    assert close.verdict == "yes" and "SGD ahead" in close.shown
