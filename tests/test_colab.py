"""A Colab user's view: the notebook alone, in a fresh environment, installs what it needs.

The test makes a new virtual environment holding only a Jupyter kernel and the notebook
runner (what a fresh Colab runtime offers besides its preinstalled libraries), copies one
notebook into an empty folder and executes it. The notebook's first cell then installs
the helper package and its declared dependencies; IMPROVED_GRADIENTS_SOURCE points that
install at this checkout instead of the repository on GitHub.

The user is a reader, not the book's build: no perturbation and no reference mode are
passed on, so a training outcome outside its measured tolerance shows as
a note on the page instead of stopping it (reference.py), and every page must run to its
end. By default only the toy page runs (about a minute, mostly pip); set
COLAB_TEST_NOTEBOOKS=all to run every page.
"""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
ALL = sorted((ROOT / "book").glob("*.ipynb"))
SELECTED = ALL if os.environ.get("COLAB_TEST_NOTEBOOKS") == "all" else [ROOT / "book" / "toy-comparison.ipynb"]


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory):
    venv = tmp_path_factory.mktemp("colab") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "ipykernel", "nbclient"], check=True)
    probe = subprocess.run([str(python), "-c", "import improved_gradients"], capture_output=True)
    assert probe.returncode != 0, "the fresh environment must not have the helper package yet"
    return venv


@pytest.mark.colab
@pytest.mark.parametrize("notebook", SELECTED, ids=lambda p: p.name)
def test_notebook_runs_alone_in_a_fresh_environment(fresh_venv, notebook, tmp_path):
    work = tmp_path / "colab-user"
    work.mkdir()
    shutil.copy(notebook, work / notebook.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(
        ("VIRTUAL_ENV", "PYTHON", "IMPROVED_GRADIENTS_"))}
    env.update(IMPROVED_GRADIENTS_SOURCE=str(ROOT), PATH=f"{fresh_venv / 'bin'}:{env['PATH']}")
    result = subprocess.run(
        [str(fresh_venv / "bin" / "jupyter-execute"), "--timeout=900", notebook.name],
        cwd=work, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    installed = subprocess.run(
        [str(fresh_venv / "bin" / "python"), "-c", "import improved_gradients; print(improved_gradients.__file__)"],
        capture_output=True, text=True, env=env,
    )
    assert installed.returncode == 0 and str(fresh_venv) in installed.stdout, "the install cell did not install the package"
