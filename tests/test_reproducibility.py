"""The reproducibility policy: machine pins in one place, reference values with measured
tolerances that still catch a result that really changes."""

import json
import math

import pytest

from improved_gradients import machine, reference


@pytest.fixture
def references(tmp_path, monkeypatch):
    """A private reference folder, in check mode, with no recording."""
    monkeypatch.setattr(reference, "REFERENCE_DIR", tmp_path)
    monkeypatch.delenv(reference.RECORD_VARIABLE, raising=False)
    monkeypatch.setenv(reference.MODE_VARIABLE, "check")
    return tmp_path


def _store(folder, page, quantities):
    (folder / f"{page}.json").write_text(json.dumps({"page": page, "quantities": quantities}))


# --- machine configuration --------------------------------------------------------------


def test_default_configuration_pins_openblas_threads_and_the_isa_on_x86(monkeypatch):
    monkeypatch.setattr(machine.platform, "machine", lambda: "x86_64")
    config = machine.configuration("default")
    assert config == {"XLA_FLAGS": "--xla_cpu_max_isa=AVX2", "OPENBLAS_CORETYPE": "Haswell",
                      "OPENBLAS_NUM_THREADS": "1"}
    monkeypatch.setattr(machine.platform, "machine", lambda: "arm64")
    assert machine.configuration("default") == {"OPENBLAS_NUM_THREADS": "1"}


def test_perturbations_differ_from_the_pins_and_name_themselves(monkeypatch):
    monkeypatch.setattr(machine.platform, "machine", lambda: "x86_64")
    for name in ("avx", "sse4"):
        assert machine.configuration(name)["XLA_FLAGS"] != machine.configuration()["XLA_FLAGS"]
    words = machine.command_prefix("one-core")
    assert words[0] == "env" and words[-3:] == ["taskset", "-c", "0"]
    assert "IMPROVED_GRADIENTS_CONFIG=one-core" in words
    assert machine.TEST_PERTURBATION in machine.PERTURBATIONS


def test_unknown_configuration_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown machine configuration 'fast'.*default, avx"):
        machine.configuration("fast")


def test_apply_pins_keeps_what_the_caller_set(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    machine.apply_pins()
    assert machine.os.environ["OPENBLAS_NUM_THREADS"] == "4"


# --- reference values --------------------------------------------------------------------


def test_a_value_inside_its_factor_tolerance_passes_and_a_doubled_one_fails(references):
    _store(references, "page", {"loss": {"value": 1e-3, "kind": "factor", "tolerance": 1.5}})
    table = reference.check_outcomes("page", {"loss": 1.4e-3})
    assert "loss" in repr(table) and "ok" in repr(table)
    reference.check_outcomes("page", {"loss": 0.7e-3})
    for changed in (2e-3, 0.5e-3):
        with pytest.raises(reference.ReferenceMismatch, match="loss: 0.00.*reference 0.001"):
            reference.check_outcomes("page", {"loss": changed})


def test_absolute_tolerance_for_signed_quantities(references):
    _store(references, "page", {"mean": {"value": -0.02, "kind": "abs", "tolerance": 0.05}})
    reference.check_outcomes("page", {"mean": 0.02}, absolute=("mean",))
    with pytest.raises(reference.ReferenceMismatch):
        reference.check_outcomes("page", {"mean": 0.1}, absolute=("mean",))


def test_missing_reference_or_tolerance_fails_with_the_command_to_run(references):
    _store(references, "page", {"loss": {"value": 1.0, "kind": "factor", "tolerance": None}})
    with pytest.raises(reference.ReferenceMismatch, match="no measured tolerance.*make spread"):
        reference.check_outcomes("page", {"loss": 1.0})
    with pytest.raises(reference.ReferenceMismatch, match="no stored reference.*make notebooks"):
        reference.check_outcomes("page", {"other": 1.0})


@pytest.mark.parametrize("values, message", [
    ({}, "non-empty dict"),
    ({"loss": float("nan")}, "not finite"),
    ({"loss": "small"}, "must be a number"),
])
def test_bad_values_are_rejected(references, values, message):
    with pytest.raises(ValueError, match=message):
        reference.check_outcomes("page", values)


def test_unknown_mode_and_bad_page_name_are_rejected(references, monkeypatch):
    with pytest.raises(ValueError, match="page must be a page name"):
        reference.check_outcomes("../x", {"loss": 1.0})
    monkeypatch.setenv(reference.MODE_VARIABLE, "overwrite")
    with pytest.raises(ValueError, match="known: check, write, record"):
        reference.check_outcomes("page", {"loss": 1.0})


def test_write_keeps_tolerances_and_records_provenance(references, monkeypatch):
    _store(references, "page", {"loss": {"value": 1.0, "kind": "factor", "tolerance": 1.3,
                                         "spread": {"value": 1.1, "configs": ["avx"]}}})
    monkeypatch.setenv(reference.MODE_VARIABLE, "write")
    reference.check_outcomes("page", {"loss": 1.2, "new": -0.5}, absolute=("new",))
    stored = reference.load_references("page")
    assert stored["quantities"]["loss"] == {"value": 1.2, "kind": "factor", "tolerance": 1.3,
                                            "spread": {"value": 1.1, "configs": ["avx"]}}
    assert stored["quantities"]["new"]["kind"] == "abs"
    assert stored["quantities"]["new"]["tolerance"] is None
    assert "machine" in stored["provenance"] and "date" in stored["provenance"]


def test_tolerances_come_from_the_measured_spread(references, tmp_path, monkeypatch):
    _store(references, "page", {
        "steady": {"value": 1.0, "kind": "factor", "tolerance": None},
        "drifting": {"value": 1.0, "kind": "factor", "tolerance": None},
        "signed": {"value": 0.0, "kind": "abs", "tolerance": None},
    })
    records = tmp_path / "avx.jsonl"
    monkeypatch.setenv(reference.RECORD_VARIABLE, str(records))
    monkeypatch.setenv(reference.MODE_VARIABLE, "record")
    monkeypatch.setenv(reference.CONFIG_VARIABLE, "avx")
    reference.check_outcomes("page", {"steady": 1.001, "drifting": 1.2, "signed": 0.01},
                             absolute=("signed",))
    reference.set_tolerances([records])
    quantities = reference.load_references("page")["quantities"]
    assert quantities["steady"]["tolerance"] == pytest.approx(reference.FACTOR_FLOOR)
    assert quantities["drifting"]["tolerance"] == pytest.approx(math.exp(2 * math.log(1.2)))
    assert quantities["signed"]["tolerance"] == pytest.approx(0.02)
    assert quantities["drifting"]["spread"] == {"value": pytest.approx(1.2), "configs": ["avx"]}


def test_a_spread_too_large_to_catch_a_doubling_marks_the_quantity_unstable(
        references, tmp_path, monkeypatch):
    _store(references, "page", {"chaotic": {"value": 1.0, "kind": "factor", "tolerance": None}})
    records = tmp_path / "sse4.jsonl"
    monkeypatch.setenv(reference.RECORD_VARIABLE, str(records))
    monkeypatch.setenv(reference.MODE_VARIABLE, "record")
    reference.check_outcomes("page", {"chaotic": 1.5})
    reference.set_tolerances([records])
    entry = reference.load_references("page")["quantities"]["chaotic"]
    assert entry["unstable"] and entry["tolerance"] is None
    assert entry["spread"]["value"] == pytest.approx(1.5)
    monkeypatch.setenv(reference.MODE_VARIABLE, "check")
    table = repr(reference.check_outcomes("page", {"chaotic": 30.0}))
    assert "not checked: unstable, ×1.5 across machines" in table


def test_every_stored_reference_has_a_measured_tolerance_that_catches_a_doubling():
    files = sorted(reference.REFERENCE_DIR.glob("*.json"))
    assert files, "no stored references"
    for path in files:
        quantities = json.loads(path.read_text())["quantities"]
        stable = {name: entry for name, entry in quantities.items() if not entry.get("unstable")}
        assert len(stable) >= len(quantities) / 2, f"{path.name}: most outcomes unstable"
        for name, entry in quantities.items():
            assert entry.get("spread"), f"{path.name}: {name} has no measured spread"
        for name, entry in stable.items():
            assert entry.get("tolerance") is not None, f"{path.name}: {name} has no tolerance"
            if entry.get("kind", "factor") == "factor":
                assert entry["tolerance"] <= reference.FACTOR_CEILING, f"{path.name}: {name}"
                assert not reference.within(2 * entry["value"], entry)
                assert not reference.within(0.5 * entry["value"], entry)
