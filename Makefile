# Learning Mechanics -- the two commands: `make book` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_ID := $(shell date -u +%Y%m%dT%H%M%S)-$$$$
NOTEBOOKS := notebooks

export PYTHONHASHSEED := 0
export JAX_PLATFORMS ?= cpu

.PHONY: install book test unit notebooks book-check lock clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book,test]"
	touch $(STAMP)

# Execute every notebook (Jupyter Book's cache skips unchanged ones) and build the HTML book.
book: install
	LMTHEORY_RECORDS=$(CURDIR)/_build/records/book LMTHEORY_RUN_ID=book-$(RUN_ID) \
	  $(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo "Book: $(CURDIR)/_build/html/index.html"

# Unit tests + doctests, every notebook under nbval (with a per-notebook timing table), then a book build
# without execution that fails on any Sphinx warning (broken _toc.yml, cross-reference or citation).
test: unit notebooks book-check

unit: install
	$(BIN)/python -m pytest -q tests lmtheory --doctest-modules

notebooks: install
	rm -rf _build/records/test
	LMTHEORY_RECORDS=$(CURDIR)/_build/records/test LMTHEORY_RUN_ID=test-$(RUN_ID) \
	  $(BIN)/python -m pytest -q --nbval-lax --nbval-cell-timeout=600 $(NOTEBOOKS)

book-check: install
	mkdir -p _build/noexec
	sed -e 's/^\(\s*execute_notebooks:\).*/\1 "off"/' _config.yml > _build/noexec/_config.yml
	$(BIN)/jupyter-book build . --config _build/noexec/_config.yml --path-output _build/noexec \
	  --warningiserror --keep-going --quiet

# Refresh constraints.txt from the current environment (after a deliberate upgrade; then run `make test`).
lock: install
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^lmtheory' > constraints.txt

clean:
	rm -rf _build
