/*
 * certs.h - test certificates made in-process (tests/net, bench).
 */
#ifndef DTLSUDP_TESTS_NET_CERTS_H
#define DTLSUDP_TESTS_NET_CERTS_H

/* Write into the existing directory dir:
 *   ca.pem                       the test CA
 *   server.pem/.key, client.pem/.key   leaves signed by ca.pem
 *   rogue-ca.pem, rogue.pem/.key       a leaf signed by another CA
 * EC P-256, SAN localhost/127.0.0.1/::1, valid for a week.
 * Returns 0 or -1. */
int testcerts_make(const char *dir);

#endif
