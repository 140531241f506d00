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
SPREAD_CONFIGS ?= $(shell $(PYTHON) src/improved_gradients/machine.py --spread-configurations)
# The pages with tolerance-checked training outcomes (the ones `make spread` runs).
OUTCOME_NOTEBOOKS := $(shell grep -l check_outcomes $(NOTEBOOKS))
# The book's own builds and tests fail on a training outcome outside its tolerance; a
# reader's run (Colab, their Jupyter) shows it as a note instead (reference.py).
export IMPROVED_GRADIENTS_REFERENCES ?= check

.PHONY: book test pinned-checks build-under-test-config bench notebooks spread clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	# Build matplotlib's font cache now, so no notebook prints the one-time notice.
	MPLBACKEND=Agg $(BIN)/python -c "import matplotlib.pyplot"
	touch $@

# How `make book` executes the notebooks (JB1's execute_notebooks). `cache`: Jupyter
# Book's execution cache (jupyter-cache) re-executes only the notebooks whose code changed
# since the last build; its folder is named after the machine configuration and a hash of
# everything else the pages' outputs depend on (the package with its reference values,
# the pinned requirements), so a change there re-executes every page. `force`: every
# notebook, from scratch. The default is `cache` under the pins (an author's `make book`)
# and `force` under any other configuration, so the build of `make test` (and CI) always
# executes everything. EXECUTE=force or EXECUTE=cache overrides it.
EXECUTE ?= $(if $(filter default,$(CONFIG)),cache,force)
EXECUTION_CACHES := _build/.jupyter_cache
EXECUTION_CACHE = $(CONFIG)-$(shell (echo $(IMPROVED_GRADIENTS_REFERENCES); sha256sum requirements.txt pyproject.toml $$(find src -type f ! -path '*/__pycache__/*' ! -path '*.egg-info/*' | LC_ALL=C sort)) | sha256sum | cut -c1-16)
# _config.yml with the execution mode and cache of this build (jupyter-book build --config).
BOOK_CONFIG := _build/_config.book.yml

## book: build the HTML with every notebook executed (see EXECUTE), warnings as errors
book: $(STAMP)
	rm -rf _build/html _build/jupyter_execute _build/.doctrees
	mkdir -p $(EXECUTION_CACHES)
	cache=$(EXECUTION_CACHE); \
	if [ "$(EXECUTE)" = cache ]; then \
		find $(EXECUTION_CACHES) -mindepth 1 -maxdepth 1 ! -name $$cache -exec rm -rf {} +; fi; \
	$(BIN)/python -c 'import sys, yaml; c = yaml.safe_load(open("_config.yml")); \
		c["execute"].update(execute_notebooks=sys.argv[1], cache=sys.argv[2]); \
		yaml.safe_dump(c, open(sys.argv[3], "w"), allow_unicode=True, sort_keys=False)' \
		$(EXECUTE) $(CURDIR)/$(EXECUTION_CACHES)/$$cache $(BOOK_CONFIG)
	$(call RUN_IN,$(CONFIG)) $(BIN)/jupyter-book build . --all $(JB_FLAGS) --config $(BOOK_CONFIG)

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
## (their values under the pins on this CPU are also recorded for `make spread`)
notebooks: $(STAMP)
	mkdir -p _build/spread && rm -f _build/spread/default.jsonl
	for nb in $(NOTEBOOKS); do \
		IMPROVED_GRADIENTS_REFERENCES=write \
		IMPROVED_GRADIENTS_RECORD=$(CURDIR)/_build/spread/default.jsonl $(call RUN_IN,default) \
		$(BIN)/jupyter execute --inplace --timeout=900 $$nb || exit 1; done

## spread: run the pages with training outcomes under every configuration of
## machine.SPREAD_CONFIGURATIONS (two at a time), recording the outcomes, and set each
## reference's tolerance from the measured spread, the pins' values of the last
## `make notebooks` included (slow: about 10 minutes per configuration)
spread: $(STAMP)
	mkdir -p _build/spread
	$(MAKE) --no-print-directory -j2 $(addprefix spread-config-,$(SPREAD_CONFIGS))
	$(BIN)/python -m improved_gradients.reference tolerances $(SPREAD_FLAGS) _build/spread/*.jsonl

spread-config-%: $(STAMP)
	rm -rf _build/spread/$* _build/spread/$*.jsonl && mkdir -p _build/spread/$*
	for nb in $(OUTCOME_NOTEBOOKS); do cp $$nb _build/spread/$*/; \
		IMPROVED_GRADIENTS_REFERENCES=record \
		IMPROVED_GRADIENTS_RECORD=$(CURDIR)/_build/spread/$*.jsonl \
		$(call RUN_IN,$*) $(BIN)/jupyter execute --inplace --timeout=900 \
		_build/spread/$*/$$(basename $$nb) >> _build/spread/$*.log 2>&1 || exit 1; done

## bench: per-step timings of SIP, HIG and the baselines on every page, measured side by side
bench: $(STAMP)
	$(call RUN_IN,default) $(BIN)/python -m improved_gradients sip-bench
	$(call RUN_IN,default) $(BIN)/python -m improved_gradients sip-heat-bench
	$(call RUN_IN,default) $(BIN)/python -m improved_gradients hig-bench
	$(call RUN_IN,default) $(BIN)/python -m improved_gradients hig-oscillators-bench

clean:
	rm -rf _build
