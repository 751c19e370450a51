/*
 * snmp_internal.h - shared declarations of the modules in transport/snmp.
 * Internal; not installed.  Every symbol here is hidden
 * (-fvisibility=hidden): the dlmod exports only init/deinit/shutdown.
 */
#ifndef DTLSUDP_SNMP_INTERNAL_H
#define DTLSUDP_SNMP_INTERNAL_H

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/snmp_transport.h>

#include "dtlsudp.h"
#include "snmp_transport.h"

/* Exported by libnetsnmp 5.9.3 (snmplib/snmp_openssl.c) without an
 * installed header. */
struct netsnmp_cert_map_s;
char *netsnmp_openssl_cert_get_fingerprint(X509 *ocert, int alg);
char *netsnmp_openssl_extract_secname(struct netsnmp_cert_map_s *cert_map,
                                      struct netsnmp_cert_map_s *peer_cert);

/* snmpDTLSUDPDomain (RFC 6353 10.2), and the private OID that carries the
 * IPv6-only prefixes (netsnmp_tdomain_register refuses a second domain with
 * the same OID; Net-SNMP's udpshared uses the same trick). */
extern const oid dtlsudp_snmp_domain_oid[];
extern const size_t dtlsudp_snmp_domain_oid_len;

/* ------------------------------------------------------------------ addr.c */

/* Parse a Net-SNMP target string (after the "dtlsudp:" prefix): "host",
 * "host:port", "port", ":port", "a.b.c.d:port", "[v6]:port", "v6", with
 * host names resolved by libnetsnmp.  default_target ("":10161" style, may
 * be NULL) supplies the missing parts; 10161 when still missing.
 * family_hint: AF_UNSPEC (IPv6 when the text is bracketed or has two
 * colons, else IPv4) or AF_INET6 (dtlsudp6:).  Returns 0 or -1. */
int dtlsudp_snmp_addr_parse(const char *text, const char *default_target, int family_hint, dtlsudp_addr *out);

/* Net-SNMP's fmtaddr style: "DTLSUDP: [remote]:port->[local]:port" (libwrap
 * in the agent parses the first "[ip]").  local may be NULL or AF_UNSPEC:
 * "DTLSUDP: [remote]:port".  Returns a malloc()ed string or NULL. */
char *dtlsudp_snmp_addr_fmt(const dtlsudp_addr *remote, const dtlsudp_addr *local);

/* The SNMP-TARGET-MIB octet-string form (6 bytes IPv4, 18 bytes IPv6). */
int dtlsudp_snmp_addr_to_ostring(const dtlsudp_addr *a, uint8_t *buf, size_t cap, size_t *len);
int dtlsudp_snmp_addr_from_ostring(const void *o, size_t len, dtlsudp_addr *out);

/* --------------------------------------------------------------- config.c */

enum {
    DTLSUDP_SNMP_DEMUX_OSNET = 1, /* connected socket per association */
    DTLSUDP_SNMP_DEMUX_ROUTER = 2 /* one socket, lookup by peer address */
};

/* Settings from the project's own tokens (config.c documents each). */
typedef struct dtlsudp_snmp_settings {
    int demux;
    int resume;       /* client: keep sessions in memory and offer them */
    int session_file; /* client: also in a file under the persistent dir */
    size_t session_cache; /* server: sessions kept in memory instead of tickets, 0: tickets */
    /* The engine fields the tokens set; the rest keep the library's
     * defaults (dtlsudp_engine_config_init) and are not copied out. */
    dtlsudp_engine_config engine;
} dtlsudp_snmp_settings;

/* The current settings (defaults until a token changes them). */
const dtlsudp_snmp_settings *dtlsudp_snmp_settings_get(void);
void dtlsudp_snmp_settings_reset(void);

/* Apply one token's value to *s.  Returns 0, or -1 with *why set to a
 * static English reason (the caller reports it with config_perror, which
 * names file and line).  Exposed for the unit tests. */
int dtlsudp_snmp_settings_apply(dtlsudp_snmp_settings *s, const char *token, const char *value,
                                const char **why);

/* Copy the settings into an engine configuration. */
void dtlsudp_snmp_settings_to_engine(const dtlsudp_snmp_settings *s, dtlsudp_engine_config *cfg);

/* The names of the tokens dtlsudp_snmp_config_register() registers
 * (dtlsudp-checkconf checks the same list). */
size_t dtlsudp_snmp_config_token_count(void);
const char *dtlsudp_snmp_config_token_name(size_t i);

/* -------------------------------------------------------------- tsmrefs.c */

/* Make TSM (libnetsnmp 5.9.3) free each message's securityStateReference
 * and tmStateReference exactly once (tsmrefs.c says what it gets wrong).
 * Idempotent; does nothing before TSM is registered. */
void dtlsudp_snmp_tsm_refs_install(void);

/* References handed out by TSM and not freed yet (for the tests). */
size_t dtlsudp_snmp_tsm_refs_live(void);

/* -------------------------------------------------------------- tmstate.c */

/* What the transport knows about an association when a message arrives. */
typedef struct dtlsudp_snmp_msgsrc {
    uint64_t assoc_id;    /* dtlsudp_assoc_id(): the tmSessionID */
    const char *sec_name; /* mapped securityName (server) or "" (client) */
    int security_level;   /* SNMP_SEC_LEVEL_AUTHPRIV / AUTHNOPRIV */
    const dtlsudp_addr *remote;
    const dtlsudp_addr *local; /* may be NULL */
} dtlsudp_snmp_msgsrc;

/* Fill a tmStateReference as TSM expects it (RFC 6353 5.1.2; Net-SNMP's
 * snmptsm.c): transportDomain snmpDTLSUDPDomain, securityName,
 * transportSecurityLevel, sessionID = the association id (8 bytes, never a
 * pointer), addresses with have_addresses = 1.  Returns 0, or -1 when the
 * securityName does not fit. */
int dtlsudp_snmp_tmstate_fill(netsnmp_tmStateReference *ref, const dtlsudp_snmp_msgsrc *src);
/* A malloc()ed reference filled from src (the caller's f_recv hands it to
 * libnetsnmp, which frees it), or NULL. */
netsnmp_tmStateReference *dtlsudp_snmp_tmstate_new(const dtlsudp_snmp_msgsrc *src);

/* The association id carried in ref->sessionID. */
uint64_t dtlsudp_snmp_tmstate_assoc_id(const netsnmp_tmStateReference *ref);

/* -------------------------------------------------------------- secname.c */

/* Map a verified peer certificate to a securityName with the certSecName
 * table (snmpTlstmCertToTSNTable, RFC 6353 5.3.2 and the table's
 * DESCRIPTION): rows are tried in ascending priority; a row's fingerprint
 * may use any hash (the hex length implies it: MD5, SHA-1,
 * SHA-224/256/384/512), matched against the leaf and every certificate of
 * `chain'.  `chain' must be the authenticated chain the engine hands over
 * (dtlsudp_peer_auth.chain: the verified path, or the leaf alone), never
 * what the peer sent.
 * On success *out holds a NUL-terminated name of at most 32 bytes.
 * Returns 0, or -1 with *why set to a static reason. */
int dtlsudp_snmp_secname_map(X509 *leaf, STACK_OF(X509) * chain, char *out, size_t cap, const char **why);

/* A row's fingerprint, as Net-SNMP keeps it (hex, colons allowed; the
 * length implies the hash).  A leading hash octet (the SnmpTLSFingerprint
 * encoding, RFC 6353 10: 1 MD5 .. 6 SHA-512) is dropped when the rest is a
 * fingerprint.  Returns 0 or -1. */
int dtlsudp_snmp_row_fingerprint(const char *text, dtlsudp_fingerprint *out);


/* -------------------------------------------------------------- fpcheck.c */

/* Wrap Net-SNMP's certSecName, trustCert, localCert, peerCert,
 * snmpTlstmParams and snmpTlstmAddr handlers so that a fingerprint of no
 * hash's length is reported with file and line and the line ignored.
 * Idempotent. */
void dtlsudp_snmp_fingerprint_checks_install(void);
/* What a certificate token names, for dtlsudp_snmp_cert_check_fn. */
enum { DTLSUDP_SNMP_CERT_IDENTITY = 1, DTLSUDP_SNMP_CERT_PEER = 2, DTLSUDP_SNMP_CERT_TRUST = 3 };
/* 0 when `value' of `token' names a certificate (of `kind') the store has;
 * else -1 with the reason and the fix in why. */
typedef int dtlsudp_snmp_cert_check_fn(int kind, const char *token, const char *value, char *why, size_t cap);
/* Resolve localCert, peerCert and trustCert as they are read (the
 * transport installs certs.c's lookup; libsnmpbase has no store). */
void dtlsudp_snmp_cert_check_install(dtlsudp_snmp_cert_check_fn *fn);
/* word (len bytes) as a certificate argument: 0 when it is not plainly a
 * fingerprint or has a hash's length, -1 (and *bytes) when it is a
 * fingerprint of no hash's length. */
int dtlsudp_snmp_fingerprint_word_check(const char *word, size_t len, size_t *bytes);

/* ------------------------------------------------------------- hostname.c */

/* 1 when cert names `expected': a literal host name or address as TLS
 * checks it, or Net-SNMP's one-label wildcard "*.rest" (see hostname.c). */
int dtlsudp_snmp_host_matches(X509 *cert, const char *expected);

/* ------------------------------------------------------------- certfind.c */

/* A certificate of Net-SNMP's store for `what' (NS_CERT_*) named by spec:
 * whatever Net-SNMP's own lookup finds (its fingerprint, a file name), or
 * a SHA-1/224/256/384/512 fingerprint of any certificate in the store
 * ("AB:CD..", bare hex, "sha256:..", "--sha1 .."). NULL if none. */
struct netsnmp_cert_s *dtlsudp_snmp_cert_find(int what, const char *spec);
/* fn(dir, arg) for each directory Net-SNMP's certificate store scans
 * (cert_util.c _cert_indexes_load), in its order: <d>/tls/{extra,ca-certs,
 * certs} and, with_keys, tls/private, for every d of SNMPCONFPATH or the
 * configuration directory.  fn returns 0 to go on; anything else stops the
 * walk and is returned.  -1 also when a path did not fit (that directory is
 * not visited) or memory is short; else 0. */
int dtlsudp_snmp_cert_dirs_each(int with_keys, int (*fn)(const char *dir, void *arg), void *arg);
/* The first certificate of a PEM file, else of a DER file; NULL if there
 * is none (certfind.c says how that can differ from the store's). */
X509 *dtlsudp_snmp_read_cert_file(const char *path);
/* Forget the fingerprints computed so far (SIGHUP: the store is reread). */
void dtlsudp_snmp_cert_index_reset(void);
/* Where Net-SNMP looks for certificates, for messages: "tls/certs and
 * tls/ca-certs under DIR, DIR, ... (SNMPCONFPATH)" or "(Net-SNMP's default
 * path; SNMPCONFPATH is not set)".  Always NUL-terminated. */
void dtlsudp_snmp_cert_search_text(char *buf, size_t cap);
/* A fingerprint as the tokens write it ("--sha1 AB:..", "sha256:..", hex
 * with or without colons) of a hash length (MD5, SHA-1..SHA-512).
 * Returns 0 or -1. */
int dtlsudp_snmp_fingerprint_text(const char *text, dtlsudp_fingerprint *out);

/* ------------------------------------------------------------- certmemo.c */

/* What the store resolved a certificate token's value to (certmemo.c). */
#define DTLSUDP_SNMP_MEMO_MAX_FILES 8
typedef struct dtlsudp_snmp_cert_memo {
    int found;      /* 0: no certificate (a peerCert that is a fingerprint) */
    size_t n_files; /* the certificate's file, then its issuers' (trustCert) */
    char files[DTLSUDP_SNMP_MEMO_MAX_FILES][1024];
    uint8_t sha256[DTLSUDP_SNMP_MEMO_MAX_FILES][32]; /* of each file's certificate */
} dtlsudp_snmp_cert_memo;
/* Stamp the certificate directories just before Net-SNMP loads its store
 * (registration, before init_snmp(); later: no memo in this process). */
void dtlsudp_snmp_cert_memo_install(void);
/* The memo of (kind, spec) while the certificate directories are as they
 * were when it was made and its files hold the certificates remembered,
 * from the session file (with dtlsudpSessionFile; for a line_check also
 * when the file exists).  0, or -1: ask the store. */
int dtlsudp_snmp_cert_memo_get(int kind, const char *spec, int line_check, dtlsudp_snmp_cert_memo *out);
/* Remember (kind, spec) (only with dtlsudpSessionFile, and only if every
 * file holds the certificate of its SHA-256 now); forget it. */
void dtlsudp_snmp_cert_memo_put(int kind, const char *spec, const dtlsudp_snmp_cert_memo *m);
void dtlsudp_snmp_cert_memo_forget(int kind, const char *spec);
/* SHA-256 of the certificate in a PEM or DER file, from its DER (no key
 * is looked for, nothing is parsed).  0 or -1. */
int dtlsudp_snmp_cert_file_sha256(const char *path, uint8_t out[32]);
/* Tests: stamp the directories now, as a new process would. */
void dtlsudp_snmp_cert_memo_reset(void);
/* Tests: how recent a time stamp makes the tree unstampable (default 2 s;
 * negative: the default). */
void dtlsudp_snmp_cert_memo_set_racy(int seconds);

/* ---------------------------------------------------------------- certs.c */

/* The files of our identity in Net-SNMP's store (our_identity, or the
 * localCert default when NULL), malloc()ed.  Returns 0 or -1 (logged). */
int dtlsudp_snmp_certs_identity_paths(const char *our_identity, char **cert_path, char **key_path);

/* Our identity as it was resolved before (certmemo.c), without the store:
 * the certificate's file (malloc()ed) and SHA-256.  0, or -1: not known. */
int dtlsudp_snmp_certs_identity_memo(const char *our_identity, char **cert_path, uint8_t sha256[32]);

/* Our identity as Net-SNMP's store already holds it (our_identity, or the
 * localCert default when NULL): the certificate and key are borrowed from
 * the store, *issuers is a new stack of borrowed certificates (free it
 * with sk_X509_free(), not the certificates), leaf's issuer first.  For a
 * dtlsudp_engine_config, which takes its own references: no file is read
 * again.  Returns 0 or -1 (logged). */
int dtlsudp_snmp_certs_identity(const char *our_identity, X509 **cert, EVP_PKEY **key, STACK_OF(X509) **issuers);

/* Log that TOKEN VALUE names no certificate, with the directories
 * searched and the fix. */
void dtlsudp_snmp_certs_log_missing(const char *token, const char *value);
/* The dtlsudp_snmp_cert_check_fn of the transport (fpcheck.c calls it as
 * each certificate line is read). */
int dtlsudp_snmp_certs_check_name(int kind, const char *token, const char *value, char *why, size_t cap);

/* Install our identity (certificate, key, and the issuers the store
 * knows) as e's identity (dtlsudp_engine_set_identity(), which takes its
 * own references: no 5.9.3 double free).  Returns 0 or -1 (logged). */
int dtlsudp_snmp_certs_use_identity(dtlsudp_engine *e, const char *our_identity);

/* A trust store with every trustCert and extra_trust (-T trust_cert), plus
 * x509CRLFile.  The expected peer certificate (peerCert) is not added: a
 * pinned peer needs no trust anchor (the engine's TRUST_LEAF), and as an
 * anchor it would need a CRL of its own under x509CRLFile.  NULL on allocation failure or
 * when x509CRLFile cannot be loaded (logged with the file and reason):
 * revocation checking never silently turns off. */
X509_STORE *dtlsudp_snmp_certs_trust_store(const char *extra_trust);

/* Resolve a peerCert / their_identity value to a fingerprint (a cert file
 * or fingerprint known to the store, or a raw hex fingerprint).
 * Returns 0 or -1. */
int dtlsudp_snmp_certs_peer_fingerprint(const char *identity, dtlsudp_fingerprint *out);

/* ------------------------------------------------------------ transport.c */

/* A transport for addr: server (local = 1: listener, queue, timers) or
 * client (local = 0: connection opened in f_open).  target_text (may be
 * NULL) is what the user typed after the prefix; a client takes the
 * expected server host name from it.  NULL on failure (logged). */
netsnmp_transport *dtlsudp_snmp_transport_open(const dtlsudp_addr *addr, int local, int v6only,
                                               const char *target_text);

/* Add an engine's statistics to the process-wide total of engines already
 * freed (called just before dtlsudp_engine_free). */
void dtlsudp_snmp_stats_retire(const dtlsudp_stats *st);

/* sesscache.c: the manager's stored sessions (dtlsudp_assoc_session()
 * blobs), in memory and, with use_file, in an owner-only file under the
 * persistent directory. */
#define DTLSUDP_SNMP_SESSION_KEY_LEN 32
#define SESSCACHE_MAX 64           /* entries, in memory and in the file */
#define SESSCACHE_MAX_BLOB 8192    /* bytes per entry */
/* The key of `text' (target, identities; any length). */
void dtlsudp_snmp_session_key(const char *text, uint8_t key[DTLSUDP_SNMP_SESSION_KEY_LEN]);
/* 0 and the blob in buf, or -1 (none, or cap too small). */
int dtlsudp_snmp_session_get(const uint8_t *key, int use_file, uint8_t *buf, size_t cap, size_t *len);
void dtlsudp_snmp_session_put(const uint8_t *key, int use_file, const uint8_t *blob, size_t len);
void dtlsudp_snmp_session_forget(const uint8_t *key, int use_file);
/* Forget every session kept in memory. */
void dtlsudp_snmp_sessions_clear(void);
/* 1 when the session file exists (nothing is created). */
int dtlsudp_snmp_session_file_exists(void);
/* Tests: the directory under which DIR_NAME is made (NULL: the persistent one). */
void dtlsudp_snmp_session_set_dir(const char *dir);

#endif /* DTLSUDP_SNMP_INTERNAL_H */
