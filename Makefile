# sutazai.consolidation -- set-up, demo and tests on a Debian bookworm machine (root).
#   make demo   virtualenv, collection, demo tree, consolidate.yml --check --diff on it
#   make test   unit + integration (pytest), ansible-test sanity, ansible-lint, Molecule
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUILD := .build
COLL_PATH := $(BUILD)/collections
SANITY_DIR := $(BUILD)/sanity/ansible_collections/sutazai/consolidation
DEMO_ROOT ?= $(BUILD)/demo/sutazaiapp
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)
# pytest-xdist workers: the integration tests are mostly ansible-playbook runs, one core each.
PYTEST_WORKERS ?= 2
PIP_QUIET := 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)

.PHONY: all venv collection demo demo-tree test unit sanity lint molecule testbed bench clean

all: test

$(BIN)/.stamp: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements-dev.txt $(PIP_QUIET)
	touch $@

venv: $(BIN)/.stamp

collection: venv
	rm -rf $(BUILD)/dist $(COLL_PATH)/ansible_collections/sutazai
	mkdir -p $(BUILD)/dist $(COLL_PATH)
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/dist . >/dev/null
	$(BIN)/ansible-galaxy collection install --force --no-deps -p $(COLL_PATH) \
	  $(BUILD)/dist/sutazai-consolidation-$(VERSION).tar.gz >/dev/null

demo-tree: collection
	mkdir -p $(DEMO_ROOT)
	$(BIN)/ansible-playbook -i localhost, -c local playbooks/demo_platform.yml -e sutazai_root=$(abspath $(DEMO_ROOT)) \
	  -e ansible_python_interpreter=$(abspath $(BIN))/python

demo: demo-tree
	$(BIN)/ansible-playbook -i localhost, -c local playbooks/consolidate.yml \
	  -e ansible_python_interpreter=$(abspath $(BIN))/python \
	  -e sutazai_root=$(abspath $(DEMO_ROOT)) --check --diff

testbed: venv
	bash tests/testbed/setup-docker.sh
	$(BIN)/python tests/testbed/services.py build
	$(BIN)/python tests/testbed/stack.py up

unit: collection testbed
	SUTAZAI_TESTBED_REQUIRED=1 $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist worksteal \
	  --durations=15 tests/unit tests/integration

sanity: venv
	bash tests/sanity/run-sanity.sh

lint: collection
	$(BIN)/ansible-lint --profile production --offline

molecule: collection testbed
	NO_COLOR=1 ANSIBLE_NOCOLOR=1 PY_COLORS=0 $(BIN)/molecule test -s default

test: unit sanity lint molecule

bench: collection
	$(BIN)/python tests/bench/bench_agents.py
	$(BIN)/python tests/bench/bench_phases.py
	$(BIN)/python tests/bench/bench_code.py
	$(BIN)/python tests/bench/bench_real.py
	$(BIN)/python tests/bench/bench_backup.py

clean:
	rm -rf $(BUILD) tests/output
