# tlsops.ocsp: build, test and demo entry points.
#   make demo   the lab, end to end, on this machine
#   make test   everything CI runs: lint, sanity, units (newest and oldest
#               cryptography/pyOpenSSL), integration
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

BASE_PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
VENV_OLDEST := .venv-oldest
PYTHON := $(VENV)/bin/python
PYTHON_OLDEST := $(VENV_OLDEST)/bin/python
STAMP := $(VENV)/.requirements-stamp
STAMP_OLDEST := $(VENV_OLDEST)/.requirements-stamp

# ansible finds the collection through <dir>/ansible_collections/tlsops/ocsp, a
# symlink to this checkout. It lives in .venv, which ansible-lint excludes.
COLLECTIONS_DIR := $(CURDIR)/$(VENV)/collections
COLLECTION_LINK := $(COLLECTIONS_DIR)/ansible_collections/tlsops/ocsp
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS_DIR)
export ANSIBLE_NOCOLOR := 1

.PHONY: help venv venv-oldest collection-link system-deps sanity units units-oldest \
	integration lint test demo clean

help:
	@echo "make demo         run the lab demo (builds .venv, installs Debian packages)"
	@echo "make test         lint, sanity, units (newest and oldest pair), integration"
	@echo "make venv         .venv from requirements.txt + tests/requirements.txt"
	@echo "make venv-oldest  .venv-oldest from tests/requirements-oldest.txt"
	@echo "make sanity | units | units-oldest | integration | lint | clean"

# A venv is (re)filled whenever its requirement files change; the stamp
# records the last successful install.
$(STAMP): requirements.txt tests/requirements.txt
	test -x $(PYTHON) || $(BASE_PYTHON) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check \
		-r requirements.txt -r tests/requirements.txt
	touch $@

$(STAMP_OLDEST): tests/requirements-oldest.txt
	test -x $(PYTHON_OLDEST) || $(BASE_PYTHON) -m venv $(VENV_OLDEST)
	$(PYTHON_OLDEST) -m pip install --quiet --disable-pip-version-check \
		-r tests/requirements-oldest.txt
	touch $@

venv: $(STAMP) collection-link
venv-oldest: $(STAMP_OLDEST) collection-link

collection-link:
	mkdir -p $(dir $(COLLECTION_LINK))
	ln -sfn $(CURDIR) $(COLLECTION_LINK)

system-deps:
	tests/setup/system-deps.sh

# Run pytest on a suite (tests/conftest.py makes the collection importable).
# A suite with no test files yet is reported and skipped; otherwise every
# pytest failure counts, "no tests collected" (exit code 5) included.
# $(1): python, $(2): suite directory.
define pytest_suite
	if [ -z "$$(find $(2) -name 'test_*.py' -print -quit 2>/dev/null)" ]; then \
		echo "$(2): no test files yet, nothing to run"; \
	else \
		$(1) -m pytest -p no:cacheprovider -ra --durations=10 $(2); \
	fi
endef

units: venv
	$(call pytest_suite,$(PYTHON),tests/unit)

units-oldest: venv-oldest
	$(call pytest_suite,$(PYTHON_OLDEST),tests/unit)

integration: venv system-deps
	$(call pytest_suite,$(PYTHON),tests/integration)

# ansible-test bootstraps pip into its venvs with a script it downloads from a
# host we cannot reach; give it an offline stand-in under the cached name
# (pip 24.2 is the version the pinned ansible-core 2.19 bootstraps).
ANSIBLE_TEST_GET_PIP := $(HOME)/.ansible/test/cache/get_pip_24_2.py

$(ANSIBLE_TEST_GET_PIP):
	install -D -m 0644 tests/setup/ansible_test_get_pip.py $@

# ansible-test sanity on a copy of the tree (see tests/sanity/run-sanity.sh);
# it makes and caches in ~/.ansible/test/venv one venv per sanity test.
sanity: venv system-deps $(ANSIBLE_TEST_GET_PIP)
	tests/sanity/run-sanity.sh $(CURDIR)/$(VENV)/bin/ansible-test

lint: venv
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH ansible-lint --profile production --nocolor
	$(VENV)/bin/antsibull-changelog lint

test: lint sanity units units-oldest integration

demo: venv system-deps
	$(PYTHON) tests/lab/demo.py

clean:
	rm -rf $(VENV) $(VENV_OLDEST) tests/output .pytest_cache .hypothesis .ansible
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
