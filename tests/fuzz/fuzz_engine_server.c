/*
 * fuzz_engine_server.c - dtlsudp_engine_receive() on a server engine with
 * arbitrary datagrams from four peers (two ports of one address, a second
 * IPv4 address, an IPv6 address), timers, writes, closes and allocation
 * failures chosen by the input (program format: fuzz_engine.h).  Seeds
 * (corpus/engine_server/) are recorded handshakes from gen_corpus.c: with
 * deterministic randomness they pass the cookie gate and complete.
 */
#include "config.h"

#include "fuzz_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_run_program(1, data, size, NULL);
    return 0;
}
