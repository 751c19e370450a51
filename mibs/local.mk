# mibs: the MIB modules the agent plugin serves, installed to $(mibdir) so
# that e.g. `snmpwalk -m +DTLSUDP-MIB ...` prints names.
#   DTLSUDP-MIB      this project's statistics (experimental.6353, provisional)
#   SNMP-TLS-TM-MIB  RFC 6353 as updated by RFC 9456 (IETF Trust, Revised BSD)
#   SNMP-TSM-MIB     RFC 5591 (IETF Trust, Revised BSD)
# Debian's snmp packages ship neither RFC module (snmp-mibs-downloader is
# non-free and fetches them from the network), so we ship both.
dist_mib_DATA += \
	mibs/DTLSUDP-MIB.txt \
	mibs/SNMP-TLS-TM-MIB.txt \
	mibs/SNMP-TSM-MIB.txt
dist_noinst_DATA += mibs/README
