/*
 * fuzz_fingerprint.c - dtlsudp_fingerprint_parse() (certSecName rows,
 * peerCert / -T their_identity values, pins) on arbitrary text.  An
 * accepted fingerprint has a hash length, formats, and the formatted text
 * parses back to the same bytes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text, buf[64 * 3], small[8];
    dtlsudp_fingerprint fp, again;

    if (size > 4096)
        return 0;
    FZ_CHECK((text = malloc(size + 1)) != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    memset(&fp, 0xa5, sizeof(fp));
    if (dtlsudp_fingerprint_parse(text, &fp) == DTLSUDP_OK) {
        FZ_CHECK(fp.len == 16 || fp.len == 20 || fp.len == 28 || fp.len == 32 || fp.len == 48 ||
                 fp.len == 64);
        FZ_CHECK(dtlsudp_fingerprint_format(&fp, buf, sizeof(buf)) == DTLSUDP_OK);
        FZ_CHECK(strlen(buf) == (size_t)fp.len * 3 - 1);
        FZ_CHECK(dtlsudp_fingerprint_parse(buf, &again) == DTLSUDP_OK);
        FZ_CHECK(again.len == fp.len && memcmp(again.bytes, fp.bytes, fp.len) == 0);
        FZ_CHECK(dtlsudp_fingerprint_format(&fp, small, sizeof(small)) == DTLSUDP_ERR_BUFFER);
    }
    free(text);
    return 0;
}
