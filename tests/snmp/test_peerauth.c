/*
 * Unit tests: peerauth.c, who the peer is.
 *
 * Real handshakes between two engines on tests/engine/testnet.c's
 * in-memory network, with peerauth_on_verify() as the engines' verify
 * callback for an agent-side and a manager-side endpoint:
 *  - RFC 6353 5.3.2: a client is accepted only with a certSecName row
 *    mapping it (the securityName and level its messages get), and is
 *    refused, counted and logged once per certificate otherwise;
 *  - RFC 6353 5.3.1: the server is accepted by its pinned fingerprint, or
 *    by a verified chain naming the expected host, and refused (and
 *    counted as the MIB says) otherwise;
 *  - the agent's trust store fails closed and is rebuilt after a reload;
 *  - the failure lines name the cause and the fix.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "endpoint.h"
#include "snmpstore.h"
#include "testnet.h"

#define APP "test-peerauth"

static endpoint agent, manager;

static int on_verify_agent(void *user, dtlsudp_assoc *a, const dtlsudp_peer_auth *auth)
{
    (void)user;
    return peerauth_on_verify(&agent, a, auth);
}

static int on_verify_manager(void *user, dtlsudp_assoc *a, const dtlsudp_peer_auth *auth)
{
    (void)user;
    return peerauth_on_verify(&manager, a, auth);
}

static int settled(tn_net *net, void *arg)
{
    (void)arg;
    return net->nodes[1].established > 0 || net->nodes[1].closed > 0;
}

typedef struct run {
    tn_net net;
    tn_node *server, *client;
    int established; /* the client's side */
} run;

/* One handshake: `client_id' (issued by the test CA unless said otherwise)
 * toward the agent with the server certificate `server_id'; the manager
 * checks the server with pin or host name (either may be NULL). */
static void handshake(run *r, const tc_pair *client_id, const tc_pair *server_id, const dtlsudp_fingerprint *pin,
                      const char *host)
{
    const testcerts *tc = tc_get();
    dtlsudp_engine_config scfg, ccfg;
    dtlsudp_connect_opts opts;

    dtlsudp_engine_config_init(&scfg);
    scfg.verify = on_verify_agent;
    dtlsudp_engine_config_init(&ccfg);
    ccfg.verify = on_verify_manager;
    manager.have_pin = pin != NULL;
    if (pin != NULL)
        manager.pin = *pin;
    manager.their_hostname = (char *)host;
    manager.counted_open_error = 0;

    tn_init(&r->net, 7);
    r->server = tn_add(&r->net, "127.0.0.1:10161", server_id, &tc->ca, &scfg);
    r->client = tn_add(&r->net, "127.0.0.1:40000", client_id, &tc->ca, &ccfg);
    assert_non_null(r->server);
    assert_non_null(r->client);
    memset(&opts, 0, sizeof(opts));
    if (pin != NULL) {
        opts.peer_fingerprints = pin;
        opts.n_peer_fingerprints = 1;
    }
    assert_non_null(tn_connect(&r->net, r->client, r->server, &opts));
    assert_true(tn_run(&r->net, settled, NULL, 200));
    r->established = r->client->established > 0;
}

static unsigned stat(int which)
{
    return snmp_get_statistic(which);
}

/* The client maps through "certSecName 10 <CA> --cn": securityName
 * "client", authPriv (an AEAD suite). */
static void mapped_client_gets_its_securityname(void **state)
{
    const testcerts *tc = tc_get();
    run r;

    (void)state;
    handshake(&r, &tc->client, &tc->server, NULL, "server.example.com");
    assert_true(r.established);
    assert_int_equal(r.server->established, 1);
    assert_non_null(r.server->last_assoc);
    assert_string_equal(peerauth_secname(r.server->last_assoc), "client");
    assert_int_equal(peerauth_level(r.server->last_assoc), SNMP_SEC_LEVEL_AUTHPRIV);
    tn_free(&r.net);
}

/* client2 matches the SHA-1 row of its own certificate, which comes
 * first (priority 5) although the SHA-256 row of its CA matches too. */
static void first_row_by_priority_across_hashes(void **state)
{
    const testcerts *tc = tc_get();
    run r;

    (void)state;
    handshake(&r, &tc->client2, &tc->server, NULL, "server.example.com");
    assert_true(r.established);
    assert_string_equal(peerauth_secname(r.server->last_assoc), "other");
    tn_free(&r.net);
}

/* Refusals are counted (InvalidClientCertificates, OpenErrors) and logged
 * with the certificate and the reason, once per certificate. */
static void unmapped_client_is_refused_and_logged_once(void **state)
{
    const testcerts *tc = tc_get();
    unsigned invalid = stat(STAT_TLSTM_SNMPTLSTMSESSIONINVALIDCLIENTCERTIFICATES);
    unsigned errors = stat(STAT_TLSTM_SNMPTLSTMSESSIONOPENERRORS);
    char fp[200], want[300];
    const char *first;
    run r;

    (void)state;
    store_log_clear();
    handshake(&r, &tc->wrong_client, &tc->server, NULL, "server.example.com");
    assert_false(r.established);
    assert_int_equal(r.server->established, 0);
    tn_free(&r.net);
    assert_int_equal(stat(STAT_TLSTM_SNMPTLSTMSESSIONINVALIDCLIENTCERTIFICATES), invalid + 1);
    assert_int_equal(stat(STAT_TLSTM_SNMPTLSTMSESSIONOPENERRORS), errors + 1);
    snprintf(want, sizeof(want), "dtlsudp: refused client certificate SHA256 %s from 127.0.0.1:40000: ",
             store_fingerprint(tc->wrong_client.cert, 32, fp, sizeof(fp)));
    first = strstr(store_log(), want);
    if (first == NULL)
        fail_msg("not logged: %s; the log: %s", want, store_log());

    /* The same certificate again: refused and counted, not logged again. */
    handshake(&r, &tc->wrong_client, &tc->server, NULL, "server.example.com");
    assert_false(r.established);
    tn_free(&r.net);
    assert_int_equal(stat(STAT_TLSTM_SNMPTLSTMSESSIONINVALIDCLIENTCERTIFICATES), invalid + 2);
    assert_null(strstr(first + 1, want));

    /* A client of the trusted CA that has expired: refused by the chain,
     * although the CA's row would map it. */
    store_log_clear();
    handshake(&r, &tc->expired_client, &tc->server, NULL, "server.example.com");
    assert_false(r.established);
    tn_free(&r.net);
    assert_non_null(strstr(store_log(), "dtlsudp: refused client certificate SHA256 "));
    assert_int_equal(stat(STAT_TLSTM_SNMPTLSTMSESSIONINVALIDCLIENTCERTIFICATES), invalid + 3);
}

static void server_checked_by_pin(void **state)
{
    const testcerts *tc = tc_get();
    unsigned invalid = stat(STAT_TLSTM_SNMPTLSTMSESSIONINVALIDSERVERCERTIFICATES);
    dtlsudp_fingerprint pin;
    run r;

    (void)state;
    assert_int_equal(dtlsudp_fingerprint_of(tc->server.cert, 32, &pin), DTLSUDP_OK);
    /* The pin decides, whatever the host name. */
    handshake(&r, &tc->client, &tc->server, &pin, "elsewhere.example.com");
    assert_true(r.established);
    assert_int_equal(manager.counted_open_error, 0);
    tn_free(&r.net);

    store_log_clear();
    assert_int_equal(dtlsudp_fingerprint_of(tc->client2.cert, 32, &pin), DTLSUDP_OK);
    handshake(&r, &tc->client, &tc->server, &pin, "server.example.com");
    assert_false(r.established);
    tn_free(&r.net);
    assert_int_equal(manager.counted_open_error, 1);
    assert_int_equal(stat(STAT_TLSTM_SNMPTLSTMSESSIONINVALIDSERVERCERTIFICATES), invalid + 1);
    assert_non_null(strstr(store_log(), "dtlsudp: refused server certificate SHA256 "));
    assert_non_null(strstr(store_log(), "does not match the expected fingerprint (peerCert)"));
}

static void server_checked_by_host_name(void **state)
{
    const testcerts *tc = tc_get();
    unsigned invalid = stat(STAT_TLSTM_SNMPTLSTMSESSIONINVALIDSERVERCERTIFICATES);
    unsigned unknown = stat(STAT_TLSTM_SNMPTLSTMSESSIONUNKNOWNSERVERCERTIFICATE);
    run r;

    (void)state;
    store_log_clear();
    handshake(&r, &tc->client, &tc->server, NULL, "other.example.com");
    assert_false(r.established);
    tn_free(&r.net);
    assert_non_null(strstr(store_log(), "does not name the expected host other.example.com (their_hostname)"));
    assert_int_equal(stat(STAT_TLSTM_SNMPTLSTMSESSIONINVALIDSERVERCERTIFICATES), invalid + 1);

    /* A server of another CA naming the right host: the chain fails. */
    handshake(&r, &tc->client, &tc->wrong_server, NULL, "server.example.com");
    assert_false(r.established);
    tn_free(&r.net);
    assert_int_equal(stat(STAT_TLSTM_SNMPTLSTMSESSIONINVALIDSERVERCERTIFICATES), invalid + 2);

    /* Nothing to check the server with: UnknownServerCertificate. */
    store_log_clear();
    handshake(&r, &tc->client, &tc->server, NULL, NULL);
    assert_false(r.established);
    tn_free(&r.net);
    assert_non_null(strstr(store_log(), "no peerCert fingerprint and no host name to verify the server with"));
    assert_int_equal(stat(STAT_TLSTM_SNMPTLSTMSESSIONUNKNOWNSERVERCERTIFICATE), unknown + 1);
    assert_int_equal(stat(STAT_TLSTM_SNMPTLSTMSESSIONINVALIDSERVERCERTIFICATES), invalid + 2);
}

/* An endpoint the engine's callback does not belong to refuses. */
static void unknown_endpoint_refuses(void **state)
{
    dtlsudp_peer_auth auth;
    int not_an_endpoint;

    (void)state;
    memset(&auth, 0, sizeof(auth));
    auth.trust = DTLSUDP_TRUST_CHAIN;
    assert_int_equal(peerauth_on_verify(&not_an_endpoint, NULL, &auth), 0);
}

/* An x509CRLFile that cannot be loaded refuses every client until a
 * reload fixes it; a reload rebuilds the store from the new lines and
 * drops the manager's. */
static void trust_store_fails_closed_and_reloads(void **state)
{
    const testcerts *tc = tc_get();
    char crl[512];
    run r;

    (void)state;
    assert_true(peerauth_server_trust_usable());
    assert_true(peerauth_server_trust() == peerauth_server_trust()); /* built once */

    store_log_clear();
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_X509_CRL_FILE,
                          store_path("missing.crl", crl, sizeof(crl)));
    peerauth_server_trust_expire();
    assert_false(peerauth_server_trust_usable());
    assert_non_null(strstr(store_log(), "dtlsudp: refusing every client until the trust configuration loads"));
    handshake(&r, &tc->client, &tc->server, NULL, "server.example.com");
    assert_false(r.established);
    tn_free(&r.net);
    assert_non_null(strstr(store_log(), "the trust configuration (trustCert, x509CRLFile) could not be loaded"));

    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_X509_CRL_FILE, NULL);
    manager.trust = X509_STORE_new();
    dtlsudp_snmp_trust_reload();
    assert_null(manager.trust);
    assert_true(peerauth_server_trust_usable());
    handshake(&r, &tc->client, &tc->server, NULL, "server.example.com");
    assert_true(r.established);
    tn_free(&r.net);
}

static void explain(int alert, const char *detail, int we_are_server, const char *want)
{
    char out[500];

    peerauth_explain_failure(alert, detail, we_are_server, out, sizeof(out));
    if (strstr(out, want) == NULL)
        fail_msg("\"%s\" does not say \"%s\"", out, want);
}

static void failures_name_cause_and_fix(void **state)
{
    char out[16];

    (void)state;
    explain(SSL_AD_UNKNOWN_CA, NULL, 0,
            "the agent sent alert unknown CA: it refused our certificate (localCert); the agent needs a trustCert "
            "for our CA or a certSecName row for our certificate");
    explain(SSL_AD_CERTIFICATE_EXPIRED, NULL, 1, "the manager needs a trustCert for our CA or a peerCert naming");
    explain(SSL_AD_ACCESS_DENIED, NULL, 1, "it refused our certificate");
    explain(SSL_AD_HANDSHAKE_FAILURE, NULL, 0, "most often no cipher suite in common; ours (tlsAlgorithms) is the "
                                               "default");
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TLS_ALGORITMS, "ECDHE-ECDSA-AES128-GCM-SHA256");
    explain(SSL_AD_INSUFFICIENT_SECURITY, NULL, 1, "ours (tlsAlgorithms) is ECDHE-ECDSA-AES128-GCM-SHA256");
    explain(-1, "x: no shared cipher", 1,
            "no cipher suite in common with the manager; ours (tlsAlgorithms) is ECDHE-ECDSA-AES128-GCM-SHA256");
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TLS_ALGORITMS, NULL);
    explain(SSL_AD_PROTOCOL_VERSION, NULL, 0, "it does not accept DTLS 1.2");
    explain(SSL_AD_INTERNAL_ERROR, NULL, 0, "raise dtlsudpMaxHalfOpenPerSource on the agent");
    explain(SSL_AD_DECODE_ERROR, "ignored", 0, "the agent sent alert decode error");
    explain(-1, "certificate verify failed", 0, "certificate verify failed");
    explain(-1, NULL, 0, "the handshake failed");
    /* cut to the buffer, terminated */
    memset(out, 'x', sizeof(out));
    peerauth_explain_failure(-1, NULL, 0, out, 8);
    assert_string_equal(out, "the han");
    assert_int_equal(out[8], 'x');
}

static int setup(void **state)
{
    char conf[400], fp[200], fp1[200];

    (void)state;
    assert_non_null(store_make());
    assert_int_equal(store_write("snmp.conf", "trustCert ca\n"), 0);
    /* Two hashes: a SHA-1 row for client2 before the SHA-256 row of the
     * CA, so one mapping digests the same certificates with both. */
    snprintf(conf, sizeof(conf), "certSecName 5 --sha1 %s --sn other\ncertSecName 10 %s --cn\n",
             store_fingerprint(tc_get()->client2.cert, 20, fp1, sizeof(fp1)),
             store_fingerprint(tc_get()->ca.cert, 32, fp, sizeof(fp)));
    assert_int_equal(store_write(APP ".conf", conf), 0);
    store_init_snmp(APP, 1);
    /* The endpoints the callback is about, where the transport keeps them
     * (no listener or connection: the callback gets them as its user). */
    agent.is_server = 1;
    manager.is_server = 0;
    manager.next_all = endpoint_all;
    agent.next_all = &manager;
    endpoint_all = &agent;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    endpoint_all = manager.next_all;
    peerauth_server_trust_expire();
    dtlsudp_snmp_cert_index_reset();
    store_remove(APP);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mapped_client_gets_its_securityname),
        cmocka_unit_test(first_row_by_priority_across_hashes),
        cmocka_unit_test(unmapped_client_is_refused_and_logged_once),
        cmocka_unit_test(server_checked_by_pin),
        cmocka_unit_test(server_checked_by_host_name),
        cmocka_unit_test(unknown_endpoint_refuses),
        cmocka_unit_test(trust_store_fails_closed_and_reloads),
        cmocka_unit_test(failures_name_cause_and_fix),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
