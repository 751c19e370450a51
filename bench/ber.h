/*
 * ber.h - the few BER encodings the benchmark load generators need: an
 * SNMPv3 GET for the TLS Transport Model (RFC 5591 TSM over RFC 6353
 * DTLS) and a check of the Response that comes back.  Header-only.
 */
#ifndef BENCH_BER_H
#define BENCH_BER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Append one TLV (definite length, short or two-byte long form).  Returns
 * the new length or 0 if it does not fit. */
static inline size_t ber_tlv(uint8_t *out, size_t cap, size_t at, uint8_t tag, const uint8_t *v,
                             size_t vlen)
{
    size_t hdr = vlen < 128 ? 2 : vlen < 256 ? 3 : 4;

    if (at + hdr + vlen > cap || vlen > 65535)
        return 0;
    out[at++] = tag;
    if (vlen < 128)
        out[at++] = (uint8_t)vlen;
    else if (vlen < 256) {
        out[at++] = 0x81;
        out[at++] = (uint8_t)vlen;
    } else {
        out[at++] = 0x82;
        out[at++] = (uint8_t)(vlen >> 8);
        out[at++] = (uint8_t)vlen;
    }
    if (vlen > 0)
        memmove(out + at, v, vlen);
    return at + vlen;
}

static inline size_t ber_int(uint8_t *out, size_t cap, size_t at, int32_t value)
{
    uint8_t b[4];
    size_t n = 4, skip = 0;

    b[0] = (uint8_t)((uint32_t)value >> 24);
    b[1] = (uint8_t)((uint32_t)value >> 16);
    b[2] = (uint8_t)((uint32_t)value >> 8);
    b[3] = (uint8_t)value;
    /* Minimal two's complement encoding. */
    while (skip < 3 && ((b[skip] == 0 && !(b[skip + 1] & 0x80)) ||
                        (b[skip] == 0xff && (b[skip + 1] & 0x80))))
        skip++;
    return ber_tlv(out, cap, at, 0x02, b + skip, n - skip);
}

/* SNMPv3 GET of one OID (its BER content octets, e.g. {0x2b, 6, 1, ...}),
 * msgID = request-id = id, msgFlags authPriv|reportable, msgSecurityModel 4
 * (TSM), empty security parameters, empty contextName.  Returns the length
 * or 0. */
static inline size_t ber_build_get_oid(uint8_t *out, size_t cap, int32_t id, const uint8_t *engine_id,
                                       size_t engine_id_len, const uint8_t *oid, size_t oid_len)
{
    static const uint8_t null_value[] = {0x05, 0x00};
    static const uint8_t flags = 0x07;
    uint8_t a[256], b[256];
    size_t na, nb;

    /* varbind = SEQUENCE { OID, NULL } */
    na = ber_tlv(a, sizeof(a), 0, 0x06, oid, oid_len);
    if (na == 0 || na + sizeof(null_value) > sizeof(a))
        return 0;
    memcpy(a + na, null_value, sizeof(null_value));
    na += sizeof(null_value);
    nb = ber_tlv(b, sizeof(b), 0, 0x30, a, na);           /* varbind */
    na = ber_tlv(a, sizeof(a), 0, 0x30, b, nb);           /* varbind list */
    /* GetRequest-PDU [0] { request-id, error-status, error-index, vbl } */
    nb = ber_int(b, sizeof(b), 0, id);
    nb = ber_int(b, sizeof(b), nb, 0);
    nb = ber_int(b, sizeof(b), nb, 0);
    if (nb == 0 || nb + na > sizeof(b))
        return 0;
    memcpy(b + nb, a, na);
    nb += na;
    na = ber_tlv(a, sizeof(a), 0, 0xa0, b, nb);
    /* ScopedPDU { contextEngineID, contextName, PDU } */
    nb = ber_tlv(b, sizeof(b), 0, 0x04, engine_id, engine_id_len);
    nb = ber_tlv(b, sizeof(b), nb, 0x04, NULL, 0);
    if (nb == 0 || nb + na > sizeof(b))
        return 0;
    memcpy(b + nb, a, na);
    nb += na;
    {
        uint8_t scoped[256], hdr[64], hseq[64], msg[256];
        size_t ns, nh, nq, nm;

        ns = ber_tlv(scoped, sizeof(scoped), 0, 0x30, b, nb);
        /* HeaderData { msgID, msgMaxSize, msgFlags, msgSecurityModel } */
        nh = ber_int(hdr, sizeof(hdr), 0, id);
        nh = ber_int(hdr, sizeof(hdr), nh, 65507);
        nh = ber_tlv(hdr, sizeof(hdr), nh, 0x04, &flags, 1);
        nh = ber_int(hdr, sizeof(hdr), nh, 4);
        nq = ber_tlv(hseq, sizeof(hseq), 0, 0x30, hdr, nh);
        /* SNMPv3Message { msgVersion 3, HeaderData, msgSecurityParameters, ScopedPDU } */
        nm = ber_int(msg, sizeof(msg), 0, 3);
        if (ns == 0 || nq == 0 || nm == 0 || nm + nq > sizeof(msg))
            return 0;
        memcpy(msg + nm, hseq, nq);
        nm += nq;
        nm = ber_tlv(msg, sizeof(msg), nm, 0x04, NULL, 0);
        if (nm == 0 || nm + ns > sizeof(msg))
            return 0;
        memcpy(msg + nm, scoped, ns);
        nm += ns;
        return ber_tlv(out, cap, 0, 0x30, msg, nm);
    }
}

/* SNMPv3 GET sysUpTime.0 (1.3.6.1.2.1.1.3.0), as ber_build_get_oid. */
static inline size_t ber_build_get(uint8_t *out, size_t cap, int32_t id, const uint8_t *engine_id,
                                   size_t engine_id_len)
{
    static const uint8_t oid_sysuptime[] = {0x2b, 6, 1, 2, 1, 1, 3, 0};

    return ber_build_get_oid(out, cap, id, engine_id, engine_id_len, oid_sysuptime,
                             sizeof(oid_sysuptime));
}

/* Read one TLV header at *at: tag and length; *at moves to the value.
 * Returns 0 or -1 when it does not fit. */
static inline int ber_read(const uint8_t *p, size_t len, size_t *at, uint8_t *tag, size_t *vlen)
{
    size_t i = *at, l;

    if (i + 2 > len)
        return -1;
    *tag = p[i++];
    l = p[i++];
    if (l & 0x80) {
        size_t k = l & 0x7f;

        if (k == 0 || k > 3 || i + k > len)
            return -1;
        l = 0;
        while (k--)
            l = (l << 8) | p[i++];
    }
    if (i + l > len)
        return -1;
    *at = i;
    *vlen = l;
    return 0;
}

/* 1 when msg is an SNMPv3 Response PDU with this request-id and
 * error-status 0. */
static inline int ber_is_response(const uint8_t *p, size_t len, int32_t id)
{
    size_t at = 0, vlen, end;
    uint8_t tag;
    int32_t v = 0;
    size_t k;

    if (ber_read(p, len, &at, &tag, &vlen) || tag != 0x30) /* message */
        return 0;
    if (ber_read(p, len, &at, &tag, &vlen) || tag != 0x02) /* version */
        return 0;
    at += vlen;
    if (ber_read(p, len, &at, &tag, &vlen) || tag != 0x30) /* header */
        return 0;
    at += vlen;
    if (ber_read(p, len, &at, &tag, &vlen) || tag != 0x04) /* security params */
        return 0;
    at += vlen;
    if (ber_read(p, len, &at, &tag, &vlen) || tag != 0x30) /* scoped PDU */
        return 0;
    if (ber_read(p, len, &at, &tag, &vlen) || tag != 0x04) /* contextEngineID */
        return 0;
    at += vlen;
    if (ber_read(p, len, &at, &tag, &vlen) || tag != 0x04) /* contextName */
        return 0;
    at += vlen;
    if (ber_read(p, len, &at, &tag, &vlen) || tag != 0xa2) /* Response-PDU */
        return 0;
    end = at + vlen;
    if (ber_read(p, end, &at, &tag, &vlen) || tag != 0x02 || vlen == 0 || vlen > 4)
        return 0;
    v = (p[at] & 0x80) ? -1 : 0;
    for (k = 0; k < vlen; k++)
        v = (int32_t)(((uint32_t)v << 8) | p[at + k]);
    if (v != id)
        return 0;
    at += vlen;
    if (ber_read(p, end, &at, &tag, &vlen) || tag != 0x02) /* error-status */
        return 0;
    for (k = 0; k < vlen; k++)
        if (p[at + k] != 0)
            return 0;
    return 1;
}

/* "80001f88..." or "0x80001F88..." (colons and spaces ignored) into out. */
static inline int ber_parse_hex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = 0;
    int half = -1;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    for (; *s; s++) {
        int v;

        if (*s == ':' || *s == ' ')
            continue;
        if (*s >= '0' && *s <= '9')
            v = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            v = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F')
            v = *s - 'A' + 10;
        else
            return -1;
        if (half < 0)
            half = v;
        else {
            if (n >= cap)
                return -1;
            out[n++] = (uint8_t)(half << 4 | v);
            half = -1;
        }
    }
    if (half >= 0 || n == 0)
        return -1;
    *len = n;
    return 0;
}

#endif /* BENCH_BER_H */
