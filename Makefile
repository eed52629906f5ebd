# The README's commands. `make run` and `make test` do all the set-up themselves.
.PHONY: run test test-actions bootstrap lint lint-venvs lint-ruff lint-mypy lint-mypy-actions \
  lint-imports check bench clean

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
# The plot needs matplotlib, the `bench` extra (the lock installs it; this covers other set-ups).
bench: bootstrap
	.venv/bin/python -c 'import matplotlib' 2>/dev/null || .venv/bin/pip install -q -e '.[bench]'
	.venv/bin/voicebot bench

# Style, types (checked against Python 3.10, the lowest the project declares) and the import
# contracts of .importlinter. The actions are type-checked with the Rasa interpreter's packages.
# One target per tool: `make -k lint` reports them all.
LINT_PATHS = voicebot tests rasa_project
lint: lint-ruff lint-mypy lint-mypy-actions lint-imports

lint-venvs:
	@./scripts/bootstrap.sh --venvs

lint-ruff: lint-venvs
	.venv/bin/ruff check $(LINT_PATHS)
	.venv/bin/ruff format --check $(LINT_PATHS)

lint-mypy: lint-venvs
	.venv/bin/mypy

lint-mypy-actions: lint-venvs
	.venv/bin/mypy --strict --python-version 3.10 --python-executable .venv-rasa/bin/python rasa_project/actions

lint-imports: lint-venvs
	.venv/bin/lint-imports

# Everything CI checks: lint first (seconds), then the whole suite.
check: lint test

clean:
	rm -rf .stamps var rasa_project/models rasa_project/results
