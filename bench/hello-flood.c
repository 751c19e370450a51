/*
 * hello-flood.c - spoofed DTLS ClientHello flood on loopback.
 *
 *   hello-flood -a HOST -p PORT [-n COUNT] [-r PER_SECOND] [-s SRC_BASE]
 *
 * Sends COUNT (default 20000) cookie-less DTLS 1.2 ClientHellos to
 * HOST:PORT (which must be in 127.0.0.0/8), each from its own source
 * address SRC_BASE+i (default 127.2.0.1, ...; Linux loopback accepts any
 * 127/8 source address), at PER_SECOND (default 4000) paced per
 * millisecond.  Each sender socket is closed right after its datagram, as
 * a spoofer would never see the HelloVerifyRequest.  The ClientHello is a
 * real one, produced once by OpenSSL's DTLS client (ECDHE, full cipher
 * list and extensions), with its client random varied per sender.
 *
 * Output: sent=N failed=F secs=S rate=R
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/ssl.h>

static double mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One ClientHello datagram from OpenSSL's DTLS client (no cookie yet). */
static int make_client_hello(uint8_t *out, size_t cap, size_t *len)
{
    SSL_CTX *ctx = SSL_CTX_new(DTLS_client_method());
    SSL *ssl = NULL;
    BIO *rb = NULL, *wb = NULL;
    int n, rc = -1;

    if (ctx == NULL)
        goto Exit;
    SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
    ssl = SSL_new(ctx);
    rb = BIO_new(BIO_s_mem());
    wb = BIO_new(BIO_s_mem());
    if (ssl == NULL || rb == NULL || wb == NULL)
        goto Exit;
    SSL_set_bio(ssl, rb, wb);
    rb = wb = NULL;
    /* Memory BIOs have no MTU: set the link MTU, or OpenSSL fragments the
     * hello into 256-byte pieces. */
    SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
    DTLS_set_link_mtu(ssl, 1500);
    SSL_set_connect_state(ssl);
    (void)SSL_do_handshake(ssl);
    n = BIO_read(SSL_get_wbio(ssl), out, (int)cap);
    if (n <= 13)
        goto Exit;
    *len = (size_t)n;
    rc = 0;
Exit:
    BIO_free(rb);
    BIO_free(wb);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: hello-flood -a HOST -p PORT [-n COUNT] [-r PER_SECOND] [-s SRC_BASE]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *host = NULL, *src = "127.2.0.1";
    long count = 20000, rate = 4000, sent = 0, failed = 0, i;
    int port = 0, opt;
    struct sockaddr_in to, from;
    struct in_addr base;
    uint8_t hello[2048];
    size_t hello_len = 0;
    double t0, elapsed;

    while ((opt = getopt(argc, argv, "a:p:n:r:s:")) != -1) {
        switch (opt) {
        case 'a': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'n': count = atol(optarg); break;
        case 'r': rate = atol(optarg); break;
        case 's': src = optarg; break;
        default: usage();
        }
    }
    if (host == NULL || port <= 0 || port > 65535 || count <= 0 || rate <= 0)
        usage();
    memset(&to, 0, sizeof(to));
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &to.sin_addr) != 1 || inet_pton(AF_INET, src, &base) != 1)
        usage();
    /* Loopback only: this tool never sends anywhere else. */
    if ((ntohl(to.sin_addr.s_addr) >> 24) != 127 || (ntohl(base.s_addr) >> 24) != 127 ||
        ((ntohl(base.s_addr) + (uint32_t)count) >> 24) != 127) {
        fprintf(stderr, "hello-flood: addresses must stay in 127.0.0.0/8\n");
        return 2;
    }
    if (make_client_hello(hello, sizeof(hello), &hello_len) != 0) {
        fprintf(stderr, "hello-flood: could not build a ClientHello\n");
        return 2;
    }

    t0 = mono();
    for (i = 0; i < count; i++) {
        double due = t0 + (double)i / (double)rate;
        double wait = due - mono();
        int fd;

        if (wait > 0.0005)
            usleep((useconds_t)(wait * 1e6));
        /* The client random starts after record header (13), handshake
         * header (12) and client_version (2): vary it per sender. */
        if (hello_len > 13 + 12 + 2 + 4) {
            uint32_t v = (uint32_t)i;

            memcpy(hello + 13 + 12 + 2, &v, sizeof(v));
        }
        memset(&from, 0, sizeof(from));
        from.sin_family = AF_INET;
        from.sin_addr.s_addr = htonl(ntohl(base.s_addr) + (uint32_t)i);
        fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (fd < 0) {
            failed++;
            continue;
        }
        if (bind(fd, (struct sockaddr *)&from, sizeof(from)) != 0 ||
            sendto(fd, hello, hello_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
            failed++;
        else
            sent++;
        close(fd);
    }
    elapsed = mono() - t0;
    printf("sent=%ld failed=%ld secs=%.2f rate=%.0f hello_bytes=%zu\n", sent, failed, elapsed,
           elapsed > 0 ? (double)sent / elapsed : 0.0, hello_len);
    return 0;
}
