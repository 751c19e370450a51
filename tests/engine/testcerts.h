/*
 * testcerts.h - test certificates generated in-process (no files, no CLI).
 */
#ifndef DTLSUDP_TESTCERTS_H
#define DTLSUDP_TESTCERTS_H

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

typedef struct tc_pair {
    X509 *cert;
    EVP_PKEY *key;
} tc_pair;

typedef struct testcerts {
    tc_pair ca;             /* P-256 root */
    tc_pair server;         /* P-256, by ca, SAN DNS:server.example.com IP:127.0.0.1 */
    tc_pair client;         /* P-256, by ca */
    tc_pair client2;        /* P-256, by ca (a second identity) */
    tc_pair other_ca;       /* an unrelated root */
    tc_pair wrong_client;   /* P-256, by other_ca */
    tc_pair wrong_server;   /* P-256, by other_ca */
    tc_pair expired_client; /* P-256, by ca, expired yesterday */
    tc_pair rsa_server;     /* RSA-2048, by ca (generated on first tc_rsa()) */
    tc_pair rsa_client;     /* RSA-2048, by ca */

    /* For the authentication rules (generated on first tc_attack()). */
    tc_pair rogue;             /* self-signed, CN and SAN server.example.com */
    tc_pair server_eku_client; /* by ca, SAN server.example.com, EKU clientAuth only */
    tc_pair client_eku_server; /* by ca, EKU serverAuth only */
    tc_pair inter[5];          /* ca -> inter[0] -> ... -> inter[4], CAs */
    tc_pair deep4;             /* client issued by inter[3]: 4 CAs below ca */
    tc_pair deep5;             /* client issued by inter[4]: 5 CAs below ca */
    tc_pair ca_reissued;       /* ca's subject and key, another serial and validity */
    tc_pair ca_forged;         /* ca's subject and subjectKeyIdentifier, another key */
} testcerts;

/* Generated once per process. */
const testcerts *tc_get(void);
/* Also generates the RSA-2048 pair. */
const testcerts *tc_rsa(void);
/* Also generates the certificates for the authentication rules. */
const testcerts *tc_attack(void);
void tc_free(void);

/* Install identity `id' (may be NULL) and trust anchor `ca' (may be NULL)
 * on ctx.  Returns 0 on success. */
int tc_install(SSL_CTX *ctx, const tc_pair *id, const tc_pair *ca);

/* Write cert/key PEM files into dir (for the file-loading test).  0 = ok. */
int tc_write_pem(const tc_pair *p, const char *cert_path, const char *key_path);

/* Write a CRL issued by ca, revoking `revoked' (may be NULL).  0 = ok. */
int tc_write_crl(const tc_pair *ca, X509 *revoked, const char *path);

#endif
