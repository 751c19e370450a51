/*
 * proxytest.h - what the unit tests of server.c and client.c share: the
 * log that main.c would print, captured; certificates from
 * tests/engine/testcerts.c written to a temporary directory; a loopback
 * UDP socket.
 */
#ifndef DTLSUDP_TESTS_PROXY_PROXYTEST_H
#define DTLSUDP_TESTS_PROXY_PROXYTEST_H

#include <stddef.h>
#include <stdint.h>

/* proxylog.c: proxy_log() keeps every line ("SERVICE: TEXT") until log_clear(). */
void log_clear(void);
/* How many kept lines contain `text'. */
int log_count(const char *text);
/* The last kept line containing `text', or NULL. */
const char *log_find(const char *text);

/* Certificate files in a fresh directory:
 *   ca.pem; server.pem/.key (SAN server.example.com, 127.0.0.1);
 *   client.pem/.key and client2.pem/.key by ca; wrong.pem/.key by another CA;
 *   revoked-client.crl, revoked-server.crl (ca's CRLs revoking client.pem,
 *   server.pem); junk.pem (not PEM). */
typedef struct test_certs {
    char dir[64];
    char ca[128], server[128], server_key[128], client[128], client_key[128], client2[128], client2_key[128],
        wrong[128], wrong_key[128], crl[128], crl_server[128], junk[128];
} test_certs;
int test_certs_make(test_certs *c);
void test_certs_remove(test_certs *c);

/* A UDP socket bound to 127.0.0.1 on a free port, which *port receives. */
int test_udp_socket(uint16_t *port);

#endif
