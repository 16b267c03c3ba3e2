# The README's two commands: `make run` and `make test`. Both create the virtualenv on first use.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test bench browser
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/waba run

test: $(VENV)/.installed browser
	$(BIN)/pytest -n 2 --dist loadgroup

# The report tests open every page in headless Chromium: Debian's `chromium` package, installed here when missing
# (as root, or through sudo when it needs no password); otherwise one line says what to do.
APT_INSTALL = DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  echo "installing chromium (Debian package) for the report tests..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi; \
	  if [ "$$SUDO" != none ] && command -v apt-get >/dev/null 2>&1; then \
	    $$SUDO sh -c '$(APT_INSTALL) 2>/dev/null || (apt-get update -q >/dev/null && $(APT_INSTALL))'; fi; \
	  command -v chromium >/dev/null 2>&1 || { echo "error: chromium is missing and could not be installed; run \
	'sudo apt-get install chromium' (Debian/Ubuntu) or put chromium on the PATH: the report tests need it" >&2; exit 1; }; }

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_marts.py
