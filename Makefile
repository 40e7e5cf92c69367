# Shortcuts; the scripts are the source of truth (they need nothing but bash and Python 3.11).
.PHONY: run test stop lint bench

run:
	./scripts/run

test:
	./scripts/test

stop:
	.venv/bin/python manage.py embedded_db stop

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
