/*
 * Unit tests: transport/snmp/domain.c - taking the dtlsudp prefixes over
 * from libnetsnmp's built-in DTLSUDP, in both orders (preload constructor
 * before init_snmp, and agent plugin after it), idempotence, IPv6 prefixes,
 * the other domains intact, no warnings.  Only client transports are made:
 * they open no socket before f_open.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "snmp_internal.h"

static int warnings;

#if defined(__SANITIZE_ADDRESS__)
/* LeakSanitizer: libnetsnmp's own leaks on init_snmp/snmp_shutdown cycles
 * (MIB internals, and the prefix array the built-in DTLSUDP constructor
 * allocates before its registration is refused as a duplicate OID). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:netsnmp_init_mib_internals\nleak:netsnmp_dtlsudp_ctor\n";
}
#endif

static int count_warnings(int major, int minor, void *serverarg, void *clientarg)
{
    const struct snmp_log_message *m = serverarg;

    if (m != NULL && m->priority <= LOG_WARNING) {
        warnings++;
        fprintf(stderr, "log: %s", m->msg != NULL ? m->msg : "(null)\n");
    }
    return 0;
}

static void start_library(void)
{
    setenv("SNMPCONFPATH", "/nonexistent-dtlsudp-test", 1);
    setenv("MIBS", "", 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    snmp_disable_stderrlog();
    snmp_enable_calllog();
    snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, count_warnings, NULL);
    init_snmp("dtlsudp-test");
}

/* A client transport for TEXT is ours: its fmtaddr is ours and it keeps
 * our 16-byte private data (the built-in keeps _netsnmpTLSBaseData). */
static void assert_ours(const char *text, const char *expect_fmt, int family)
{
    netsnmp_transport *t = netsnmp_tdomain_transport(text, 0, NULL);
    static const oid dtls_domain[] = {1, 3, 6, 1, 6, 1, 9};
    char *s;
    void *ta = NULL;
    size_t ta_len = 0;

    assert_non_null(t);
    assert_int_equal(t->data_length, (int)(sizeof(uint32_t) + sizeof(void *) + 4));
    assert_int_equal(t->domain_length, 7);
    assert_memory_equal(t->domain, dtls_domain, sizeof(dtls_domain));
    assert_true((t->flags & NETSNMP_TRANSPORT_FLAG_TUNNELED) != 0);
    assert_int_equal(t->sock, -1); /* nothing opened before f_open */
    s = t->f_fmtaddr(t, NULL, 0);
    assert_non_null(s);
    assert_string_equal(s, expect_fmt);
    free(s);
    t->f_get_taddr(t, &ta, &ta_len);
    assert_int_equal(ta_len, family == AF_INET6 ? 18 : 6);
    free(ta);
    t->f_close(t);
    netsnmp_transport_free(t);
}

static void assert_other_domains_intact(void)
{
    static const oid udp[] = {1, 3, 6, 1, 6, 1, 1};
    static const oid tlstcp[] = {1, 3, 6, 1, 6, 1, 8};

    assert_int_equal(netsnmp_tdomain_support(udp, 7, NULL, NULL), 1);
    assert_int_equal(netsnmp_tdomain_support(tlstcp, 7, NULL, NULL), 1);
}

static void assert_all_prefixes_ours(void)
{
    assert_ours("dtlsudp:127.0.0.1:10161", "DTLSUDP: [127.0.0.1]:10161", AF_INET);
    assert_ours("dtls:127.0.0.1:999", "DTLSUDP: [127.0.0.1]:999", AF_INET);
    assert_ours("DTLSUDP:127.0.0.1", "DTLSUDP: [127.0.0.1]:10161", AF_INET);
    /* net-snmp#239: dtlsudp6 is IPv6, and [v6] works under dtlsudp: */
    assert_ours("dtlsudp6:[::1]:10161", "DTLSUDP: [::1]:10161", AF_INET6);
    assert_ours("dtls6:::1", "DTLSUDP: [::1]:10161", AF_INET6);
    assert_ours("dtlsudp:[::1]:5", "DTLSUDP: [::1]:5", AF_INET6);
}

/* Preload order: registered before init_snmp; the built-in's later
 * registration is refused as a duplicate OID. */
static void register_before_init(void **state)
{
    warnings = 0;
    assert_int_equal(dtlsudp_snmp_domain_register(), 0);
    start_library();
    assert_all_prefixes_ours();
    assert_other_domains_intact();
    assert_int_equal(dtlsudp_snmp_domain_register(), 0); /* idempotent */
    assert_all_prefixes_ours();
    assert_int_equal(warnings, 0);
    /* snmp_shutdown frees the prefix arrays: they must be heap ones. */
    snmp_shutdown("dtlsudp-test");
}

/* Plugin order: libnetsnmp's domains (built-in DTLSUDP included) are
 * there first; the list is rebuilt with ours in front. */
static void register_after_init(void **state)
{
    warnings = 0;
    start_library();
    assert_int_equal(dtlsudp_snmp_domain_register(), 0);
    assert_all_prefixes_ours();
    assert_other_domains_intact();
    assert_int_equal(dtlsudp_snmp_domain_register(), 0);
    assert_int_equal(dtlsudp_snmp_domain_register(), 0);
    assert_all_prefixes_ours();
    assert_other_domains_intact();
    assert_int_equal(warnings, 0);
    snmp_shutdown("dtlsudp-test");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(register_before_init),
        cmocka_unit_test(register_after_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
