# The two commands of README.md.
.PHONY: up test test-cluster lint

up:  ## start the whole network on localhost (all services, five towns, demo data, pages)
	./scripts/bootstrap.sh
	./scripts/ensure-infra.sh broker
	.venv/bin/soesmart up

test:  ## run the whole test suite (unit, integration, system) against real infrastructure
	./scripts/bootstrap.sh dev
	eval "$$(./scripts/ensure-infra.sh)"; .venv/bin/python -m pytest

test-cluster:  ## the three-node broker cluster test (a lost node, killed services); not in `test` yet
	./scripts/bootstrap.sh dev
	eval "$$(./scripts/ensure-infra.sh)"; .venv/bin/python -m pytest -m cluster tests/system/test_broker_cluster.py -s

lint:
	.venv/bin/ruff check soesmart launcher services tests bench
	.venv/bin/mypy soesmart launcher services
