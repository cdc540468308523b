# Two commands set everything up from a fresh clone: `make run` and `make test`.
# Every install is the locked one: uv.lock lists every dependency, direct and transitive, with
# hashes, and `uv sync --locked` installs exactly that (and fails if the lock is out of date).
PYTHON ?= python3
VENV ?= .venv
TOOLS ?= .tools
LOWEST ?= .venv-lowest
BIN := $(VENV)/bin
UV := $(TOOLS)/bin/uv

# uv uses this machine's Python and never downloads one; the environment it syncs is $(VENV).
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test test-quick test-lowest upgrade check lint messages clean

# uv itself, pinned with hashes, in a small venv of its own (so syncing $(VENV) never removes it).
$(UV): scripts/uv-requirements.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		-r scripts/uv-requirements.txt
	touch $@

# A maslahat.egg-info left in the clone by the setuptools build of earlier versions would be found by
# importlib.metadata (the tests put the clone on sys.path) with stale entry points: remove it.
$(BIN)/maslahat: $(UV) pyproject.toml uv.lock
	rm -rf maslahat.egg-info
	$(UV) sync --quiet --locked --extra dev --python $(PYTHON)
	touch $@

run: $(BIN)/maslahat  ## set up, then start the bot (the terminal conversation if no BOT_TOKEN)
	$(BIN)/maslahat run

test: $(BIN)/maslahat  ## set up, then run the whole test suite
	scripts/ensure-redis
	scripts/ensure-chromium
	$(BIN)/pytest

test-quick: $(BIN)/maslahat  ## the suite without the slow end-to-end and benchmark runs, while working
	scripts/ensure-redis
	scripts/ensure-chromium
	$(BIN)/pytest -m "not slow and not bench"

# The lower bounds in pyproject.toml must be true: install the lowest versions they allow of every
# direct dependency (the transitive ones at their newest that fit) and run the whole suite on them.
test-lowest: $(UV)  ## run the whole suite against the lowest dependency versions pyproject.toml allows
	rm -rf $(LOWEST)
	$(UV) venv --quiet --python $(PYTHON) $(LOWEST)
	$(UV) pip install --quiet --python $(LOWEST)/bin/python --resolution lowest-direct -e '.[dev]'
	scripts/ensure-redis
	scripts/ensure-chromium
	$(LOWEST)/bin/pytest -p no:cacheprovider

# An upgrade is a deliberate change: the lock moves to the newest releases the bounds allow, the
# environment follows it, and the whole suite runs against it before anyone commits uv.lock.
upgrade: $(UV)  ## upgrade uv.lock to the newest releases, then run the whole suite on them
	$(UV) lock --upgrade
	$(MAKE) test

check: $(BIN)/maslahat  ## validate the rule table (warnings fail it, as in CI)
	$(BIN)/maslahat check --strict

lint: $(BIN)/maslahat  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Everything derived from the code and the rule table: the diagram, the template, the catalogs.
# A no-op on an untouched tree: the template is replaced only when more than its date changed.
# CI runs scripts/check-generated, which fails when this would change anything.
messages: $(BIN)/maslahat  ## regenerate what derives from the rule table: diagram, message template, catalogs
	$(BIN)/maslahat --rules rules/decree-821.yaml graph --format markdown -o docs/conversation.md
	$(BIN)/pybabel extract -F locales/babel.cfg -k N_ --add-comments=Translators: --no-wrap \
		--sort-by-file --project=Maslahat --copyright-holder="Maslahat contributors" \
		-o locales/messages.pot.new . || { rm -f locales/messages.pot.new; exit 1; }
	if [ -f locales/messages.pot ] && diff -q -I '^"POT-Creation-Date: ' locales/messages.pot locales/messages.pot.new >/dev/null; \
		then rm locales/messages.pot.new; else mv locales/messages.pot.new locales/messages.pot; fi
	$(BIN)/pybabel update -i locales/messages.pot -d locales --no-wrap --ignore-pot-creation-date --previous

clean:
	rm -rf $(VENV) $(TOOLS) $(LOWEST) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
