/*
 * holdmany.c - hold very many DTLS associations open to one DTLS server
 * from a single UDP socket, then echo a datagram over every one of them.
 *
 *   holdmany -p PORT -n N --cert F --key F --ca F [-c CONCURRENT]
 *            [-t SECONDS] [-T HANDSHAKE_SECONDS] [-P SERVER_PID]
 *
 * The server must listen on the IPv4 wildcard (dtls-echo-server --demux
 * router --no-accept).  Association i goes from 127.3.0.0+i+1 to
 * 127.2.0.0+i+1 (loopback routes all of 127/8 to this host), so the
 * server keys every association by a different source address, and this
 * client's one engine keys it by a different peer address.  Both run over
 * one socket bound to 0.0.0.0:P2 (an ephemeral port): the source address
 * of each datagram is chosen with IP_PKTINFO and the arrival address is
 * read back the same way.  A machine's open-file limit therefore does not
 * bound N, unlike a client with one connected socket per association
 * (bench/holdassoc).
 *
 * Phases, bounded by -t (default 1800 s) in total:
 *   open    at most CONCURRENT (default 64) handshakes in flight, each
 *           given HANDSHAKE_SECONDS (default 20);
 *   settle  1 s, then read the server's VmRSS (-P);
 *   echo    one 32-byte datagram over every established association (a
 *           window of 512, one resend after 2 s, given up after 6 s); an
 *           association counts as served when its own bytes came back.
 *
 * Output: one key=value line, e.g.
 *   n=100000 established=100000 failed=0 open_secs=410.2 served=100000
 *   echo_secs=3.1 rss0_kb=5000 rss_open_kb=340000 per_assoc_b=3430
 *   client_per_assoc_b=7100
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "dtlsudp.h"

#include "proc.h"

enum { S_IDLE = 0, S_HANDSHAKE, S_ESTABLISHED, S_FAILED };

#define ECHO_LEN 32
#define ECHO_WINDOW 512

typedef struct slot {
    dtlsudp_assoc *a;
    dtlsudp_time t_sent;
    uint8_t state;
    uint8_t served;
    uint8_t sends;
} slot;

typedef struct run {
    dtlsudp_engine *e;
    int fd;
    slot *slots;
    long n;
    long inflight, established, failed, served;
} run;

static uint32_t dest_base, src_base;

static long slot_index(const dtlsudp_assoc *a, long n)
{
    const dtlsudp_addr *peer = dtlsudp_assoc_peer(a);
    long i = (long)(ntohl(peer->sin.sin_addr.s_addr) - dest_base) - 1;
    return i >= 0 && i < n ? i : -1;
}

static void on_event(void *user, dtlsudp_assoc *a, int event, int reason)
{
    run *r = user;
    long i = slot_index(a, r->n);
    slot *s;

    (void)reason;
    if (i < 0)
        return;
    s = &r->slots[i];
    switch (event) {
    case DTLSUDP_EVENT_ESTABLISHED:
        if (s->state == S_HANDSHAKE) {
            s->state = S_ESTABLISHED;
            r->inflight--;
            r->established++;
        }
        break;
    case DTLSUDP_EVENT_CLOSED:
        if (s->state == S_HANDSHAKE)
            r->inflight--;
        if (s->state == S_ESTABLISHED)
            r->established--;
        s->state = S_FAILED;
        s->a = NULL;
        r->failed++;
        break;
    case DTLSUDP_EVENT_DATA: {
        uint8_t buf[64];
        size_t len;
        while (dtlsudp_assoc_read(a, buf, sizeof(buf), &len) == DTLSUDP_OK) {
            uint32_t tag;
            if (len != ECHO_LEN || s->served)
                continue;
            memcpy(&tag, buf, sizeof(tag));
            if (tag == (uint32_t)i) {
                s->served = 1;
                r->served++;
            }
        }
        break;
    }
    default:
        break;
    }
}

static void addr_v4(dtlsudp_addr *out, uint32_t host_order, uint16_t port)
{
    memset(out, 0, sizeof(*out));
    out->sin.sin_family = AF_INET;
    out->sin.sin_addr.s_addr = htonl(host_order);
    out->sin.sin_port = htons(port);
}

/* Send everything the engine queued, each datagram from its own source. */
static void flush(run *r)
{
    uint8_t buf[2048];
    size_t len;
    dtlsudp_addr peer, local;
    char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];

    while (dtlsudp_engine_pop(r->e, buf, sizeof(buf), &len, &peer, &local, NULL) == DTLSUDP_OK) {
        struct iovec iov = {.iov_base = buf, .iov_len = len};
        struct msghdr mh = {.msg_name = &peer.sa,
                            .msg_namelen = sizeof(peer.sin),
                            .msg_iov = &iov,
                            .msg_iovlen = 1};
        if (local.sa.sa_family == AF_INET) {
            struct cmsghdr *cm;
            struct in_pktinfo pi = {.ipi_spec_dst = local.sin.sin_addr};
            memset(cbuf, 0, sizeof(cbuf));
            mh.msg_control = cbuf;
            mh.msg_controllen = sizeof(cbuf);
            cm = CMSG_FIRSTHDR(&mh);
            cm->cmsg_level = IPPROTO_IP;
            cm->cmsg_type = IP_PKTINFO;
            cm->cmsg_len = CMSG_LEN(sizeof(pi));
            memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
        }
        if (sendmsg(r->fd, &mh, 0) < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            /* dropped, as UDP would; DTLS retransmission recovers */
        }
    }
}

/* Feed every queued datagram to the engine with its arrival address. */
static void drain(run *r, dtlsudp_time now)
{
    uint8_t buf[2048];
    char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];

    for (;;) {
        dtlsudp_addr peer, local;
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
        struct msghdr mh = {.msg_name = &peer.sa,
                            .msg_namelen = sizeof(peer),
                            .msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = cbuf,
                            .msg_controllen = sizeof(cbuf)};
        ssize_t got = recvmsg(r->fd, &mh, MSG_DONTWAIT);
        if (got < 0)
            break;
        memset(&local, 0, sizeof(local));
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
            if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
                struct in_pktinfo pi;
                memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
                local.sin.sin_family = AF_INET;
                local.sin.sin_addr = pi.ipi_addr;
            }
        (void)dtlsudp_engine_receive(r->e, &peer, local.sa.sa_family == AF_INET ? &local : NULL, buf,
                                     (size_t)got, now, NULL);
    }
}

static void pump(run *r, int wait_ms)
{
    struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
    dtlsudp_time now = dtlsudp_now(), next = dtlsudp_engine_next_timeout(r->e);
    int wait = wait_ms;

    if (next != DTLSUDP_TIME_NEVER)
        wait = next <= now ? 0 : (next - now < (dtlsudp_time)wait_ms ? (int)(next - now) : wait_ms);
    (void)poll(&pfd, 1, wait);
    now = dtlsudp_now();
    drain(r, now);
    if (dtlsudp_engine_next_timeout(r->e) <= now)
        (void)dtlsudp_engine_handle_timeout(r->e, now);
    flush(r);
}

/* One echo datagram for association i, tagged with its index. */
static void echo_send(run *r, long i, dtlsudp_time now)
{
    uint8_t msg[ECHO_LEN] = {0};
    uint32_t tag = (uint32_t)i;

    memcpy(msg, &tag, sizeof(tag));
    if (r->slots[i].a != NULL)
        (void)dtlsudp_assoc_write(r->slots[i].a, msg, sizeof(msg), now);
}

static void usage(void)
{
    fprintf(stderr, "usage: holdmany -p PORT -n N --cert F --key F --ca F [-c CONCURRENT] [-t SECONDS] "
                    "[-T HANDSHAKE_SECONDS] [-P SERVER_PID]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"cert", required_argument, NULL, 'C'},
        {"key", required_argument, NULL, 'K'},
        {"ca", required_argument, NULL, 'A'},
        {NULL, 0, NULL, 0},
    };
    dtlsudp_engine_config cfg;
    run r = {.fd = -1};
    long port = 0, concurrent = 64, server_pid = 0, hs_timeout_s = 20, started = 0, next_echo = 0;
    long rss0, rss_open, self0, self_open;
    double limit = 1800, t0, t_open, t_echo, deadline;
    struct sockaddr_in bind_addr = {.sin_family = AF_INET};
    int opt, one = 1, big = 16 << 20;

    dtlsudp_engine_config_init(&cfg);
    while ((opt = getopt_long(argc, argv, "p:n:c:t:T:P:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'p': port = strtol(optarg, NULL, 10); break;
        case 'n': r.n = strtol(optarg, NULL, 10); break;
        case 'c': concurrent = strtol(optarg, NULL, 10); break;
        case 't': limit = strtod(optarg, NULL); break;
        case 'T': hs_timeout_s = strtol(optarg, NULL, 10); break;
        case 'P': server_pid = strtol(optarg, NULL, 10); break;
        case 'C': cfg.cert_file = optarg; break;
        case 'K': cfg.key_file = optarg; break;
        case 'A': cfg.ca_file = optarg; break;
        default: usage();
        }
    }
    if (port <= 0 || port > 65535 || r.n <= 0 || r.n > 16000000 || concurrent <= 0 || cfg.cert_file == NULL ||
        cfg.key_file == NULL || cfg.ca_file == NULL)
        usage();
    dest_base = 0x7f020000u; /* 127.2.0.0 */
    src_base = 0x7f030000u;  /* 127.3.0.0 */

    cfg.max_assocs = (size_t)r.n + 16;
    cfg.max_half_open = (size_t)concurrent + 16;
    cfg.idle_timeout = DTLSUDP_TIME_NEVER;
    cfg.handshake_timeout = (dtlsudp_time)hs_timeout_s * 1000;
    cfg.on_event = on_event;
    cfg.user = &r;
    if (dtlsudp_engine_new(&cfg, dtlsudp_now(), &r.e) != DTLSUDP_OK) {
        fprintf(stderr, "holdmany: cannot create the client engine\n");
        return 1;
    }
    r.slots = calloc((size_t)r.n, sizeof(*r.slots));
    r.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (r.slots == NULL || r.fd < 0 || setsockopt(r.fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) != 0 ||
        bind(r.fd, (struct sockaddr *)&bind_addr, sizeof(bind_addr)) != 0) {
        perror("holdmany: socket");
        return 1;
    }
    /* Root may exceed net.core.[rw]mem_max; others get what the cap allows. */
    if (setsockopt(r.fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) != 0)
        (void)setsockopt(r.fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    if (setsockopt(r.fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) != 0)
        (void)setsockopt(r.fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    {
        struct sockaddr_in me;
        socklen_t ml = sizeof(me);
        (void)getsockname(r.fd, (struct sockaddr *)&me, &ml);
        bind_addr.sin_port = me.sin_port;
    }

    rss0 = rss_kb(server_pid);
    self0 = rss_kb((long)getpid());
    t0 = mono();
    deadline = t0 + limit;

    /* open */
    while (mono() < deadline) {
        while (started < r.n && r.inflight < concurrent) {
            dtlsudp_addr peer, local;
            dtlsudp_connect_opts opts = {0};
            slot *s = &r.slots[started];
            addr_v4(&peer, dest_base + (uint32_t)started + 1, (uint16_t)port);
            addr_v4(&local, src_base + (uint32_t)started + 1, ntohs(bind_addr.sin_port));
            opts.local = &local;
            s->state = S_HANDSHAKE;
            r.inflight++;
            if (dtlsudp_engine_connect(r.e, &peer, &opts, dtlsudp_now(), &s->a) != DTLSUDP_OK) {
                s->state = S_FAILED;
                r.inflight--;
                r.failed++;
            }
            started++;
        }
        flush(&r);
        if (started == r.n && r.inflight == 0)
            break;
        pump(&r, 50);
    }
    t_open = mono();

    /* settle */
    for (double until = mono() + 1.0; mono() < until;)
        pump(&r, 100);
    rss_open = rss_kb(server_pid);
    self_open = rss_kb((long)getpid());

    /* echo: a window of outstanding echoes, each resent once after 2 s and
     * given up after 6 s */
    {
        long pend[ECHO_WINDOW];
        int npend = 0, j, k;
        while (mono() < deadline) {
            dtlsudp_time now = dtlsudp_now();
            for (j = 0, k = 0; j < npend; j++) {
                slot *s = &r.slots[pend[j]];
                if (s->served || s->state != S_ESTABLISHED || now >= s->t_sent + 6000)
                    continue;
                if (s->sends == 1 && now >= s->t_sent + 2000) {
                    echo_send(&r, pend[j], now);
                    s->sends = 2;
                }
                pend[k++] = pend[j];
            }
            npend = k;
            while (next_echo < r.n && npend < ECHO_WINDOW) {
                slot *s = &r.slots[next_echo];
                if (s->state == S_ESTABLISHED) {
                    echo_send(&r, next_echo, now);
                    s->sends = 1;
                    s->t_sent = now;
                    pend[npend++] = next_echo;
                }
                next_echo++;
            }
            flush(&r);
            if (next_echo == r.n && npend == 0)
                break;
            pump(&r, 20);
        }
    }
    t_echo = mono();

    printf("n=%ld established=%ld failed=%ld open_secs=%.3f served=%ld echo_secs=%.1f rss0_kb=%ld "
           "rss_open_kb=%ld per_assoc_b=%ld client_per_assoc_b=%ld\n",
           r.n, r.established, r.failed, t_open - t0, r.served, t_echo - t_open, rss0, rss_open,
           r.established > 0 && server_pid > 0 ? (rss_open - rss0) * 1024 / r.established : 0,
           r.established > 0 ? (self_open - self0) * 1024 / r.established : 0);
    fflush(stdout);
    /* Exit without closing: the server's idle associations are what was
     * measured; freeing 100 000 client associations would only take time. */
    _exit(r.established == r.n && r.served == r.n ? 0 : 1);
}
