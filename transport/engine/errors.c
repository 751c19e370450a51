/*
 * errors.c - the error model: codes, classes and their text.
 */
#include "config.h"

#include "dtlsudp.h"

const char *dtlsudp_version(void)
{
    return PACKAGE_VERSION;
}

/* By range, as dtlsudp.h states it: a code added later inside a range
 * keeps its class without touching this. */
int dtlsudp_err_class(int err)
{
    if (err >= DTLSUDP_OK)
        return DTLSUDP_ERR_CLASS_OK;
    if (err > DTLSUDP_ERR_INVALID)
        return DTLSUDP_ERR_CLASS_TRANSIENT;
    if (err > DTLSUDP_ERR_CLOSED)
        return DTLSUDP_ERR_CLASS_USAGE;
    if (err > DTLSUDP_ERR_FATAL)
        return DTLSUDP_ERR_CLASS_ASSOC_FATAL;
    return DTLSUDP_ERR_CLASS_ENGINE_FATAL;
}

int dtlsudp_err_is_assoc_fatal(int err)
{
    return dtlsudp_err_class(err) == DTLSUDP_ERR_CLASS_ASSOC_FATAL;
}

int dtlsudp_err_is_fatal(int err)
{
    return dtlsudp_err_class(err) == DTLSUDP_ERR_CLASS_ENGINE_FATAL;
}

const char *dtlsudp_strerror(int err)
{
    switch (err) {
    case DTLSUDP_OK:
        return "success";
    case DTLSUDP_ERR_AGAIN:
        return "nothing to do now (would block)";
    case DTLSUDP_ERR_DROPPED:
        return "datagram dropped";
    case DTLSUDP_ERR_QUEUE_FULL:
        return "queue full";
    case DTLSUDP_ERR_LIMIT:
        return "association limit reached";
    case DTLSUDP_ERR_NOMEM:
        return "out of memory";
    case DTLSUDP_ERR_INVALID:
        return "invalid argument";
    case DTLSUDP_ERR_STATE:
        return "not allowed in the current state";
    case DTLSUDP_ERR_TOO_BIG:
        return "message larger than the record limit";
    case DTLSUDP_ERR_NOT_FOUND:
        return "no such association";
    case DTLSUDP_ERR_BUFFER:
        return "buffer too small";
    case DTLSUDP_ERR_EXISTS:
        return "the peer already has an association";
    case DTLSUDP_ERR_CLOSED:
        return "association closed";
    case DTLSUDP_ERR_HANDSHAKE:
        return "handshake failed";
    case DTLSUDP_ERR_PEER_CERT:
        return "peer certificate refused";
    case DTLSUDP_ERR_TIMEOUT:
        return "handshake timed out";
    case DTLSUDP_ERR_IDLE:
        return "association idle for too long";
    case DTLSUDP_ERR_PEER_ALERT:
        return "peer sent a fatal alert";
    case DTLSUDP_ERR_EVICTED:
        return "association evicted";
    case DTLSUDP_ERR_REFUSED:
        return "peer unreachable (ICMP port unreachable)";
    case DTLSUDP_ERR_REPLACED:
        return "association replaced by a peer restart";
    case DTLSUDP_ERR_FATAL:
        return "internal error";
    case DTLSUDP_ERR_TLS:
        return "OpenSSL failure";
    case DTLSUDP_ERR_CONFIG:
        return "bad configuration (certificate, key, trust anchor or cipher list)";
    case DTLSUDP_ERR_SYSTEM:
        return "system call failed";
    default:
        return "unknown error";
    }
}
