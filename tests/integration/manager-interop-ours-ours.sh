#!/bin/bash
# Manager ours DTLSUDP <-> agent and snmptrapd ours DTLSUDP: GET, walk, SET,
# snmptrap, snmpinform and the agent's notifications (manager-interop.bash).
CLIENT_SIDE=ours
AGENT_SIDE=ours
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/manager-interop.bash"
