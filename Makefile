# `make demo` and `make test` each set everything up on a fresh machine, then run.
VENV := .venv
STAMP := $(VENV)/.installed
export MUJOCO_GL ?= egl
export HF_HUB_OFFLINE := 1

.PHONY: setup demo test test-fast lint bench proto clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	./scripts/setup.sh

demo: $(STAMP)
	$(VENV)/bin/fleetrl demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

# Unit tests only (no integration or smoke tier), for a quick loop while editing.
test-fast: $(STAMP)
	$(VENV)/bin/python -m pytest -q -m "not integration and not smoke"

# The linter and the import order (both also run inside `make test`).
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/lint-imports --no-cache

bench: $(STAMP)
	$(VENV)/bin/fleetrl bench robots

# Regenerate the gRPC code of the robot protocol after editing robot.proto.
proto: $(STAMP)
	$(VENV)/bin/python -m grpc_tools.protoc -I src --python_out=src --grpc_python_out=src \
		src/fleetrl/hardware/server/robot.proto

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
