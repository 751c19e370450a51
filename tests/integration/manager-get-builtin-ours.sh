#!/bin/bash
# GET, walk and SET over DTLS: manager builtin DTLSUDP, agent and snmptrapd
# ours DTLSUDP (see manager-interop.bash).
CHECKS=get
CLIENT_SIDE=builtin
AGENT_SIDE=ours
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/manager-interop.bash"
