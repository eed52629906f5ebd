# The README's commands. `make run` and `make test` do all the set-up themselves.
.PHONY: run test test-actions bootstrap lint bench clean

run: bootstrap
	.venv/bin/voicebot stack

# --durations: the CI log shows where the suite's time goes (keep it well under 30 minutes)
test: bootstrap
	.venv/bin/python -m pytest --durations=15
	$(MAKE) --no-print-directory test-actions

# The Rasa custom actions need rasa_sdk, so their unit tests run in the Rasa interpreter.
test-actions:
	PYTHONPATH=rasa_project .venv-rasa/bin/python -m pytest --noconftest -p no:cacheprovider tests/actions

bootstrap:
	@./scripts/bootstrap.sh

# Starts a private hotline and writes docs/benchmarks.md and docs/benchmarks.png.
bench: bootstrap
	.venv/bin/voicebot bench

lint:
	.venv/bin/ruff check voicebot tests
	.venv/bin/ruff format --check voicebot tests
	.venv/bin/mypy

clean:
	rm -rf .stamps var rasa_project/models rasa_project/results
