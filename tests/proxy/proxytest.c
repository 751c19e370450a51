/*
 * proxytest.c - helpers of the proxy's unit tests (see proxytest.h):
 * certificates and sockets.  The captured log is in proxylog.c, which a
 * test of main.c (the real log) leaves out.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "proxy.h"
#include "proxytest.h"
#include "testcerts.h"

/* ---- certificates ---- */

int test_certs_make(test_certs *c)
{
    const testcerts *tc = tc_get();
    FILE *f;

    snprintf(c->dir, sizeof(c->dir), "/tmp/dtlsudp-proxy-unit.XXXXXX");
    if (mkdtemp(c->dir) == NULL)
        return -1;
#define P(var, name) snprintf(c->var, sizeof(c->var), "%s/%s", c->dir, name)
    P(ca, "ca.pem");
    P(server, "server.pem");
    P(server_key, "server.key");
    P(client, "client.pem");
    P(client_key, "client.key");
    P(client2, "client2.pem");
    P(client2_key, "client2.key");
    P(wrong, "wrong.pem");
    P(wrong_key, "wrong.key");
    P(crl, "revoked-client.crl");
    P(crl_server, "revoked-server.crl");
    P(junk, "junk.pem");
#undef P
    if (tc_write_pem(&tc->ca, c->ca, NULL) != 0 || tc_write_pem(&tc->server, c->server, c->server_key) != 0 ||
        tc_write_pem(&tc->client, c->client, c->client_key) != 0 ||
        tc_write_pem(&tc->client2, c->client2, c->client2_key) != 0 ||
        tc_write_pem(&tc->wrong_client, c->wrong, c->wrong_key) != 0 ||
        tc_write_crl(&tc->ca, tc->client.cert, c->crl) != 0 ||
        tc_write_crl(&tc->ca, tc->server.cert, c->crl_server) != 0)
        return -1;
    if ((f = fopen(c->junk, "w")) == NULL)
        return -1;
    fputs("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", f);
    fclose(f);
    return 0;
}

void test_certs_remove(test_certs *c)
{
    const char *files[] = {c->ca,      c->server,    c->server_key, c->client,    c->client_key, c->client2,
                           c->client2_key, c->wrong, c->wrong_key, c->crl, c->crl_server, c->junk};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        (void)unlink(files[i]);
    (void)rmdir(c->dir);
    tc_free();
}

int test_udp_socket(uint16_t *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, len), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}
