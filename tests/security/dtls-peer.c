/*
 * dtls-peer.c - a DTLS 1.2 peer built directly on OpenSSL (libssl and
 * libcrypto only, none of this project's code), for the adversarial tests
 * in tests/security/.  It presents exactly the certificate list it is
 * given, so it can play a dishonest client or a rogue agent.
 *
 *   dtls-peer --connect HOST:PORT --cert LEAF --key KEY [--chain EXTRA]...
 *             [--get OID] [--engine-id HEX] [--verify CAFILE]
 *             [--attack replay|foreign|after-close] [--ciphers LIST]
 *             [--save-session FILE] [--resume FILE [--offer-id HEX]]
 *             [--alert-after-hello]
 *             [--timeout MS] [-v]
 *   dtls-peer --listen HOST:PORT --cert LEAF --key KEY [--chain EXTRA]...
 *             [--timeout MS] [-v]
 *
 * HOST is an address literal (127.0.0.1, ::1 or [::1]).
 *
 * Client: completes the cookie exchange and the handshake, presenting LEAF
 * followed by every --chain certificate in the order given (no chain is
 * built or completed: the context has no trust store and
 * SSL_MODE_NO_AUTO_CHAIN is set).  The server is not verified unless
 * --verify names a CA file.  With --get, one SNMPv3 GET over TSM (RFC 5591,
 * empty security parameters, authPriv) is sent; its contextEngineID is
 * --engine-id or, by default, the agent's snmpEngineID learnt first with
 * RFC 5343's discovery (contextEngineID 0x8000000006).  The first varbind
 * of the answer is printed:
 *   response: pdu|report error-status N value 0xTAG "TEXT"|HEX
 * or "no response".
 *
 * --attack (with --get), once the GET was answered, tries the agent's record
 * layer with a datagram it already accepted, sent again as raw bytes on
 * the association's socket:
 *   replay       the GET datagram itself (RFC 6347 4.1.2.6: a replay);
 *   foreign      a GET datagram of a second association (other keys), sent
 *                from the first one's address and port;
 *   after-close  the GET datagram after our close_notify ended the
 *                association.
 * and prints "attack: answered" or "attack: no answer" (nothing within
 * 1 s), then, for replay and foreign, sends a fresh GET on the first
 * association as the positive control ("control: " + the answer).
 *
 * Session resumption (RFC 5246 7.3), client only; the peer never offers
 * tickets (SSL_OP_NO_TICKET), so only a session id can resume:
 *   --save-session FILE  after the handshake, write the session (PEM) there
 *                        and print "session saved: id HEX cipher NAME";
 *   --resume FILE        offer that session, as its owner would;
 *   --offer-id HEX       (with --resume) offer FILE's session under the id
 *                        HEX instead of its own: another client's id, seen
 *                        on the wire, with this peer's master secret;
 *   --ciphers LIST       the cipher list (OpenSSL syntax) offered.
 *   --alert-after-hello  when the ServerHello arrives, send a fatal
 *                        handshake_failure alert in clear (epoch 0) and
 *                        give up: the handshake fails with "we sent a
 *                        fatal alert after the ServerHello".
 * After a handshake that completed, "resumed: yes" or "resumed: no" is
 * printed when --resume was given.
 *
 * Server: answers ClientHellos with a cookie (DTLSv1_listen), requires a
 * client certificate but accepts any, serves the first peer that passes
 * the cookie exchange, and reports whether the handshake completed and
 * whether application data arrived before the timeout:
 *   handshake ok
 *   received N bytes of application data | no application data
 *
 * -v prints every certificate of the Certificate messages sent and
 * received, as seen on the wire (message callback), so a test can check
 * that the exact list went out.
 *
 * Every wait is bounded by --timeout (default 5000 ms) in total.  Exit
 * status: 0 when the handshake completed, 1 when it failed (the alert or
 * reason is printed), 2 on a usage error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "bench/ber.h"

#define MAX_CHAIN 16

struct options {
    const char *connect; /* HOST:PORT, client role */
    const char *listen;  /* HOST:PORT, server role */
    const char *cert, *key;
    const char *chain[MAX_CHAIN];
    int n_chain;
    const char *get_oid;   /* dotted OID for --get */
    const char *engine_id; /* hex contextEngineID */
    const char *verify_ca; /* client: verify the server against this file */
    const char *attack;    /* --attack */
    const char *ciphers;   /* --ciphers */
    const char *save_session, *resume_file, *offer_id;
    int alert_after_hello; /* --alert-after-hello */
    long timeout_ms;
    int verbose;
};

static struct options opt = {.timeout_ms = 5000};
static uint8_t cookie_secret[32];

static void usage(void)
{
    fprintf(stderr, "usage: dtls-peer (--connect|--listen) HOST:PORT --cert LEAF.pem --key KEY.pem\n"
                    "                 [--chain EXTRA.pem]... [--get OID] [--engine-id HEX]\n"
                    "                 [--verify CAFILE] [--attack replay|foreign|after-close]\n"
                    "                 [--ciphers LIST] [--save-session FILE]\n"
                    "                 [--resume FILE [--offer-id HEX]] [--alert-after-hello]\n"
                    "                 [--timeout MS] [-v]\n");
}

/* ---- time and errors ------------------------------------------------ */

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The most recent OpenSSL error as text ("" when the queue is empty). */
static const char *ssl_reason(void)
{
    static char buf[256];
    unsigned long e = ERR_peek_last_error();

    buf[0] = '\0';
    if (e != 0)
        ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    return buf;
}

/* ---- addresses ------------------------------------------------------ */

/* "127.0.0.1:161", "::1:161" or "[::1]:161" into a sockaddr. */
static int parse_hostport(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[128];
    const char *colon = strrchr(spec, ':');
    size_t hl;
    char *end;
    long port;

    if (colon == NULL)
        return -1;
    hl = (size_t)(colon - spec);
    if (hl >= sizeof(host))
        return -1;
    memcpy(host, spec, hl);
    host[hl] = '\0';
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port <= 0 || port > 65535)
        return -1;
    memset(ss, 0, sizeof(*ss));
    if (strchr(host, ':') != NULL) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
            return -1;
        *len = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
            return -1;
        *len = sizeof(*s4);
    }
    return 0;
}

static int udp_socket(int family)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd >= 0 && fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- what went over the wire (-v) ----------------------------------- */

static uint32_t get24(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static void print_cert(const char *prefix, int i, X509 *x)
{
    char subject[256];
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0, k;

    X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
    printf("%s certificate %d: %s SHA256 ", prefix, i, subject);
    if (X509_digest(x, EVP_sha256(), md, &md_len) == 1)
        for (k = 0; k < md_len; k++)
            printf("%02X%s", md[k], k + 1 < md_len ? ":" : "");
    printf("\n");
}

/* Set once --alert-after-hello sent its alert: drive() gives up. */
static int gave_up;

/* A fatal handshake_failure alert as a plaintext DTLS 1.2 record (RFC 6347
 * 4.1: type, version, epoch 0, a sequence number above the ClientHellos',
 * length), straight on the socket. */
static void send_clear_alert(SSL *ssl)
{
    static const uint8_t alert[] = {SSL3_RT_ALERT, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 100, 0, 2,
                                    SSL3_AL_FATAL, SSL_AD_HANDSHAKE_FAILURE};

    if (send(SSL_get_fd(ssl), alert, sizeof(alert), 0) == (ssize_t)sizeof(alert))
        gave_up = 1;
}

/* Message callback: --alert-after-hello, and (-v) list the certificates of every Certificate handshake
 * message, sent or received.  For DTLS, buf holds the 12-byte handshake
 * header, then the certificate_list (RFC 5246 7.4.2). */
static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl,
                   void *arg)
{
    const uint8_t *p = buf;
    const char *who = write_p ? "sent" : "received";
    size_t at, end;
    int i = 0;

    (void)version, (void)arg;
    if (content_type == SSL3_RT_HANDSHAKE && !write_p && len >= 1 && p[0] == SSL3_MT_SERVER_HELLO &&
        opt.alert_after_hello)
        send_clear_alert(ssl);
    if (!opt.verbose || content_type != SSL3_RT_HANDSHAKE || len < 12 + 3 || p[0] != SSL3_MT_CERTIFICATE)
        return;
    end = 12 + 3 + get24(p + 12);
    if (end > len)
        end = len;
    for (at = 12 + 3; at + 3 <= end; i++) {
        size_t n = get24(p + at);
        const uint8_t *der = p + at + 3;
        X509 *x;

        if (at + 3 + n > end)
            break;
        x = d2i_X509(NULL, &der, (long)n);
        if (x != NULL) {
            print_cert(who, i, x);
            X509_free(x);
        }
        at += 3 + n;
    }
    printf("%s Certificate message with %d certificate(s)\n", who, i);
    fflush(stdout);
}

/* ---- the SSL_CTX ------------------------------------------------------ */

static X509 *read_cert(const char *file)
{
    FILE *f = fopen(file, "r");
    X509 *x;

    if (f == NULL) {
        fprintf(stderr, "dtls-peer: %s: %s\n", file, strerror(errno));
        return NULL;
    }
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (x == NULL)
        fprintf(stderr, "dtls-peer: %s: not a PEM certificate\n", file);
    return x;
}

/* Accept any client certificate: the server plays a rogue agent, which
 * asks for a certificate only so that its peer runs a full handshake. */
static int accept_any(int ok, X509_STORE_CTX *xs)
{
    (void)ok, (void)xs;
    return 1;
}

/* Cookie = HMAC-SHA256(secret, peer address): stateless, as RFC 6347
 * 4.2.1 suggests. */
static int cookie_of(SSL *ssl, unsigned char *out, size_t cap, size_t *out_len)
{
    BIO_ADDR *peer = BIO_ADDR_new();
    unsigned char raw[sizeof(struct in6_addr) + 2];
    size_t rl = 0;
    unsigned short port;
    int ok = 0;

    if (peer == NULL)
        return 0;
    if (BIO_dgram_get_peer(SSL_get_rbio(ssl), peer) > 0 && BIO_ADDR_rawaddress(peer, raw, &rl) &&
        rl <= sizeof(raw) - 2) {
        port = BIO_ADDR_rawport(peer);
        memcpy(raw + rl, &port, 2);
        ok = EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, cookie_secret, sizeof(cookie_secret), raw, rl + 2,
                       out, cap, out_len) != NULL;
    }
    BIO_ADDR_free(peer);
    return ok;
}

static int cookie_generate(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
    size_t n = 0;

    if (!cookie_of(ssl, cookie, DTLS1_COOKIE_LENGTH, &n))
        return 0;
    *len = (unsigned int)n;
    return 1;
}

static int cookie_verify(SSL *ssl, const unsigned char *cookie, unsigned int len)
{
    unsigned char want[EVP_MAX_MD_SIZE];
    size_t n = 0;

    return cookie_of(ssl, want, sizeof(want), &n) && n == len && CRYPTO_memcmp(want, cookie, n) == 0;
}

static SSL_CTX *make_ctx(int server)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? DTLS_server_method() : DTLS_client_method());
    int i;

    if (ctx == NULL)
        return NULL;
    /* DTLS 1.2 only; the chain is sent exactly as configured. */
    if (!SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION))
        goto Fail;
    SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    if (opt.ciphers != NULL && SSL_CTX_set_cipher_list(ctx, opt.ciphers) != 1) {
        fprintf(stderr, "dtls-peer: --ciphers %s: %s\n", opt.ciphers, ssl_reason());
        goto Fail;
    }
    if (SSL_CTX_use_certificate_file(ctx, opt.cert, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, opt.key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        fprintf(stderr, "dtls-peer: --cert/--key: %s\n", ssl_reason());
        goto Fail;
    }
    for (i = 0; i < opt.n_chain; i++) {
        X509 *x = read_cert(opt.chain[i]);

        /* add0: the context takes the reference on success. */
        if (x == NULL || SSL_CTX_add0_chain_cert(ctx, x) != 1) {
            if (x != NULL)
                fprintf(stderr, "dtls-peer: --chain %s: %s\n", opt.chain[i], ssl_reason());
            X509_free(x);
            goto Fail;
        }
    }
    if (server) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
        SSL_CTX_set_cookie_generate_cb(ctx, cookie_generate);
        SSL_CTX_set_cookie_verify_cb(ctx, cookie_verify);
        SSL_CTX_set_options(ctx, SSL_OP_COOKIE_EXCHANGE);
    } else if (opt.verify_ca != NULL) {
        if (SSL_CTX_load_verify_locations(ctx, opt.verify_ca, NULL) != 1) {
            fprintf(stderr, "dtls-peer: --verify %s: %s\n", opt.verify_ca, ssl_reason());
            goto Fail;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    if (opt.verbose || opt.alert_after_hello)
        SSL_CTX_set_msg_callback(ctx, msg_cb);
    return ctx;
Fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/* ---- driving a non-blocking DTLS operation to an end ------------------ */

enum op { OP_CONNECT, OP_ACCEPT, OP_READ };

/* Wait until fd is readable, the DTLS retransmission timer fires, or the
 * deadline passes.  Returns 1 (readable), 0 (timer: retransmit) or -1
 * (deadline). */
static int wait_readable(SSL *ssl, int fd, long long deadline)
{
    struct timeval tv;
    long long left = deadline - now_ms(), wait = left;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int n;

    if (left <= 0)
        return -1;
    if (DTLSv1_get_timeout(ssl, &tv) == 1) {
        long long t = (long long)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
        if (t < wait)
            wait = t;
    }
    n = poll(&pfd, 1, (int)wait);
    if (n > 0)
        return 1;
    if (n < 0 && errno != EINTR)
        return -1;
    return now_ms() >= deadline ? -1 : 0;
}

/* Run op until it completes (> 0 returned: bytes read for OP_READ),
 * fails (-1, reason printed to *why) or the deadline passes (-2). */
static int drive(SSL *ssl, int fd, enum op op, void *buf, int cap, long long deadline, const char **why)
{
    for (;;) {
        int ret, err, w;

        ERR_clear_error();
        ret = op == OP_CONNECT  ? SSL_connect(ssl)
              : op == OP_ACCEPT ? SSL_accept(ssl)
                                : SSL_read(ssl, buf, cap);
        if (gave_up) {
            *why = "we sent a fatal alert after the ServerHello";
            return -1;
        }
        if (ret > 0)
            return ret;
        err = SSL_get_error(ssl, ret);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
            *why = err == SSL_ERROR_ZERO_RETURN ? "peer sent close_notify" : ssl_reason();
            if (**why == '\0')
                *why = err == SSL_ERROR_SYSCALL ? strerror(errno) : "handshake failed";
            return -1;
        }
        w = wait_readable(ssl, fd, deadline);
        if (w < 0)
            return -2;
        if (w == 0 && DTLSv1_handle_timeout(ssl) < 0) {
            *why = ssl_reason();
            return -1;
        }
    }
}

/* The alert OpenSSL recorded, if any ("alert bad certificate"). */
static const char *last_alert;

static void info_cb(const SSL *ssl, int where, int ret)
{
    static char buf[160];

    (void)ssl;
    if (where & SSL_CB_ALERT) {
        snprintf(buf, sizeof(buf), "%s alert %s", (where & SSL_CB_READ) ? "received" : "sent",
                 SSL_alert_desc_string_long(ret));
        last_alert = buf;
    }
}

static void report_failure(const char *what, int ret, const char *why)
{
    if (ret == -2)
        printf("%s failed: timeout\n", what);
    else
        printf("%s failed: %s%s%s\n", what, last_alert ? last_alert : "", last_alert && why[0] ? "; " : "",
               why);
}

/* ---- SNMP over the association (client --get) ------------------------- */

/* Dotted OID ("1.3.6.1.2.1.1.5.0", leading dot allowed) into BER content
 * octets.  Returns the length or 0. */
static size_t encode_oid(const char *s, uint8_t *out, size_t cap)
{
    unsigned long arcs[64];
    size_t n = 0, len = 0, i;
    char *end;

    if (*s == '.')
        s++;
    while (*s != '\0' && n < sizeof(arcs) / sizeof(arcs[0])) {
        arcs[n++] = strtoul(s, &end, 10);
        if (end == s || (*end != '.' && *end != '\0'))
            return 0;
        s = *end == '.' ? end + 1 : end;
    }
    if (n < 2 || *s != '\0' || arcs[0] > 2 || arcs[1] >= 40)
        return 0;
    arcs[1] += arcs[0] * 40;
    for (i = 1; i < n; i++) {
        uint8_t tmp[10];
        int k = 0;
        unsigned long v = arcs[i];

        do {
            tmp[k++] = (uint8_t)(v & 0x7f);
            v >>= 7;
        } while (v != 0);
        if (len + (size_t)k > cap)
            return 0;
        while (k-- > 0)
            out[len++] = (uint8_t)(tmp[k] | (k > 0 ? 0x80 : 0));
    }
    return len;
}

/* Enter the TLV at *at that must carry tag; returns its end or 0. */
static size_t enter(const uint8_t *p, size_t end, size_t *at, uint8_t want)
{
    uint8_t tag;
    size_t vlen;

    if (ber_read(p, end, at, &tag, &vlen) != 0 || tag != want)
        return 0;
    return *at + vlen;
}

/* Skip the TLV at *at. */
static int skip(const uint8_t *p, size_t end, size_t *at)
{
    uint8_t tag;
    size_t vlen;

    if (ber_read(p, end, at, &tag, &vlen) != 0)
        return -1;
    *at += vlen;
    return 0;
}

/* The answer's PDU type, error-status and first varbind value.  Returns 0,
 * or -1 when the message is not an SNMPv3 message with a PDU. */
struct answer {
    uint8_t pdu_tag, value_tag;
    long status;
    const uint8_t *value;
    size_t value_len;
};

static int parse_answer(const uint8_t *p, size_t len, struct answer *ans)
{
    size_t at = 0, end, pdu_end, vb_end, k, vlen;

    /* SNMPv3Message { version, header, securityParameters, ScopedPDU } */
    if ((end = enter(p, len, &at, 0x30)) == 0 || skip(p, end, &at) || skip(p, end, &at) ||
        skip(p, end, &at) || (end = enter(p, end, &at, 0x30)) == 0 || skip(p, end, &at) || skip(p, end, &at))
        return -1;
    /* PDU: Response (0xa2) or Report (0xa8): request-id, error-status,
     * error-index, varbinds */
    if (ber_read(p, end, &at, &ans->pdu_tag, &vlen) != 0)
        return -1;
    pdu_end = at + vlen;
    if (skip(p, pdu_end, &at) || ber_read(p, pdu_end, &at, &ans->value_tag, &vlen) || ans->value_tag != 0x02)
        return -1;
    ans->status = 0;
    for (k = 0; k < vlen; k++)
        ans->status = ans->status << 8 | p[at + k];
    at += vlen;
    if (skip(p, pdu_end, &at) || (vb_end = enter(p, pdu_end, &at, 0x30)) == 0 ||
        enter(p, vb_end, &at, 0x30) == 0 || skip(p, vb_end, &at) ||
        ber_read(p, vb_end, &at, &ans->value_tag, &ans->value_len))
        return -1;
    ans->value = p + at;
    return 0;
}

static void print_answer(const struct answer *ans)
{
    size_t k;
    int printable = 1;

    printf("response: %s error-status %ld value 0x%02x ", ans->pdu_tag == 0xa8 ? "report" : "pdu",
           ans->status, ans->value_tag);
    for (k = 0; k < ans->value_len; k++)
        if (ans->value[k] < 0x20 || ans->value[k] > 0x7e || ans->value[k] == '"')
            printable = 0;
    if (ans->value_tag == 0x04 && printable) {
        printf("\"%.*s\"\n", (int)ans->value_len, (const char *)ans->value);
    } else {
        for (k = 0; k < ans->value_len; k++)
            printf("%02x", ans->value[k]);
        printf("\n");
    }
}

/* One GET of oid (dotted) with this contextEngineID; the answer's bytes go
 * to in.  Returns the answer's length, 0 after "no response" or an
 * encoding error (printed). */
static int get_once(SSL *ssl, int fd, long long deadline, const char *oid_text, const uint8_t *engine,
                    size_t engine_len, uint8_t *in, int cap)
{
    static int32_t id = 4242;
    uint8_t oid[128], msg[512];
    size_t oid_len, msg_len;
    const char *why = "";
    int n;

    id++;
    oid_len = encode_oid(oid_text, oid, sizeof(oid));
    msg_len = oid_len ? ber_build_get_oid(msg, sizeof(msg), id, engine, engine_len, oid, oid_len) : 0;
    if (msg_len == 0) {
        printf("get failed: cannot encode OID %s\n", oid_text);
        return 0;
    }
    if (SSL_write(ssl, msg, (int)msg_len) != (int)msg_len) {
        printf("get failed: write: %s\n", ssl_reason());
        return 0;
    }
    n = drive(ssl, fd, OP_READ, in, cap, deadline, &why);
    if (n > 0)
        return n;
    if (n == -2)
        printf("no response\n");
    else
        printf("no response (%s)\n", why);
    return 0;
}

/* --get: without --engine-id, the agent's snmpEngineID is learnt first
 * with RFC 5343's discovery (a GET of snmpEngineID.0 with contextEngineID
 * localEngineID, 0x8000000006); Net-SNMP answers only that OID with the
 * discovery value, so the real GET then uses the engine ID it returned. */
static void snmp_get(SSL *ssl, int fd, long long deadline)
{
    static const uint8_t local_engine_id[] = {0x80, 0x00, 0x00, 0x00, 0x06};
    uint8_t engine[64], in[4096];
    size_t engine_len = 0;
    struct answer ans;
    int n;

    if (opt.engine_id != NULL) {
        if (ber_parse_hex(opt.engine_id, engine, sizeof(engine), &engine_len) != 0) {
            printf("get failed: bad --engine-id %s\n", opt.engine_id);
            return;
        }
    } else {
        n = get_once(ssl, fd, deadline, "1.3.6.1.6.3.10.2.1.1.0", local_engine_id, sizeof(local_engine_id),
                     in, sizeof(in));
        if (n == 0)
            return;
        if (parse_answer(in, (size_t)n, &ans) != 0 || ans.value_tag != 0x04 || ans.value_len == 0 ||
            ans.value_len > sizeof(engine)) {
            printf("discovery failed: no snmpEngineID in the answer\n");
            return;
        }
        memcpy(engine, ans.value, ans.value_len);
        engine_len = ans.value_len;
    }
    n = get_once(ssl, fd, deadline, opt.get_oid, engine, engine_len, in, sizeof(in));
    if (n == 0)
        return;
    if (parse_answer(in, (size_t)n, &ans) != 0)
        printf("response: unparsable (%d bytes)\n", n);
    else
        print_answer(&ans);
}

/* ---- attacks on an established association's records --------------- */

/* The last datagram OpenSSL wrote on a socket BIO (an --attack copies it). */
static uint8_t last_out[4096];
static size_t last_out_len;

static long copy_out(BIO *b, int oper, const char *argp, size_t len, int argi, long argl, int ret,
                     size_t *processed)
{
    (void)b;
    (void)argi;
    (void)argl;
    if (oper == (BIO_CB_WRITE | BIO_CB_RETURN) && ret > 0 && processed != NULL && *processed <= sizeof(last_out) &&
        *processed <= len) {
        memcpy(last_out, argp, *processed);
        last_out_len = *processed;
    }
    return ret;
}

/* A second association to the same agent whose GET datagram (of the
 * agent's own snmpEngineID OID, answered by discovery) lands in
 * last_out.  Returns 0 when it was answered. */
static int foreign_get(SSL_CTX *ctx, const struct sockaddr_storage *ss, socklen_t sl, long long deadline)
{
    static const uint8_t local_engine_id[] = {0x80, 0x00, 0x00, 0x00, 0x06};
    uint8_t in[4096];
    const char *why = "";
    SSL *ssl = SSL_new(ctx);
    int fd = udp_socket(ss->ss_family), n = 0;
    BIO *bio;

    if (ssl == NULL || fd < 0 || connect(fd, (const struct sockaddr *)ss, sl) < 0 ||
        (bio = BIO_new_dgram(fd, BIO_CLOSE)) == NULL) {
        if (fd >= 0)
            close(fd);
        SSL_free(ssl);
        return -1;
    }
    (void)BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, (void *)ss);
    BIO_set_callback_ex(bio, copy_out);
    SSL_set_bio(ssl, bio, bio);
    if (drive(ssl, fd, OP_CONNECT, NULL, 0, deadline, &why) > 0)
        n = get_once(ssl, fd, deadline, "1.3.6.1.6.3.10.2.1.1.0", local_engine_id, sizeof(local_engine_id), in,
                     sizeof(in));
    SSL_free(ssl); /* no close_notify: the association stays open at the agent */
    return n > 0 ? 0 : -1;
}

/* Send last_out as raw bytes on fd; report whether any datagram comes
 * back within 1 s. */
static void send_raw_and_listen(int fd)
{
    uint8_t buf[4096];
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    long long deadline = now_ms() + 1000, left;

    if (last_out_len == 0 || send(fd, last_out, last_out_len, 0) < 0) {
        printf("attack: not sent\n");
        return;
    }
    while ((left = deadline - now_ms()) > 0) {
        if (poll(&pfd, 1, (int)left) > 0 && recv(fd, buf, sizeof(buf), 0) > 0) {
            printf("attack: answered\n");
            return;
        }
    }
    printf("attack: no answer\n");
}

static void attack(SSL_CTX *ctx, SSL *ssl, int fd, const struct sockaddr_storage *ss, socklen_t sl,
                   long long deadline)
{
    if (strcmp(opt.attack, "foreign") == 0 && foreign_get(ctx, ss, sl, deadline) != 0) {
        printf("attack: no second association\n");
        return;
    }
    if (strcmp(opt.attack, "after-close") == 0) {
        size_t keep = last_out_len;
        uint8_t copy[sizeof(last_out)];
        memcpy(copy, last_out, keep);
        (void)SSL_shutdown(ssl);
        memcpy(last_out, copy, keep);
        last_out_len = keep;
        send_raw_and_listen(fd);
        return;
    }
    send_raw_and_listen(fd);
    printf("control: ");
    snmp_get(ssl, fd, deadline);
}

/* ---- session resumption (--save-session, --resume, --offer-id) ------- */

static SSL_SESSION *read_session(const char *file)
{
    FILE *f = fopen(file, "r");
    SSL_SESSION *sess;

    if (f == NULL) {
        fprintf(stderr, "dtls-peer: %s: %s\n", file, strerror(errno));
        return NULL;
    }
    sess = PEM_read_SSL_SESSION(f, NULL, NULL, NULL);
    fclose(f);
    if (sess == NULL)
        fprintf(stderr, "dtls-peer: %s: not a PEM session: %s\n", file, ssl_reason());
    return sess;
}

/* --offer-id: the session of FILE (the peer's own, from an earlier
 * handshake of its own) under the id HEX: what a peer that saw another
 * client's session id on the wire can offer.  Everything else in it, the
 * master secret first, is the peer's own. */
static SSL_SESSION *forge_session(const char *file, const char *hex)
{
    uint8_t id[SSL_MAX_SSL_SESSION_ID_LENGTH];
    size_t id_len = 0;
    SSL_SESSION *sess;

    if (ber_parse_hex(hex, id, sizeof(id), &id_len) != 0 || id_len == 0) {
        fprintf(stderr, "dtls-peer: bad --offer-id %s\n", hex);
        return NULL;
    }
    sess = read_session(file);
    if (sess != NULL && SSL_SESSION_set1_id(sess, id, (unsigned)id_len) != 1) {
        SSL_SESSION_free(sess);
        sess = NULL;
    }
    return sess;
}

/* --resume / --offer-id: the session the ClientHello offers.  Returns 0, or
 * -1 when it could not be set (printed). */
static int offer_session(SSL *ssl)
{
    SSL_SESSION *sess;
    int ok;

    if (opt.resume_file == NULL)
        return 0;
    sess = opt.offer_id != NULL ? forge_session(opt.resume_file, opt.offer_id) : read_session(opt.resume_file);
    ok = sess != NULL && SSL_set_session(ssl, sess) == 1;
    SSL_SESSION_free(sess);
    if (!ok)
        fprintf(stderr, "dtls-peer: cannot offer the session: %s\n", ssl_reason());
    return ok ? 0 : -1;
}

/* --save-session: the session of the handshake just completed. */
static void save_session(SSL *ssl)
{
    SSL_SESSION *sess = SSL_get1_session(ssl);
    FILE *f = fopen(opt.save_session, "w");
    unsigned id_len = 0;

    if (sess != NULL)
        (void)SSL_SESSION_get_id(sess, &id_len);
    if (sess == NULL || id_len == 0 || f == NULL || PEM_write_SSL_SESSION(f, sess) != 1) {
        printf("session not saved: %s\n", sess == NULL || id_len == 0 ? "no session id" : strerror(errno));
    } else {
        /* Both travel in clear in the ServerHello: what an onlooker knows. */
        const uint8_t *id = SSL_SESSION_get_id(sess, &id_len);
        unsigned k;

        printf("session saved: id ");
        for (k = 0; k < id_len; k++)
            printf("%02X", id[k]);
        printf(" cipher %s\n", SSL_CIPHER_get_name(SSL_SESSION_get0_cipher(sess)));
    }
    if (f != NULL)
        fclose(f);
    SSL_SESSION_free(sess);
}

/* ---- the two roles ---------------------------------------------------- */

static int run_client(SSL_CTX *ctx)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    long long deadline = now_ms() + opt.timeout_ms;
    const char *why = "";
    SSL *ssl = NULL;
    BIO *bio;
    int fd, ret, rc = 1;

    if (parse_hostport(opt.connect, &ss, &sl) != 0) {
        fprintf(stderr, "dtls-peer: bad address %s\n", opt.connect);
        return 2;
    }
    fd = udp_socket(ss.ss_family);
    if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0) {
        printf("handshake failed: socket: %s\n", strerror(errno));
        if (fd >= 0)
            close(fd);
        return 1;
    }
    ssl = SSL_new(ctx);
    bio = BIO_new_dgram(fd, BIO_CLOSE);
    if (ssl == NULL || bio == NULL) {
        BIO_free(bio);
        close(fd);
        SSL_free(ssl);
        printf("handshake failed: out of memory\n");
        return 1;
    }
    (void)BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, &ss);
    if (opt.attack != NULL)
        BIO_set_callback_ex(bio, copy_out);
    SSL_set_bio(ssl, bio, bio);
    SSL_set_info_callback(ssl, info_cb);
    if (offer_session(ssl) != 0) {
        SSL_free(ssl);
        return 2;
    }
    ret = drive(ssl, fd, OP_CONNECT, NULL, 0, deadline, &why);
    if (ret > 0) {
        printf("handshake ok\n");
        if (opt.resume_file != NULL)
            printf("resumed: %s\n", SSL_session_reused(ssl) ? "yes" : "no");
        if (opt.save_session != NULL)
            save_session(ssl);
        fflush(stdout);
        rc = 0;
        if (opt.get_oid != NULL)
            snmp_get(ssl, fd, deadline);
        if (opt.attack != NULL)
            attack(ctx, ssl, fd, &ss, sl, deadline);
        (void)SSL_shutdown(ssl);
    } else {
        report_failure("handshake", ret, why);
    }
    SSL_free(ssl); /* closes fd through the BIO */
    return rc;
}

static int run_server(SSL_CTX *ctx)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    long long deadline = now_ms() + opt.timeout_ms;
    const char *why = "";
    BIO_ADDR *client = BIO_ADDR_new();
    SSL *ssl = NULL;
    BIO *bio;
    int fd, ret = 0, one = 1, rc = 1;
    char buf[4096];

    if (parse_hostport(opt.listen, &ss, &sl) != 0) {
        fprintf(stderr, "dtls-peer: bad address %s\n", opt.listen);
        BIO_ADDR_free(client);
        return 2;
    }
    fd = udp_socket(ss.ss_family);
    if (fd >= 0 && ss.ss_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (client == NULL || fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0) {
        printf("listen failed: %s\n", strerror(errno));
        if (fd >= 0)
            close(fd);
        BIO_ADDR_free(client);
        return 1;
    }
    printf("listening on %s\n", opt.listen);
    fflush(stdout);
    ssl = SSL_new(ctx);
    bio = BIO_new_dgram(fd, BIO_CLOSE);
    if (ssl == NULL || bio == NULL) {
        BIO_free(bio);
        close(fd);
        SSL_free(ssl);
        BIO_ADDR_free(client);
        printf("listen failed: out of memory\n");
        return 1;
    }
    SSL_set_bio(ssl, bio, bio);
    SSL_set_info_callback(ssl, info_cb);
    /* Cookie exchange: DTLSv1_listen answers ClientHellos statelessly and
     * returns 1 once one carries a valid cookie. */
    while ((ret = DTLSv1_listen(ssl, client)) == 0) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        long long left = deadline - now_ms();

        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            break;
    }
    if (ret <= 0) {
        printf("handshake failed: %s\n",
               ret < 0 ? ssl_reason() : "timeout (no ClientHello with a valid cookie)");
        goto Out;
    }
    /* Serve this one peer: connect the socket to it. */
    {
        struct sockaddr_storage cs;
        socklen_t cl = sizeof(cs);
        size_t rl = 0;

        memset(&cs, 0, sizeof(cs));
        if (BIO_ADDR_family(client) == AF_INET6) {
            struct sockaddr_in6 *c6 = (struct sockaddr_in6 *)&cs;
            c6->sin6_family = AF_INET6;
            c6->sin6_port = BIO_ADDR_rawport(client);
            (void)BIO_ADDR_rawaddress(client, &c6->sin6_addr, &rl);
            cl = sizeof(*c6);
        } else {
            struct sockaddr_in *c4 = (struct sockaddr_in *)&cs;
            c4->sin_family = AF_INET;
            c4->sin_port = BIO_ADDR_rawport(client);
            (void)BIO_ADDR_rawaddress(client, &c4->sin_addr, &rl);
            cl = sizeof(*c4);
        }
        if (connect(fd, (struct sockaddr *)&cs, cl) < 0) {
            printf("handshake failed: connect: %s\n", strerror(errno));
            goto Out;
        }
        (void)BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, &cs);
    }
    ret = drive(ssl, fd, OP_ACCEPT, NULL, 0, deadline, &why);
    if (ret <= 0) {
        report_failure("handshake", ret, why);
        goto Out;
    }
    printf("handshake ok\n");
    fflush(stdout);
    rc = 0;
    ret = drive(ssl, fd, OP_READ, buf, sizeof(buf), deadline, &why);
    if (ret > 0)
        printf("received %d bytes of application data\n", ret);
    else if (ret == -2)
        printf("no application data\n");
    else
        printf("no application data (%s)\n", why);
    (void)SSL_shutdown(ssl);
Out:
    SSL_free(ssl); /* closes fd */
    BIO_ADDR_free(client);
    return rc;
}

/* ---- main ------------------------------------------------------------- */

static int parse_args(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "-v") == 0) {
            opt.verbose = 1;
            continue;
        }
        if (strcmp(a, "--alert-after-hello") == 0) {
            opt.alert_after_hello = 1;
            continue;
        }
        if (v == NULL)
            return -1;
        i++;
        if (strcmp(a, "--connect") == 0)
            opt.connect = v;
        else if (strcmp(a, "--listen") == 0)
            opt.listen = v;
        else if (strcmp(a, "--cert") == 0)
            opt.cert = v;
        else if (strcmp(a, "--key") == 0)
            opt.key = v;
        else if (strcmp(a, "--chain") == 0 && opt.n_chain < MAX_CHAIN)
            opt.chain[opt.n_chain++] = v;
        else if (strcmp(a, "--get") == 0)
            opt.get_oid = v;
        else if (strcmp(a, "--engine-id") == 0)
            opt.engine_id = v;
        else if (strcmp(a, "--verify") == 0)
            opt.verify_ca = v;
        else if (strcmp(a, "--attack") == 0 && (strcmp(v, "replay") == 0 || strcmp(v, "foreign") == 0 ||
                                                 strcmp(v, "after-close") == 0))
            opt.attack = v;
        else if (strcmp(a, "--ciphers") == 0)
            opt.ciphers = v;
        else if (strcmp(a, "--save-session") == 0)
            opt.save_session = v;
        else if (strcmp(a, "--resume") == 0)
            opt.resume_file = v;
        else if (strcmp(a, "--offer-id") == 0)
            opt.offer_id = v;
        else if (strcmp(a, "--timeout") == 0) {
            char *end;
            opt.timeout_ms = strtol(v, &end, 10);
            if (*end != '\0' || opt.timeout_ms <= 0 || opt.timeout_ms > 600000)
                return -1;
        } else
            return -1;
    }
    if ((opt.connect == NULL) == (opt.listen == NULL) || opt.cert == NULL || opt.key == NULL)
        return -1;
    if (opt.listen != NULL && (opt.get_oid != NULL || opt.verify_ca != NULL))
        return -1;
    if (opt.attack != NULL && opt.get_oid == NULL)
        return -1;
    if (opt.listen != NULL && (opt.save_session != NULL || opt.resume_file != NULL || opt.offer_id != NULL ||
                               opt.alert_after_hello))
        return -1;
    if (opt.offer_id != NULL && opt.resume_file == NULL)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    SSL_CTX *ctx;
    int rc;

    if (parse_args(argc, argv) != 0) {
        usage();
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (RAND_bytes(cookie_secret, sizeof(cookie_secret)) != 1)
        return 1;
    ctx = make_ctx(opt.listen != NULL);
    if (ctx == NULL)
        return 2;
    rc = opt.listen != NULL ? run_server(ctx) : run_client(ctx);
    SSL_CTX_free(ctx);
    return rc;
}
