# The two commands that matter: `make book` and `make test` (see README.md).
# Both set up .venv from requirements.txt on first use (python3.11 and a package index).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JB_FLAGS := -W -n --keep-going

.PHONY: book test unit nbval build-strict browser colab bench notebooks clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	# Build matplotlib's font cache now, so no notebook prints the one-time notice.
	MPLBACKEND=Agg $(BIN)/python -c "import matplotlib.pyplot"
	touch $@

## book: build the HTML with every notebook executed, warnings as errors
book: $(STAMP)
	rm -rf _build/html _build/jupyter_execute _build/.doctrees
	$(BIN)/jupyter-book build . --all $(JB_FLAGS)

## test: unit tests, nbval on every notebook, the strict build, the browser and Colab checks
test: $(STAMP)
	$(BIN)/python -m pytest tests -m "not browser and not colab"
	$(BIN)/python -m pytest --nbval --nbval-current-env --nbval-sanitize-with=nbval_sanitize.cfg \
		-p no:cacheprovider book
	$(MAKE) book
	$(BIN)/python -m pytest tests -m "browser or colab" -rs

## notebooks: re-execute the notebooks in place (refreshes the outputs nbval compares)
notebooks: $(STAMP)
	for nb in book/*.ipynb; do $(BIN)/jupyter execute --inplace --timeout=900 $$nb || exit 1; done

## bench: per-step timings of SIP, HIG and the baselines, measured side by side
bench: $(STAMP)
	$(BIN)/python -m improved_gradients sip-bench
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m improved_gradients hig-bench

clean:
	rm -rf _build
