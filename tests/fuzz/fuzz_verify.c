/*
 * fuzz_verify.c - the peer-certificate policy (transport/engine/verify.c)
 * against an independent reference model.
 *
 * Each input picks, from a fixed set of certificates made once per process
 * (tests/engine/testcerts.c plus three made here), what each side presents
 * and how each side verifies; then a real DTLS handshake runs between a
 * client and a server engine joined in memory, and the outcome is compared
 * with a model computed from the KNOWN structure of the set (who issued
 * whom, validity dates, extendedKeyUsage, keyUsage, names) and the chosen
 * trust anchors, CRLs and pins.  The model never calls X509_verify_cert().
 * Any disagreement prints the case and aborts.
 *
 * Input (a missing byte reads as 0; indices are taken modulo the range):
 *   flags      bit 0  server: verify hook instead of the default policy
 *              bit 1  server hook answer (1 accept, 0 refuse)
 *              bit 2  client: verify hook instead of the default policy
 *              bit 3  client hook answer
 *              bits 4-5  client host name: none, "server.example.com",
 *                        "127.0.0.1", "other.example.com"
 *   cleaf      client's leaf: certificate index (enum C_* below:
 *              0 client, 1 server, ... 20 future_client), presented with
 *              its own key
 *   n, n x idx certificates the client appends, in order (n mod 7)
 *   sleaf      server's leaf: index (sleaf + 1) mod N, so 0 is `server'
 *   n, n x idx certificates the server appends (n mod 7)
 *   revoked    3 bytes, bit i (little endian) of the 24: certificate i is
 *              listed in its issuer's CRL (when that CRL is loaded)
 *   server verifier:
 *     anchors  mod 4: {ca}, {ca, other_ca}, {other_ca}, {}
 *     crls     bit j: the CRL of issuers[j] is loaded (ca, other_ca,
 *              inter0..4, old_inter); any CRL turns on CRL_CHECK|CRL_CHECK_ALL
 *              as crl_file does (transport/engine/config.c)
 *     n, n x (idx, hash)  engine-wide pins (n mod 5): the fingerprint of
 *              certificate idx (idx mod N+1; N: a fingerprint of nothing)
 *              with hash length 20/32/48/64 (hash mod 4)
 *   client verifier: anchors, crls, engine-wide pins as above, then
 *     n, n x (idx, hash)  per-connect pins (dtlsudp_connect_opts)
 *
 * The model (one verifier V with anchors A, loaded CRLs L, revoked set R,
 * depth limit 4; the peer presents leaf l and appended list S):
 *   path   l, then issuer by issuer: a root issuer in A ends the path
 *          ANCHORED; an issuer that is not a root must be in S to continue;
 *          a root not in A continues only when in S and ends the path
 *          (self-signed); anything else ends it unanchored.
 *   CHAIN  ANCHORED, at most 4 CA certificates between l and the anchor,
 *          every certificate of the path inside its validity period, l's
 *          purpose fits the role (keyUsage digitalSignature, EKU absent or
 *          naming the role), with CRLs loaded: every certificate of the path
 *          (anchor included) has its issuer's CRL loaded and is not listed,
 *          and each certificate of S certifies the one before it (the
 *          shape RFC 5246 7.4.2 requires; the peer's copies of CAs need not
 *          be the trusted ones).
 *   LEAF   not ANCHORED, each certificate of S certifies the one before it
 *          (S[0] issued l; a self-signed root certifies itself), l inside its
 *          validity period, purpose fits, l not listed by a loaded CRL of its
 *          issuer, and the unanchored chain OpenSSL builds (l plus path
 *          certificates from S) has at most depth+1 = 5 certificates
 *          (longer: OpenSSL stops at the depth limit with
 *          CERT_CHAIN_TOO_LONG, which verify.c rightly counts as NONE, so
 *          deep5 sent with its five intermediates and no anchor is refused
 *          even when pinned).
 *   NONE   otherwise.
 *   pin    trust != NONE and a pin (any hash) names l, or (CHAIN, the
 *          server verifying a client) a certificate of the path.  A fingerprint of nothing matches
 *          nothing but still makes the client one "with pins".
 *   accept server: CHAIN or pin.  client: host name ok, and with pins a
 *          pin, otherwise CHAIN.  With a hook: its answer, never NONE.
 * The hook sees trust, pin_matched, host_ok and chain (CHAIN: exactly the
 * path; otherwise the leaf alone) equal to the model's; an established
 * association reports the same through dtlsudp_assoc_peer_trust/_chain.
 * The engines' allocators must hold nothing of a run after it ends.
 *
 * Found by this target (fixed in verify.c; corpus/verify/
 * found-none-hook-chain-is-leaf): a peer whose chain verified to an anchor
 * but who also sent a certificate outside that path was NONE, yet the
 * hook's auth->chain held the whole verified path instead of the leaf
 * alone that dtlsudp.h documents for every peer that is not CHAIN (no
 * acceptance followed: NONE is always refused).
 *
 * TLS itself: a server leaf without keyUsage digitalSignature (a CA
 * certificate) cannot sign ECDHE parameters, so the server has no cipher
 * suite and the handshake fails before any certificate is sent.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "engine_internal.h" /* e->cfg.verify, e->n_pins: reset between runs */
#include "fuzz_common.h"
#include "testcerts.h"

/* ------------------------------------------------------------------------
 * The certificate set and its known structure
 * ------------------------------------------------------------------------ */

enum {
    C_CLIENT,
    C_SERVER,
    C_CLIENT2,
    C_WRONG_CLIENT,
    C_WRONG_SERVER,
    C_EXPIRED_CLIENT,
    C_ROGUE,
    C_SERVER_EKU_CLIENT,
    C_CLIENT_EKU_SERVER,
    C_DEEP4,
    C_DEEP5,
    C_CA,
    C_OTHER_CA,
    C_INTER0,
    C_INTER1,
    C_INTER2,
    C_INTER3,
    C_INTER4,
    C_OLD_INTER,     /* CA by ca, expired (made here) */
    C_UNDER_OLD,     /* client by old_inter, valid (made here) */
    C_FUTURE_CLIENT, /* client by ca, not yet valid (made here) */
    N_CERTS
};

#define F_CA 1u          /* CA:TRUE, keyUsage keyCertSign (no digitalSignature) */
#define F_ROOT 2u        /* self-signed CA */
#define F_BAD_DATES 4u   /* expired or not yet valid */
#define F_EKU_CLIENT 8u  /* extendedKeyUsage clientAuth only */
#define F_EKU_SERVER 16u /* extendedKeyUsage serverAuth only */
#define F_DNS 32u        /* dNSName server.example.com */
#define F_IP 64u         /* iPAddress 127.0.0.1 */

static const struct cert_info {
    const char *name;
    int issuer; /* index; -1: self-issued (a root, or rogue) */
    unsigned flags;
} info[N_CERTS] = {
    [C_CLIENT] = {"client", C_CA, 0},
    [C_SERVER] = {"server", C_CA, F_DNS | F_IP},
    [C_CLIENT2] = {"client2", C_CA, 0},
    [C_WRONG_CLIENT] = {"wrong_client", C_OTHER_CA, 0},
    [C_WRONG_SERVER] = {"wrong_server", C_OTHER_CA, F_DNS},
    [C_EXPIRED_CLIENT] = {"expired_client", C_CA, F_BAD_DATES},
    [C_ROGUE] = {"rogue", -1, F_DNS},
    [C_SERVER_EKU_CLIENT] = {"server_eku_client", C_CA, F_EKU_CLIENT | F_DNS | F_IP},
    [C_CLIENT_EKU_SERVER] = {"client_eku_server", C_CA, F_EKU_SERVER},
    [C_DEEP4] = {"deep4", C_INTER3, 0},
    [C_DEEP5] = {"deep5", C_INTER4, 0},
    [C_CA] = {"ca", -1, F_CA | F_ROOT},
    [C_OTHER_CA] = {"other_ca", -1, F_CA | F_ROOT},
    [C_INTER0] = {"inter0", C_CA, F_CA},
    [C_INTER1] = {"inter1", C_INTER0, F_CA},
    [C_INTER2] = {"inter2", C_INTER1, F_CA},
    [C_INTER3] = {"inter3", C_INTER2, F_CA},
    [C_INTER4] = {"inter4", C_INTER3, F_CA},
    [C_OLD_INTER] = {"old_inter", C_CA, F_CA | F_BAD_DATES},
    [C_UNDER_OLD] = {"under_old", C_OLD_INTER, 0},
    [C_FUTURE_CLIENT] = {"future_client", C_CA, F_BAD_DATES},
};

/* The certificates that issue CRLs, in the order of the crls bit mask. */
static const int issuers[] = {C_CA, C_OTHER_CA, C_INTER0, C_INTER1, C_INTER2, C_INTER3, C_INTER4, C_OLD_INTER};
#define N_ISSUERS ((int)(sizeof(issuers) / sizeof(issuers[0])))

static const char *const hostnames[4] = {NULL, "server.example.com", "127.0.0.1", "other.example.com"};
static const size_t hash_lens[4] = {20, 32, 48, 64};

#define MAX_SENT 6
#define MAX_PINS 4
#define MAX_DEPTH 4 /* dtlsudp_engine_config.max_chain_depth default */

static tc_pair certs[N_CERTS];
/* The last CRL made per issuer (crl_for) and the certificates it lists. */
static X509_CRL *crl_cache[N_ISSUERS];
static uint32_t crl_cache_mask[N_ISSUERS];

#define DAY (24L * 3600L)

static void die(const char *what)
{
    fprintf(stderr, "fuzz_verify: %s failed\n", what);
    ERR_print_errors_fp(stderr);
    abort();
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL || !X509_add_ext(x, ext, -1))
        die("X509_add_ext");
    X509_EXTENSION_free(ext);
}

/* Like testcerts.c's: P-256, issued by `issuer', serial numbers from 1000
 * (testcerts counts from 1), so every certificate of the set has its own. */
static tc_pair make_cert(const char *cn, const tc_pair *issuer, int is_ca, long nb, long na)
{
    static long serial = 1000;
    tc_pair p;
    X509 *x = X509_new();
    EVP_PKEY *key = EVP_EC_gen("P-256");

    if (x == NULL || key == NULL || !X509_set_version(x, 2) ||
        !ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) || X509_gmtime_adj(X509_getm_notBefore(x), nb) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), na) == NULL || !X509_set_pubkey(x, key) ||
        !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)cn, -1,
                                    -1, 0) ||
        !X509_set_issuer_name(x, X509_get_subject_name(issuer->cert)))
        die("X509 fields");
    add_ext(x, issuer->cert, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_ext(x, issuer->cert, NID_key_usage,
            is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyEncipherment");
    add_ext(x, NULL, NID_subject_key_identifier, "hash");
    add_ext(x, issuer->cert, NID_authority_key_identifier, "keyid:always");
    if (!X509_sign(x, issuer->key, EVP_sha256()))
        die("X509_sign");
    p.cert = x;
    p.key = key;
    return p;
}

static void free_made(void)
{
    int i;

    for (i = C_OLD_INTER; i <= C_FUTURE_CLIENT; i++) {
        X509_free(certs[i].cert);
        EVP_PKEY_free(certs[i].key);
    }
    for (i = 0; i < N_ISSUERS; i++)
        X509_CRL_free(crl_cache[i]);
    tc_free();
}

static void certs_init(void)
{
    const testcerts *tc;
    int i;

    if (certs[C_CA].cert != NULL)
        return;
    tc = tc_attack();
    certs[C_CLIENT] = tc->client;
    certs[C_SERVER] = tc->server;
    certs[C_CLIENT2] = tc->client2;
    certs[C_WRONG_CLIENT] = tc->wrong_client;
    certs[C_WRONG_SERVER] = tc->wrong_server;
    certs[C_EXPIRED_CLIENT] = tc->expired_client;
    certs[C_ROGUE] = tc->rogue;
    certs[C_SERVER_EKU_CLIENT] = tc->server_eku_client;
    certs[C_CLIENT_EKU_SERVER] = tc->client_eku_server;
    certs[C_DEEP4] = tc->deep4;
    certs[C_DEEP5] = tc->deep5;
    certs[C_CA] = tc->ca;
    certs[C_OTHER_CA] = tc->other_ca;
    for (i = 0; i < 5; i++)
        certs[C_INTER0 + i] = tc->inter[i];
    certs[C_OLD_INTER] = make_cert("old intermediate", &tc->ca, 1, -30 * DAY, -DAY);
    certs[C_UNDER_OLD] = make_cert("under old", &certs[C_OLD_INTER], 0, -DAY, 30 * DAY);
    certs[C_FUTURE_CLIENT] = make_cert("future", &tc->ca, 0, DAY, 30 * DAY);
    atexit(free_made);
}

/* ------------------------------------------------------------------------
 * One case
 * ------------------------------------------------------------------------ */

typedef struct pin_choice {
    int cert; /* N_CERTS: a fingerprint of no certificate */
    size_t len;
} pin_choice;

typedef struct verifier {
    int anchors; /* bit 0 ca, bit 1 other_ca */
    unsigned crls; /* bit j: CRL of issuers[j] loaded */
    pin_choice pins[MAX_PINS];
    int n_pins;
    pin_choice connect_pins[MAX_PINS]; /* client only */
    int n_connect_pins;
    int hook, hook_answer;
} verifier;

typedef struct presenter {
    int leaf;
    int sent[MAX_SENT];
    int n_sent;
} presenter;

typedef struct fz_case {
    presenter client, server;
    verifier sv, cv; /* the server verifying the client; the client verifying the server */
    uint32_t revoked;
    int host;
} fz_case;

static const int anchor_sets[4] = {1, 3, 2, 0};

static void read_presenter(fz_in *in, presenter *p, int offset)
{
    int i;

    memset(p, 0, sizeof(*p)); /* unused slots compare equal (server_identity) */
    p->leaf = (fz_u8(in) + offset) % N_CERTS;
    p->n_sent = fz_u8(in) % (MAX_SENT + 1);
    for (i = 0; i < p->n_sent; i++)
        p->sent[i] = fz_u8(in) % N_CERTS;
}

static int read_pins(fz_in *in, pin_choice *pins)
{
    int i, n = fz_u8(in) % (MAX_PINS + 1);

    for (i = 0; i < n; i++) {
        pins[i].cert = fz_u8(in) % (N_CERTS + 1);
        pins[i].len = hash_lens[fz_u8(in) % 4];
    }
    return n;
}

static void read_verifier(fz_in *in, verifier *v, int is_client)
{
    v->anchors = anchor_sets[fz_u8(in) % 4];
    v->crls = fz_u8(in);
    v->n_pins = read_pins(in, v->pins);
    if (is_client)
        v->n_connect_pins = read_pins(in, v->connect_pins);
}

static void read_case(const uint8_t *data, size_t size, fz_case *c)
{
    fz_in in = {data, data + size};
    uint8_t flags;

    memset(c, 0, sizeof(*c));
    flags = fz_u8(&in);
    c->sv.hook = flags & 1;
    c->sv.hook_answer = (flags >> 1) & 1;
    c->cv.hook = (flags >> 2) & 1;
    c->cv.hook_answer = (flags >> 3) & 1;
    c->host = (flags >> 4) & 3;
    read_presenter(&in, &c->client, 0);
    read_presenter(&in, &c->server, C_SERVER);
    c->revoked = fz_u8(&in);
    c->revoked |= (uint32_t)fz_u8(&in) << 8;
    c->revoked |= (uint32_t)fz_u8(&in) << 16;
    read_verifier(&in, &c->sv, 0);
    read_verifier(&in, &c->cv, 1);
}

/* ------------------------------------------------------------------------
 * The reference model
 * ------------------------------------------------------------------------ */

static const char *const trust_names[3] = {"NONE", "LEAF", "CHAIN"};

typedef struct verdict {
    int trust;
    int path[MAX_SENT + 2];
    int n_path;     /* CHAIN: the whole path, leaf first; else 1 (the leaf) */
    int pin_matched;
    int host_ok;
    int accept;
    const char *why; /* the model's reason, for the report */
} verdict;

static int is_root(int c)
{
    return (info[c].flags & F_ROOT) != 0;
}

static int trusted(const verifier *v, int c)
{
    return (c == C_CA && (v->anchors & 1)) || (c == C_OTHER_CA && (v->anchors & 2));
}

static int in_list(const int *list, int n, int c)
{
    int i;

    for (i = 0; i < n; i++)
        if (list[i] == c)
            return 1;
    return 0;
}

/* The issuer whose CRL speaks for c (a root speaks for itself); -1: none. */
static int crl_issuer(int c)
{
    return is_root(c) ? c : info[c].issuer;
}

static int crl_loaded(const verifier *v, int issuer)
{
    int j;

    for (j = 0; j < N_ISSUERS; j++)
        if (issuers[j] == issuer)
            return (v->crls >> j) & 1;
    return 0;
}

static int listed(const fz_case *c, const verifier *v, int cert)
{
    int iss = crl_issuer(cert);
    return iss >= 0 && crl_loaded(v, iss) && ((c->revoked >> cert) & 1);
}

/* x certifies y: x issued y (x is a CA), or x is a self-signed root and y is x. */
static int certifies(int x, int y)
{
    return (info[y].issuer == x && (info[x].flags & F_CA)) || (x == y && is_root(x));
}

/* keyUsage allows a TLS peer (digitalSignature) and the EKU fits the role. */
static int purpose_ok(int leaf, int verifier_is_client)
{
    if (info[leaf].flags & F_CA)
        return 0;
    return !(info[leaf].flags & (verifier_is_client ? F_EKU_CLIENT : F_EKU_SERVER));
}

static int pinned(const verifier *v, int cert)
{
    int i;

    for (i = 0; i < v->n_pins; i++)
        if (v->pins[i].cert == cert)
            return 1;
    for (i = 0; i < v->n_connect_pins; i++)
        if (v->connect_pins[i].cert == cert)
            return 1;
    return 0;
}

static int host_ok(int leaf, int host)
{
    switch (host) {
    case 1:
        return (info[leaf].flags & F_DNS) != 0;
    case 2:
        return (info[leaf].flags & F_IP) != 0;
    case 3:
        return 0;
    default:
        return 1;
    }
}

static void model(const fz_case *c, const verifier *v, const presenter *p, int verifier_is_client, verdict *out)
{
    int path[MAX_SENT + 2], n = 1, anchored = 0, cur = p->leaf, i, prev;

    memset(out, 0, sizeof(*out));
    path[0] = p->leaf;
    if (is_root(cur) && trusted(v, cur)) {
        anchored = 1;
    } else {
        while (!is_root(cur) && info[cur].issuer >= 0 && n < (int)(sizeof(path) / sizeof(path[0]))) {
            int iss = info[cur].issuer;
            if (is_root(iss) && trusted(v, iss)) {
                path[n++] = iss;
                anchored = 1;
                break;
            }
            if (!in_list(p->sent, p->n_sent, iss))
                break;
            path[n++] = iss;
            cur = iss;
        }
    }

    out->trust = DTLSUDP_TRUST_NONE;
    out->n_path = 1;
    out->path[0] = p->leaf;
    if (anchored) {
        if (n - 2 > MAX_DEPTH) {
            out->why = "anchored, too many intermediates";
            goto Decide;
        }
        for (i = 0; i < n; i++)
            if (info[path[i]].flags & F_BAD_DATES) {
                out->why = "anchored, a certificate of the path is outside its validity period";
                goto Decide;
            }
        if (!purpose_ok(p->leaf, verifier_is_client)) {
            out->why = "anchored, leaf purpose";
            goto Decide;
        }
        if (v->crls != 0)
            for (i = 0; i < n; i++) {
                if (!crl_loaded(v, crl_issuer(path[i]))) {
                    out->why = "anchored, CRL checking on and a CRL of the path is missing";
                    goto Decide;
                }
                if ((c->revoked >> path[i]) & 1) {
                    out->why = "anchored, a certificate of the path is revoked";
                    goto Decide;
                }
            }
        for (i = 0, prev = p->leaf; i < p->n_sent; prev = p->sent[i], i++)
            if (!certifies(p->sent[i], prev)) {
                out->why = "anchored, the certificates sent do not form a path";
                goto Decide;
            }
        out->trust = DTLSUDP_TRUST_CHAIN;
        out->why = "chain";
        memcpy(out->path, path, sizeof(path));
        out->n_path = n;
    } else {
        if (n > MAX_DEPTH + 1) {
            out->why = "unanchored, the chain built from what was sent is longer than depth + 1";
            goto Decide;
        }
        for (i = 0, prev = p->leaf; i < p->n_sent; prev = p->sent[i], i++)
            if (!certifies(p->sent[i], prev)) {
                out->why = "unanchored, the certificates sent do not form a path";
                goto Decide;
            }
        if (info[p->leaf].flags & F_BAD_DATES) {
            out->why = "unanchored, leaf outside its validity period";
            goto Decide;
        }
        if (!purpose_ok(p->leaf, verifier_is_client)) {
            out->why = "unanchored, leaf purpose";
            goto Decide;
        }
        if (listed(c, v, p->leaf)) {
            out->why = "unanchored, leaf revoked";
            goto Decide;
        }
        out->trust = DTLSUDP_TRUST_LEAF;
        out->why = "leaf";
    }

Decide:
    /* A pin names the leaf; on a server also a CA of the verified path
     * (a client's pins name the server's own certificate only). */
    out->pin_matched = 0;
    if (out->trust != DTLSUDP_TRUST_NONE)
        for (i = 0; i < (verifier_is_client ? 1 : out->n_path); i++)
            if (pinned(v, out->path[i]))
                out->pin_matched = 1;
    out->host_ok = verifier_is_client ? host_ok(p->leaf, c->host) : 1;
    if (v->hook)
        out->accept = v->hook_answer;
    else if (verifier_is_client && v->n_pins + v->n_connect_pins > 0)
        out->accept = out->host_ok && out->pin_matched;
    else
        out->accept = out->host_ok && (out->trust == DTLSUDP_TRUST_CHAIN || out->pin_matched);
    if (out->trust == DTLSUDP_TRUST_NONE)
        out->accept = 0;
}

/* ------------------------------------------------------------------------
 * Reporting
 * ------------------------------------------------------------------------ */

static const fz_case *cur_case;
static verdict cur_sv, cur_cv; /* the model for the server's and the client's check */

static void print_list(const char *what, const int *list, int n)
{
    int i;

    fprintf(stderr, "%s [", what);
    for (i = 0; i < n; i++)
        fprintf(stderr, "%s%s", i ? ", " : "", info[list[i]].name);
    fprintf(stderr, "]");
}

static void print_pins(const char *what, const pin_choice *pins, int n)
{
    int i;

    fprintf(stderr, " %s {", what);
    for (i = 0; i < n; i++)
        fprintf(stderr, "%s%s/%zu", i ? ", " : "", pins[i].cert < N_CERTS ? info[pins[i].cert].name : "nothing",
                pins[i].len);
    fprintf(stderr, "}");
}

static void print_verifier(const char *who, const verifier *v, const verdict *m)
{
    int j;

    fprintf(stderr, "  %s verifies: anchors {%s%s%s} CRLs {", who, v->anchors & 1 ? "ca" : "",
            v->anchors == 3 ? ", " : "", v->anchors & 2 ? "other_ca" : "");
    for (j = 0; j < N_ISSUERS; j++)
        if ((v->crls >> j) & 1)
            fprintf(stderr, "%s ", info[issuers[j]].name);
    fprintf(stderr, "}");
    print_pins("engine pins", v->pins, v->n_pins);
    if (v->n_connect_pins)
        print_pins("connect pins", v->connect_pins, v->n_connect_pins);
    fprintf(stderr, " policy %s\n", v->hook ? (v->hook_answer ? "hook(accept)" : "hook(refuse)") : "default");
    fprintf(stderr, "    model: trust %s (%s) pin %d host %d accept %d ", trust_names[m->trust], m->why,
            m->pin_matched, m->host_ok, m->accept);
    print_list("chain", m->path, m->n_path);
    fprintf(stderr, "\n");
}

static void print_case(void)
{
    const fz_case *c = cur_case;
    int i;

    fprintf(stderr, "case:\n  client presents %s + ", info[c->client.leaf].name);
    print_list("", c->client.sent, c->client.n_sent);
    fprintf(stderr, "\n  server presents %s + ", info[c->server.leaf].name);
    print_list("", c->server.sent, c->server.n_sent);
    fprintf(stderr, "\n  revoked (when the issuer's CRL is loaded): {");
    for (i = 0; i < N_CERTS; i++)
        if ((c->revoked >> i) & 1)
            fprintf(stderr, "%s ", info[i].name);
    fprintf(stderr, "} client host name %s\n", hostnames[c->host] != NULL ? hostnames[c->host] : "(none)");
    print_verifier("server", &c->sv, &cur_sv);
    print_verifier("client", &c->cv, &cur_cv);
}

static void disagree(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void disagree(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "\nfuzz_verify: ENGINE AND MODEL DISAGREE: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    print_case();
    abort();
}

/* ------------------------------------------------------------------------
 * Two engines in memory
 * ------------------------------------------------------------------------ */

typedef struct side {
    const char *name;
    dtlsudp_engine *e;
    fz_alloc alloc;
    dtlsudp_addr self;
    const verdict *m;
    int hook_answer;
    int hook_calls;
    int established, closed, reason;
    long long live_at_start;
} side;

static int idx_of(X509 *x)
{
    int i;

    for (i = 0; i < N_CERTS; i++)
        if (X509_cmp(x, certs[i].cert) == 0)
            return i;
    return -1;
}

static void print_chain(STACK_OF(X509) *chain)
{
    int i, k;

    fprintf(stderr, "engine chain:");
    for (i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
        k = idx_of(sk_X509_value(chain, i));
        fprintf(stderr, " %s", k >= 0 ? info[k].name : "(unknown)");
    }
    fprintf(stderr, "\n");
}

/* The engine's view (trust, leaf, chain) against the model's. */
static void compare_view(side *s, const char *where, int trust, X509 *leaf, STACK_OF(X509) *chain)
{
    int i, k, n = chain != NULL ? sk_X509_num(chain) : -1, bad = 0;

    if (leaf == NULL || idx_of(leaf) != s->m->path[0]) {
        k = leaf != NULL ? idx_of(leaf) : -1;
        print_chain(chain);
        disagree("%s %s: leaf %s, but the peer presents %s", s->name, where, k >= 0 ? info[k].name : "(unknown)",
                 info[s->m->path[0]].name);
    }
    if (trust != s->m->trust) {
        print_chain(chain);
        disagree("%s %s: trust %s, model %s", s->name, where, trust >= 0 && trust <= 2 ? trust_names[trust] : "?",
                 trust_names[s->m->trust]);
    }
    if (n != s->m->n_path)
        bad = 1;
    for (i = 0; !bad && i < n; i++)
        bad = idx_of(sk_X509_value(chain, i)) != s->m->path[i];
    if (bad) {
        print_chain(chain);
        disagree("%s %s: chain differs from the model's", s->name, where);
    }
}

static int hook(void *user, dtlsudp_assoc *a, const dtlsudp_peer_auth *auth)
{
    side *s = user;

    (void)a;
    s->hook_calls++;
    compare_view(s, "hook", auth->trust, auth->leaf, auth->chain);
    if (auth->pin_matched != s->m->pin_matched)
        disagree("%s hook: pin_matched %d, model %d", s->name, auth->pin_matched, s->m->pin_matched);
    if (auth->host_ok != s->m->host_ok)
        disagree("%s hook: host_ok %d, model %d", s->name, auth->host_ok, s->m->host_ok);
    return s->hook_answer;
}

static void on_event(void *user, dtlsudp_assoc *a, int event, int reason)
{
    side *s = user;

    switch (event) {
    case DTLSUDP_EVENT_ESTABLISHED:
        s->established++;
        compare_view(s, "established association", dtlsudp_assoc_peer_trust(a), dtlsudp_assoc_peer_cert(a),
                     dtlsudp_assoc_peer_chain(a));
        break;
    case DTLSUDP_EVENT_CLOSED:
        s->closed++;
        if (s->reason == 0)
            s->reason = reason;
        break;
    default:
        break;
    }
}

/* One CRL of `issuer' listing every certificate it issued whose bit is set
 * in `revoked'.  Cached per issuer (the last one made). */
static X509_CRL *crl_for(int j, uint32_t revoked)
{
    int iss = issuers[j], i;
    uint32_t mask = 0;
    X509_CRL *crl;
    ASN1_TIME *last, *next;

    for (i = 0; i < N_CERTS; i++)
        if (crl_issuer(i) == iss && ((revoked >> i) & 1))
            mask |= 1u << i;
    if (crl_cache[j] != NULL && crl_cache_mask[j] == mask)
        return crl_cache[j];
    crl = X509_CRL_new();
    last = X509_gmtime_adj(NULL, -3600);
    next = X509_gmtime_adj(NULL, 30 * DAY);
    if (crl == NULL || last == NULL || next == NULL || !X509_CRL_set_version(crl, 1) ||
        !X509_CRL_set_issuer_name(crl, X509_get_subject_name(certs[iss].cert)) ||
        !X509_CRL_set1_lastUpdate(crl, last) || !X509_CRL_set1_nextUpdate(crl, next))
        die("CRL fields");
    for (i = 0; i < N_CERTS; i++)
        if ((mask >> i) & 1) {
            X509_REVOKED *r = X509_REVOKED_new();
            if (r == NULL || !X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(certs[i].cert)) ||
                !X509_REVOKED_set_revocationDate(r, last) || !X509_CRL_add0_revoked(crl, r))
                die("CRL entry");
        }
    if (!X509_CRL_sort(crl) || !X509_CRL_sign(crl, certs[iss].key, EVP_sha256()))
        die("X509_CRL_sign");
    ASN1_TIME_free(last);
    ASN1_TIME_free(next);
    X509_CRL_free(crl_cache[j]);
    crl_cache[j] = crl;
    crl_cache_mask[j] = mask;
    return crl;
}

static X509_STORE *make_store(const verifier *v, uint32_t revoked)
{
    X509_STORE *st = X509_STORE_new();
    int j;

    if (st == NULL)
        die("X509_STORE_new");
    if (((v->anchors & 1) && !X509_STORE_add_cert(st, certs[C_CA].cert)) ||
        ((v->anchors & 2) && !X509_STORE_add_cert(st, certs[C_OTHER_CA].cert)))
        die("X509_STORE_add_cert");
    for (j = 0; j < N_ISSUERS; j++)
        if (((v->crls >> j) & 1) && !X509_STORE_add_crl(st, crl_for(j, revoked)))
            die("X509_STORE_add_crl");
    if (v->crls != 0)
        X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    return st;
}

static void fingerprints(const pin_choice *pins, int n, dtlsudp_fingerprint *out)
{
    int i;

    for (i = 0; i < n; i++) {
        if (pins[i].cert < N_CERTS) {
            FZ_CHECK(dtlsudp_fingerprint_of(certs[pins[i].cert].cert, pins[i].len, &out[i]) == DTLSUDP_OK);
        } else {
            out[i].len = (uint8_t)pins[i].len;
            memset(out[i].bytes, 0xA5, sizeof(out[i].bytes));
        }
    }
}

/* One engine per side, kept from run to run (a fresh engine per run costs
 * more than the handshake: its tables and 256 KiB output queue).  Between
 * runs only what the case chooses is replaced: the client's identity on its
 * SSL_CTX (each connect makes a new SSL, which copies it), the trust store
 * (dtlsudp_engine_set_trust_store), and, through the engine's internals,
 * the engine-wide pins and the verify hook (no public call removes a pin
 * or changes the policy of a running engine).  A server engine keeps the
 * next listening SSL ready, made with the identity of its time
 * (engine.c: "Install certificates before the first receive"), so the
 * server engine is made anew whenever its identity changes. */
static side sides[2];
static presenter server_identity;

static void side_drop(side *s)
{
    dtlsudp_engine_free(s->e);
    s->e = NULL;
    if (s->alloc.live_count != 0)
        fz_fail(__FILE__, __LINE__, "engine allocations live after dtlsudp_engine_free");
}

static void sides_free(void)
{
    side_drop(&sides[0]);
    side_drop(&sides[1]);
}

static side *side_start(int k, const char *name, const char *addr, const presenter *p, const verifier *v,
                        const verdict *m, uint32_t revoked)
{
    static int registered;
    side *s = &sides[k];
    dtlsudp_fingerprint fp[MAX_PINS];
    X509_STORE *store;
    SSL_CTX *ctx;
    int i;

    if (k == 0 && s->e != NULL && memcmp(&server_identity, p, sizeof(*p)) != 0)
        side_drop(s);
    if (k == 0)
        server_identity = *p;
    if (s->e == NULL) {
        dtlsudp_engine_config cfg;

        memset(s, 0, sizeof(*s));
        s->self = fz_addr(addr);
        dtlsudp_engine_config_init(&cfg);
        cfg.allocator = fz_allocator(&s->alloc);
        cfg.max_assocs = 2;
        cfg.on_event = on_event;
        cfg.user = s;
        FZ_CHECK(dtlsudp_engine_new(&cfg, fz_clock, &s->e) == DTLSUDP_OK);
        /* Exactly the leaf and the chosen certificates go out: no chain
         * built from the own trust store. */
        SSL_CTX_set_mode(dtlsudp_engine_ssl_ctx(s->e), SSL_MODE_NO_AUTO_CHAIN);
        if (!registered) {
            registered = 1;
            atexit(sides_free);
        }
    }
    s->name = name;
    s->m = m;
    s->hook_answer = v->hook_answer;
    s->hook_calls = s->established = s->closed = s->reason = 0;
    s->e->cfg.verify = v->hook ? hook : NULL;
    s->e->n_pins = 0;

    store = make_store(v, revoked);
    FZ_CHECK(dtlsudp_engine_set_trust_store(s->e, store) == DTLSUDP_OK);
    X509_STORE_free(store); /* the engine holds its own reference */
    ctx = dtlsudp_engine_ssl_ctx(s->e);
    FZ_CHECK(SSL_CTX_use_certificate(ctx, certs[p->leaf].cert) == 1);
    FZ_CHECK(SSL_CTX_use_PrivateKey(ctx, certs[p->leaf].key) == 1);
    FZ_CHECK(SSL_CTX_clear_chain_certs(ctx) == 1);
    for (i = 0; i < p->n_sent; i++)
        FZ_CHECK(SSL_CTX_add1_chain_cert(ctx, certs[p->sent[i]].cert) == 1);
    fingerprints(v->pins, v->n_pins, fp);
    for (i = 0; i < v->n_pins; i++)
        FZ_CHECK(dtlsudp_engine_add_peer_fingerprint(s->e, &fp[i]) == DTLSUDP_OK);
    /* The engine's ring of ended handshakes (ended.c) is allocated once
     * for the engine's life: not a per-run allocation. */
    FZ_CHECK(eng_ended_reserve(s->e) == DTLSUDP_OK);
    s->live_at_start = s->alloc.live_count;
    ERR_clear_error();
    return s;
}

static int settled(const side *s)
{
    return s->established + s->closed > 0;
}

/* Move datagrams between the two until both have settled (or nothing moves
 * and no timer is due). */
static void run(side *a, side *b, int max_rounds)
{
    side *pair[2] = {a, b};
    uint8_t buf[4096];
    size_t len;
    dtlsudp_addr peer, local;
    dtlsudp_assoc *as;
    int round, k, moved;

    for (round = 0; round < max_rounds; round++) {
        moved = 0;
        for (k = 0; k < 2; k++) {
            side *from = pair[k], *to = pair[1 - k];
            while (dtlsudp_engine_pop(from->e, buf, sizeof(buf), &len, &peer, &local, &as) == DTLSUDP_OK) {
                moved++;
                if (dtlsudp_addr_equal(&peer, &to->self))
                    (void)dtlsudp_engine_receive(to->e, &from->self, &to->self, buf, len, fz_clock, NULL);
            }
        }
        if (moved == 0) {
            dtlsudp_time t = dtlsudp_engine_next_timeout(a->e), t2 = dtlsudp_engine_next_timeout(b->e);
            if (settled(a) && settled(b))
                return;
            if (t2 < t)
                t = t2;
            if (t == DTLSUDP_TIME_NEVER)
                return;
            if (t > fz_clock)
                fz_clock = t;
            (void)dtlsudp_engine_handle_timeout(a->e, fz_clock);
            (void)dtlsudp_engine_handle_timeout(b->e, fz_clock);
        }
    }
}

/* Nothing of the run may be left: no association, no allocation. */
static void side_finish(side *s)
{
    dtlsudp_stats st;

    dtlsudp_engine_get_stats(s->e, &st);
    FZ_CHECK(st.assocs_now == 0);
    FZ_CHECK(s->alloc.live_count == s->live_at_start);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_case c;
    side *server, *client;
    dtlsudp_connect_opts opts;
    dtlsudp_fingerprint cpins[MAX_PINS];
    dtlsudp_assoc *ca = NULL;
    int tls_ok, want_client_hook, want_server_hook, want_up;

    certs_init();
    read_case(data, size, &c);
    cur_case = &c;
    model(&c, &c.sv, &c.client, 0, &cur_sv);
    model(&c, &c.cv, &c.server, 1, &cur_cv);

    server = side_start(0, "server", "127.0.0.1:10161", &c.server, &c.sv, &cur_sv, c.revoked);
    client = side_start(1, "client", "127.0.0.1:20000", &c.client, &c.cv, &cur_cv, c.revoked);
    memset(&opts, 0, sizeof(opts));
    fingerprints(c.cv.connect_pins, c.cv.n_connect_pins, cpins);
    opts.peer_fingerprints = c.cv.n_connect_pins ? cpins : NULL;
    opts.n_peer_fingerprints = (size_t)c.cv.n_connect_pins;
    opts.hostname = hostnames[c.host];
    FZ_CHECK(dtlsudp_engine_connect(client->e, &server->self, &opts, fz_clock, &ca) == DTLSUDP_OK);
    run(client, server, 200);

    /* What should have happened.  The client checks the server first; the
     * server sees the client's certificate only when the client went on. */
    tls_ok = !(info[c.server.leaf].flags & F_CA);
    want_client_hook = tls_ok && c.cv.hook;
    want_server_hook = tls_ok && cur_cv.accept && c.sv.hook;
    want_up = tls_ok && cur_cv.accept && cur_sv.accept;

    if (!settled(client) || !settled(server))
        disagree("the handshake did not finish (client %d/%d, server %d/%d established/closed)", client->established,
                 client->closed, server->established, server->closed);
    if (client->hook_calls != want_client_hook)
        disagree("client hook called %d times, model %d", client->hook_calls, want_client_hook);
    if (server->hook_calls != want_server_hook)
        disagree("server hook called %d times, model %d", server->hook_calls, want_server_hook);
    if (client->established != want_up || server->established != want_up)
        disagree("established: client %d server %d, model %d", client->established, server->established, want_up);
    if (!want_up && tls_ok) {
        /* the refusing side names the certificate */
        side *refuser = !cur_cv.accept ? client : server;
        if (refuser->reason != DTLSUDP_ERR_PEER_CERT)
            disagree("%s closed with reason %d, want PEER_CERT", refuser->name, refuser->reason);
    }

    if (getenv("FUZZ_VERBOSE") != NULL)
        fprintf(stderr, "  server sees %s: %s (%s)%s; client sees %s: %s (%s)%s; %s\n", info[c.client.leaf].name,
                trust_names[cur_sv.trust], cur_sv.why, cur_sv.accept ? ", accepted" : "", info[c.server.leaf].name,
                trust_names[cur_cv.trust], cur_cv.why, cur_cv.accept ? ", accepted" : "",
                want_up ? "established" : "refused");

    dtlsudp_engine_close_all(client->e, fz_clock);
    dtlsudp_engine_close_all(server->e, fz_clock);
    run(client, server, 4);
    side_finish(client);
    side_finish(server);
    ERR_clear_error();
    return 0;
}
