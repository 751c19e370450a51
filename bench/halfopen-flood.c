/*
 * halfopen-flood.c - half-open DTLS handshakes from one loopback address.
 *
 *   halfopen-flood -a HOST -p PORT [-s SRC] [-r PER_SECOND] [-d SECONDS]
 *                  [-n MAX] [-T ANSWER_MS]
 *
 * Unlike bench/hello-flood (spoofed, cookie-less hellos from many
 * addresses), every flooder here is a real client that passes the cookie
 * gate and then goes silent: from SRC (default 127.0.0.1), each on a new
 * UDP socket (hence a new source port), OpenSSL's DTLS 1.2 client sends its
 * ClientHello, reads the HelloVerifyRequest, sends the ClientHello with the
 * cookie, and is never driven again.  Its socket stays open until the
 * program exits, so the server's flights (ServerHello ... ServerHelloDone
 * and their retransmissions) are delivered and ignored rather than drawing
 * ICMP port-unreachable.  The server holds a half-open association for each.
 *
 * A new flooder starts every 1/PER_SECOND s (default 100/s) for SECONDS
 * (default 10) or until MAX flooders (default unlimited) have started.  A
 * flooder that has no answer ANSWER_MS (default 1000) after its hello
 * resends it once; after two more such periods it counts as unanswered.
 * SIGTERM / SIGINT stop the flood early (the summary is still printed);
 * SIGUSR1 marks a point in time: the summary also counts the cookie-answering
 * flooders completed after the last mark (e.g. during a measurement).
 * HOST and SRC must be in 127.0.0.0/8: this tool never sends elsewhere.
 *
 * Output (stdout, one line):
 *   started=N silent=S unanswered=U no_cookie=C errors=E secs=T rate=R
 *   silent_since_mark=M mark_secs=TM
 * silent: flooders that sent the ClientHello with the cookie (half-open);
 * no_cookie: the server answered the first hello with something other than
 * a HelloVerifyRequest (the flooder still goes silent after one exchange).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

/* At most this many flooders wait for their first answer at once. */
#define MAX_PENDING 4096

typedef struct pending {
    int fd;
    SSL *ssl;
    double sent_at; /* last (re)send of the first hello */
    int resent;
} pending;

static volatile sig_atomic_t stop_flag, mark_flag;

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void on_mark(int sig)
{
    (void)sig;
    mark_flag = 1;
}

static double mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Send what OpenSSL wrote to the memory BIO as one datagram. */
static int flush_out(SSL *ssl, int fd)
{
    uint8_t buf[4096];
    int n = BIO_read(SSL_get_wbio(ssl), buf, (int)sizeof(buf));

    if (n <= 0)
        return 0;
    if (send(fd, buf, (size_t)n, 0) < 0)
        return -1;
    return n;
}

/* A new flooder: a socket bound to SRC (any port), connected to the server,
 * and a DTLS client whose first ClientHello has been sent. */
static int flooder_start(SSL_CTX *ctx, const struct sockaddr_in *from, const struct sockaddr_in *to,
                         pending *p)
{
    SSL *ssl = NULL;
    BIO *rb, *wb;
    int fd;

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (const struct sockaddr *)from, sizeof(*from)) != 0 ||
        connect(fd, (const struct sockaddr *)to, sizeof(*to)) != 0)
        goto Fail;
    ssl = SSL_new(ctx);
    rb = BIO_new(BIO_s_mem());
    wb = BIO_new(BIO_s_mem());
    if (ssl == NULL || rb == NULL || wb == NULL) {
        BIO_free(rb);
        BIO_free(wb);
        goto Fail;
    }
    /* An empty memory BIO reads as "retry", not end of file. */
    BIO_set_mem_eof_return(rb, -1);
    SSL_set_bio(ssl, rb, wb);
    /* Memory BIOs have no MTU: set the link MTU, or OpenSSL fragments the
     * hello into 256-byte pieces. */
    SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
    DTLS_set_link_mtu(ssl, 1500);
    SSL_set_connect_state(ssl);
    (void)SSL_do_handshake(ssl);
    if (flush_out(ssl, fd) <= 0)
        goto Fail;
    p->fd = fd;
    p->ssl = ssl;
    p->sent_at = mono();
    p->resent = 0;
    return 0;
Fail:
    SSL_free(ssl);
    close(fd);
    return -1;
}

static void usage(void)
{
    fprintf(stderr, "usage: halfopen-flood -a HOST -p PORT [-s SRC] [-r PER_SECOND] [-d SECONDS] "
                    "[-n MAX] [-T ANSWER_MS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *host = NULL, *src = "127.0.0.1";
    long rate = 100, max = -1, answer_ms = 1000;
    double duration = 10.0;
    long started = 0, silent = 0, unanswered = 0, no_cookie = 0, errors = 0;
    long silent_at_mark = 0;
    double mark_t = -1.0;
    int port = 0, opt;
    struct sockaddr_in to, from;
    pending *pend;
    struct pollfd *pfd;
    int npend = 0, i;
    int *held = NULL;
    size_t nheld = 0, capheld = 0;
    SSL_CTX *ctx;
    struct sigaction sa;
    struct rlimit rl;
    double t0, t_end, elapsed;

    while ((opt = getopt(argc, argv, "a:p:s:r:d:n:T:")) != -1) {
        switch (opt) {
        case 'a': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 's': src = optarg; break;
        case 'r': rate = atol(optarg); break;
        case 'd': duration = atof(optarg); break;
        case 'n': max = atol(optarg); break;
        case 'T': answer_ms = atol(optarg); break;
        default: usage();
        }
    }
    if (host == NULL || port <= 0 || port > 65535 || rate <= 0 || duration <= 0 || answer_ms <= 0)
        usage();
    memset(&to, 0, sizeof(to));
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)port);
    memset(&from, 0, sizeof(from));
    from.sin_family = AF_INET;
    if (inet_pton(AF_INET, host, &to.sin_addr) != 1 || inet_pton(AF_INET, src, &from.sin_addr) != 1)
        usage();
    /* Loopback only: this tool never sends anywhere else. */
    if ((ntohl(to.sin_addr.s_addr) >> 24) != 127 || (ntohl(from.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "halfopen-flood: addresses must stay in 127.0.0.0/8\n");
        return 2;
    }
    /* One descriptor per flooder, held to the end. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_mark;
    sigaction(SIGUSR1, &sa, NULL);

    ctx = SSL_CTX_new(DTLS_client_method());
    pend = calloc(MAX_PENDING, sizeof(*pend));
    pfd = calloc(MAX_PENDING, sizeof(*pfd));
    if (ctx == NULL || pend == NULL || pfd == NULL) {
        fprintf(stderr, "halfopen-flood: out of memory\n");
        return 2;
    }
    SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION);
    /* The server's certificate is never looked at: the flooder stops
     * before it arrives. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);

    t0 = mono();
    t_end = t0 + duration;
    for (;;) {
        double now = mono(), next_due, wait;
        int timeout_ms;

        if (mark_flag) {
            mark_flag = 0;
            silent_at_mark = silent;
            mark_t = now;
        }
        if (stop_flag)
            break;
        /* Start the flooders that are due. */
        while (!stop_flag && now < t_end && (max < 0 || started < max) &&
               t0 + (double)started / (double)rate <= now) {
            if (npend >= MAX_PENDING) {
                /* The server does not answer: do not fall behind forever. */
                break;
            }
            started++;
            if (flooder_start(ctx, &from, &to, &pend[npend]) == 0)
                npend++;
            else
                errors++;
        }
        if ((now >= t_end || (max >= 0 && started >= max)) && npend == 0)
            break;
        /* Wait for answers or the next start. */
        next_due = t0 + (double)started / (double)rate;
        wait = next_due - now;
        if (now >= t_end || (max >= 0 && started >= max))
            wait = 0.05;
        if (wait < 0)
            wait = 0;
        if (wait > 0.05)
            wait = 0.05;
        timeout_ms = (int)(wait * 1000.0 + 0.5);
        for (i = 0; i < npend; i++) {
            pfd[i].fd = pend[i].fd;
            pfd[i].events = POLLIN;
            pfd[i].revents = 0;
        }
        if (poll(pfd, (nfds_t)npend, timeout_ms) < 0 && errno != EINTR) {
            perror("halfopen-flood: poll");
            break;
        }
        now = mono();
        for (i = 0; i < npend; i++) {
            pending *p = &pend[i];
            int done = 0;

            if (pfd[i].revents & (POLLIN | POLLERR)) {
                uint8_t buf[4096];
                ssize_t n = recv(p->fd, buf, sizeof(buf), 0);

                if (n > 0) {
                    int hvr = n > 13 + 12 && buf[0] == 22 && buf[13] == 3; /* HelloVerifyRequest */

                    BIO_write(SSL_get_rbio(p->ssl), buf, (int)n);
                    (void)SSL_do_handshake(p->ssl);
                    if (flush_out(p->ssl, p->fd) < 0)
                        errors++;
                    else if (hvr)
                        silent++;
                    else
                        no_cookie++;
                    done = 1;
                } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                    /* ICMP port unreachable: nobody listens. */
                    errors++;
                    done = 2;
                }
            }
            if (!done && now - p->sent_at >= (double)answer_ms / 1000.0) {
                if (!p->resent) {
                    /* OpenSSL's own retransmission of the first hello. */
                    (void)DTLSv1_handle_timeout(p->ssl);
                    (void)flush_out(p->ssl, p->fd);
                    p->resent = 1;
                    p->sent_at = now;
                } else if (now - p->sent_at >= 2.0 * (double)answer_ms / 1000.0) {
                    unanswered++;
                    done = 2;
                }
            }
            if (done) {
                /* Never driven again: free the client, keep a silent
                 * flooder's socket open (its flights are ignored). */
                SSL_free(p->ssl);
                p->ssl = NULL;
                if (done == 1) {
                    if (nheld == capheld) {
                        size_t cap = capheld ? capheld * 2 : 1024;
                        int *q = realloc(held, cap * sizeof(*q));

                        if (q == NULL) {
                            close(p->fd);
                            p->fd = -1;
                        } else {
                            held = q;
                            capheld = cap;
                        }
                    }
                    if (p->fd >= 0)
                        held[nheld++] = p->fd;
                } else
                    close(p->fd);
                pend[i] = pend[npend - 1];
                pfd[i] = pfd[npend - 1];
                npend--;
                i--;
            }
        }
    }
    elapsed = mono() - t0;
    for (i = 0; i < npend; i++) {
        SSL_free(pend[i].ssl);
        close(pend[i].fd);
    }
    printf("started=%ld silent=%ld unanswered=%ld no_cookie=%ld errors=%ld secs=%.2f rate=%.1f "
           "silent_since_mark=%ld mark_secs=%.2f held_fds=%zu\n",
           started, silent, unanswered + npend, no_cookie, errors, elapsed,
           elapsed > 0 ? (double)silent / elapsed : 0.0,
           mark_t >= 0 ? silent - silent_at_mark : 0L, mark_t >= 0 ? mono() - mark_t : 0.0, nheld);
    fflush(stdout);
    while (nheld > 0)
        close(held[--nheld]);
    free(held);
    free(pend);
    free(pfd);
    SSL_CTX_free(ctx);
    return 0;
}
