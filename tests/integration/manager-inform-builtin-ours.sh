#!/bin/bash
# snmpinform and the agent's trapsess inform over DTLS: manager builtin DTLSUDP, agent and snmptrapd
# ours DTLSUDP (see manager-interop.bash).
CHECKS=inform
CLIENT_SIDE=builtin
AGENT_SIDE=ours
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/manager-interop.bash"
