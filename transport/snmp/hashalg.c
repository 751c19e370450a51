/*
 * hashalg.c - the one table of fingerprint hashes and their digest
 * lengths, for the certSecName rows (secname.c), the store's fingerprint
 * index (certfind.c) and the MIB's SnmpTLSFingerprint values.
 */
#include <config.h>

#include "hashalg.h"

const dtlsudp_snmp_hash_alg dtlsudp_snmp_hash_algs[DTLSUDP_SNMP_HASH_ALG_COUNT] = {
    {DTLSUDP_SNMP_HASH_MD5, 16},    {DTLSUDP_SNMP_HASH_SHA1, 20},   {DTLSUDP_SNMP_HASH_SHA224, 28},
    {DTLSUDP_SNMP_HASH_SHA256, 32}, {DTLSUDP_SNMP_HASH_SHA384, 48}, {DTLSUDP_SNMP_HASH_SHA512, 64},
};

size_t dtlsudp_snmp_hash_length(long id)
{
    size_t i;

    for (i = 0; i < DTLSUDP_SNMP_HASH_ALG_COUNT; i++)
        if (dtlsudp_snmp_hash_algs[i].id == id)
            return dtlsudp_snmp_hash_algs[i].len;
    return 0;
}

int dtlsudp_snmp_hash_for_length(size_t len)
{
    size_t i;

    for (i = 0; i < DTLSUDP_SNMP_HASH_ALG_COUNT; i++)
        if (dtlsudp_snmp_hash_algs[i].len == len)
            return dtlsudp_snmp_hash_algs[i].id;
    return -1;
}
