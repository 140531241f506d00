"""Unit tests of the discussion page's assembly, with fake experiments modules (the real
ones belong to the other pages)."""

import json
import math
import types

import pytest

from improved_gradients import discussion_experiments as discussion
from improved_gradients import reference


@pytest.fixture(autouse=True)
def reference_folder(tmp_path, monkeypatch):
    """Costs are read from the pages' stored references: a private folder for them."""
    monkeypatch.setattr(reference, "REFERENCE_DIR", tmp_path)
    return tmp_path


def fake_module(name, page, rows, costs):
    """A page module whose page recorded ``costs`` with its references."""
    module = types.ModuleType(f"improved_gradients.{name}")
    module.PAGE = page
    module.discussion_summary = lambda: [dict(row) for row in rows]
    module.measure_cost_per_update = lambda repeats=3: dict(costs)
    if page and costs:
        (reference.REFERENCE_DIR / f"{page}.json").write_text(json.dumps({
            "quantities": {}, "costs": {"seconds_per_update": costs, "machine": "test CPU",
                                        "date": "2026-11-25"}}))
    return module


def row(experiment, method, value, reproduced="yes", claim="SIP beats Adam (paper: 10x).",
        note=""):
    return {"experiment": experiment, "method": method, "metric": "final x-error",
            "value": value, "claim": claim, "reproduced": reproduced, "note": note}


@pytest.fixture
def fakes():
    modules = {
        "fake_sip": fake_module("fake_sip", "sip-training",
                                [row("sin", "Adam", 0.5), row("sin", "SIP", 0.01)],
                                {"Adam": 0.002, "SIP": 0.006}),
        "fake_hig": fake_module("fake_hig", "hig-toy",
                                [row("toy", "Adam", 0.2, "partly", "HIG wins.", "longer run"),
                                 row("toy", "HIG", 0.1, "no", "HIG wins.", "needs 20 s"),
                                 row("toy", "GN", 0.3, "yes", "HIG wins.")],
                                {"Adam": 0.001, "HIG": 0.004}),
    }
    return discussion.load_modules([modules["fake_sip"], modules["fake_hig"]])


def test_the_book_order_of_the_pages():
    names = [module.__name__.rsplit(".", 1)[1] for module in discussion.load_modules()]
    assert names == ["toy_experiments", "sip_experiments", "heat_experiments",
                     "hig_experiments", "hig_oscillators_experiments"]
    assert [discussion.page_name(m) for m in discussion.EXPERIMENT_MODULES] == [
        "toy-comparison", "sip-training", "sip-heat", "hig-toy", "hig-oscillators"]


def test_a_module_without_the_interface_is_refused():
    bare = types.ModuleType("improved_gradients.fake_bare")
    with pytest.raises(ValueError, match="discussion_summary, measure_cost_per_update"):
        discussion.load_modules([bare])


@pytest.mark.parametrize("modules, match", [("toy_experiments", "list or tuple"),
                                            ((), "at least 1"),
                                            (("toy_experiments",), "experiments modules")])
def test_bad_modules(modules, match):
    with pytest.raises(ValueError, match=match):
        discussion.load_modules(modules)


def test_table_joins_rows_and_costs_relative_to_adam(fakes):
    rows = discussion.summary_rows(fakes)
    assert [r["page"] for r in rows] == ["sip-training"] * 2 + ["hig-toy"] * 3
    table = discussion.experiment_table(rows, discussion.measure_costs(fakes))
    costs = {(r["page"], r["method"]): r["cost"] for r in table}
    assert costs[("sip-training", "Adam")] == 1.0
    assert costs[("sip-training", "SIP")] == pytest.approx(3.0)
    assert costs[("hig-toy", "HIG")] == pytest.approx(4.0)
    assert costs[("hig-toy", "GN")] is None
    text = discussion.format_table(table)
    lines = text.splitlines()
    assert len(lines) == 2 + 5
    assert "| sip-training | sin | SIP |" not in text  # the problem is written once per group
    assert "|  |  | SIP |  | 0.01 | 3 | yes |" in text
    assert "|  |  | GN |  | 0.3 | not measured | yes |" in text
    assert discussion.cost_range(table, "HIG") == pytest.approx((4.0, 4.0))
    assert discussion.cost_range(table, "nothing") is None


def test_claims_take_the_weakest_verdict(fakes):
    table = discussion.experiment_table(discussion.summary_rows(fakes),
                                        discussion.measure_costs(fakes))
    claims = discussion.claims(table)
    assert [c["reproduced"] for c in claims] == ["yes", "no"]
    assert discussion.verdict_counts(claims) == {"yes": 1, "partly": 0, "no": 1}
    text = discussion.format_claims(claims, verdicts=("no", "partly"))
    assert "HIG wins." in text and "longer run needs 20 s" in text and "SIP beats" not in text
    assert discussion.format_claims(claims, verdicts=()) == "- (none)"


@pytest.mark.parametrize("change, match", [
    (lambda r: r.pop("claim"), "lacks claim"),
    (lambda r: r.update(value="x"), "must be a number"),
    (lambda r: r.update(value=math.nan), "not finite"),
    (lambda r: r.update(reproduced="maybe"), "reproduced must be one of"),
    (lambda r: r.update(method=""), "'method' must be a non-empty string"),
    (lambda r: r.update(note=3), "note must be a string"),
])
def test_bad_rows_are_refused(change, match):
    bad = row("sin", "SIP", 0.1)
    change(bad)
    with pytest.raises(ValueError, match=match):
        discussion.check_row(bad, "sip-training")


def test_recorded_costs_without_adam_are_refused():
    module = fake_module("fake_cost", "p", [row("a", "Adam", 1.0)], {"SIP": 1.0})
    with pytest.raises(ValueError, match="'Adam'"):
        discussion.measure_costs([module])


def test_a_page_without_recorded_costs_has_none():
    module = fake_module("fake_toy", "toy", [row("a", "GD", 1.0)], {})
    assert discussion.measure_costs([module]) == {"toy": {}}
    assert discussion.experiment_table(discussion.summary_rows([module]),
                                       {"toy": {}})[0]["cost"] is None


@pytest.mark.parametrize("costs, match", [({}, "non-empty dict"),
                                          ({"Adam": 1.0, "SIP": -1.0}, "positive and finite"),
                                          ({"Adam": math.inf}, "positive and finite"),
                                          ({"Adam": "fast"}, "must be a number")])
def test_bad_costs_are_refused_when_recorded(costs, match):
    with pytest.raises(ValueError, match=match):
        reference.record_costs("p", costs)


def test_costs_are_stored_only_when_references_are_written(monkeypatch):
    monkeypatch.setenv(reference.MODE_VARIABLE, "check")
    reference.record_costs("p", {"Adam": 1e-3, "SIP": 2e-3})
    assert reference.recorded_costs("p") is None
    monkeypatch.setenv(reference.MODE_VARIABLE, "write")
    reference.record_costs("p", {"Adam": 1e-3, "SIP": 2e-3})
    assert reference.recorded_costs("p")["seconds_per_update"] == {"Adam": 1e-3, "SIP": 2e-3}


def test_module_without_page_or_rows(monkeypatch):
    module = fake_module("fake_x", "", [row("a", "Adam", 1.0)], {"Adam": 1.0})
    with pytest.raises(ValueError, match="must define PAGE"):
        discussion.summary_rows([module])
    module = fake_module("fake_x", "p", [], {"Adam": 1.0})
    with pytest.raises(ValueError, match="non-empty list"):
        discussion.summary_rows([module])


def test_svd_timings_small():
    timings = discussion.svd_timings(sizes=((4, 16), (8, 16)), repeats=1)
    assert [(t["rows"], t["params"]) for t in timings] == [(4, 16), (8, 16)]
    assert all(t["svd"] > 0 and t["adam"] > 0 for t in timings)
    assert math.isfinite(discussion.svd_scaling_exponent(timings, 16))
    assert discussion.format_svd_timings(timings).count("\n") == 3
    with pytest.raises(ValueError, match="two or more"):
        discussion.svd_scaling_exponent(timings, 99)
    with pytest.raises(ValueError, match="sizes"):
        discussion.svd_timings(sizes=((4, 0),))
    with pytest.raises(ValueError, match="repeats"):
        discussion.svd_timings(repeats=0)


def test_affordable_rows_extrapolates_the_power_law():
    timings = [{"rows": 100, "params": 10, "svd": 0.01, "adam": 1e-5},
               {"rows": 200, "params": 10, "svd": 0.08, "adam": 1e-5}]  # p = 3
    assert discussion.svd_scaling_exponent(timings, 10) == pytest.approx(3.0)
    assert discussion.affordable_rows(timings, 10, 0.64) in (399, 400)  # rounded down
    with pytest.raises(ValueError, match="seconds"):
        discussion.affordable_rows(timings, 10, 0.0)
    flat = [dict(t, svd=0.01) for t in timings]
    with pytest.raises(ValueError, match="does not grow"):
        discussion.affordable_rows(flat, 10, 1.0)
