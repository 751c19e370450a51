# tests/fuzz: build fragment, included from the top-level Makefile.am.

# Distributed with the sources.
EXTRA_DIST += tests/fuzz/README
