# tests/integration/manager.mk: integration tests, included from the top-level Makefile.am.
