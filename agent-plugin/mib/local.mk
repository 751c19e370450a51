# agent-plugin/mib: MIB modules served by the agent plugin.
