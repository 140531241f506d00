"""Unit tests of the discussion page's assembly, with fake experiments modules (the real
ones belong to the other pages)."""

import json
import math
import types

import pytest

from improved_gradients import claims as registry
from improved_gradients import discussion_experiments as discussion
from improved_gradients import reference


@pytest.fixture(autouse=True)
def reference_folder(tmp_path, monkeypatch):
    """Costs are read from the pages' stored references: a private folder for them."""
    monkeypatch.setattr(reference, "REFERENCE_DIR", tmp_path)
    return tmp_path


def fake_module(name, page, rows, costs, evidence=None):
    """A page module whose page recorded ``costs`` with its references; ``evidence`` is what
    its ``evidence()`` returns (claims registered under ``page``)."""
    module = types.ModuleType(f"improved_gradients.{name}")
    module.PAGE = page
    module.discussion_summary = lambda: [dict(row) for row in rows]
    module.measure_cost_per_update = lambda repeats=3: dict(costs)
    module.evidence = lambda: dict(evidence or {})
    if page and costs:
        (reference.REFERENCE_DIR / f"{page}.json").write_text(json.dumps({
            "quantities": {}, "costs": {"seconds_per_update": costs, "machine": "test CPU",
                                        "date": "2026-11-25"}}))
    return module


def row(experiment, method, value, note=""):
    return {"experiment": experiment, "method": method, "metric": "final x-error",
            "value": value, "note": note}


def ratio_verdict(evidence):
    """A test rule: yes if the ratio is >= 10, partly if >= 3."""
    ratio = evidence["ratio"]
    return registry.Verdict(ratio, f"ratio {ratio:.3g}", *registry.ladder(ratio, 10, 3))


for page in ("test-fake-sip", "test-fake-hig"):
    registry.register(registry.Claim(
        name=f"{page}/wins", page=page, statement=f"{page}: the method wins by 10×",
        source="10× (a paper)", quantity="ratio of errors", rule="yes ≥ 10, partly ≥ 3",
        judge=ratio_verdict))


@pytest.fixture
def fakes():
    modules = {
        "fake_sip": fake_module("fake_sip", "test-fake-sip",
                                [row("sin", "Adam", 0.5), row("sin", "SIP", 0.01)],
                                {"Adam": 0.002, "SIP": 0.006},
                                {"short": {"ratio": 4.0}, "record": {"ratio": 12.0}}),
        "fake_hig": fake_module("fake_hig", "test-fake-hig",
                                [row("toy", "Adam", 0.2, "longer run"),
                                 row("toy", "HIG", 0.1, "needs 20 s"), row("toy", "GN", 0.3)],
                                {"Adam": 0.001, "HIG": 0.004},
                                {"book": {"ratio": 2.0}}),
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
    with pytest.raises(ValueError, match="discussion_summary, measure_cost_per_update, evidence"):
        discussion.load_modules([bare])


@pytest.mark.parametrize("modules, match", [("toy_experiments", "list or tuple"),
                                            ((), "at least 1"),
                                            (("toy_experiments",), "experiments modules")])
def test_bad_modules(modules, match):
    with pytest.raises(ValueError, match=match):
        discussion.load_modules(modules)


def test_table_joins_rows_and_costs_relative_to_adam(fakes):
    rows = discussion.summary_rows(fakes)
    assert [r["page"] for r in rows] == ["test-fake-sip"] * 2 + ["test-fake-hig"] * 3
    table = discussion.experiment_table(rows, discussion.measure_costs(fakes))
    costs = {(r["page"], r["method"]): r["cost"] for r in table}
    assert costs[("test-fake-sip", "Adam")] == 1.0
    assert costs[("test-fake-sip", "SIP")] == pytest.approx(3.0)
    assert costs[("test-fake-hig", "HIG")] == pytest.approx(4.0)
    assert costs[("test-fake-hig", "GN")] is None
    text = discussion.format_table(table)
    lines = text.splitlines()
    assert len(lines) == 2 + 5
    assert "| test-fake-sip | sin | SIP |" not in text  # the problem is written once per group
    assert "|  |  | SIP |  | 0.01 | 3 |" in text
    assert "|  |  | GN |  | 0.3 | not measured |" in text
    assert discussion.cost_range(table, "HIG") == pytest.approx((4.0, 4.0))
    assert discussion.cost_range(table, "nothing") is None


def test_claims_are_judged_at_the_largest_budget_with_the_shortest_beside(fakes):
    rows = discussion.claim_rows(discussion.page_judgements(fakes))
    assert [(r["page"], r["budget"], r["verdict"]) for r in rows] == [
        ("test-fake-sip", "record", "yes"), ("test-fake-hig", "book", "no")]
    assert rows[0]["short"] == "short: ratio 4, partly" and rows[1]["short"] is None
    assert [r["changed"] for r in rows] == [True, False]
    assert discussion.verdict_counts(rows) == {"yes": 1, "partly": 0, "no": 1, "not run": 0}
    text = discussion.format_claims(rows, verdicts=("no", "partly"))
    assert "test-fake-hig: the method wins" in text and "test-fake-sip:" not in text
    assert text.count("\n") == 2  # head, rule, one claim
    table = discussion.format_claims(rows)
    assert "| **yes** | short: ratio 4, partly |" in table and "| the same |" in table


def test_a_verdict_near_its_threshold_is_marked():
    module = fake_module("fake_near", "test-fake-sip", [row("a", "Adam", 1.0)], {},
                         {"book": {"ratio": 9.8}})
    rows = discussion.claim_rows(discussion.page_judgements([module]))
    assert rows[0]["verdict"] == "partly" and rows[0]["label"] == "partly (at the threshold)"


@pytest.mark.parametrize("change, match", [
    (lambda r: r.pop("metric"), "lacks metric"),
    (lambda r: r.update(value="x"), "must be a number"),
    (lambda r: r.update(value=math.nan), "not finite"),
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
    [(r0, r1, p)] = discussion.svd_scaling_exponents(timings, 16)
    assert (r0, r1) == (4, 8) and math.isfinite(p)
    assert discussion.format_svd_timings(timings).count("\n") == 3
    with pytest.raises(ValueError, match="two or more"):
        discussion.svd_scaling_exponents(timings, 99)
    with pytest.raises(ValueError, match="sizes"):
        discussion.svd_timings(sizes=((4, 0),))
    with pytest.raises(ValueError, match="repeats"):
        discussion.svd_timings(repeats=0)


def test_local_exponents_follow_the_measured_times():
    timings = [{"rows": 100, "params": 10, "svd": 0.01, "adam": 1e-5},
               {"rows": 200, "params": 10, "svd": 0.08, "adam": 1e-5},   # p = 3
               {"rows": 400, "params": 10, "svd": 0.16, "adam": 1e-5}]   # p = 1
    exponents = discussion.svd_scaling_exponents(timings, 10)
    assert [(a, b) for a, b, _ in exponents] == [(100, 200), (200, 400)]
    assert [p for _, _, p in exponents] == pytest.approx([3.0, 1.0])
    text = discussion.format_svd_timings(timings)
    assert text.splitlines()[3].endswith("| 3 |") and text.splitlines()[4].endswith("| 1 |")


def stored_glue(page):
    """{glue name: text value} of the outputs stored in book/<page>.ipynb."""
    import ast
    import pathlib

    notebook = json.loads((pathlib.Path(__file__).parents[1] / "book" / f"{page}.ipynb").read_text())
    found = {}
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            text = output.get("data", {}).get("application/papermill.record/text/plain")
            if name and text is not None:
                found[name] = ast.literal_eval(text) if text[:1] in "'\"" else text
    return found


@pytest.mark.parametrize("module", discussion.EXPERIMENT_MODULES, ids=lambda m: m.PAGE)
def test_the_discussion_verdicts_are_the_verdicts_each_page_shows(module, monkeypatch):
    """Each page judges its claims with the registry's rules on its own runs, glues the
    verdicts and stores them with its references; the discussion shows the stored ones.
    On the stored notebooks (written together with the references) the two are equal,
    name by name."""
    monkeypatch.undo()  # the real references, not the fixture's private folder
    from improved_gradients import claims as registry

    expected = registry.glue_names(discussion.page_judgements([module])[module.PAGE])
    shown = {name: value for name, value in stored_glue(module.PAGE).items()
             if name.startswith("verdict_")}
    assert shown == expected
