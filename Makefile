# Antrian: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Where the demo's MQTT broker and its phone survey page listen (default 127.0.0.1:1883 and :8080, or free
# ports when those are taken, as by Debian's own Mosquitto): make demo LISTEN=127.0.0.1:1884 HTTP=127.0.0.1:8081
LISTEN ?=
HTTP ?=

.PHONY: setup system-deps test-deps demo serve test test-fast check clean screenshots

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Debian packages: Mosquitto (the production broker, used by the tests), espeak-ng (the voice).
system-deps:
	@bash .ci/system-deps

# ...and what only the tests need: Debian's chromium (Playwright drives it), poppler-utils (PDF checks),
# PostgreSQL (the central store's tests start a server of their own in a temporary folder).
test-deps:
	@bash .ci/system-deps --test

# The whole hall: broker, engine with its survey page, kiosk, hall TV, two counter panels and their
# screens, announcer and simulated visitors and officers, each its own process and window, laid out on
# one 1920x1080 screen (headless without a screen: see demo-output/).
demo: system-deps setup
	$(BIN)/antrian config check
	$(BIN)/antrian demo $(if $(LISTEN),--listen $(LISTEN)) $(if $(HTTP),--http $(HTTP))

# Only the engine with its own Mosquitto (the site's generated config) and the sample MPP, open at any hour.
serve: system-deps setup
	$(BIN)/antrian serve --ignore-hours $(if $(LISTEN),--listen $(LISTEN))

# Everything: the static checks (ruff and mypy with pyproject's settings, the dependency rule as its
# import-linter contracts), then the pure tests and the tests against the real parts, four files at a time
# (pytest-xdist, one file per worker so a module's fixtures start once): most tests wait on brokers, engines and
# browsers rather than compute, so on this 2-core machine four workers finish the suite in 326 s, three in 350 s,
# two in 454 s.
test: test-deps setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q -n 4 --dist loadfile tests

# The pure tests only (no processes, no broker; a tenth of the property examples): seconds, for the edit loop.
test-fast: setup
	ANTRIAN_QUICK=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/unit

check: setup
	$(BIN)/antrian config check

clean:
	rm -rf $(VENV) antrian-data demo-output tests/output .pytest_cache .hypothesis

# The README's pictures, made by the project's own screenshot commands (headless).
screenshots: setup
	rm -rf demo-output/shots && mkdir -p docs/screenshots
	SDL_VIDEODRIVER=dummy $(BIN)/antrian kiosk --screenshots demo-output/shots/kiosk
	SDL_VIDEODRIVER=dummy $(BIN)/antrian counter --screenshots demo-output/shots/counter
	SDL_VIDEODRIVER=dummy $(BIN)/antrian survey --screenshots demo-output/shots/survey
	$(BIN)/antrian print-test --printer preview:demo-output/shots/ticket --paper 58
	$(BIN)/antrian demo --headless --minutes 1 --speed 40 --seed 3 --out demo-output/shots/demo \
		--listen 127.0.0.1:18983 --http 127.0.0.1:18984 > /dev/null
	cp demo-output/shots/kiosk/portrait-01-home.png docs/screenshots/kiosk-home.png
	cp demo-output/shots/kiosk/portrait-02-services.png docs/screenshots/kiosk-services.png
	cp demo-output/shots/counter/counter-05-serving.png docs/screenshots/counter-panel.png
	cp demo-output/shots/survey/survey-03-question-1.png docs/screenshots/survey-tablet.png
	cp demo-output/shots/demo/screenshots/hall-final.png docs/screenshots/hall-display.png
	cp demo-output/shots/demo/screenshots/counter-1-final.png docs/screenshots/counter-display.png
	cp "$$(ls demo-output/shots/ticket/*.png | head -n 1)" docs/screenshots/ticket-58mm.png
