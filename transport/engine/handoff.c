/*
 * handoff.c - after the handshake, OpenSSL hands the record keys over and
 * the association lives on in recordlayer.c without its SSL.
 *
 * An idle SSL costs about 43 KB however it is configured (OpenSSL 3.0
 * keeps the DTLS handshake scratch buffer, the SSL struct and the
 * session); an association whose suite is an AEAD needs only its two keyed
 * cipher contexts.  So, once established with DTLS 1.2 and AES-GCM or
 * ChaCha20-Poly1305, the key block is derived with public APIs (RFC 5246
 * 6.3: PRF(master_secret, "key expansion", server_random + client_random)
 * with the suite's PRF hash, through EVP_KDF "TLS1-PRF"), what identity
 * and policy need stays on the association (the authenticated chain is
 * already there; cipher, version and the data MTU are kept), and the SSL
 * is freed.  Anything else keeps its SSL, as does every association when
 * cfg->keep_ssl asks for it.
 *
 * What OpenSSL would have done after the handshake is done here:
 *   - records in and out, the replay window (recordlayer.c);
 *   - close_notify both ways, fatal alerts out and in;
 *   - RFC 6347 4.2.4: the side that sent the handshake's last flight
 *     (ChangeCipherSpec and Finished, as the datagrams OpenSSL wrote) keeps
 *     it and sends it again whenever the peer repeats its Finished, until
 *     the peer's first authenticated application record shows it has
 *     ours.  That is the server after a full handshake and the client
 *     after an abbreviated one (RFC 5246 7.3: a resumed handshake ends
 *     with the client's Finished, and the server, still waiting for it,
 *     repeats ServerHello ... Finished on its timer);
 *   - the same flight also goes out again on the handshake's retransmission
 *     schedule (retransmit.c), at most DTLSUDP_LAST_FLIGHT_COPIES times and
 *     within the handshake's byte budget, until the peer's first
 *     application record.  RFC 6347 4.2.4 lets the sender of the last
 *     flight retransmit it; a peer that never repeats its own flight (Net-
 *     SNMP's built-in client does not) would otherwise wait forever after
 *     losing ours.  The copies are the very same records, so a peer that
 *     has them discards them as replays (4.1.2.6) and answers nothing;
 *   - no renegotiation (RFC 5746 4.4 allows refusing it with a warning
 *     no_renegotiation alert, which is what OpenSSL sent before).
 *
 * The peer's certificate is the largest thing left (a parsed X509 is
 * about 4 KB): associations whose peers present the same certificate --
 * many sessions of one manager -- share one X509 (compared in full, found
 * by SHA-256), so that each costs only its cipher contexts and struct.
 *
 * Sequence numbers continue from OpenSSL's.  There is no public getter
 * for the DTLS write sequence in OpenSSL 3.0, so the engine watches the
 * records OpenSSL writes (eng_handoff_note_sent, from the BIO) and our
 * first record uses the number after the highest epoch-1 one it saw --
 * one more than the Finished normally, more when a flight was sent again.
 * Reusing one would reuse an AES-GCM nonce under the same key.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>

#include "engine_internal.h"
#include "record.h"
#include "recordlayer.h"

#define HS_FINISHED 20
#define ALERT_WARNING 1
#define ALERT_FATAL 2
#define AD_CLOSE_NOTIFY 0
#define AD_UNEXPECTED_MESSAGE 10
#define AD_DECODE_ERROR 50
#define AD_NO_RENEGOTIATION 100

/* Timed copies of a kept last flight: at 100, 300, 700, 1200 ms with the
 * default schedule, so that one arrives before an SNMP manager's first
 * retry (1 s) in most cases, and the last well before its second. */
#define DTLSUDP_LAST_FLIGHT_COPIES 4

/* ------------------------------------------------------------------------
 * Watching OpenSSL's records before the hand-off
 * ------------------------------------------------------------------------ */

void eng_handoff_note_sent(dtlsudp_assoc *a, const uint8_t *dgram, size_t len)
{
    const uint8_t *p = dgram, *end = dgram + len;
    eng_record rec;

    if (a->handed_off)
        return;
    while (p != end && eng_record_parse(&p, end, &rec) == 0)
        if (rec.epoch == 1 && rec.seq >= a->hs_next_write_seq)
            a->hs_next_write_seq = rec.seq + 1;
}

void eng_handoff_note_received(dtlsudp_assoc *a, const uint8_t *dgram, size_t len)
{
    const uint8_t *p = dgram, *end = dgram + len;
    eng_record rec;

    /* Application data OpenSSL may read before the hand-off (a reordered
     * record that arrived ahead of the Finished) must not be accepted
     * again afterwards.  Only the first 64 numbers are noted: a peer's
     * records before the hand-off are a handful, and a forged one can at
     * most mask the one number it names. */
    while (p != end && eng_record_parse(&p, end, &rec) == 0)
        if (rec.epoch == 1 && rec.content_type == DTLSUDP_CT_APPLICATION_DATA && rec.seq < 64)
            a->hs_read_seen |= (uint64_t)1 << rec.seq;
}

/* ------------------------------------------------------------------------
 * Shared peer certificates
 * ------------------------------------------------------------------------ */

typedef struct eng_leaf {
    struct eng_leaf *next;
    X509 *x509;
    uint64_t hash;
    size_t users;
} eng_leaf;

static uint64_t leaf_hash(X509 *x)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    uint64_t h = 0;
    int i;

    if (X509_digest(x, EVP_sha256(), md, &len) != 1 || len < 8)
        return 0;
    for (i = 0; i < 8; i++)
        h = (h << 8) | md[i];
    return h;
}

/* The table starts with one chain (a client engine usually sees one
 * certificate) and grows 4-fold while it holds more than 2 certificates
 * per chain, up to the peer table's size. */
static void grow_leaves(dtlsudp_engine *e)
{
    size_t n = e->leaves == NULL ? 1 : 4 * (e->leaves_mask + 1), i;
    eng_leaf **t, *l, *next;

    if (e->leaves != NULL && (e->n_leaves <= 2 * (e->leaves_mask + 1) || e->leaves_mask >= e->table_mask))
        return;
    if ((t = eng_mem_alloc(e, n * sizeof(*t))) == NULL)
        return; /* the old table still works, only longer chains */
    memset(t, 0, n * sizeof(*t));
    for (i = 0; e->leaves != NULL && i <= e->leaves_mask; i++)
        for (l = e->leaves[i]; l != NULL; l = next) {
            next = l->next;
            l->next = t[l->hash & (n - 1)];
            t[l->hash & (n - 1)] = l;
        }
    eng_mem_free(e, e->leaves);
    e->leaves = t;
    e->leaves_mask = n - 1;
}

/* Put the shared copy of the chain's leaf in its place.  Nothing changes
 * on failure: sharing only saves memory. */
static void share_leaf(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    X509 *leaf = sk_X509_value(a->auth_chain, 0);
    eng_leaf *l;
    uint64_t h;

    if (leaf == NULL)
        return;
    grow_leaves(e);
    if (e->leaves == NULL)
        return;
    h = leaf_hash(leaf);
    for (l = e->leaves[h & e->leaves_mask]; l != NULL; l = l->next)
        if (l->hash == h && X509_cmp(l->x509, leaf) == 0)
            break;
    if (l == NULL) {
        if ((l = eng_mem_alloc(e, sizeof(*l))) == NULL || !X509_up_ref(leaf)) {
            eng_mem_free(e, l);
            return;
        }
        l->x509 = leaf;
        l->hash = h;
        l->users = 0;
        l->next = e->leaves[h & e->leaves_mask];
        e->leaves[h & e->leaves_mask] = l;
        e->n_leaves++;
    } else if (l->x509 != leaf) {
        if (!X509_up_ref(l->x509))
            return;
        (void)sk_X509_set(a->auth_chain, 0, l->x509);
        X509_free(leaf);
    }
    l->users++;
    a->leaf = l;
}

static void unshare_leaf(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    eng_leaf *l = a->leaf, **pp;

    if (l == NULL)
        return;
    a->leaf = NULL;
    if (--l->users > 0)
        return;
    for (pp = &e->leaves[l->hash & e->leaves_mask]; *pp != NULL; pp = &(*pp)->next)
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    X509_free(l->x509);
    eng_mem_free(e, l);
    if (--e->n_leaves == 0) {
        /* Nothing shared any more: an engine without associations holds
         * nothing of this. */
        eng_mem_free(e, e->leaves);
        e->leaves = NULL;
        e->leaves_mask = 0;
    }
}

void eng_handoff_engine_free(dtlsudp_engine *e)
{
    size_t i;

    /* Every association is gone, and with it every shared leaf. */
    eng_mem_free(e, e->leaves);
    for (i = 0; i < sizeof(e->aead_cipher) / sizeof(e->aead_cipher[0]); i++)
        EVP_CIPHER_free(e->aead_cipher[i]);
    EVP_KDF_free(e->prf);
}

/* ------------------------------------------------------------------------
 * The hand-off
 * ------------------------------------------------------------------------ */

static int aead_of(const SSL_CIPHER *c)
{
    switch (c != NULL ? SSL_CIPHER_get_cipher_nid(c) : NID_undef) {
    case NID_aes_128_gcm:
        return DTLSUDP_AEAD_AES_128_GCM;
    case NID_aes_256_gcm:
        return DTLSUDP_AEAD_AES_256_GCM;
    case NID_chacha20_poly1305:
        return DTLSUDP_AEAD_CHACHA20_POLY1305;
    default:
        return DTLSUDP_AEAD_NONE;
    }
}

static EVP_CIPHER *fetch_cipher(dtlsudp_engine *e, int aead)
{
    static const char *const names[] = {NULL, "AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};

    if (e->aead_cipher[aead] == NULL)
        e->aead_cipher[aead] = EVP_CIPHER_fetch(NULL, names[aead], NULL);
    return e->aead_cipher[aead];
}

/* RFC 5246 6.3 key_block = PRF(master_secret, "key expansion",
 * server_random + client_random), the suite's PRF hash (RFC 5246 5; the
 * SHA-384 suites say so themselves). */
int eng_handoff_key_block(dtlsudp_engine *e, SSL *ssl, uint8_t *out, size_t len)
{
    uint8_t master[SSL_MAX_MASTER_KEY_LENGTH], crandom[SSL3_RANDOM_SIZE], srandom[SSL3_RANDOM_SIZE];
    static char label[] = "key expansion";
    const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
    const EVP_MD *md = c != NULL ? SSL_CIPHER_get_handshake_digest(c) : NULL;
    SSL_SESSION *session = SSL_get_session(ssl);
    OSSL_PARAM params[6], *p = params;
    EVP_KDF_CTX *kctx;
    size_t master_len;
    int ok;

    if (md == NULL || session == NULL)
        return DTLSUDP_ERR_TLS;
    if (e->prf == NULL && (e->prf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL)) == NULL)
        return DTLSUDP_ERR_TLS;
    master_len = SSL_SESSION_get_master_key(session, master, sizeof(master));
    if (master_len == 0 || SSL_get_client_random(ssl, crandom, sizeof(crandom)) != sizeof(crandom) ||
        SSL_get_server_random(ssl, srandom, sizeof(srandom)) != sizeof(srandom))
        return DTLSUDP_ERR_TLS;
    if ((kctx = EVP_KDF_CTX_new(e->prf)) == NULL)
        return DTLSUDP_ERR_NOMEM;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)EVP_MD_get0_name(md), 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, master, master_len);
    /* TLS1-PRF concatenates its seeds in order. */
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, label, sizeof(label) - 1);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, srandom, sizeof(srandom));
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, crandom, sizeof(crandom));
    *p = OSSL_PARAM_construct_end();
    ok = EVP_KDF_derive(kctx, out, len, params) == 1;
    EVP_KDF_CTX_free(kctx);
    OPENSSL_cleanse(master, sizeof(master));
    return ok ? DTLSUDP_OK : DTLSUDP_ERR_TLS;
}

/* ------------------------------------------------------------------------
 * The last flight's timed copies
 * ------------------------------------------------------------------------ */

static void timer_unlink(dtlsudp_assoc *a)
{
    dtlsudp_link_remove(&a->last_flight_timer);
}

static void timer_arm(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    a->last_flight_due = e->now + eng_rtx_last_flight_wait(a, a->last_flight_copies);
    if (!dtlsudp_link_linked(&a->last_flight_timer))
        dtlsudp_link_append(&e->last_flight_due, &a->last_flight_timer);
}

#define TIMER_OWNER(l) DTLSUDP_LINK_OWNER(l, dtlsudp_assoc, last_flight_timer)

void eng_handoff_capture_begin(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    e->flight_of = a;
    e->flight_len = 0;
    e->flight_overflow = 0;
}

void eng_handoff_capture(dtlsudp_engine *e, dtlsudp_assoc *a, const uint8_t *dgram, size_t len)
{
    const uint8_t *p = dgram;
    eng_record rec;

    if (e->flight_of != a)
        return;
    /* The flight ends where application data or an alert begins: what
     * the application writes once established (a client's held writes,
     * an answer from inside the ESTABLISHED event) is no part of it. */
    if (eng_record_parse(&p, dgram + len, &rec) != 0 ||
        (rec.content_type != DTLSUDP_CT_HANDSHAKE && rec.content_type != DTLSUDP_CT_CHANGE_CIPHER_SPEC)) {
        e->flight_of = NULL;
        return;
    }
    if (len > 0xffff || e->flight_len + 2 + len > sizeof(e->flight)) {
        e->flight_overflow = 1;
        return;
    }
    e->flight[e->flight_len] = (uint8_t)(len >> 8);
    e->flight[e->flight_len + 1] = (uint8_t)len;
    memcpy(e->flight + e->flight_len + 2, dgram, len);
    e->flight_len += 2 + len;
}

void eng_handoff_capture_end(dtlsudp_engine *e)
{
    e->flight_of = NULL;
}

static int keep_last_flight(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    /* The flight OpenSSL wrote in the step that completed the handshake:
     * ChangeCipherSpec and Finished.  A step that wrote none received the
     * last flight (a client after a full handshake, a server after an
     * abbreviated one): the peer has nothing of ours left to ask for.  A
     * flight too large to keep leaves the SSL in place, so RFC 6347 4.2.4
     * still holds. */
    if (e->flight_overflow)
        return DTLSUDP_ERR_STATE;
    if (e->flight_len == 0)
        return DTLSUDP_OK;
    if ((a->last_flight = eng_mem_alloc(e, e->flight_len)) == NULL)
        return DTLSUDP_ERR_NOMEM;
    memcpy(a->last_flight, e->flight, e->flight_len);
    a->last_flight_len = e->flight_len;
    a->last_flight_copies = 0;
    return DTLSUDP_OK;
}

int eng_handoff(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    uint8_t kb[2 * DTLSUDP_RL_KEY_MAX + 2 * DTLSUDP_RL_IV_MAX];
    const uint8_t *ckey, *skey, *civ, *siv;
    SSL *ssl = a->ssl;
    const SSL_CIPHER *c;
    eng_rl_keys keys;
    size_t klen, ivlen;
    EVP_CIPHER *cipher;
    int aead, ret;
    uint64_t seq;

    if (a->is_client && !e->cfg.handoff_clients)
        return DTLSUDP_ERR_STATE;
    if (e->cfg.keep_ssl || ssl == NULL || a->handed_off || a->state != DTLSUDP_STATE_ESTABLISHED ||
        a->close_requested != 0 || a->close_sent || a->auth_chain == NULL || SSL_get_shutdown(ssl) != 0 ||
        SSL_version(ssl) != DTLS1_2_VERSION || SSL_pending(ssl) > 0)
        return DTLSUDP_ERR_STATE;
    c = SSL_get_current_cipher(ssl);
    if ((aead = aead_of(c)) == DTLSUDP_AEAD_NONE || (cipher = fetch_cipher(e, aead)) == NULL)
        return DTLSUDP_ERR_STATE;
    if ((ret = keep_last_flight(e, a)) != DTLSUDP_OK)
        return ret;
    klen = eng_rl_key_len(aead);
    ivlen = eng_rl_iv_len(aead);
    /* RFC 5246 6.3: client MAC, server MAC (none for AEAD), client key,
     * server key, client IV, server IV. */
    if ((ret = eng_handoff_key_block(e, ssl, kb, 2 * klen + 2 * ivlen)) != DTLSUDP_OK)
        goto Fail;
    ckey = kb;
    skey = kb + klen;
    civ = kb + 2 * klen;
    siv = civ + ivlen;
    memset(&keys, 0, sizeof(keys));
    keys.aead = aead;
    keys.epoch = 1;
    keys.version = DTLS1_2_VERSION;
    keys.next_write_seq = a->hs_next_write_seq > 1 ? a->hs_next_write_seq : 1;
    keys.write_key = a->is_client ? ckey : skey;
    keys.write_iv = a->is_client ? civ : siv;
    keys.read_key = a->is_client ? skey : ckey;
    keys.read_iv = a->is_client ? siv : civ;
    ret = eng_rl_init(&a->rl, cipher, &keys);
    OPENSSL_cleanse(kb, sizeof(kb));
    if (ret != DTLSUDP_OK)
        goto Fail;
    for (seq = 1; seq < 64; seq++)
        if (a->hs_read_seen & ((uint64_t)1 << seq))
            eng_rl_window_mark(&a->rl.rd, seq);

    a->cipher = c; /* OpenSSL's static cipher table: outlives the SSL */
    a->version = SSL_get_version(ssl);
    a->data_mtu = DTLS_get_data_mtu(ssl);
    if (!a->is_client && SSL_get_client_random(ssl, a->client_random, sizeof(a->client_random)) == 0)
        memset(a->client_random, 0, sizeof(a->client_random));
    /* A client's session for resumption was taken at ESTABLISHED
     * (session.c) and outlives the SSL.  SSL_free() of a connection that
     * has not shut down marks its session not resumable (OpenSSL's
     * ssl_clear_bad_session): this one did not fail, it only changes
     * hands, so it is marked as shut down first (nothing is sent). */
    SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(ssl);
    a->ssl = NULL;
    a->handed_off = 1;
    share_leaf(e, a);
    if (a->last_flight != NULL)
        timer_arm(e, a);
    e->handoffs++;
    return DTLSUDP_OK;

Fail:
    OPENSSL_cleanse(kb, sizeof(kb));
    ERR_clear_error();
    eng_mem_free(e, a->last_flight);
    a->last_flight = NULL;
    a->last_flight_len = 0;
    return ret;
}

void eng_handoff_dispose(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    if (a->handed_off)
        eng_rl_dispose(&a->rl);
    unshare_leaf(e, a);
    timer_unlink(a);
    eng_mem_free(e, a->last_flight);
    a->last_flight = NULL;
}

/* ------------------------------------------------------------------------
 * Records of a handed-off association
 * ------------------------------------------------------------------------ */

static int send_record(dtlsudp_engine *e, dtlsudp_assoc *a, uint8_t type, const uint8_t *buf, size_t len,
                       int final)
{
    size_t n;
    int ret;

    /* The scratch buffer is free here: received plaintext is copied into
     * the association's queue before any event can call a write. */
    ret = eng_rl_seal(&a->rl, type, buf, len, final, e->scratch, DTLSUDP_SCRATCH_BYTES, &n);
    if (ret != DTLSUDP_OK) {
        ERR_clear_error();
        return ret;
    }
    if (eng_outq_push(&e->outq, e->scratch, n, &a->peer, &a->local, a) != DTLSUDP_OK) {
        e->stats.dropped_queue++;
        return DTLSUDP_ERR_QUEUE_FULL;
    }
    e->stats.datagrams_out++;
    e->stats.bytes_out += n;
    return DTLSUDP_OK;
}

int eng_handoff_write(dtlsudp_engine *e, dtlsudp_assoc *a, const uint8_t *buf, size_t len)
{
    return send_record(e, a, DTLSUDP_CT_APPLICATION_DATA, buf, len, 0);
}

int eng_handoff_send_alert(dtlsudp_engine *e, dtlsudp_assoc *a, int fatal, uint8_t description)
{
    uint8_t alert[2];

    alert[0] = fatal ? ALERT_FATAL : ALERT_WARNING;
    alert[1] = description;
    if (fatal) {
        a->fatal_sent = 1;
        eng_scache_forget(e, a);
    }
    /* A close_notify or fatal alert is the association's last record and
     * may take the last sequence number. */
    return send_record(e, a, DTLSUDP_CT_ALERT, alert, sizeof(alert), fatal || description == AD_CLOSE_NOTIFY);
}

static void resend_last_flight(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    size_t off = 0, n;

    /* The same bytes as before: same records, same sequence numbers, so
     * nothing is encrypted twice under one nonce. */
    while (off + 2 <= a->last_flight_len) {
        n = ((size_t)a->last_flight[off] << 8) | a->last_flight[off + 1];
        if (eng_outq_push(&e->outq, a->last_flight + off + 2, n, &a->peer, &a->local, a) != DTLSUDP_OK) {
            e->stats.dropped_queue++;
        } else {
            e->stats.datagrams_out++;
            e->stats.bytes_out += n;
        }
        off += 2 + n;
    }
    e->flights_resent++;
}

static void forget_last_flight(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    timer_unlink(a);
    eng_mem_free(e, a->last_flight);
    a->last_flight = NULL;
    a->last_flight_len = 0;
}

dtlsudp_time eng_handoff_next_timeout(const dtlsudp_engine *e)
{
    const dtlsudp_link *l;
    dtlsudp_time t = DTLSUDP_TIME_NEVER;

    /* Only associations established within the last second or two, whose
     * peer has sent nothing yet, are on the list. */
    for (l = e->last_flight_due.next; l != &e->last_flight_due; l = l->next)
        if (TIMER_OWNER(l)->last_flight_due < t)
            t = TIMER_OWNER(l)->last_flight_due;
    return t;
}

void eng_handoff_handle_timeout(dtlsudp_engine *e)
{
    dtlsudp_link *l, *next;

    for (l = e->last_flight_due.next; l != &e->last_flight_due; l = next) {
        dtlsudp_assoc *a = TIMER_OWNER(l);
        next = l->next;
        if (a->last_flight_due > e->now)
            continue;
        /* RFC 8085 3.1.3: the copies count against the handshake's
         * retransmission budget. */
        if (a->rtx_bytes + a->last_flight_len > e->cfg.retransmit_max_bytes) {
            timer_unlink(a);
            continue;
        }
        a->rtx_bytes += a->last_flight_len;
        resend_last_flight(e, a);
        if (++a->last_flight_copies >= DTLSUDP_LAST_FLIGHT_COPIES)
            timer_unlink(a); /* kept for a repeated Finished until the peer's first record */
        else
            timer_arm(e, a);
    }
}

/* One authenticated handshake record after the hand-off. */
static int on_handshake(dtlsudp_engine *e, dtlsudp_assoc *a, const uint8_t *msg, size_t len)
{
    if (len < DTLSUDP_HANDSHAKE_HEADER_LEN)
        return DTLSUDP_ERR_DROPPED;
    if (msg[0] == HS_FINISHED) {
        /* RFC 6347 4.2.4: the peer sent its flight again, so it has not
         * seen our last one.  Once it has (its application data says so),
         * or when the peer's Finished ended the handshake (we keep no
         * flight), a repeated Finished is stale. */
        if (a->last_flight == NULL)
            return DTLSUDP_ERR_DROPPED;
        resend_last_flight(e, a);
        return DTLSUDP_OK;
    }
    if (!a->is_client && msg[0] == DTLSUDP_HS_CLIENT_HELLO) {
        /* A renegotiation: refused with a warning, as RFC 5746 4.4 allows;
         * the peer decides whether to go on without it. */
        (void)eng_handoff_send_alert(e, a, 0, AD_NO_RENEGOTIATION);
        return DTLSUDP_OK;
    }
    /* A client ignores a HelloRequest (RFC 5246 7.4.1.1 allows it). */
    return DTLSUDP_ERR_DROPPED;
}

int eng_handoff_receive(dtlsudp_engine *e, dtlsudp_assoc *a, const uint8_t *dgram, size_t len, int *got)
{
    const uint8_t *p = dgram, *end = dgram + len;
    uint8_t *pt = e->scratch;
    eng_record rec;
    size_t n;
    int authenticated = 0, ret;

    while (p != end && !a->freeing && a->close_requested == 0) {
        if (eng_record_parse(&p, end, &rec) != 0)
            break; /* checked by the caller (eng_record_scan) */
        /* RFC 6347 4.1.2.7: invalid records -- an old epoch (the client's
         * first flight again), a bad tag, a replay -- are silently
         * discarded, and the rest of the datagram is still processed. */
        if (eng_rl_open(&a->rl, &rec, pt, DTLSUDP_SCRATCH_BYTES, &n) != DTLSUDP_OK) {
            ERR_clear_error();
            e->stats.dropped_stale++;
            continue;
        }
        authenticated = 1;
        switch (rec.content_type) {
        case DTLSUDP_CT_APPLICATION_DATA:
            if (a->last_flight != NULL) /* the peer has our Finished (4.2.4) */
                forget_last_flight(e, a);
            (*got)++;
            eng_assoc_touch(e, a);
            if (eng_pqueue_push(e, &a->rx, pt, n) != DTLSUDP_OK) {
                e->stats.dropped_queue++;
                continue;
            }
            eng_assoc_fire(e, a, DTLSUDP_EVENT_DATA, DTLSUDP_OK);
            break;
        case DTLSUDP_CT_ALERT:
            if (n != 2) {
                /* RFC 5246 7.2.2: a malformed alert is a decode_error. */
                (void)eng_handoff_send_alert(e, a, 1, AD_DECODE_ERROR);
                a->close_sent = 1;
                return DTLSUDP_ERR_HANDSHAKE;
            }
            /* The level first: a fatal close_notify is fatal (as OpenSSL
             * treats it), and forgets the session. */
            if (pt[0] == ALERT_FATAL) {
                a->alert_received = 1;
                a->peer_alert = pt[1];
                eng_scache_forget(e, a);
                return DTLSUDP_ERR_PEER_ALERT;
            }
            if (pt[1] == AD_CLOSE_NOTIFY) {
                e->stats.closes_received++;
                return DTLSUDP_ERR_CLOSED;
            }
            break; /* warnings change nothing */
        case DTLSUDP_CT_HANDSHAKE:
            if ((ret = on_handshake(e, a, pt, n)) == DTLSUDP_ERR_DROPPED)
                e->stats.dropped_stale++;
            break;
        default:
            /* An authenticated ChangeCipherSpec: there is no next epoch
             * without renegotiation.  RFC 5246 7.2.2 unexpected_message. */
            (void)eng_handoff_send_alert(e, a, 1, AD_UNEXPECTED_MESSAGE);
            a->close_sent = 1;
            return DTLSUDP_ERR_HANDSHAKE;
        }
    }
    return authenticated ? DTLSUDP_OK : DTLSUDP_ERR_DROPPED;
}
