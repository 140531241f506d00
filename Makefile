# The two commands that matter: `make book` and `make test` (see README.md).
# Both set up .venv from requirements.txt on first use (python3.11 and a package index).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JB_FLAGS := -W -n --keep-going
# In reading order (_toc.yml): the discussion page reads the references the others write.
NOTEBOOKS ?= $(filter $(wildcard book/*.ipynb),$(patsubst %,%.ipynb,$(shell grep -o 'book/[a-z0-9-]*' _toc.yml)))

# The machine configuration (src/improved_gradients/machine.py, the one place it is set):
# CONFIG=default pins XLA's instruction set, OpenBLAS' kernels and threads; another name
# (avx, sse4, one-core) simulates another machine. Every way the notebooks run uses it.
CONFIG ?= default
RUN_IN = $(shell $(PYTHON) src/improved_gradients/machine.py $(1))
TEST_CONFIG := $(shell $(PYTHON) -c "import sys; sys.path.insert(0, 'src/improved_gradients'); import machine; print(machine.TEST_PERTURBATION)")
SPREAD_CONFIGS ?= avx sse4 one-core

.PHONY: book test pinned-checks build-under-test-config bench notebooks spread clean

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
	$(call RUN_IN,$(CONFIG)) $(BIN)/jupyter-book build . --all $(JB_FLAGS)

## test: unit tests and nbval under the pins, side by side with the strict build under
## another machine's configuration; then the build's executed notebooks against the stored
## outputs, the browser check and the Colab check
test: $(STAMP)
	$(MAKE) --no-print-directory --output-sync=target -j2 pinned-checks build-under-test-config
	$(BIN)/python -m pytest tests -m "executed or browser or colab" -rs

# The two lanes of `make test`, one per core (each notebook kernel computes on one core).
pinned-checks: $(STAMP)
	$(BIN)/python -m pytest tests -m "not browser and not colab and not executed"
	$(call RUN_IN,default) $(BIN)/python -m pytest --nbval --nbval-current-env \
		--nbval-sanitize-with=nbval_sanitize.cfg -p no:cacheprovider book

build-under-test-config: $(STAMP)
	$(MAKE) --no-print-directory book CONFIG=$(TEST_CONFIG)

## notebooks: re-execute the notebooks in place under the pins, refreshing the stored
## outputs and the reference values of their training outcomes together
notebooks: $(STAMP)
	for nb in $(NOTEBOOKS); do \
		IMPROVED_GRADIENTS_REFERENCES=write $(call RUN_IN,default) \
		$(BIN)/jupyter execute --inplace --timeout=900 $$nb || exit 1; done

## spread: run the notebooks under every other configuration, recording the training
## outcomes, and set each reference's tolerance from the measured spread (slow)
spread: $(STAMP)
	rm -rf _build/spread && mkdir -p _build/spread
	for config in $(SPREAD_CONFIGS); do \
		mkdir -p _build/spread/$$config; \
		for nb in $(NOTEBOOKS); do cp $$nb _build/spread/$$config/; \
			IMPROVED_GRADIENTS_REFERENCES=record \
			IMPROVED_GRADIENTS_RECORD=$(CURDIR)/_build/spread/$$config.jsonl \
			$$($(PYTHON) src/improved_gradients/machine.py $$config) $(BIN)/jupyter execute --inplace --timeout=900 _build/spread/$$config/$$(basename $$nb) \
			|| exit 1; done; done
	$(BIN)/python -m improved_gradients.reference tolerances _build/spread/*.jsonl

## bench: per-step timings of SIP, HIG and the baselines on every page, measured side by side
bench: $(STAMP)
	$(call RUN_IN,default) $(BIN)/python -m improved_gradients sip-bench
	$(call RUN_IN,default) $(BIN)/python -m improved_gradients sip-heat-bench
	$(call RUN_IN,default) $(BIN)/python -m improved_gradients hig-bench
	$(call RUN_IN,default) $(BIN)/python -m improved_gradients hig-oscillators-bench

clean:
	rm -rf _build
