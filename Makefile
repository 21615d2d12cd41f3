# The two commands: `make run` and `make test`. Everything else is a helper.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
HOST ?= 127.0.0.1
PORT ?= 8000
DEVSTACK_ARGS ?=
PYTEST_ARGS ?= -n 2

.PHONY: run test lint typecheck install install-test migrate demo clean messages

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"
	touch $@ $(STAMP)

install: $(STAMP)
install-test: $(TEST_STAMP)

migrate: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput

# Web server, worker and sandboxes in the foreground; Ctrl-C stops them all.
# `exec`: make then waits on the devstack itself and forwards a SIGTERM to it; a shell in between
# would die of it and leave the devstack and its children running.
run: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py collectstatic --noinput -v 0
	DEBUG=1 ADMIN_REQUIRE_MFA=false VENDOR_HOSTS_ALLOW=$${VENDOR_HOSTS_ALLOW-127.0.0.1,localhost} EXPENSICO_HOSTS_ALLOW=$${EXPENSICO_HOSTS_ALLOW-127.0.0.1,localhost} HOST=$(HOST) PORT=$(PORT) exec $(BIN)/python manage.py devstack --host $(HOST) --port $(PORT) $(DEVSTACK_ARGS)

test: install-test typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# mypy with the Django and DRF stubs; configured (strict and baseline modules) in pyproject.toml.
typecheck: install-test
	$(BIN)/mypy

lint: install-test typecheck
	$(BIN)/ruff check .

# The Arabic catalogue: re-extract every string we own (code and templates, as the completeness test
# does), empty the entries gettext only guessed (fuzzy) so the test names them, drop obsolete ones,
# and compile the .mo that is committed next to the .po.
PO := locale/ar/LC_MESSAGES/django.po
messages: install
	DEBUG=1 $(BIN)/python manage.py makemessages -l ar --no-location -i .venv -i tests -i bench -i staticfiles -i test-artifacts -i docs -i var
	msgattrib --clear-fuzzy --empty --no-obsolete --no-location -o $(PO) $(PO)
	DEBUG=1 $(BIN)/python manage.py compilemessages -l ar -i .venv

clean:
	rm -rf $(VENV) var/db.sqlite3* staticfiles
