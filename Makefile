# One-command setup, book and tests. See README.md.
#   make book                 set up .venv, run every notebook at SCALE, build the HTML book
#   make test                 unit tests, then every notebook at scale=smoke under nbval
#   make notebook NB=00_substrate PARAMS="-p scale smoke -p dataset digits-dvs"
#   make bench                performance benchmarks (not part of make test)
#   make ledger-full          SpikeNAS-Bench ledger over all 15,625 cells (CELLS=1000: a prefix)
#   make paper-dry-run        every notebook at scale=paper, 2 steps per loop on the CPU
#   make reference            copy make book's fresh results over the committed ones (data/results)
SHELL := /bin/bash
.DEFAULT_GOAL := help
.SECONDEXPANSION:
# keep executed notebooks (intermediate files of the book) so nothing re-runs needlessly
.SECONDARY:

SCALE  ?= cpu
DEVICE ?= auto
SEED   ?= 0
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

# Every notebook run of the book, as <notebook-stem>__<dataset>. Order matters through the
# explicit dependencies below (a retrain needs its search's result file) and for the time of
# make book: tools/run_book.py starts the first ready run in this order whenever a job slot
# is free, so the longest chains (search -> retraining) come first and short runs fill gaps.
BOOK_RUNS := \
	20_madarts_search__cifar10 61_spikenas_search__cifar10 21_madarts_retrain__cifar10 \
	10_mse_search__cifar10 11_mse_retrain__cifar10 62_spikenas_darts__cifar10 \
	00_substrate__cifar10-dvs-sim 10_mse_search__cifar10-dvs-sim 11_mse_retrain__cifar10-dvs-sim \
	60_spikenas_ledger__cifar10 22_madarts_attention__cifar10 \
	01_nmnist_pipeline__nmnist 12_mse_ablations__digits 10_mse_search__digits \
	11_mse_retrain__digits 00_substrate__cifar10 02_simulator_vs_sensor__nmnist \
	00_substrate__digits 00_substrate__digits-dvs 03_own_data__digits 51_paper_scale__cifar10 50_performance__digits \
	52_reproduction__digits
# Runs that left the book (their chapters' questions moved to CIFAR-10 and the SpikeNAS-Bench
# judge: the proxy study to the ledger, the digits comparison to 62, MA-DARTS on digits to its
# CIFAR-10 runs) but stay tested at smoke scale and runnable with make notebook.
EXTRA_RUNS := 30_proxy_study__digits 40_comparison__digits 20_madarts_search__digits \
	21_madarts_retrain__digits 22_madarts_attention__digits


EXEC_DIR := build/executed-$(SCALE)
# make book's notebooks write their result files here (git-ignored) and read the results of
# the runs before them from here; the committed reference (data/results) is never written:
# 52_reproduction compares the two, make reference copies this folder over the reference
RUN_RESULTS := build/results-$(SCALE)
BOOK_NBS := $(addprefix book/executed/,$(addsuffix .ipynb,$(BOOK_RUNS)))
SNNLIB_SRC := $(shell find snnlib -name '*.py' 2>/dev/null)
NB_STEM = $(firstword $(subst __, ,$(1)))
NB_DATA = $(word 2,$(subst __, ,$(1)))
PAPERMILL := $(VENV)/bin/papermill -k python3 --no-progress-bar

# Each notebook depends on the snnlib modules it imports (transitively), not on all of snnlib.
build/nbdeps.mk: tools/nbdeps.py $(wildcard notebooks/*.py) $(SNNLIB_SRC)
	@mkdir -p $(dir $@)
	@$(PYTHON) tools/nbdeps.py $(wildcard notebooks/*.py) > $@
-include build/nbdeps.mk

# Re-copy executed notebooks into the book when SCALE changes (cheap; nothing re-runs).
$(shell mkdir -p .make; echo "$(SCALE) $(SEED)" | cmp -s - .make/scale || echo "$(SCALE) $(SEED)" > .make/scale)

.PHONY: help setup book reference html notebook test lint unit nbval bench ledger-full paper-dry-run clean distclean
help:
	@sed -n '2,8p' Makefile | sed 's/^# *//'

setup: $(STAMP)
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,dvs,bench]"
	@touch $@

# -- notebooks -> executed notebooks -----------------------------------------------------
build/src/%.ipynb: notebooks/%.py $(STAMP)
	@mkdir -p $(dir $@)
	$(VENV)/bin/jupytext --quiet --to ipynb -o $@ $<

$(EXEC_DIR)/%.ipynb: build/src/$$(call NB_STEM,$$*).ipynb $$(NBDEPS_$$(call NB_STEM,$$*)) $(STAMP)
	@mkdir -p $(dir $@)
	@echo ">> $* (scale=$(SCALE), seed=$(SEED), device=$(DEVICE))"
	@mkdir -p $(RUN_RESULTS)
	cd notebooks && SNNLIB_RESULTS=$(CURDIR)/$(RUN_RESULTS) ../$(PY) ../tools/run_notebook.py ../$< ../$@.tmp.ipynb \
		-p scale $(SCALE) -p dataset $(call NB_DATA,$*) -p seed $(SEED) -p device $(DEVICE)
	@mv $@.tmp.ipynb $@

book/executed/%.ipynb: $(EXEC_DIR)/%.ipynb .make/scale tools/book_copy.py
	@mkdir -p $(dir $@)
	$(PYTHON) tools/book_copy.py $< $@ $(call NB_DATA,$*) $(SCALE)

# Runs that read another run's result file.
$(foreach d,digits cifar10 cifar10-dvs-sim,$(eval $(EXEC_DIR)/11_mse_retrain__$(d).ipynb: $(EXEC_DIR)/10_mse_search__$(d).ipynb))
# the substrate run simulates (and caches) the event CIFAR-10 subset the MSE-NAS runs read
$(EXEC_DIR)/10_mse_search__cifar10-dvs-sim.ipynb: $(EXEC_DIR)/00_substrate__cifar10-dvs-sim.ipynb
$(EXEC_DIR)/21_madarts_retrain__cifar10.ipynb $(EXEC_DIR)/22_madarts_attention__cifar10.ipynb: $(EXEC_DIR)/20_madarts_search__cifar10.ipynb
# the comparison on SpikeNAS-Bench reads the searches of 61 and the retraining budgets of 11, 21
$(EXEC_DIR)/62_spikenas_darts__cifar10.ipynb: $(EXEC_DIR)/61_spikenas_search__cifar10.ipynb $(EXEC_DIR)/11_mse_retrain__cifar10.ipynb $(EXEC_DIR)/21_madarts_retrain__cifar10.ipynb
# The performance page reads every run's wall time (B5, from RUN_RESULTS) and the committed
# make bench files (data/results/bench__*.json): it runs after every run but the report (52).
$(EXEC_DIR)/50_performance__digits.ipynb: $(wildcard benchmarks/*.py) $(wildcard data/results/bench__*.json) $(EXEC_DIR)/51_paper_scale__cifar10.ipynb $(filter-out $(EXEC_DIR)/5%,$(addprefix $(EXEC_DIR)/,$(addsuffix .ipynb,$(BOOK_RUNS))))
# The reproduction report compares every run's fresh result with the reference: it runs last.
$(EXEC_DIR)/52_reproduction__digits.ipynb: $(wildcard data/results/*.json) $(filter-out $(EXEC_DIR)/52_%,$(addprefix $(EXEC_DIR)/,$(addsuffix .ipynb,$(BOOK_RUNS))))

# The cost page reads the committed dry-run records (make paper-dry-run writes them).
$(EXEC_DIR)/51_paper_scale__cifar10.ipynb: $(wildcard data/results/dryrun/*__paper.json)

# -- paper-scale dry run -----------------------------------------------------------------
# Every notebook's paper path on the CPU, DRY_STEPS steps per loop (snnlib.dryrun): each
# writes data/results/dryrun/<stem>__<dataset>__paper.json, never a result file. One at a
# time, one thread; a search runs before the notebooks that read it; a failed run is
# reported at the end and the others still run. 50_performance (the
# benchmarks) has no paper path to project.
DRY_STEPS ?= 2
# the batch size a dry run measures at (a paper batch of the DARTS supernet needs > 13 GB on
# a CPU): the loops plan proportionally more, smaller steps, so the full run's FLOPs stay
# those of the paper batch (snnlib.dryrun.batch_size); 0: the paper's own batch
DRY_BATCH ?= 16
DRY_RUNS := 00_substrate__cifar10 01_nmnist_pipeline__nmnist 02_simulator_vs_sensor__nmnist \
	10_mse_search__cifar10 11_mse_retrain__cifar10 12_mse_ablations__cifar10 \
	20_madarts_search__cifar10 21_madarts_retrain__cifar10 22_madarts_attention__cifar10 \
	30_proxy_study__cifar10 40_comparison__cifar10 \
	60_spikenas_ledger__cifar10 61_spikenas_search__cifar10
DRY_DIR := build/paper-dry-run
paper-dry-run: $(STAMP) $(addprefix build/src/,$(addsuffix .ipynb,$(sort $(foreach r,$(DRY_RUNS),$(call NB_STEM,$(r))))))
	@mkdir -p $(DRY_DIR)
	@for run in $(DRY_RUNS); do \
		stem=$${run%%__*}; data=$${run#*__}; echo ">> $$run (scale=paper, max_steps=$(DRY_STEPS), cpu)"; \
		( cd notebooks && SNNLIB_DRYRUN_BATCH=$(DRY_BATCH) ../$(PY) ../tools/run_notebook.py ../build/src/$$stem.ipynb ../$(DRY_DIR)/$$run.ipynb \
			-p scale paper -p dataset $$data -p seed $(SEED) -p device cpu \
			-p max_steps $(DRY_STEPS) -p confirm_paper_on_cpu True ) || failed="$$failed $$run"; \
	done; \
	ls -l data/results/dryrun/; \
	if [ -n "$$failed" ]; then echo "paper-dry-run: failed:$$failed"; exit 1; fi

# -- the book --------------------------------------------------------------------------
# two notebooks at a time (each runs on one thread): JOBS=1 for one at a time
JOBS ?= 2
BOOK_SRCS := $(addprefix build/src/,$(addsuffix .ipynb,$(sort $(foreach r,$(BOOK_RUNS),$(call NB_STEM,$(r))))))
# tools/run_book.py starts the runs JOBS at a time, always the first ready one in BOOK_RUNS
# order (make -j alone would leave a retraining waiting for its search to the very end)
book:
	@$(MAKE) --no-print-directory $(STAMP) $(BOOK_SRCS)
	@$(PY) tools/run_book.py $(JOBS) $(EXEC_DIR) SCALE=$(SCALE) SEED=$(SEED) DEVICE=$(DEVICE)
	@$(MAKE) --no-print-directory -j$(JOBS) _build/html/index.html
	@echo "Book: $(CURDIR)/_build/html/index.html"
	@echo "Results of this build: $(CURDIR)/$(RUN_RESULTS) (data/results, the reference, is untouched: see the reproduction report; make reference copies them over it)"

# Make the last make book's fresh results the committed reference (a deliberate step: commit
# the changed data/results/*.json with the reason); the book's files only, not user/.
reference:
	@ls $(RUN_RESULTS)/*__$(SCALE)__seed*.json >/dev/null 2>&1 || { echo "make reference: no result files in $(RUN_RESULTS); run make book SCALE=$(SCALE) first"; exit 2; }
	cp -v $(RUN_RESULTS)/*__$(SCALE)__seed*.json data/results/

_build/html/index.html: $(BOOK_NBS) _config.yml _toc.yml $(wildcard book/*.md) $(wildcard book/api/*.md) $(wildcard book/*.bib) $(SNNLIB_SRC) $(STAMP)
	$(PYTHON) tools/check_executed.py $(BOOK_NBS)
	$(VENV)/bin/jupyter-book build . -W --keep-going
	@touch $@

html: _build/html/index.html

# Results go where make book's do (RUN_RESULTS, or $SNNLIB_RESULTS when set), never over the
# committed reference. NB is checked before any prerequisite (an empty NB used to fail on build/src/.ipynb first)
notebook:
	@test -n "$(NB)" || { echo "usage: make notebook NB=<stem> PARAMS='-p scale smoke -p dataset digits'"; exit 2; }
	@test -f notebooks/$(NB).py || { echo "make notebook: no notebooks/$(NB).py; NB is one of: $(basename $(notdir $(wildcard notebooks/[0-9]*.py)))"; exit 2; }
	@$(MAKE) --no-print-directory $(STAMP) build/src/$(NB).ipynb
	@mkdir -p build/notebook $(RUN_RESULTS)
	cd notebooks && SNNLIB_RESULTS=$${SNNLIB_RESULTS:-$(CURDIR)/$(RUN_RESULTS)} ../$(PY) ../tools/run_notebook.py ../build/src/$(NB).ipynb ../build/notebook/$(NB).ipynb \
		-p scale $(SCALE) -p seed $(SEED) -p device $(DEVICE) $(PARAMS)

# -- tests -----------------------------------------------------------------------------
NBVAL_DIR := build/nbval
test: lint unit nbval

# ruff: lint and format, the whole tree (configuration in pyproject.toml)
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# unit tests and the docstring examples of snnlib (--doctest-modules, pyproject.toml)
unit: $(STAMP)
	$(PY) -m pytest -q tests snnlib

nbval: $(STAMP) $(BOOK_SRCS) $(addprefix build/src/,$(addsuffix .ipynb,$(foreach r,$(EXTRA_RUNS),$(call NB_STEM,$(r)))))
	@$(PY) tools/notebook_logic.py --max 250
	@rm -rf $(NBVAL_DIR) && mkdir -p $(NBVAL_DIR)
	@for run in $(BOOK_RUNS) $(EXTRA_RUNS); do \
		stem=$${run%%__*}; data=$${run#*__}; \
		$(PAPERMILL) --prepare-only build/src/$$stem.ipynb $(NBVAL_DIR)/$$run.ipynb \
			-p scale smoke -p dataset $$data -p seed $(SEED) -p device cpu >/dev/null 2>&1 || exit 1; \
	done
	cd notebooks && SNNLIB_RESULTS=$(CURDIR)/$(NBVAL_DIR)/results SNNLIB_CHECKPOINTS=$(CURDIR)/$(NBVAL_DIR)/checkpoints \
		../$(PY) -m pytest -q -p no:cacheprovider --nbval-lax --current-env \
		--rootdir=$(CURDIR)/$(NBVAL_DIR) $(CURDIR)/$(NBVAL_DIR)

bench: $(STAMP)
	$(PY) -m benchmarks

# the SpikeNAS-Bench ledger over the whole space (CELLS: a prefix) on WORKERS dask workers
CELLS ?= 15625
WORKERS ?= 2
ledger-full: $(STAMP)
	$(PY) tools/ledger_full.py $(CELLS) $(WORKERS)

clean:
	rm -rf _build build book/executed .make .pytest_cache

distclean: clean
	rm -rf $(VENV)
