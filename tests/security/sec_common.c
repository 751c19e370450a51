/*
 * sec_common.c - see sec_common.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include "../net/certs.h"
#include "sec_common.h"

char sec_ca[128], sec_server[128], sec_server_key[128], sec_client[128], sec_client_key[128];
static char certdir[64];

static void remove_certs(void)
{
    static const char *files[] = {"ca.pem",     "server.pem", "server.key",   "client.pem",
                                  "client.key", "rogue.pem",  "rogue-ca.pem", "rogue.key"};
    char path[192];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", certdir, files[i]);
        unlink(path);
    }
    rmdir(certdir);
}

void sec_certs(void)
{
    snprintf(certdir, sizeof(certdir), "/tmp/dtlsudp-test-sec.XXXXXX");
    if (mkdtemp(certdir) == NULL || testcerts_make(certdir) != 0)
        SEC_FAIL("cannot make certificates");
    atexit(remove_certs);
    snprintf(sec_ca, sizeof(sec_ca), "%s/ca.pem", certdir);
    snprintf(sec_server, sizeof(sec_server), "%s/server.pem", certdir);
    snprintf(sec_server_key, sizeof(sec_server_key), "%s/server.key", certdir);
    snprintf(sec_client, sizeof(sec_client), "%s/client.pem", certdir);
    snprintf(sec_client_key, sizeof(sec_client_key), "%s/client.key", certdir);
}

void sec_listener_config(dtlsudp_listener_config *cfg, int demux)
{
    dtlsudp_listener_config_init(cfg);
    cfg->demux = demux;
    cfg->engine.cert_file = sec_server;
    cfg->engine.key_file = sec_server_key;
    cfg->engine.ca_file = sec_ca;
}

void sec_client_config(dtlsudp_conn_config *cfg)
{
    dtlsudp_conn_config_init(cfg);
    cfg->engine.cert_file = sec_client;
    cfg->engine.key_file = sec_client_key;
    cfg->engine.ca_file = sec_ca;
}

void sec_pump(dtlsudp_listener *l, long ms)
{
    dtlsudp_time until = dtlsudp_now() + (dtlsudp_time)ms;
    do {
        struct pollfd p = {.fd = dtlsudp_listener_fd(l), .events = POLLIN};
        (void)poll(&p, 1, 5);
        (void)dtlsudp_listener_process(l, dtlsudp_now());
        dtlsudp_conn *c;
        while (dtlsudp_listener_accept(l, 0, &c) == DTLSUDP_OK)
            dtlsudp_conn_free(c);
    } while (dtlsudp_now() < until);
}

int sec_silent_client(dtlsudp_listener *l, unsigned port)
{
    uint8_t buf[4096];
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0)
        return -1;
    SSL_CTX *ctx = SSL_CTX_new(DTLS_client_method());
    SSL *ssl = SSL_new(ctx);
    BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rbio, -1);
    SSL_set_bio(ssl, rbio, wbio);
    SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
    DTLS_set_link_mtu(ssl, 1500);
    int sent = 0, ok = 0;
    (void)SSL_connect(ssl);
    dtlsudp_time until = dtlsudp_now() + 2000;
    while (dtlsudp_now() < until) {
        int n;
        while ((n = BIO_read(wbio, buf, sizeof(buf))) > 0) {
            (void)send(fd, buf, (size_t)n, 0);
            sent++;
        }
        if (sent >= 2) { /* the hello with the cookie is out: go silent */
            ok = 1;
            break;
        }
        (void)dtlsudp_listener_process(l, dtlsudp_now());
        ssize_t r = recv(fd, buf, sizeof(buf), 0);
        if (r > 0) {
            BIO_write(rbio, buf, (int)r);
            (void)SSL_connect(ssl);
        } else {
            struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = dtlsudp_listener_fd(l), .events = POLLIN}};
            (void)poll(p, 2, 5);
        }
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    if (!ok) {
        close(fd);
        return -1;
    }
    return fd;
}

long sec_handshake(dtlsudp_listener *l, const char *port, long limit_ms)
{
    dtlsudp_conn_config cfg;
    dtlsudp_conn *c = NULL;
    dtlsudp_time t0 = dtlsudp_now(), until = t0 + (dtlsudp_time)limit_ms;
    long took = -1;
    dtlsudp_conn *acc[4];
    int nacc = 0;

    sec_client_config(&cfg);
    if (dtlsudp_conn_connect("127.0.0.1", port, &cfg, 0, t0, &c) != DTLSUDP_OK || c == NULL)
        return -1;
    while (dtlsudp_now() < until) {
        if (dtlsudp_conn_state(c) == DTLSUDP_STATE_ESTABLISHED) {
            took = (long)(dtlsudp_now() - t0);
            break;
        }
        if (dtlsudp_conn_state(c) == DTLSUDP_STATE_CLOSED)
            break;
        struct pollfd p[2] = {{.fd = dtlsudp_listener_fd(l), .events = POLLIN},
                              {.fd = dtlsudp_conn_fd(c), .events = POLLIN}};
        dtlsudp_time next = dtlsudp_conn_next_timeout(c), now = dtlsudp_now();
        int wait = next <= now ? 0 : next - now > 5 ? 5 : (int)(next - now);
        (void)poll(p, 2, wait);
        now = dtlsudp_now();
        (void)dtlsudp_listener_process(l, now);
        if (dtlsudp_listener_next_timeout(l) <= now)
            (void)dtlsudp_listener_handle_timeout(l, now);
        (void)dtlsudp_conn_process(c, now);
        if (dtlsudp_conn_next_timeout(c) <= now)
            (void)dtlsudp_conn_handle_timeout(c, now);
        dtlsudp_conn *a;
        while (nacc < 4 && dtlsudp_listener_accept(l, 0, &a) == DTLSUDP_OK)
            acc[nacc++] = a; /* freed (close_notify) once the client is in */
    }
    for (int i = 0; i < nacc; i++)
        dtlsudp_conn_free(acc[i]);
    if (took < 0 && getenv("SEC_DEBUG") != NULL)
        fprintf(stderr, "handshake: state %d, %s\n", dtlsudp_conn_state(c), dtlsudp_strerror(dtlsudp_conn_last_error(c)));
    dtlsudp_conn_free(c);
    /* let the close_notify be read */
    sec_pump(l, 2);
    return took;
}
