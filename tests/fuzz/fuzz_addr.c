/*
 * fuzz_addr.c - dtlsudp_addr_parse() (listener addresses, numeric only)
 * on arbitrary text, with a default port from the input.  An accepted
 * address is IPv4 or IPv6, formats, and the formatted text parses back to
 * an equal address.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text, buf[80], tiny[4];
    dtlsudp_addr a, b;
    uint16_t port;

    if (size < 2 || size > 1024)
        return 0;
    port = (uint16_t)(data[0] << 8 | data[1]);
    FZ_CHECK((text = malloc(size - 1)) != NULL);
    memcpy(text, data + 2, size - 2);
    text[size - 2] = '\0';
    if (dtlsudp_addr_parse(text, port, &a) == DTLSUDP_OK) {
        FZ_CHECK(a.sa.sa_family == AF_INET || a.sa.sa_family == AF_INET6);
        FZ_CHECK(dtlsudp_addr_len(&a) != 0);
        FZ_CHECK(dtlsudp_addr_format(&a, buf, sizeof(buf)) == DTLSUDP_OK);
        FZ_CHECK(dtlsudp_addr_format(&a, tiny, sizeof(tiny)) == DTLSUDP_ERR_BUFFER);
        FZ_CHECK(dtlsudp_addr_parse(buf, (uint16_t)(port ^ 1), &b) == DTLSUDP_OK);
        FZ_CHECK(dtlsudp_addr_equal(&a, &b));
    }
    free(text);
    return 0;
}
