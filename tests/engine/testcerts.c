/*
 * testcerts.c - a small PKI made in memory with OpenSSL APIs: a P-256 CA,
 * server and client leaves, a wrong CA with its leaves, an expired leaf,
 * and an RSA-2048 server/client pair.  Fast (P-256) and independent of
 * any script or file.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "testcerts.h"

static testcerts certs;
static int have_ec, have_rsa, have_attack;
static long serial = 1;
static const char *skid_value = "hash"; /* subjectKeyIdentifier of the next certificate */

static void die(const char *what)
{
    fprintf(stderr, "testcerts: %s failed\n", what);
    abort();
}

static EVP_PKEY *ec_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    if (k == NULL)
        die("EVP_EC_gen");
    return k;
}

static EVP_PKEY *rsa_key(void)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    if (k == NULL)
        die("EVP_RSA_gen");
    return k;
}

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509V3_set_ctx(&ctx, issuer != NULL ? issuer : cert, cert, NULL, NULL, 0);
    if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL || !X509_add_ext(cert, ext, -1))
        die("X509_add_ext");
    X509_EXTENSION_free(ext);
}

static tc_pair make_eku(EVP_PKEY *key, const char *cn, const tc_pair *issuer, int is_ca, long nb, long na,
                        const char *san, const char *eku)
{
    tc_pair p;
    X509 *x = X509_new();
    X509_NAME *name;

    if (x == NULL || !X509_set_version(x, 2) || !ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) ||
        X509_gmtime_adj(X509_getm_notBefore(x), nb) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), na) == NULL || !X509_set_pubkey(x, key))
        die("X509 fields");
    name = X509_get_subject_name(x);
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0))
        die("X509_NAME");
    if (!X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer->cert) : name))
        die("issuer");
    add_ext(x, issuer != NULL ? issuer->cert : NULL, NID_basic_constraints,
            is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_ext(x, issuer != NULL ? issuer->cert : NULL, NID_key_usage,
            is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyEncipherment");
    add_ext(x, NULL, NID_subject_key_identifier, skid_value);
    if (issuer != NULL)
        add_ext(x, issuer->cert, NID_authority_key_identifier, "keyid:always");
    if (san != NULL)
        add_ext(x, issuer != NULL ? issuer->cert : NULL, NID_subject_alt_name, san);
    if (eku != NULL)
        add_ext(x, issuer != NULL ? issuer->cert : NULL, NID_ext_key_usage, eku);
    if (!X509_sign(x, issuer != NULL ? issuer->key : key, EVP_sha256()))
        die("X509_sign");
    p.cert = x;
    p.key = key;
    return p;
}

static tc_pair make(EVP_PKEY *key, const char *cn, const tc_pair *issuer, int is_ca, long nb, long na,
                    const char *san)
{
    return make_eku(key, cn, issuer, is_ca, nb, na, san, NULL);
}

#define DAY (24L * 3600L)

const testcerts *tc_get(void)
{
    if (have_ec)
        return &certs;
    certs.ca = make(ec_key(), "dtlsudp test CA", NULL, 1, -DAY, 30 * DAY, NULL);
    certs.server =
        make(ec_key(), "server.example.com", &certs.ca, 0, -DAY, 30 * DAY, "DNS:server.example.com,IP:127.0.0.1");
    certs.client = make(ec_key(), "client", &certs.ca, 0, -DAY, 30 * DAY, "DNS:client.example.com");
    certs.client2 = make(ec_key(), "client2", &certs.ca, 0, -DAY, 30 * DAY, NULL);
    certs.other_ca = make(ec_key(), "unrelated CA", NULL, 1, -DAY, 30 * DAY, NULL);
    certs.wrong_client = make(ec_key(), "intruder", &certs.other_ca, 0, -DAY, 30 * DAY, NULL);
    certs.wrong_server = make(ec_key(), "server.example.com", &certs.other_ca, 0, -DAY, 30 * DAY,
                              "DNS:server.example.com");
    certs.expired_client = make(ec_key(), "expired", &certs.ca, 0, -3 * DAY, -DAY, NULL);
    have_ec = 1;
    return &certs;
}

const testcerts *tc_rsa(void)
{
    tc_get();
    if (have_rsa)
        return &certs;
    certs.rsa_server = make(rsa_key(), "rsa-server", &certs.ca, 0, -DAY, 30 * DAY, "DNS:server.example.com");
    certs.rsa_client = make(rsa_key(), "rsa-client", &certs.ca, 0, -DAY, 30 * DAY, NULL);
    have_rsa = 1;
    return &certs;
}

const testcerts *tc_attack(void)
{
    char cn[32], *skid;
    int i;

    tc_get();
    if (have_attack)
        return &certs;
    certs.rogue = make(ec_key(), "server.example.com", NULL, 0, -DAY, 30 * DAY, "DNS:server.example.com");
    certs.server_eku_client = make_eku(ec_key(), "server.example.com", &certs.ca, 0, -DAY, 30 * DAY,
                                       "DNS:server.example.com,IP:127.0.0.1", "clientAuth");
    certs.client_eku_server = make_eku(ec_key(), "client-eku", &certs.ca, 0, -DAY, 30 * DAY, NULL, "serverAuth");
    for (i = 0; i < 5; i++) {
        snprintf(cn, sizeof(cn), "intermediate %d", i + 1);
        certs.inter[i] = make(ec_key(), cn, i == 0 ? &certs.ca : &certs.inter[i - 1], 1, -DAY, 30 * DAY, NULL);
    }
    certs.deep4 = make(ec_key(), "deep4", &certs.inter[3], 0, -DAY, 30 * DAY, NULL);
    certs.deep5 = make(ec_key(), "deep5", &certs.inter[4], 0, -DAY, 30 * DAY, NULL);
    if (!EVP_PKEY_up_ref(certs.ca.key))
        die("EVP_PKEY_up_ref");
    certs.ca_reissued = make(certs.ca.key, "dtlsudp test CA", NULL, 1, -2 * DAY, 60 * DAY, NULL);
    skid = OPENSSL_buf2hexstr(ASN1_STRING_get0_data(X509_get0_subject_key_id(certs.ca.cert)),
                              ASN1_STRING_length(X509_get0_subject_key_id(certs.ca.cert)));
    if (skid == NULL)
        die("subjectKeyIdentifier");
    skid_value = skid;
    certs.ca_forged = make(ec_key(), "dtlsudp test CA", NULL, 1, -DAY, 30 * DAY, NULL);
    skid_value = "hash";
    OPENSSL_free(skid);
    have_attack = 1;
    return &certs;
}

static void pair_free(tc_pair *p)
{
    X509_free(p->cert);
    EVP_PKEY_free(p->key);
    p->cert = NULL;
    p->key = NULL;
}

void tc_free(void)
{
    tc_pair *all[] = {&certs.ca,           &certs.server,         &certs.client,
                      &certs.client2,      &certs.other_ca,       &certs.wrong_client,
                      &certs.wrong_server, &certs.expired_client, &certs.rsa_server,
                      &certs.rsa_client};
    size_t i;

    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        pair_free(all[i]);
    pair_free(&certs.rogue);
    pair_free(&certs.server_eku_client);
    pair_free(&certs.client_eku_server);
    for (i = 0; i < 5; i++)
        pair_free(&certs.inter[i]);
    pair_free(&certs.deep4);
    pair_free(&certs.deep5);
    pair_free(&certs.ca_reissued);
    pair_free(&certs.ca_forged);
    have_ec = have_rsa = have_attack = 0;
}

int tc_install(SSL_CTX *ctx, const tc_pair *id, const tc_pair *ca)
{
    if (id != NULL) {
        if (SSL_CTX_use_certificate(ctx, id->cert) != 1 || SSL_CTX_use_PrivateKey(ctx, id->key) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1)
            return -1;
    }
    if (ca != NULL && X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca->cert) != 1)
        return -1;
    return 0;
}

int tc_write_pem(const tc_pair *p, const char *cert_path, const char *key_path)
{
    FILE *f;
    int ok;

    if ((f = fopen(cert_path, "w")) == NULL)
        return -1;
    ok = PEM_write_X509(f, p->cert);
    fclose(f);
    if (!ok || key_path == NULL)
        return ok ? 0 : -1;
    if ((f = fopen(key_path, "w")) == NULL)
        return -1;
    ok = PEM_write_PrivateKey(f, p->key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    return ok ? 0 : -1;
}

int tc_write_crl(const tc_pair *ca, X509 *revoked, const char *path)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *last = X509_gmtime_adj(NULL, -3600), *next = X509_gmtime_adj(NULL, 30 * DAY);
    FILE *f = NULL;
    int ret = -1;

    if (crl == NULL || last == NULL || next == NULL || !X509_CRL_set_version(crl, 1) ||
        !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) || !X509_CRL_set1_lastUpdate(crl, last) ||
        !X509_CRL_set1_nextUpdate(crl, next))
        goto Exit;
    if (revoked != NULL) {
        X509_REVOKED *r = X509_REVOKED_new();
        if (r == NULL || !X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoked)) ||
            !X509_REVOKED_set_revocationDate(r, last) || !X509_CRL_add0_revoked(crl, r)) {
            X509_REVOKED_free(r);
            goto Exit;
        }
    }
    if (!X509_CRL_sort(crl) || !X509_CRL_sign(crl, ca->key, EVP_sha256()))
        goto Exit;
    if ((f = fopen(path, "w")) == NULL || !PEM_write_X509_CRL(f, crl))
        goto Exit;
    ret = 0;
Exit:
    if (f != NULL)
        fclose(f);
    X509_CRL_free(crl);
    ASN1_TIME_free(last);
    ASN1_TIME_free(next);
    return ret;
}
