# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8501
SCENARIO ?= nl-baseline
STAMP := $(VENV)/.installed
# `make test` runs the suite in this many pytest-xdist workers (tests/conftest.py keeps each module, and all the
# real-browser tests, on one worker); TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
PYTEST_WORKERS := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadgroup)

.PHONY: run test test-fast bench screenshots browser lint clean i18n i18n-extract i18n-update i18n-compile

LOCALE := sandbox/locale
LANGS := nl en
MO := $(foreach l,$(LANGS),$(LOCALE)/$(l)/LC_MESSAGES/messages.mo)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/pybabel -q compile -d $(LOCALE) -D messages
	touch $@

# A catalog is recompiled whenever its .po changes (the .mo files are built, not committed).
$(LOCALE)/%/LC_MESSAGES/messages.mo: $(LOCALE)/%/LC_MESSAGES/messages.po | $(STAMP)
	$(BIN)/pybabel -q compile -d $(LOCALE) -D messages -l $*

## i18n: extract the texts of the code into messages.pot, merge them into the nl/en catalogs, compile
i18n: i18n-extract i18n-update i18n-compile

i18n-extract: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k _ -k ngettext:1,2 -k N_ -k NC_:1c,2 --no-location --sort-output -w 120 \
	  --project "MPC Trust Sandbox" --version 0.1.0 --copyright-holder "MPC Trust Sandbox contributors" \
	  -o $(LOCALE)/messages.pot sandbox synthetic

i18n-update: $(STAMP)
	$(BIN)/pybabel -q update -i $(LOCALE)/messages.pot -d $(LOCALE) -D messages --no-fuzzy-matching --ignore-obsolete -w 120

i18n-compile: $(STAMP)
	$(BIN)/pybabel -q compile -d $(LOCALE) -D messages --statistics

## run: install into .venv and serve the app on http://127.0.0.1:$(PORT) with the default scenario
run: $(STAMP) $(MO)
	MPC_SANDBOX_SCENARIO=$(SCENARIO) $(BIN)/python -m streamlit run sandbox/app.py \
	  --server.address 127.0.0.1 --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

## test: install and run the whole suite, browser tests included (Chromium from Debian: see `make browser`)
test: $(STAMP) $(MO) browser
	$(BIN)/python -m pytest $(PYTEST_WORKERS)

## test-fast: everything except the real-browser tests
test-fast: $(STAMP) $(MO)
	$(BIN)/python -m pytest $(PYTEST_WORKERS) -m "not e2e"

## bench: benchmarks; results go to benchmarks/results/, summary tables to stdout
bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

## screenshots: refresh the README screenshots (docs/img/) with the real-browser tests
screenshots: $(STAMP) $(MO) browser
	$(BIN)/python -m pytest -m e2e -q

## browser: Debian's Chromium (+ fonts, libatomic for Playwright's driver) when missing; needs root
browser:
	@if [ -x /usr/bin/chromium ] && ldconfig -p | grep -q libatomic.so.1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  for i in 1 2 3; do apt-get update -qq && break; sleep 5; done; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation libatomic1; \
	else echo "Chromium missing: run 'sudo apt-get install chromium fonts-liberation libatomic1' (browser tests need it)"; fi

lint: $(STAMP)
	$(BIN)/python -m ruff check sandbox synthetic tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
