/*
 * hashalg.h - the TLS HashAlgorithm numbers (RFC 5246 7.4.1.4.1) and the
 * length of each one's digest: the first octet of a SnmpTLSFingerprint
 * (RFC 6353 10) and Net-SNMP's NS_HASH_* use the same numbers.
 *
 * Plain C with no Net-SNMP or OpenSSL header, so that the agent plugin's
 * MIB helpers can share the one table.  Internal; not installed.
 */
#ifndef DTLSUDP_SNMP_HASHALG_H
#define DTLSUDP_SNMP_HASHALG_H

#include <stddef.h>

enum {
    DTLSUDP_SNMP_HASH_MD5 = 1,
    DTLSUDP_SNMP_HASH_SHA1 = 2,
    DTLSUDP_SNMP_HASH_SHA224 = 3,
    DTLSUDP_SNMP_HASH_SHA256 = 4,
    DTLSUDP_SNMP_HASH_SHA384 = 5,
    DTLSUDP_SNMP_HASH_SHA512 = 6
};

typedef struct dtlsudp_snmp_hash_alg {
    int id;     /* DTLSUDP_SNMP_HASH_* */
    size_t len; /* digest length in octets */
} dtlsudp_snmp_hash_alg;

/* Every hash a fingerprint may use, in ascending id (MD5 first). */
#define DTLSUDP_SNMP_HASH_ALG_COUNT 6
extern const dtlsudp_snmp_hash_alg dtlsudp_snmp_hash_algs[DTLSUDP_SNMP_HASH_ALG_COUNT];

/* The digest length of hash `id', or 0 when no hash has that number. */
size_t dtlsudp_snmp_hash_length(long id);
/* The hash whose digest is `len' octets long, or -1 when none is. */
int dtlsudp_snmp_hash_for_length(size_t len);

#endif
