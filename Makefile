# The two commands of the README. Both prepare a fresh machine themselves (deploy/dev/bootstrap.sh).
.PHONY: demo test lint bootstrap

bootstrap:
	@deploy/dev/bootstrap.sh

## The main job: local Kafka broker + worker + sample events, decisions printed as they arrive.
demo: bootstrap
	@.venv/bin/huiyan demo $(ARGS)

## The whole test suite: lint, types, unit tests, integration tests on a real broker (started and stopped here).
test: bootstrap
	@deploy/dev/test.sh $(ARGS)

lint: bootstrap
	@.venv/bin/ruff check stream classifiers tests && .venv/bin/ruff format --check stream classifiers tests && .venv/bin/mypy
