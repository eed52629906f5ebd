# The README's commands. `make run` and `make test` do all the set-up themselves.
.PHONY: run test bootstrap lint bench clean

run: bootstrap
	.venv/bin/voicebot stack

test: bootstrap
	.venv/bin/python -m pytest

bootstrap:
	@./scripts/bootstrap.sh

lint:
	.venv/bin/ruff check voicebot tests
	.venv/bin/ruff format --check voicebot tests
	.venv/bin/mypy

clean:
	rm -rf .stamps var rasa_project/models rasa_project/results
