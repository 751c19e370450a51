/*
 * record.c - DTLS record-header parsing with a bounds-checked cursor.
 */
#include "config.h"

#include "record.h"

/* Cursor reads: each returns -1 without moving when fewer bytes remain. */
static int read_u8(const uint8_t **src, const uint8_t *end, uint8_t *v)
{
    if (end - *src < 1)
        return -1;
    *v = (*src)[0];
    *src += 1;
    return 0;
}

static int read_u16(const uint8_t **src, const uint8_t *end, uint16_t *v)
{
    if (end - *src < 2)
        return -1;
    *v = (uint16_t)(((unsigned)(*src)[0] << 8) | (*src)[1]);
    *src += 2;
    return 0;
}

static int read_u24(const uint8_t **src, const uint8_t *end, uint32_t *v)
{
    if (end - *src < 3)
        return -1;
    *v = ((uint32_t)(*src)[0] << 16) | ((uint32_t)(*src)[1] << 8) | (*src)[2];
    *src += 3;
    return 0;
}

static int read_u48(const uint8_t **src, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    int i;

    if (end - *src < 6)
        return -1;
    for (i = 0; i < 6; i++)
        x = (x << 8) | (*src)[i];
    *v = x;
    *src += 6;
    return 0;
}

void eng_record_put_header(uint8_t *out, uint8_t type, uint16_t version, uint16_t epoch, uint64_t seq,
                               size_t fragment_len)
{
    int i;

    out[0] = type;
    out[1] = (uint8_t)(version >> 8);
    out[2] = (uint8_t)version;
    out[3] = (uint8_t)(epoch >> 8);
    out[4] = (uint8_t)epoch;
    for (i = 0; i < 6; i++)
        out[5 + i] = (uint8_t)(seq >> (8 * (5 - i)));
    out[11] = (uint8_t)(fragment_len >> 8);
    out[12] = (uint8_t)fragment_len;
}

int eng_record_parse(const uint8_t **src, const uint8_t *end, eng_record *out)
{
    const uint8_t *p = *src;

    if (read_u8(&p, end, &out->content_type) != 0 || read_u16(&p, end, &out->version) != 0 ||
        read_u16(&p, end, &out->epoch) != 0 || read_u48(&p, end, &out->seq) != 0 ||
        read_u16(&p, end, &out->length) != 0)
        return -1;
    switch (out->content_type) {
    case DTLSUDP_CT_CHANGE_CIPHER_SPEC:
    case DTLSUDP_CT_ALERT:
    case DTLSUDP_CT_HANDSHAKE:
    case DTLSUDP_CT_APPLICATION_DATA:
        break;
    default:
        return -1;
    }
    /* DTLS versions are 0xfeXX (one's complement of the TLS numbers). */
    if ((out->version >> 8) != 0xfe)
        return -1;
    if (end - p < (ptrdiff_t)out->length)
        return -1;
    out->fragment = p;
    *src = p + out->length;
    return 0;
}

int eng_record_scan(const uint8_t *dgram, size_t len, eng_record *first)
{
    const uint8_t *p = dgram, *end;
    eng_record rec;
    int n = 0;

    if (dgram == NULL || len == 0)
        return -1;
    end = dgram + len; /* not before the NULL check: NULL + 0 is undefined */
    while (p != end) {
        if (eng_record_parse(&p, end, &rec) != 0)
            return -1;
        if (n == 0 && first != NULL)
            *first = rec;
        if (n < 0x7fff)
            n++;
    }
    return n;
}

int eng_record_is_client_hello(const uint8_t *dgram, size_t len, uint16_t *msg_seq)
{
    const uint8_t *p = dgram, *end;
    eng_record rec;
    const uint8_t *h, *hend;
    uint8_t hs_type;
    uint32_t hs_len;
    uint16_t seq;

    if (dgram == NULL)
        return 0;
    end = dgram + len;
    if (eng_record_parse(&p, end, &rec) != 0)
        return 0;
    if (rec.content_type != DTLSUDP_CT_HANDSHAKE || rec.epoch != 0)
        return 0;
    h = rec.fragment;
    hend = rec.fragment + rec.length;
    if (read_u8(&h, hend, &hs_type) != 0 || read_u24(&h, hend, &hs_len) != 0 ||
        read_u16(&h, hend, &seq) != 0)
        return 0;
    if (hs_type != DTLSUDP_HS_CLIENT_HELLO)
        return 0;
    if (msg_seq != NULL)
        *msg_seq = seq;
    return 1;
}

/* The header of the first handshake message in an epoch-0 datagram:
 * *h..*hend is what follows the header in that record.  Returns 0 or -1. */
static int epoch0_handshake(const uint8_t *dgram, size_t len, uint8_t *type, uint16_t *msg_seq,
                            uint32_t *frag_off, uint32_t *frag_len, const uint8_t **h, const uint8_t **hend)
{
    const uint8_t *p = dgram, *end;
    eng_record rec;
    uint32_t hs_len;

    if (dgram == NULL)
        return -1;
    end = dgram + len; /* not before the NULL check: NULL + 0 is undefined */
    if (eng_record_parse(&p, end, &rec) != 0)
        return -1;
    if (rec.content_type != DTLSUDP_CT_HANDSHAKE || rec.epoch != 0)
        return -1;
    *h = rec.fragment;
    *hend = rec.fragment + rec.length;
    if (read_u8(h, *hend, type) != 0 || read_u24(h, *hend, &hs_len) != 0 || read_u16(h, *hend, msg_seq) != 0 ||
        read_u24(h, *hend, frag_off) != 0 || read_u24(h, *hend, frag_len) != 0)
        return -1;
    return 0;
}

int eng_record_client_hello_random(const uint8_t *dgram, size_t len, const uint8_t **random)
{
    const uint8_t *h, *hend;
    uint8_t hs_type;
    uint32_t frag_off, frag_len;
    uint16_t seq, client_version;

    if (epoch0_handshake(dgram, len, &hs_type, &seq, &frag_off, &frag_len, &h, &hend) != 0)
        return 0;
    if (hs_type != DTLSUDP_HS_CLIENT_HELLO || frag_off != 0 || frag_len < 2 + 32 ||
        read_u16(&h, hend, &client_version) != 0 || hend - h < 32)
        return 0;
    *random = h;
    return 1;
}

int eng_record_handshake_seq(const uint8_t *dgram, size_t len, uint16_t *msg_seq)
{
    const uint8_t *h, *hend;
    uint8_t hs_type;
    uint32_t frag_off, frag_len;

    return epoch0_handshake(dgram, len, &hs_type, msg_seq, &frag_off, &frag_len, &h, &hend) == 0;
}
