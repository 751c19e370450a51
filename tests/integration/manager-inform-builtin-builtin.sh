#!/bin/bash
# snmpinform and the agent's trapsess inform over DTLS: manager builtin DTLSUDP, agent and snmptrapd
# builtin DTLSUDP (see manager-interop.bash).
CHECKS=inform
CLIENT_SIDE=builtin
AGENT_SIDE=builtin
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/manager-interop.bash"
