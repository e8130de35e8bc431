# Antrian: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LISTEN ?= 127.0.0.1:1883

.PHONY: setup system-deps demo serve test check clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Debian packages: Mosquitto (the production broker, used by the tests), espeak-ng (the voice).
system-deps:
	@bash .ci/system-deps

# The whole hall: broker, engine, kiosk, hall TV, two counter panels, announcer and simulated
# visitors, each its own process and window (headless without a screen: see demo-output/).
demo: system-deps setup
	$(BIN)/antrian config check
	$(BIN)/antrian demo --listen $(LISTEN)

# Only the engine with its embedded MQTT broker and the sample MPP, open at any hour.
serve: system-deps setup
	$(BIN)/antrian serve --ignore-hours --listen $(LISTEN)

test: system-deps setup
	$(BIN)/python -m pytest -q

check: setup
	$(BIN)/antrian config check

clean:
	rm -rf $(VENV) antrian-data demo-output tests/output .pytest_cache .hypothesis
