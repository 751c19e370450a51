# tests/integration/hardening.mk: bad-input reports of the agent plugin
# (config errors name file/line/token; refusals logged once with address,
# fingerprint, reason; floods do not fill the log).  Stock snmpd + plugin on
# loopback.  Included from the top-level Makefile.am.
dist_check_SCRIPTS += tests/integration/hardening-badinput.sh
TESTS += tests/integration/hardening-badinput.sh
