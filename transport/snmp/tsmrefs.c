/*
 * tsmrefs.c - who frees TSM's per-message state in libnetsnmp 5.9.3.
 *
 * RFC 5591 4.2 / 5.2: TSM caches each incoming message's tmStateReference
 * in a securityStateReference so that the response goes back over the same
 * session.  libnetsnmp 5.9.3 (snmplib/snmptsm.c) gets the ownership of
 * both wrong, so every SNMP message over any TSM transport leaks about
 * 2.8 KB in a long-running agent or manager:
 *
 *   - decode (tsm_process_in_msg) takes pdu->transport_data (the
 *     tmStateReference the transport's f_recv allocated) and callocs a
 *     netsnmp_tsmSecurityReference pointing at it;
 *   - pdu_clone (tsm_clone_pdu) gives the clone its own copy of both;
 *   - pdu_free_state_ref (tsm_free_state_ref) frees neither
 *     ("SNMP_FREE(tsmRef); ?");
 *   - encode_reverse (tsm_rgenerate_out_msg), for a response, copies the
 *     tmStateReference into the outgoing pdu, then frees the
 *     securityStateReference (4.2 step 1) but not the tmStateReference it
 *     pointed to, and leaves pdu->securityStateRef pointing at the freed
 *     block.
 *
 * The fix wraps those four hooks of the registered TSM secmod: every
 * securityStateReference TSM hands out is recorded here, so that one
 * recorded is freed exactly once with its tmStateReference, and the
 * dangling pointer encode leaves is cleared.  A reference not recorded (a
 * secmod state this code never saw) is left alone, as before.  Replacing
 * only tsm_free_state_ref would double-free the blocks encode already
 * freed.  Installed once per TSM registration, from the transport's
 * constructor; harmless to every TSM transport (TLSTCP, SSH, ours), since
 * they share the ownership rules above.
 */
#include <config.h>

#include "snmp_internal.h"

#include <stdlib.h>
#include <string.h>

#include <net-snmp/library/snmp_secmod.h>
#include <net-snmp/library/snmptsm.h>

/* The references TSM handed out and nobody freed yet: an open-addressing
 * set of pointers (linear probing, tombstones), grown at 1/2 load.  Its
 * size is the number of PDUs in flight, small in practice. */
#define TOMBSTONE ((void *)1)

static void **slots;
static size_t n_slots, n_live, n_used; /* n_used counts tombstones too */

static size_t slot_of(const void *p)
{
    uintptr_t h = (uintptr_t)p;

    h ^= h >> 17;
    h *= (uintptr_t)0x9e3779b97f4a7c15ULL;
    h ^= h >> 29;
    return (size_t)h & (n_slots - 1);
}

static long find_slot(const void *p)
{
    size_t i;

    if (n_slots == 0 || p == NULL)
        return -1;
    for (i = slot_of(p);; i = (i + 1) & (n_slots - 1)) {
        if (slots[i] == NULL)
            return -1;
        if (slots[i] == p)
            return (long)i;
    }
}

static int grow(void)
{
    void **old = slots;
    size_t old_n = n_slots, i, j;
    size_t want = n_slots == 0 ? 64 : (n_live * 4 > n_slots ? n_slots * 2 : n_slots);
    void **fresh = calloc(want, sizeof(*fresh));

    if (fresh == NULL)
        return -1;
    slots = fresh;
    n_slots = want;
    n_used = n_live;
    for (i = 0; i < old_n; i++) {
        if (old[i] == NULL || old[i] == TOMBSTONE)
            continue;
        for (j = slot_of(old[i]); slots[j] != NULL; j = (j + 1) & (n_slots - 1))
            ;
        slots[j] = old[i];
    }
    free(old);
    return 0;
}

/* Returns 0, or -1 when out of memory (the reference then leaks as it did
 * without this module). */
static int remember(void *p)
{
    size_t i;

    if (p == NULL || find_slot(p) >= 0)
        return 0;
    if ((n_used + 1) * 2 > n_slots && grow() != 0)
        return -1;
    for (i = slot_of(p); slots[i] != NULL && slots[i] != TOMBSTONE; i = (i + 1) & (n_slots - 1))
        ;
    if (slots[i] == NULL)
        n_used++;
    slots[i] = p;
    n_live++;
    return 0;
}

/* Forget p; returns 1 when it was recorded. */
static int forget(const void *p)
{
    long i = find_slot(p);

    if (i < 0)
        return 0;
    slots[i] = TOMBSTONE;
    n_live--;
    return 1;
}

/* ------------------------------------------------------------------------
 * The wrapped hooks
 * ------------------------------------------------------------------------ */

static struct snmp_secmod_def *wrapped; /* the TSM definition we patched */
static SecmodInMsg *orig_decode;
static Secmod2PduCallback *orig_clone;
static SecmodOutMsg *orig_encode;
static SecmodFreeState *orig_free_state;

static void free_ref(netsnmp_tsmSecurityReference *ref)
{
    free(ref->tmStateRef);
    free(ref);
}

static int wrap_decode(struct snmp_secmod_incoming_params *parms)
{
    netsnmp_pdu *pdu = parms->pdu;
    void *tm = pdu != NULL ? pdu->transport_data : NULL;
    netsnmp_tsmSecurityReference *ref;
    int rc;

    rc = orig_decode(parms);
    ref = parms->secStateRef != NULL ? *parms->secStateRef : NULL;
    if (ref != NULL && ref->tmStateRef != NULL && remember(ref) != 0)
        DEBUGMSGTL(("dtlsudp:tsm", "out of memory: a TSM state reference is not tracked\n"));
    /* An early refusal (5.2 steps 2-4) took the transport's
     * tmStateReference out of the pdu and kept it nowhere. */
    if (tm != NULL && pdu->transport_data == NULL && (ref == NULL || ref->tmStateRef != tm))
        free(tm);
    return rc;
}

static int wrap_clone(netsnmp_pdu *from, netsnmp_pdu *to)
{
    void *before = to->securityStateRef;
    int rc = orig_clone(from, to);

    if (to->securityStateRef != NULL && to->securityStateRef != before &&
        to->securityStateRef != from->securityStateRef)
        (void)remember(to->securityStateRef);
    return rc;
}

static int wrap_encode(struct snmp_secmod_outgoing_params *parms)
{
    netsnmp_tsmSecurityReference *ref = parms->secStateRef;
    netsnmp_tmStateReference *tm = NULL;
    int tracked = 0, rc;

    /* 4.2 step 1 frees ref whenever it has a tmStateReference. */
    if (ref != NULL && ref->tmStateRef != NULL && find_slot(ref) >= 0) {
        tracked = 1;
        tm = ref->tmStateRef;
    }
    rc = orig_encode(parms);
    if (tracked) {
        (void)forget(ref);
        free(tm); /* the outgoing pdu carries its own copy */
        if (parms->pdu != NULL && parms->pdu->securityStateRef == ref)
            parms->pdu->securityStateRef = NULL;
    }
    return rc;
}

static void wrap_free_state(void *p)
{
    if (forget(p))
        free_ref(p);
    else if (orig_free_state != NULL)
        orig_free_state(p);
}

void dtlsudp_snmp_tsm_refs_install(void)
{
    struct snmp_secmod_def *def = find_sec_mod(SNMP_SEC_MODEL_TSM);

    if (def == NULL || def->decode == wrap_decode)
        return;
    if (def->decode == NULL || def->pdu_clone == NULL || def->encode_reverse == NULL)
        return; /* not the TSM this file knows */
    if (def != wrapped && wrapped != NULL) {
        /* TSM was registered anew (snmp_shutdown, init_snmp): references
         * of the old registration are gone with their PDUs. */
        free(slots);
        slots = NULL;
        n_slots = n_live = n_used = 0;
    }
    wrapped = def;
    orig_decode = def->decode;
    orig_clone = def->pdu_clone;
    orig_encode = def->encode_reverse;
    orig_free_state = def->pdu_free_state_ref;
    def->decode = wrap_decode;
    def->pdu_clone = wrap_clone;
    def->encode_reverse = wrap_encode;
    def->pdu_free_state_ref = wrap_free_state;
    DEBUGMSGTL(("dtlsudp:tsm", "TSM state references tracked\n"));
}

size_t dtlsudp_snmp_tsm_refs_live(void)
{
    return n_live;
}
