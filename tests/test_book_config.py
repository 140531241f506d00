"""Consistency of the book's sources: the table of contents, the Colab install cells and
the stored notebook outputs that nbval compares against."""

import json
import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def cells(path):
    return json.loads(path.read_text())["cells"]


def code_cells(path):
    return [c for c in cells(path) if c["cell_type"] == "code"]


def test_every_page_is_in_the_table_of_contents():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    chapters = toc.get("chapters", []) + [c for part in toc.get("parts", []) for c in part["chapters"]]
    listed = {toc["root"]} | {chapter["file"] for chapter in chapters}
    pages = {str(p.relative_to(ROOT).with_suffix("")) for p in (ROOT / "book").glob("*") if p.suffix in (".md", ".ipynb")}
    assert pages == listed


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_install_cell_points_at_the_configured_repository(path):
    first = code_cells(path)[0]
    source = "".join(first["source"])
    assert "remove-cell" in first["metadata"].get("tags", []), "the install cell must be hidden on the page"
    assert 'if "google.colab" in sys.modules' in source
    url, branch = CONFIG["repository"]["url"], CONFIG["repository"]["branch"]
    assert re.search(rf"git\+{re.escape(url)}@{re.escape(branch)}\b", source), (
        f"{path.name}: the install cell must install from {url}@{branch} (set in _config.yml)")


PAGE_COLUMN = 88  # characters of code the page column shows without scrolling


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_fits_the_page_column(path):
    too_long = [line for cell in code_cells(path)
                if "remove-cell" not in cell["metadata"].get("tags", [])
                for line in "".join(cell["source"]).splitlines() if len(line) > PAGE_COLUMN]
    assert not too_long, f"{path.name}: lines over {PAGE_COLUMN} characters: {too_long}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_pages_run_without_the_book_toolchain(path):
    """Colab has no myst-nb: a page takes glue from the package, which is a no-op there."""
    for cell in code_cells(path):
        source = "".join(cell["source"])
        assert not re.search(r"^\s*(from|import) (myst_nb|jupyter_book|sphinx)\b", source, re.M), (
            f"{path.name}: import glue from improved_gradients.notebook, not myst_nb:\n{source}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_store_clean_outputs(path):
    code = code_cells(path)
    assert any(c.get("outputs") for c in code), "store the outputs: nbval compares against them"
    for c in code:
        for out in c.get("outputs", []):
            assert out["output_type"] != "error", f"stored error output in {path.name}"
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), (
                f"stderr output stored in {path.name}: {''.join(out['text'])[:200]}")
            text = "".join(out.get("data", {}).get("text/plain", ""))
            assert not re.search(r" at 0x[0-9a-f]+>", text), f"stray object repr in {path.name}: {text}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_only_timing_and_training_outcome_cells_skip_the_exact_comparison(path):
    """The reproducibility policy (README): nbval compares every cell exactly, except cells
    tagged ``timing`` (measured times) and ``training-outcome`` (results of long float32
    runs, which a call of ``check_outcomes`` checks against stored references with measured
    tolerances). Those two kinds, and only they, carry ``nbval-ignore-output``."""
    notebook_source = "\n".join("".join(c["source"]) for c in code_cells(path))
    for c in code_cells(path):
        tags = set(c["metadata"].get("tags", []))
        kinds = tags & {"timing", "training-outcome"}
        source = "".join(c["source"])
        assert ("nbval-ignore-output" in tags) == bool(kinds), (
            f"{path.name}: nbval-ignore-output goes with exactly the tags timing or "
            f"training-outcome, got {sorted(tags)} on:\n{source[:300]}")
        if "timing" in kinds:
            assert re.search(r"measure|time|timing|perf_counter|bench", source, re.I), (
                f"{path.name}: a timing cell must measure time:\n{source[:300]}")
    if any("training-outcome" in c["metadata"].get("tags", []) for c in code_cells(path)):
        assert "check_outcomes" in notebook_source, (
            f"{path.name} has training-outcome cells but never checks them (check_outcomes)")


def test_colab_button_and_local_mathjax_are_configured():
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert CONFIG["repository"]["path_to_book"] == ""
    sphinx = CONFIG["sphinx"]["config"]
    assert (ROOT / sphinx["html_static_path"][0] / sphinx["mathjax_path"]).is_file()
    assert not (ROOT / "_static").exists(), "JB1 would inject every script under _static (see README)"
