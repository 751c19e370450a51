# tests/integration/agent.mk: integration tests, included from the top-level Makefile.am.
