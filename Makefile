# tlsops.ocsp: build, test and demo entry points.
#   make demo   the lab, end to end, on this machine
#   make test   everything CI runs: lint, sanity, units (newest and oldest
#               cryptography/pyOpenSSL), integration, then sanity and the
#               server roles' integration tests on the other controllers
#               of the matrix (ansible-core 2.17 and 2.21)
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
VENV_IMPORTER := .venv-importer
STAMP_IMPORTER := $(VENV_IMPORTER)/.requirements-stamp
VENV_EE := .venv-ee
STAMP_EE := $(VENV_EE)/.requirements-stamp

# ansible finds the collection through <dir>/ansible_collections/tlsops/ocsp, a
# symlink to this checkout. It lives in .venv, which ansible-lint excludes.
COLLECTIONS_DIR := $(CURDIR)/$(VENV)/collections
COLLECTION_LINK := $(COLLECTIONS_DIR)/ansible_collections/tlsops/ocsp
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS_DIR)
export ANSIBLE_NOCOLOR := 1

# The controller matrix: every ansible-core release the collection supports,
# on the Python it runs with. CORE picks the controller of `make sanity`,
# `make integration-roles` and `make venv-core` (default: the main controller,
# 2.19, whose venv is .venv from requirements.txt). The others have a venv
# .venv-core<CORE> from tests/requirements-core<CORE>.txt.
MAIN_CORE := 2.19
OTHER_CORES := 2.17 2.21
CORE ?= $(MAIN_CORE)
CORE_PYTHON_VERSION_2.17 := 3.11
CORE_PYTHON_VERSION_2.19 := 3.11
CORE_PYTHON_VERSION_2.21 := 3.13
ifeq ($(filter $(CORE),$(MAIN_CORE) $(OTHER_CORES)),)
$(error CORE=$(CORE): the matrix has $(MAIN_CORE) $(OTHER_CORES))
endif
ifeq ($(CORE),$(MAIN_CORE))
CORE_VENV := $(VENV)
CORE_STAMP := $(STAMP)
else
CORE_VENV := $(VENV)-core$(CORE)
CORE_STAMP := $(CORE_VENV)/.requirements-stamp
endif
# The server roles' integration tests: every tests/integration/test_<server>_stapling.py, and the
# stapling role's one-call audit (its action plugin uses ansible-core's templar and argument spec validator).
ROLE_TESTS := $(sort $(wildcard tests/integration/test_*_stapling.py)) tests/integration/test_stapling_audit.py

.PHONY: help venv venv-oldest venv-core venv-ee ee collection-link system-deps sanity units units-oldest \
	integration integration-roles matrix lint galaxy-import test demo clean

help:
	@echo "make demo         run the lab demo (builds .venv, installs Debian packages)"
	@echo "make test         lint, sanity, units (newest and oldest pair), integration, matrix"
	@echo "make venv         .venv from requirements.txt + tests/requirements.txt"
	@echo "make venv-oldest  .venv-oldest from tests/requirements-oldest.txt"
	@echo "make ee           the execution environment (tests/ee), built or reused; prints its tag"
	@echo "make sanity | units | units-oldest | integration | lint | galaxy-import | clean"
	@echo "make sanity CORE=2.17 | integration-roles CORE=2.21 | venv-core CORE=2.17"
	@echo "                  one controller of the matrix ($(MAIN_CORE) $(OTHER_CORES); default $(MAIN_CORE))"
	@echo "make matrix-2.17  sanity and integration-roles on one other controller (also matrix-2.21)"
	@echo "make matrix       both other controllers ($(OTHER_CORES))"

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

$(STAMP_IMPORTER): tests/requirements-importer.txt
	test -x $(VENV_IMPORTER)/bin/python || $(BASE_PYTHON) -m venv $(VENV_IMPORTER)
	$(VENV_IMPORTER)/bin/python -m pip install --quiet --disable-pip-version-check -r tests/requirements-importer.txt
	touch $@

$(STAMP_EE): tests/requirements-ee.txt
	test -x $(VENV_EE)/bin/python || $(BASE_PYTHON) -m venv $(VENV_EE)
	$(VENV_EE)/bin/python -m pip install --quiet --disable-pip-version-check -r tests/requirements-ee.txt
	touch $@

ifneq ($(CORE),$(MAIN_CORE))
$(CORE_STAMP): tests/requirements-core$(CORE).txt
	test -x $(CORE_VENV)/bin/python || \
		"$$(tests/setup/find-python.sh $(CORE_PYTHON_VERSION_$(CORE)))" -m venv $(CORE_VENV)
	$(CORE_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		-r tests/requirements-core$(CORE).txt
	touch $@
endif

venv: $(STAMP) collection-link
venv-oldest: $(STAMP_OLDEST) collection-link
venv-core: $(CORE_STAMP) collection-link
venv-ee: $(STAMP_EE)

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

# the execution environment's test builds the EE with .venv-ee's ansible-builder
integration: venv venv-ee system-deps
	$(call pytest_suite,$(PYTHON),tests/integration)

# The execution environment (tests/ee): built with ansible-builder on a Debian 12 base made here, or
# reused when this checkout's is built already; prints its tag.
ee: venv-ee system-deps
	$(VENV_EE)/bin/python -m tests.ee.build

# The server roles' integration tests on the CORE controller. ansible-lint is
# not in the matrix venvs: it runs once, in `make lint` and `make integration`.
integration-roles: venv-core system-deps
	$(CORE_VENV)/bin/python -m pytest -p no:cacheprovider -ra --durations=10 -k "not ansible_lint" $(ROLE_TESTS)

# ansible-test sanity of the CORE controller on a copy of the tree (see
# tests/sanity/run-sanity.sh, which also installs the offline stand-in for the
# get-pip script ansible-test would download); it makes and caches in
# ~/.ansible/test/venv one venv per sanity test and Python version.
sanity: venv-core system-deps
	tests/sanity/run-sanity.sh $(CURDIR)/$(CORE_VENV)/bin/ansible-test

# One other controller of the matrix, sanity then the server roles: matrix-2.17, matrix-2.21.
matrix-%:
	$(MAKE) --no-print-directory sanity CORE=$*
	$(MAKE) --no-print-directory integration-roles CORE=$*

matrix: $(addprefix matrix-,$(OTHER_CORES))

lint: venv
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH ansible-lint --profile production --nocolor
	$(VENV)/bin/antsibull-changelog lint
	# every module, filter and role entry point documented as docs.ansible.com renders it
	cd $(COLLECTION_LINK) && PATH=$(CURDIR)/$(VENV)/bin:$$PATH antsibull-docs lint-collection-docs --plugin-docs .

# The built collection through galaxy-importer, the import Galaxy runs on upload (tests/sanity/galaxy-importer.cfg),
# in .venv-importer (tests/requirements-importer.txt). galaxy-importer exits 0 whatever it logged: a line
# Galaxy would show as an error or a warning on upload (ansible-doc failing on a plugin, an ansible-lint
# finding, a missing changelog) fails the target; the log stays in tests/output/galaxy/importer.log.
galaxy-import: venv $(STAMP_IMPORTER)
	rm -rf tests/output/galaxy && mkdir -p tests/output/galaxy
	$(VENV)/bin/ansible-galaxy collection build --output-path tests/output/galaxy .
	cd tests/output/galaxy && GALAXY_IMPORTER_CONFIG=$(CURDIR)/tests/sanity/galaxy-importer.cfg \
		PATH=$(CURDIR)/$(VENV_IMPORTER)/bin:$$PATH $(CURDIR)/$(VENV_IMPORTER)/bin/python -m galaxy_importer.main \
		tlsops-ocsp-*.tar.gz | tee importer.log
	if grep -E '^(ERROR|WARNING):' tests/output/galaxy/importer.log; then \
		echo "galaxy-import: galaxy-importer reported the lines above (tests/output/galaxy/importer.log)"; exit 1; fi
	grep -q '^Importer processing completed successfully$$' tests/output/galaxy/importer.log

# The main controller (2.19) first and in full, then the rest of the matrix.
test: lint galaxy-import sanity units units-oldest integration matrix

demo: venv system-deps
	$(PYTHON) tests/lab/demo.py

clean:
	rm -rf $(VENV) $(VENV_OLDEST) $(VENV_IMPORTER) $(VENV_EE) $(addprefix $(VENV)-core,$(OTHER_CORES)) tests/output .pytest_cache .hypothesis .ansible
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
