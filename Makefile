# The two commands a new user types: `make demo` and `make test`. Each bootstraps .venv itself.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test install lint bench browser assets screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/python -m webapp.demo

# The browser tests drive Debian's chromium (Playwright cannot download a browser here): install it when
# missing and we are root with apt-get; otherwise say what to install (under CI=true that is an error).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need Debian's chromium: run 'sudo apt-get install chromium'." >&2; \
	    if [ "$${CI:-}" = true ]; then exit 1; fi; \
	  fi; \
	fi

test: $(STAMP) browser
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check engine webapp tasks tests

bench: $(STAMP)
	$(VENV)/bin/signoff bench --quick

# The modeller's JavaScript and CSS (bpmn-js, its properties panel, the Camunda moddle), pinned in
# webapp/modeller_src/package-lock.json and bundled into webapp/static/modeller/ with their licences. The built
# files are committed, so `make demo` and `make test` need no npm; run this after changing modeller_src/.
assets:
	cd webapp/modeller_src && npm ci --no-audit --no-fund && npm run build

# The README's screenshots (docs/screenshots/*.png), drawn from the demo company by a browser test that also
# checks the pages render without console errors.
screenshots: $(STAMP) browser
	SIGNOFF_SCREENSHOTS=docs/screenshots $(VENV)/bin/pytest -q -p no:cacheprovider tests/e2e/test_screenshots.py
