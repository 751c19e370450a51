/*
 * sec_common.h - helpers of the tests in tests/security (real sockets on
 * 127.0.0.1 only, bounded loops): certificates, a listener, a client that
 * answers the cookie and goes silent.
 */
#ifndef DTLSUDP_TESTS_SECURITY_COMMON_H
#define DTLSUDP_TESTS_SECURITY_COMMON_H

#include <stddef.h>

#include "dtlsudp.h"

extern char sec_ca[128], sec_server[128], sec_server_key[128], sec_client[128], sec_client_key[128];

/* Certificates in a fresh temporary directory; removed at exit. */
void sec_certs(void);
void sec_listener_config(dtlsudp_listener_config *cfg, int demux);
void sec_client_config(dtlsudp_conn_config *cfg);
/* A UDP socket on 127.0.0.1 that sends a ClientHello to port, answers the
 * HelloVerifyRequest (the listener is pumped meanwhile) and then says
 * nothing more.  Returns the socket (kept open by the caller) or -1. */
int sec_silent_client(dtlsudp_listener *l, unsigned port);
/* One legitimate handshake (listener pumped in this thread); returns its
 * duration in ms, or -1 when it did not complete within limit_ms.  The
 * connection is freed. */
long sec_handshake(dtlsudp_listener *l, const char *port, long limit_ms);
/* Pump the listener for ms milliseconds, accepting (and freeing) nothing. */
void sec_pump(dtlsudp_listener *l, long ms);

#define SEC_FAIL(...)                                                                                        \
    do {                                                                                                     \
        fprintf(stderr, "FAIL: " __VA_ARGS__);                                                               \
        fprintf(stderr, "\n");                                                                               \
        exit(1);                                                                                             \
    } while (0)

#endif
