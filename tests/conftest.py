"""Shared pytest hooks: the test run prints how many notebook cells each check covers."""

import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def pytest_terminal_summary(terminalreporter):
    counts = {"exact": 0, "training-outcome": 0, "timing": 0}
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code" or not "".join(cell["source"]).strip():
                continue
            tags = cell.get("metadata", {}).get("tags", [])
            if "nbval-ignore-output" not in tags:
                counts["exact"] += 1
            else:
                counts["training-outcome" if "training-outcome" in tags else "timing"] += 1
    terminalreporter.write_line(
        f"notebook cells: {counts['exact']} compared exactly (nbval under the pins; "
        f"tests/test_executed.py for the build under another configuration), "
        f"{counts['training-outcome']} tolerance-checked training outcomes, "
        f"{counts['timing']} timing cells")
    from improved_gradients import reference

    stored = reference.summary()
    low, high = stored["factor_range"] or (float("nan"), float("nan"))
    terminalreporter.write_line(
        f"training outcomes of {stored['pages']} pages: {stored['checked']} checked by value "
        f"(factor tolerances ×{low:.3g} to ×{high:.3g}, measured over "
        f"{len(reference.machine.SPREAD_CONFIGURATIONS)} simulated machines and the pins), "
        f"{stored['unstable']} claims only (too chaotic across machines to check by value; "
        f"their pages assert what holds with a margin)")
