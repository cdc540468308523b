# Two commands set everything up from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test check lint messages clean

$(BIN)/maslahat: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/maslahat  ## set up, then start the bot (the terminal conversation if no BOT_TOKEN)
	$(BIN)/maslahat run

test: $(BIN)/maslahat  ## set up, then run the whole test suite
	scripts/ensure-redis
	$(BIN)/pytest

check: $(BIN)/maslahat  ## validate the rule table
	$(BIN)/maslahat check

lint: $(BIN)/maslahat  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

messages: $(BIN)/maslahat  ## re-extract texts from code and rules, merge them into every catalog
	$(BIN)/pybabel extract -F locales/babel.cfg -k N_ --add-comments=Translators: --no-wrap \
		--sort-by-file --project=Maslahat --copyright-holder="Maslahat contributors" \
		-o locales/messages.pot .
	$(BIN)/pybabel update -i locales/messages.pot -d locales --no-wrap --ignore-pot-creation-date

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
