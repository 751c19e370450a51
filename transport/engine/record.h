/*
 * record.h - DTLS record-header parsing (RFC 6347 4.1), internal.
 *
 * Every read goes through a bounds-checked cursor (src, end); nothing here
 * indexes a raw datagram.  The parser never allocates and never trusts a
 * length field it has not checked against `end'.  It is the first thing an
 * untrusted datagram meets, so it has its own unit test and fuzz target.
 */
#ifndef DTLSUDP_ENGINE_RECORD_H
#define DTLSUDP_ENGINE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define DTLSUDP_RECORD_HEADER_LEN 13     /* type(1) version(2) epoch(2) seq(6) length(2) */
#define DTLSUDP_HANDSHAKE_HEADER_LEN 12  /* type(1) length(3) seq(2) frag_off(3) frag_len(3) */

enum {
    DTLSUDP_CT_CHANGE_CIPHER_SPEC = 20,
    DTLSUDP_CT_ALERT = 21,
    DTLSUDP_CT_HANDSHAKE = 22,
    DTLSUDP_CT_APPLICATION_DATA = 23,
};

enum {
    DTLSUDP_HS_CLIENT_HELLO = 1,
    DTLSUDP_HS_SERVER_HELLO = 2,
    DTLSUDP_HS_HELLO_VERIFY_REQUEST = 3,
};

typedef struct eng_record {
    uint8_t content_type;
    uint16_t version; /* 0xfeff DTLS 1.0, 0xfefd DTLS 1.2 */
    uint16_t epoch;
    uint64_t seq; /* 48 bits */
    uint16_t length;
    const uint8_t *fragment; /* `length' bytes inside the datagram */
} eng_record;

/* Parse one record header and its fragment at *src, advancing *src past
 * the record.  Returns 0, or -1 when the bytes are not a complete DTLS
 * record (unknown content type, version major not 0xfe, fragment running
 * past end). */
int eng_record_parse(const uint8_t **src, const uint8_t *end, eng_record *out);

/* Write the DTLSUDP_RECORD_HEADER_LEN bytes of a record header (RFC 6347
 * 4.1): type, version, epoch, 48-bit sequence number, fragment length. */
void eng_record_put_header(uint8_t *out, uint8_t type, uint16_t version, uint16_t epoch, uint64_t seq,
                               size_t fragment_len);

/* Check that a datagram is a sequence of one or more complete records.
 * Fills *first with the first record.  Returns the number of records, or
 * -1 when malformed. */
int eng_record_scan(const uint8_t *dgram, size_t len, eng_record *first);

/* 1 when the first record of the datagram is an epoch-0 handshake record
 * whose first message is a ClientHello (RFC 6347 4.2.8 peer restart /
 * new peer); *msg_seq gets its handshake message_seq when non-NULL.
 * 0 otherwise (including malformed input). */
int eng_record_is_client_hello(const uint8_t *dgram, size_t len, uint16_t *msg_seq);

/* When the first record is an epoch-0 ClientHello whose first fragment
 * holds client_version and the 32-byte random, point *random at the random
 * and return 1; 0 otherwise. */
int eng_record_client_hello_random(const uint8_t *dgram, size_t len, const uint8_t **random);

/* When the first record is an epoch-0 handshake record, put the
 * message_seq of its first message in *msg_seq and return 1; 0 otherwise. */
int eng_record_handshake_seq(const uint8_t *dgram, size_t len, uint16_t *msg_seq);

#endif
