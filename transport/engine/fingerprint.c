/*
 * fingerprint.c - certificate fingerprints (RFC 6353 SnmpTLSFingerprint
 * values without the hash-algorithm octet: the hash is implied by length).
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dtlsudp.h"

static const EVP_MD *md_for_len(size_t len)
{
    switch (len) {
    case 16:
        return EVP_md5();
    case 20:
        return EVP_sha1();
    case 28:
        return EVP_sha224();
    case 32:
        return EVP_sha256();
    case 48:
        return EVP_sha384();
    case 64:
        return EVP_sha512();
    default:
        return NULL;
    }
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int dtlsudp_fingerprint_parse(const char *text, dtlsudp_fingerprint *out)
{
    static const char *const prefixes[] = {"md5:",    "sha1:",   "sha224:", "sha256:",
                                           "sha384:", "sha512:", "sha-1:",  "sha-256:"};
    dtlsudp_fingerprint fp;
    const char *p;
    size_t i;

    if (text == NULL || out == NULL)
        return DTLSUDP_ERR_INVALID;
    memset(&fp, 0, sizeof(fp));
    p = text;
    for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t n = strlen(prefixes[i]);
        if (strncasecmp(p, prefixes[i], n) == 0) {
            p += n;
            break;
        }
    }
    while (*p != '\0') {
        int hi, lo;
        if (*p == ':' && fp.len > 0 && p[1] != '\0' && p[1] != ':') {
            p++;
            continue;
        }
        hi = hexval((unsigned char)p[0]);
        lo = hi < 0 || p[1] == '\0' ? -1 : hexval((unsigned char)p[1]);
        if (hi < 0 || lo < 0 || fp.len >= sizeof(fp.bytes))
            return DTLSUDP_ERR_INVALID;
        fp.bytes[fp.len++] = (uint8_t)(hi << 4 | lo);
        p += 2;
    }
    if (md_for_len(fp.len) == NULL)
        return DTLSUDP_ERR_INVALID;
    *out = fp;
    return DTLSUDP_OK;
}

int dtlsudp_fingerprint_format(const dtlsudp_fingerprint *fp, char *buf, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, need;

    if (fp == NULL || buf == NULL || fp->len == 0 || fp->len > sizeof(fp->bytes))
        return DTLSUDP_ERR_INVALID;
    need = (size_t)fp->len * 3; /* "AB:" per byte, the last ':' becomes NUL */
    if (cap < need)
        return DTLSUDP_ERR_BUFFER;
    for (i = 0; i < fp->len; i++) {
        buf[i * 3] = hex[fp->bytes[i] >> 4];
        buf[i * 3 + 1] = hex[fp->bytes[i] & 0xf];
        buf[i * 3 + 2] = ':';
    }
    buf[need - 1] = '\0';
    return DTLSUDP_OK;
}

int dtlsudp_fingerprint_of(X509 *cert, size_t len, dtlsudp_fingerprint *out)
{
    const EVP_MD *md = md_for_len(len);
    unsigned int n = 0;

    if (cert == NULL || out == NULL || md == NULL)
        return DTLSUDP_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    if (X509_digest(cert, md, out->bytes, &n) != 1 || n != len)
        return DTLSUDP_ERR_TLS;
    out->len = (uint8_t)n;
    return DTLSUDP_OK;
}

int dtlsudp_fingerprint_matches(X509 *cert, const dtlsudp_fingerprint *fp)
{
    dtlsudp_fingerprint have;

    if (cert == NULL || fp == NULL || dtlsudp_fingerprint_of(cert, fp->len, &have) != DTLSUDP_OK)
        return 0;
    return CRYPTO_memcmp(have.bytes, fp->bytes, fp->len) == 0;
}
