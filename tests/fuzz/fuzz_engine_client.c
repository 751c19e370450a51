/*
 * fuzz_engine_client.c - a client engine mid-handshake: it connects
 * (CONNECT operation), then the input plays the server, the network
 * (which datagrams arrive, duplicates, retransmission times) and the
 * allocator (ALLOC: the k-th engine allocation fails).  Randomness is
 * deterministic, so the recorded server flights of corpus/engine_client/
 * complete the handshake and reach application data and close_notify.
 * Program format: fuzz_engine.h.
 */
#include "config.h"

#include "fuzz_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_run_program(0, data, size, NULL);
    return 0;
}
