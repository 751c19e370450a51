# tests/integration/agent.mk: the agent plugin in a real, stock snmpd, driven
# by stock Net-SNMP clients (and by this project's client role through a
# test-only preload shim).  Loopback only; every process is started and
# stopped by pid (tests/lib/snmpd.sh).
dist_check_SCRIPTS += \
	tests/integration/agent-lib.sh \
	tests/integration/agent-basic.sh
TESTS += \
	tests/integration/agent-basic.sh
