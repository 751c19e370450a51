#!/bin/bash
# snmptrap and the agent's trapsess trap over DTLS: manager ours DTLSUDP, agent and snmptrapd
# ours DTLSUDP (see manager-interop.bash).
CHECKS=trap
CLIENT_SIDE=ours
AGENT_SIDE=ours
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/manager-interop.bash"
