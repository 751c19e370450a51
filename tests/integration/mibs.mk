# tests/integration/mibs.mk: integration tests, included from the top-level Makefile.am.
