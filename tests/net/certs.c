/*
 * certs.c - test certificates made in-process with OpenSSL (EC P-256):
 * a CA, a server and a client certificate it signs, and a "rogue" CA with
 * a client certificate of its own (for the wrong-certificate tests).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certs.h"

static EVP_PKEY *make_key(void)
{
    return EVP_EC_gen("P-256");
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* issuer == NULL: self-signed CA. */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, long serial)
{
    X509 *cert = X509_new();
    if (cert == NULL)
        return NULL;
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 7L * 24 * 3600);
    X509_set_pubkey(cert, key);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"dtlsudp tests", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509 *signer = issuer != NULL ? issuer : cert;
    X509_set_issuer_name(cert, X509_get_subject_name(signer));
    int bad = 0;
    if (issuer == NULL) {
        bad |= add_ext(cert, signer, NID_basic_constraints, "critical,CA:TRUE");
        bad |= add_ext(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
        bad |= add_ext(cert, signer, NID_subject_key_identifier, "hash");
    } else {
        bad |= add_ext(cert, signer, NID_basic_constraints, "CA:FALSE");
        bad |= add_ext(cert, signer, NID_key_usage, "critical,digitalSignature,keyAgreement");
        bad |= add_ext(cert, signer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
        bad |= add_ext(cert, signer, NID_authority_key_identifier, "keyid");
    }
    if (bad || !X509_sign(cert, issuer_key != NULL ? issuer_key : key, EVP_sha256())) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

static int write_cert(const char *dir, const char *file, X509 *cert)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    int ok = PEM_write_X509(f, cert);
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int write_key(const char *dir, const char *file, EVP_PKEY *key)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    int ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* Make a leaf signed by ca and write NAME.pem / NAME.key. */
static int make_leaf(const char *dir, const char *name, X509 *ca, EVP_PKEY *ca_key, long serial)
{
    char file[64];
    int ret = -1;
    EVP_PKEY *key = make_key();
    X509 *cert = key != NULL ? make_cert(name, key, ca, ca_key, serial) : NULL;
    if (cert == NULL)
        goto Exit;
    snprintf(file, sizeof(file), "%s.pem", name);
    if (write_cert(dir, file, cert) != 0)
        goto Exit;
    snprintf(file, sizeof(file), "%s.key", name);
    ret = write_key(dir, file, key);
Exit:
    X509_free(cert);
    EVP_PKEY_free(key);
    return ret;
}

int testcerts_make(const char *dir)
{
    int ret = -1;
    EVP_PKEY *ca_key = make_key(), *rogue_key = make_key();
    X509 *ca = NULL, *rogue = NULL;
    if (ca_key == NULL || rogue_key == NULL)
        goto Exit;
    if ((ca = make_cert("dtlsudp test CA", ca_key, NULL, NULL, 1)) == NULL ||
        (rogue = make_cert("dtlsudp rogue CA", rogue_key, NULL, NULL, 1)) == NULL)
        goto Exit;
    if (write_cert(dir, "ca.pem", ca) != 0 || write_cert(dir, "rogue-ca.pem", rogue) != 0)
        goto Exit;
    if (make_leaf(dir, "server", ca, ca_key, 2) != 0 || make_leaf(dir, "client", ca, ca_key, 3) != 0 ||
        make_leaf(dir, "rogue", rogue, rogue_key, 2) != 0)
        goto Exit;
    ret = 0;
Exit:
    X509_free(ca);
    X509_free(rogue);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(rogue_key);
    return ret;
}
