/*
 * test_tsmrefs.c - transport/snmp/tsmrefs.c: TSM's per-message state is
 * freed exactly once.
 *
 * A stand-in for libnetsnmp 5.9.3's TSM is registered under the TSM model
 * number with the same ownership behaviour as snmplib/snmptsm.c (decode
 * takes pdu->transport_data and callocs a reference to it; clone copies
 * both; encode of a response frees the reference but not its
 * tmStateReference and leaves pdu->securityStateRef dangling; free_state
 * frees nothing).  The real snmp_clone_pdu / snmp_free_pdu drive it.  Run
 * without the fix, the request/response cycle below leaks two
 * tmStateReferences and a reference (LeakSanitizer and valgrind fail the
 * suite) and the asserts on dangling pointers fail.
 */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/snmp_secmod.h>
#include <net-snmp/library/snmptsm.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "snmp_internal.h"

static int free_state_calls;

/* --- the stand-in, after snmptsm.c (5.9.3) ------------------------------ */

static int fake_decode(struct snmp_secmod_incoming_params *parms)
{
    netsnmp_tmStateReference *tm = parms->pdu->transport_data;
    netsnmp_tsmSecurityReference *ref;

    if (tm == NULL || parms->pdu->transport_data_length != sizeof(*tm))
        return SNMPERR_GENERR; /* 5.2 step 2: left in the pdu */
    parms->pdu->transport_data = NULL;
    if (tm->securityName[0] == '\0')
        return SNMPERR_GENERR; /* 5.2 step 2: taken, kept nowhere */
    ref = *parms->secStateRef != NULL ? *parms->secStateRef : calloc(1, sizeof(*ref));
    if (ref == NULL)
        return SNMPERR_GENERR;
    *parms->secStateRef = ref;
    ref->tmStateRef = tm;
    return SNMPERR_SUCCESS;
}

static int fake_clone(netsnmp_pdu *from, netsnmp_pdu *to)
{
    netsnmp_tsmSecurityReference *old = from->securityStateRef, *ref;

    if (old == NULL)
        return SNMPERR_SUCCESS;
    if ((ref = malloc(sizeof(*ref))) == NULL)
        return SNMPERR_GENERR;
    ref->tmStateRef = netsnmp_memdup(old->tmStateRef, sizeof(*old->tmStateRef));
    to->securityStateRef = ref;
    return SNMPERR_SUCCESS;
}

static int fake_encode(struct snmp_secmod_outgoing_params *parms)
{
    netsnmp_tsmSecurityReference *ref = parms->secStateRef;

    if (ref == NULL)
        return SNMPERR_SUCCESS; /* 4.2 step 2: a request, nothing cached */
    /* 4.2 step 1: use the cache, then discard it -- but only the
     * reference, not the tmStateReference it points to. */
    free(parms->pdu->transport_data);
    parms->pdu->transport_data = netsnmp_memdup(ref->tmStateRef, sizeof(*ref->tmStateRef));
    parms->pdu->transport_data_length = sizeof(netsnmp_tmStateReference);
    SNMP_FREE(parms->secStateRef);
    return SNMPERR_SUCCESS;
}

static void fake_free_state(void *p)
{
    (void)p; /* "SNMP_FREE(tsmRef); ?" */
    free_state_calls++;
}

static void register_fake_tsm(void)
{
    struct snmp_secmod_def *def = calloc(1, sizeof(*def));

    assert_non_null(def);
    def->decode = fake_decode;
    def->pdu_clone = fake_clone;
    def->encode_reverse = fake_encode;
    def->pdu_free_state_ref = fake_free_state;
    /* Registered again after unregister_sec_mod, it reports the name as
     * already known (the name list keeps it), but the module is in. */
    (void)register_sec_mod(SNMP_SEC_MODEL_TSM, "tsm", def);
    assert_ptr_equal(find_sec_mod(SNMP_SEC_MODEL_TSM), def);
}

static int setup(void **state)
{
    (void)state;
    free_state_calls = 0;
    register_fake_tsm();
    dtlsudp_snmp_tsm_refs_install();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unregister_sec_mod(SNMP_SEC_MODEL_TSM);
    return 0;
}

/* --- helpers ----------------------------------------------------------- */

static netsnmp_pdu *incoming(const char *sec_name)
{
    netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET);
    netsnmp_tmStateReference *tm = calloc(1, sizeof(*tm));

    assert_non_null(pdu);
    assert_non_null(tm);
    snprintf(tm->securityName, sizeof(tm->securityName), "%s", sec_name);
    tm->securityNameLen = strlen(tm->securityName);
    pdu->version = SNMP_VERSION_3;
    pdu->securityModel = SNMP_SEC_MODEL_TSM;
    pdu->transport_data = tm;
    pdu->transport_data_length = sizeof(*tm);
    return pdu;
}

static int decode(netsnmp_pdu *pdu)
{
    struct snmp_secmod_incoming_params parms;

    memset(&parms, 0, sizeof(parms));
    parms.pdu = pdu;
    parms.secStateRef = &pdu->securityStateRef;
    return find_sec_mod(SNMP_SEC_MODEL_TSM)->decode(&parms);
}

static int encode(netsnmp_pdu *pdu)
{
    struct snmp_secmod_outgoing_params parms;

    memset(&parms, 0, sizeof(parms));
    parms.pdu = pdu;
    parms.secStateRef = pdu->securityStateRef;
    return find_sec_mod(SNMP_SEC_MODEL_TSM)->encode_reverse(&parms);
}

/* --- tests ------------------------------------------------------------- */

/* The agent's path: request decoded, cloned for the response, response
 * encoded and sent, both PDUs freed. */
static void request_response_cycle_frees_everything(void **state)
{
    netsnmp_pdu *request = incoming("client"), *response;

    (void)state;
    assert_int_equal(decode(request), SNMPERR_SUCCESS);
    assert_non_null(request->securityStateRef);
    assert_int_equal(dtlsudp_snmp_tsm_refs_live(), 1);

    response = snmp_clone_pdu(request);
    assert_non_null(response);
    assert_ptr_not_equal(response->securityStateRef, request->securityStateRef);
    assert_int_equal(dtlsudp_snmp_tsm_refs_live(), 2);

    response->command = SNMP_MSG_RESPONSE;
    assert_int_equal(encode(response), SNMPERR_SUCCESS);
    /* The reference encode freed is no longer pointed to... */
    assert_null(response->securityStateRef);
    assert_int_equal(dtlsudp_snmp_tsm_refs_live(), 1);
    /* ...and the outgoing copy of the tmStateReference is the pdu's. */
    assert_non_null(response->transport_data);
    assert_string_equal(((netsnmp_tmStateReference *)response->transport_data)->securityName, "client");

    snmp_free_pdu(request);
    assert_int_equal(dtlsudp_snmp_tsm_refs_live(), 0);
    snmp_free_pdu(response);
    assert_int_equal(dtlsudp_snmp_tsm_refs_live(), 0);
    assert_int_equal(free_state_calls, 0); /* ours, freed by the fix */
}

/* One message decoded (one reference tracked), then freed (none left). */
static void receive_and_free_one(void)
{
    netsnmp_pdu *pdu = incoming("server");

    assert_int_equal(decode(pdu), SNMPERR_SUCCESS);
    assert_int_equal(dtlsudp_snmp_tsm_refs_live(), 1);
    snmp_free_pdu(pdu);
    assert_int_equal(dtlsudp_snmp_tsm_refs_live(), 0);
}

/* A manager's path: a response decoded, read, freed. */
static void received_and_freed(void **state)
{
    (void)state;
    receive_and_free_one();
}

/* 5.2 step 2 refuses a message after taking the tmStateReference out of
 * the pdu: the fix frees it (the leak checkers fail the suite if not). */
static void early_refusal_frees_the_tmstate(void **state)
{
    netsnmp_pdu *pdu = incoming("");

    (void)state;
    assert_int_not_equal(decode(pdu), SNMPERR_SUCCESS);
    assert_null(pdu->transport_data);
    assert_null(pdu->securityStateRef);
    assert_int_equal(dtlsudp_snmp_tsm_refs_live(), 0);
    snmp_free_pdu(pdu);
}

/* A refusal that leaves the tmStateReference in the pdu: the pdu frees it,
 * not the fix (a double free would abort under the sanitizers). */
static void refusal_leaving_the_tmstate_in_the_pdu(void **state)
{
    netsnmp_pdu *pdu = incoming("client");

    (void)state;
    pdu->transport_data_length = 1;
    assert_int_not_equal(decode(pdu), SNMPERR_SUCCESS);
    assert_non_null(pdu->transport_data);
    snmp_free_pdu(pdu);
    assert_int_equal(dtlsudp_snmp_tsm_refs_live(), 0);
}

/* A state reference TSM did not hand out through the wrapped hooks is
 * passed on untouched; the original hook still runs for it. */
static void foreign_reference_left_alone(void **state)
{
    netsnmp_tsmSecurityReference *ref = calloc(1, sizeof(*ref));

    (void)state;
    assert_non_null(ref);
    find_sec_mod(SNMP_SEC_MODEL_TSM)->pdu_free_state_ref(ref);
    assert_int_equal(free_state_calls, 1);
    free(ref); /* still ours: not freed by the fix */
}

/* Installing twice wraps once; a new TSM registration is wrapped anew. */
static void install_is_idempotent_and_follows_reregistration(void **state)
{
    (void)state;
    dtlsudp_snmp_tsm_refs_install();
    receive_and_free_one();

    unregister_sec_mod(SNMP_SEC_MODEL_TSM);
    register_fake_tsm();
    dtlsudp_snmp_tsm_refs_install();
    receive_and_free_one();
    assert_int_equal(free_state_calls, 0);
}

/* Many PDUs in flight (the set grows), freed in another order. */
static void many_in_flight(void **state)
{
    enum { N = 3000 };
    netsnmp_pdu **pdus = calloc(N, sizeof(*pdus));
    size_t i;

    (void)state;
    assert_non_null(pdus);
    for (i = 0; i < N; i++) {
        pdus[i] = incoming("client");
        assert_int_equal(decode(pdus[i]), SNMPERR_SUCCESS);
    }
    assert_int_equal(dtlsudp_snmp_tsm_refs_live(), N);
    for (i = 0; i < N; i += 2)
        snmp_free_pdu(pdus[i]);
    assert_int_equal(dtlsudp_snmp_tsm_refs_live(), N / 2);
    for (i = 1; i < N; i += 2)
        snmp_free_pdu(pdus[i]);
    assert_int_equal(dtlsudp_snmp_tsm_refs_live(), 0);
    free(pdus);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(request_response_cycle_frees_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(received_and_freed, setup, teardown),
        cmocka_unit_test_setup_teardown(early_refusal_frees_the_tmstate, setup, teardown),
        cmocka_unit_test_setup_teardown(refusal_leaving_the_tmstate_in_the_pdu, setup, teardown),
        cmocka_unit_test_setup_teardown(foreign_reference_left_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(install_is_idempotent_and_follows_reregistration, setup, teardown),
        cmocka_unit_test_setup_teardown(many_in_flight, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
