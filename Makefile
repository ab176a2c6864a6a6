# Two commands: `make run` (the whole system, embedded default) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := contracts runtime services/catalog services/cart-quote services/orders \
            services/billing services/license-assign services/notifications gateway system portal
PYPROJECTS := $(wildcard */pyproject.toml services/*/pyproject.toml)

.PHONY: run test test-fast bench seed-scale bench-scale lint format chaos clean venv compose-secrets fuzz

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock requirements-dev.lock $(PYPROJECTS)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# requirements-dev.lock: the runtime lock (requirements.lock, all the images install) + tools.
	$(BIN)/python -m pip install -q -r requirements-dev.lock
	# Path-based editable installs: a top-level folder (gateway/) never shadows its package.
	$(BIN)/python -m pip install -q --no-deps --config-settings editable_mode=compat \
		$(addprefix -e ,$(PACKAGES))
	touch $@

run: venv  ## migrate, seed and start everything on the embedded default; Ctrl-C stops it
	$(BIN)/python -m portal_system.run

# Tests run in two processes; those sharing a whole system stay in one (conftest.py).
TEST_WORKERS ?= 2

test: venv  ## every test; integration tests use BROKER_URL / TEST_DATABASE_URL servers
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not stops_broker"
	# Alone: it stops the machine's RabbitMQ, which every other broker test would see.
	$(BIN)/python -m pytest -m stops_broker

test-fast: venv  ## unit and service-layer tests only (SQLite, memory bus)
	$(BIN)/python -m pytest -m "not integration and not e2e"

bench: venv  ## end-to-end throughput and latency on RabbitMQ + PostgreSQL
	$(BIN)/python -m portal_system.bench $(BENCH_ARGS)

seed-scale: venv  ## (re)build the scale_<service> PostgreSQL databases: 1M orders, a 50k-seat account
	$(BIN)/python -m portal_system.scale seed $(SCALE_ARGS)

bench-scale: venv  ## issue #17's targets on the seed-scale databases (RabbitMQ + PostgreSQL)
	$(BIN)/python -m portal_system.scale bench $(BENCH_SCALE_ARGS)

chaos: venv  ## orders while workers are killed, RabbitMQ and PostgreSQL stopped and a handler fails (private servers); then every effect counted
	$(BIN)/python -m portal_system.chaos $(CHAOS_ARGS)

compose-secrets: venv  ## signing keys and secrets for docker-compose into .env (never overwritten)
	@test ! -e .env || { echo ".env exists already; delete it to make new secrets"; exit 1; }
	umask 077 && $(BIN)/python -m portal_runtime.keys > .env
	@echo "wrote .env: docker compose up --build"

fuzz: venv  ## schemathesis over the gateway's OpenAPI document with many examples (RabbitMQ + PostgreSQL)
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-50} $(BIN)/python -m pytest -o timeout=3600 \
		"tests/test_e2e_gateway_security.py::test_the_openapi_document_holds_against_the_running_system"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf var/
