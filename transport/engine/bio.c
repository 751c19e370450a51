/*
 * bio.c - an in-memory datagram BIO that keeps datagram boundaries.
 *
 * OpenSSL 3.0 has no BIO_s_dgram_mem (3.2+), and BIO_s_mem merges writes,
 * so DTLS would lose its record/datagram framing.  This BIO:
 *   - read: hands out the one datagram the engine is feeding (truncated to
 *     the reader's buffer, like recvfrom), then reports "retry";
 *   - write: every BIO_write is one datagram, pushed straight into the
 *     engine's bounded output queue with the peer address; a full queue
 *     drops it (and counts), as a full socket buffer would.
 * It never allocates after creation.
 */
#include "config.h"

#include <string.h>

#include <openssl/bio.h>

#include "engine_internal.h"

static int dgram_write(BIO *b, const char *data, int len)
{
    eng_io *io = BIO_get_data(b);
    int ret;

    BIO_clear_retry_flags(b);
    if (io == NULL || len < 0)
        return -1;
    /* A handshake keeps a copy of its flight; a retransmission beyond the
     * handshake's byte budget is not sent. */
    if (io->a != NULL && !eng_rtx_on_write(io->a, (const uint8_t *)data, (size_t)len))
        return len;
    ret = eng_outq_push(&io->e->outq, (const uint8_t *)data, (size_t)len, io->peer, io->local, io->a);
    if (ret != DTLSUDP_OK) {
        io->e->stats.dropped_queue++;
        io->out_dropped = 1;
    } else {
        io->e->stats.datagrams_out++;
        io->e->stats.bytes_out += (uint64_t)len;
    }
    if (io->a != NULL) {
        /* The hand-off continues OpenSSL's sequence numbers and keeps a
         * server's last flight (handoff.c). */
        eng_handoff_note_sent(io->a, (const uint8_t *)data, (size_t)len);
        /* An alert after this association ends continues its numbers. */
        eng_ended_note_sent(io->a, (const uint8_t *)data, (size_t)len);
        eng_handoff_capture(io->e, io->a, (const uint8_t *)data, (size_t)len);
    }
    /* UDP semantics: a datagram the queue could not take is lost, not retried. */
    return len;
}

static int dgram_read(BIO *b, char *buf, int cap)
{
    eng_io *io = BIO_get_data(b);
    size_t n;

    BIO_clear_retry_flags(b);
    if (io == NULL || cap < 0)
        return -1;
    if (io->in == NULL) {
        BIO_set_retry_read(b);
        return -1;
    }
    n = io->in_len < (size_t)cap ? io->in_len : (size_t)cap;
    memcpy(buf, io->in, n);
    io->in = NULL;
    io->in_len = 0;
    return (int)n;
}

static long dgram_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    eng_io *io = BIO_get_data(b);

    switch (cmd) {
    case BIO_CTRL_FLUSH:
    case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT:
        return 1;
    case BIO_CTRL_PENDING:
        return io != NULL && io->in != NULL ? (long)io->in_len : 0;
    case BIO_CTRL_WPENDING:
        return 0;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
        /* DTLS_set_link_mtu() subtracts this to get the largest datagram. */
        if (io != NULL && io->peer != NULL && io->peer->sa.sa_family == AF_INET6)
            return DTLSUDP_IPV6_OVERHEAD;
        return DTLSUDP_IPV4_OVERHEAD;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
    case BIO_CTRL_DGRAM_MTU_EXCEEDED:
    case BIO_CTRL_DGRAM_GET_PEER:
        /* Not known here: the engine keeps the peer address itself
         * (DTLSv1_listen then reports AF_UNSPEC, which we ignore). */
        return 0;
    default:
        return 0;
    }
}

static int dgram_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static int dgram_destroy(BIO *b)
{
    BIO_set_data(b, NULL);
    return 1;
}

BIO_METHOD *eng_bio_method_new(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "dtlsudp datagram");

    if (m == NULL)
        return NULL;
    if (!BIO_meth_set_write(m, dgram_write) || !BIO_meth_set_read(m, dgram_read) ||
        !BIO_meth_set_ctrl(m, dgram_ctrl) || !BIO_meth_set_create(m, dgram_create) ||
        !BIO_meth_set_destroy(m, dgram_destroy)) {
        BIO_meth_free(m);
        return NULL;
    }
    return m;
}

BIO *eng_bio_new(BIO_METHOD *m, eng_io *io)
{
    BIO *b = BIO_new(m);

    if (b != NULL)
        BIO_set_data(b, io);
    return b;
}

eng_io *eng_ssl_io(const SSL *ssl)
{
    BIO *b = SSL_get_rbio(ssl);

    return b != NULL ? BIO_get_data(b) : NULL;
}
