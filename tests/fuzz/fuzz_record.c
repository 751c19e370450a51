/*
 * fuzz_record.c - the record-header parser and ClientHello peek
 * (transport/engine/record.c), the first code an untrusted datagram meets.
 * Besides "no crash", checks the parser's contract: records stay inside
 * the datagram, the scan count matches a walk with eng_record_parse(),
 * a ClientHello is always an epoch-0 handshake record, and the client
 * random handed out lies inside the datagram.
 */
#include "config.h"

#include <string.h>

#include "fuzz_common.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    eng_record rec, first;
    uint16_t seq = 0;
    int n = 0, scanned, hello;

    scanned = eng_record_scan(size != 0 ? data : NULL, size, &first);
    while (p != end) {
        const uint8_t *before = p;
        if (eng_record_parse(&p, end, &rec) != 0) {
            FZ_CHECK(p == before); /* a failed parse does not move the cursor */
            n = -1;
            break;
        }
        FZ_CHECK(p > before && p <= end);
        FZ_CHECK(rec.fragment >= data && rec.fragment + rec.length == p);
        FZ_CHECK(rec.seq < ((uint64_t)1 << 48));
        FZ_CHECK((rec.version >> 8) == 0xfe);
        if (n < 0x7fff)
            n++;
    }
    if (size == 0)
        n = -1;
    FZ_CHECK(scanned == n);

    hello = eng_record_is_client_hello(size != 0 ? data : NULL, size, &seq);
    if (hello) {
        const uint8_t *q = data;
        FZ_CHECK(eng_record_parse(&q, end, &rec) == 0);
        FZ_CHECK(rec.content_type == DTLSUDP_CT_HANDSHAKE && rec.epoch == 0);
        FZ_CHECK(rec.length >= 6); /* type, length, message_seq */
        FZ_CHECK(rec.fragment[0] == DTLSUDP_HS_CLIENT_HELLO);
        FZ_CHECK(seq == (uint16_t)(rec.fragment[4] << 8 | rec.fragment[5]));
    }
    FZ_CHECK(eng_record_is_client_hello(size != 0 ? data : NULL, size, NULL) == hello);

    {
        const uint8_t *random = NULL;
        if (eng_record_client_hello_random(size != 0 ? data : NULL, size, &random)) {
            FZ_CHECK(hello);
            FZ_CHECK(random != NULL && random >= data && random + 32 <= end);
        }
    }
    return 0;
}
