#!/bin/bash
# agent-resume.sh against an agent that keeps sessions in memory
# (dtlsudpSessionCache) instead of issuing tickets: the same resumption,
# mapping change, revocation, identity and restart cases.
RESUME_AGENT_CONF="dtlsudpSessionCache 64" exec "$top_srcdir/tests/integration/agent-resume.sh"
