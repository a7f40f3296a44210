# Tasks of issuer. `make run` and `make test` work on a fresh machine (Debian, Python 3.11+).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < setup.cfg | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 5000
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc
KERNED_FONT := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

.PHONY: run test topology lint bench vectors fonts browser screenshots dev-init install clean

$(STAMP): setup.cfg
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

fonts:
	@if [ ! -f $(CJK_FONT) ] || [ ! -f $(KERNED_FONT) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get install -y -q fonts-noto-cjk fonts-dejavu-core >/dev/null 2>&1 || \
	     (apt-get update -q >/dev/null && apt-get install -y -q fonts-noto-cjk fonts-dejavu-core >/dev/null)) && \
	    echo "installed fonts-noto-cjk fonts-dejavu-core"; \
	  else echo "warning: fonts missing; run: sudo apt-get install fonts-noto-cjk fonts-dejavu-core"; fi; \
	fi

# Debian's Chromium for the browser tests (tests/browser), driven by Playwright.
browser:
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get install -y -q chromium >/dev/null 2>&1 || \
	     (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)) && \
	    echo "installed chromium"; \
	  else echo "warning: chromium missing (browser tests skipped); run: sudo apt-get install chromium"; fi; \
	fi

screenshots: $(STAMP) fonts browser
	ISSUER_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q tests/browser

dev-init: $(STAMP)
	$(BIN)/issuer dev init

run: $(STAMP) fonts dev-init
	$(BIN)/issuer run --host $(HOST) --port $(PORT)

# Two processes (pytest-xdist, work stealing): a test file that uses Redis takes the worker's own
# database (tests.conftest.worker_redis; up to 4 workers). TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: $(STAMP) fonts browser
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# The deployment on 127.0.0.1 (tests/topology): PostgreSQL and Redis running there, issuer serve
# with 2 workers, 2 issuer workers, the scheduler; a web process and a drawing worker killed
# mid-batch. About a minute; `make test` skips it.
topology: $(STAMP) fonts
	ISSUER_TOPOLOGY=1 $(BIN)/python -m pytest -q tests/topology $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check issuer tests bench
	$(BIN)/mypy --strict issuer/core issuer/render

bench: $(STAMP)
	$(BIN)/python -m bench

vectors: $(STAMP)
	$(BIN)/python -m tests.vectors.generate
	$(BIN)/python -m tests.vectors.generate_sm2

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
