# The two commands of the README. Both prepare a fresh machine themselves (deploy/dev/bootstrap.sh).
.PHONY: demo test lint bootstrap fuzz

bootstrap:
	@deploy/dev/bootstrap.sh

## The main job: local Kafka broker + worker + sample events, decisions printed as they arrive.
demo: bootstrap
	@.venv/bin/huiyan demo $(ARGS)

## The whole test suite: lint, types, unit tests, integration tests on a real broker (started and stopped here).
test: bootstrap
	@deploy/dev/test.sh $(ARGS)

lint: bootstrap
	@.venv/bin/ruff check stream classifiers tests deploy/grafana && .venv/bin/ruff format --check stream classifiers tests deploy/grafana && .venv/bin/mypy

## The long fuzz run of the media metadata readers (100,000 mutated files; the suite runs 1,500).
fuzz: bootstrap
	@HUIYAN_FUZZ_EXAMPLES=$${HUIYAN_FUZZ_EXAMPLES:-100000} .venv/bin/python -m pytest -q tests/fuzz $(ARGS)
