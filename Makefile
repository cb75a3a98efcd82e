# The two commands of README.md.
.PHONY: up test lint

up:  ## start the whole network on localhost (all services, five towns, demo data, pages)
	./scripts/bootstrap.sh
	./scripts/ensure-infra.sh broker
	.venv/bin/soesmart up

test:  ## run the whole test suite (unit, integration, system) against real infrastructure
	./scripts/bootstrap.sh dev
	eval "$$(./scripts/ensure-infra.sh)"; .venv/bin/python -m pytest

lint:
	.venv/bin/ruff check soesmart launcher services tests bench
	.venv/bin/mypy soesmart launcher services
