/*
 * Unit tests: transport/snmp/certmemo.c, what the certificate store
 * resolved, remembered in the session file.
 *  - a memo comes back as it was put, only for its kind and value;
 *  - any change the store's lookup could see (a file added, removed,
 *    renamed, rewritten in place with the same bytes, even with its
 *    modification time put back, chmod-ed) hides
 *    every memo from a process that stamps the tree afterwards; one that
 *    stamped before keeps its view, as it keeps Net-SNMP's store;
 *  - a tree changed within the racy window is not stamped: nothing is
 *    remembered or found;
 *  - without dtlsudpSessionFile and without a session file, nothing is
 *    read or created;
 *  - a memo is written and used only while its files hold the
 *    certificates it remembers; a certificate file's SHA-256 (PEM or DER)
 *    is its certificate's;
 *  - certs.c's trust store and pins answer the same from the memo as
 *    from the store.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "snmp_internal.h"
#include "snmpstore.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#define APP "test-certmemo"

static dtlsudp_snmp_cert_memo sample;

static int sha_of(X509 *x, uint8_t out[32])
{
    unsigned n = 32;

    return X509_digest(x, EVP_sha256(), out, &n) == 1 ? 0 : -1;
}

static int group_setup(void **state)
{
    (void)state;
    if (store_make() == NULL || store_write("snmp.conf", "dtlsudpSessionFile yes\n") != 0)
        return -1;
    dtlsudp_snmp_config_register();
    store_init_snmp(APP, 0);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    dtlsudp_snmp_cert_memo_set_racy(-1);
    dtlsudp_snmp_sessions_clear();
    store_remove(APP);
    return 0;
}

/* Each test: the setting on, no session file yet, no racy window. */
static int setup(void **state)
{
    char dir[600], cmd[700], on[] = "dtlsudpSessionFile yes";

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", store_path("dtlsudp", dir, sizeof(dir)));
    if (system(cmd) != 0)
        return -1;
    netsnmp_config(on);
    dtlsudp_snmp_sessions_clear();
    dtlsudp_snmp_cert_memo_set_racy(0);
    dtlsudp_snmp_cert_memo_reset();
    /* server.crt and ca.crt: the changes below touch neither */
    memset(&sample, 0, sizeof(sample));
    sample.found = 1;
    sample.n_files = 2;
    store_path("tls/certs/server.crt", sample.files[0], sizeof(sample.files[0]));
    store_path("tls/ca-certs/ca.crt", sample.files[1], sizeof(sample.files[1]));
    return sha_of(tc_get()->server.cert, sample.sha256[0]) != 0 || sha_of(tc_get()->ca.cert, sample.sha256[1]) != 0
               ? -1
               : 0;
}

/* A new process: nothing in memory, the tree stamped again. */
static void new_process(void)
{
    dtlsudp_snmp_sessions_clear();
    dtlsudp_snmp_cert_memo_reset();
}

static int found(int kind, const char *spec)
{
    dtlsudp_snmp_cert_memo m;

    return dtlsudp_snmp_cert_memo_get(kind, spec, 0, &m) == 0;
}

static void round_trip(void **state)
{
    dtlsudp_snmp_cert_memo m, fp = {0};

    (void)state;
    dtlsudp_snmp_cert_memo_put(DTLSUDP_SNMP_CERT_TRUST, "ca", &sample);
    dtlsudp_snmp_cert_memo_put(DTLSUDP_SNMP_CERT_PEER, "AB:CD", &fp);
    new_process();
    assert_int_equal(dtlsudp_snmp_cert_memo_get(DTLSUDP_SNMP_CERT_TRUST, "ca", 0, &m), 0);
    assert_int_equal(m.found, 1);
    assert_int_equal(m.n_files, 2);
    assert_memory_equal(m.sha256, sample.sha256, sizeof(m.sha256[0]) * 2);
    assert_string_equal(m.files[0], sample.files[0]);
    assert_string_equal(m.files[1], sample.files[1]);
    assert_int_equal(dtlsudp_snmp_cert_memo_get(DTLSUDP_SNMP_CERT_PEER, "AB:CD", 0, &m), 0);
    assert_int_equal(m.found, 0);
    assert_int_equal(m.n_files, 0);
    /* the kind and the value are part of the key */
    assert_false(found(DTLSUDP_SNMP_CERT_PEER, "ca"));
    assert_false(found(DTLSUDP_SNMP_CERT_IDENTITY, "ca"));
    assert_false(found(DTLSUDP_SNMP_CERT_TRUST, "ca2"));
    assert_false(found(DTLSUDP_SNMP_CERT_TRUST, "CA"));
}

/* The session file's bytes. */
static void session_file(uint8_t *buf, size_t cap, size_t *len)
{
    char path[600];
    FILE *f = fopen(store_path("dtlsudp/sessions", path, sizeof(path)), "rb");

    assert_non_null(f);
    *len = fread(buf, 1, cap, f);
    fclose(f);
    assert_true(*len > 0 && *len < cap);
}

/* Remember, change the tree, and look again as a new process. */
static void change_hides(void (*change)(void), const char *what)
{
    new_process();
    dtlsudp_snmp_cert_memo_put(DTLSUDP_SNMP_CERT_IDENTITY, "client", &sample);
    new_process();
    assert_true(found(DTLSUDP_SNMP_CERT_IDENTITY, "client"));
    usleep(30 * 1000); /* past the file system's time stamp granularity */
    change();
    /* the process that stamped before keeps its view */
    assert_true(found(DTLSUDP_SNMP_CERT_IDENTITY, "client"));
    new_process();
    if (found(DTLSUDP_SNMP_CERT_IDENTITY, "client"))
        fail_msg("still found after: %s", what);
}

static void add_file(void)
{
    assert_int_equal(store_add(&tc_get()->client2, "added", NULL), 0);
}

static void rewrite_same_bytes(void)
{
    char path[600], bytes[8192];
    size_t n;
    FILE *f;

    store_path("tls/certs/client2.crt", path, sizeof(path));
    assert_non_null(f = fopen(path, "r"));
    n = fread(bytes, 1, sizeof(bytes), f);
    fclose(f);
    assert_true(n > 0 && n < sizeof(bytes));
    assert_non_null(f = fopen(path, "w")); /* the same inode, truncated */
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* As rewrite_same_bytes(), with the modification time put back (touch
 * -d): only the change time, which no one can set, tells. */
static void rewrite_keeping_mtime(void)
{
    char path[600];
    struct stat st;
    struct timespec times[2];

    store_path("tls/certs/client2.crt", path, sizeof(path));
    assert_int_equal(stat(path, &st), 0);
    rewrite_same_bytes();
    times[0] = st.st_atim;
    times[1] = st.st_mtim;
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

static void chmod_key(void)
{
    char path[600];

    assert_int_equal(chmod(store_path("tls/private/client.key", path, sizeof(path)), 0400), 0);
}

static void rename_file(void)
{
    char from[600], to[600];

    store_path("tls/certs/client2.crt", from, sizeof(from));
    store_path("tls/certs/client3.crt", to, sizeof(to));
    assert_int_equal(rename(from, to), 0);
}

static void remove_file(void)
{
    char path[600];

    assert_int_equal(unlink(store_path("tls/certs/client3.crt", path, sizeof(path))), 0);
}

/* A name of 250 characters (the stamp's record of it must not overflow). */
static void add_long_name(void)
{
    char name[300];

    memset(name, 'n', 250);
    name[250] = '\0';
    assert_int_equal(store_add(&tc_get()->client2, name, NULL), 0);
}

static void every_change_hides_it(void **state)
{
    (void)state;
    change_hides(add_file, "a file added");
    change_hides(rewrite_same_bytes, "a file rewritten with the same bytes");
    change_hides(rewrite_keeping_mtime, "a file rewritten, its modification time put back");
    change_hides(chmod_key, "a key chmod-ed");
    change_hides(rename_file, "a file renamed");
    change_hides(remove_file, "a file removed");
    change_hides(add_long_name, "a file with a long name added");
}

/* A file rewritten with another certificate: the memo naming it is not
 * used even by a process whose stamp is older, and a memo whose file does
 * not hold its certificate is never written. */
static void files_are_checked(void **state)
{
    static uint8_t before[1 << 20], after[1 << 20];
    size_t before_len, after_len;
    dtlsudp_snmp_cert_memo m;

    (void)state;
    new_process();
    assert_int_equal(store_add(&tc_get()->client2, "peer", NULL), 0);
    memset(&m, 0, sizeof(m));
    m.found = 1;
    m.n_files = 1;
    store_path("tls/certs/peer.crt", m.files[0], sizeof(m.files[0]));
    assert_int_equal(sha_of(tc_get()->client2.cert, m.sha256[0]), 0);
    new_process();
    dtlsudp_snmp_cert_memo_put(DTLSUDP_SNMP_CERT_PEER, "peer", &m);
    assert_true(found(DTLSUDP_SNMP_CERT_PEER, "peer"));
    assert_int_equal(store_add(&tc_get()->server, "peer", NULL), 0);
    assert_false(found(DTLSUDP_SNMP_CERT_PEER, "peer")); /* same stamp, other bytes */
    new_process();
    session_file(before, sizeof(before), &before_len);
    dtlsudp_snmp_cert_memo_put(DTLSUDP_SNMP_CERT_PEER, "peer", &m); /* client2's SHA-256: refused */
    session_file(after, sizeof(after), &after_len);
    assert_int_equal(after_len, before_len);
    assert_memory_equal(after, before, before_len);
    assert_false(found(DTLSUDP_SNMP_CERT_PEER, "peer"));
}

/* The SHA-256 of a certificate file, PEM or DER, is its certificate's;
 * a key or a missing file has none. */
static void file_sha256(void **state)
{
    uint8_t want[32], got[32];
    char pem[600], der[600];
    unsigned char *bytes = NULL;
    int len;
    FILE *f;

    (void)state;
    assert_int_equal(sha_of(tc_get()->client.cert, want), 0);
    assert_int_equal(dtlsudp_snmp_cert_file_sha256(store_path("tls/certs/client.crt", pem, sizeof(pem)), got), 0);
    assert_memory_equal(got, want, 32);
    assert_true((len = i2d_X509(tc_get()->client.cert, &bytes)) > 0);
    assert_non_null(f = fopen(store_path("client.der", der, sizeof(der)), "w"));
    assert_int_equal(fwrite(bytes, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    OPENSSL_free(bytes);
    memset(got, 0, sizeof(got));
    assert_int_equal(dtlsudp_snmp_cert_file_sha256(der, got), 0);
    assert_memory_equal(got, want, 32);
    assert_int_equal(dtlsudp_snmp_cert_file_sha256(store_path("tls/private/server.key", pem, sizeof(pem)), got), -1);
    assert_int_equal(dtlsudp_snmp_cert_file_sha256(store_path("no-such.crt", pem, sizeof(pem)), got), -1);
}

/* A tree changed within the window is not stamped: a memo is neither
 * kept nor found until it settles. */
static void racy_tree_is_not_stamped(void **state)
{
    (void)state;
    dtlsudp_snmp_cert_memo_set_racy(-1); /* the default, 2 s */
    new_process();
    add_file(); /* now */
    dtlsudp_snmp_cert_memo_put(DTLSUDP_SNMP_CERT_TRUST, "ca", &sample);
    dtlsudp_snmp_cert_memo_set_racy(0);
    new_process();
    assert_false(found(DTLSUDP_SNMP_CERT_TRUST, "ca"));
    dtlsudp_snmp_cert_memo_put(DTLSUDP_SNMP_CERT_TRUST, "ca", &sample);
    dtlsudp_snmp_cert_memo_set_racy(-1);
    new_process();
    assert_false(found(DTLSUDP_SNMP_CERT_TRUST, "ca"));
}

/* Without the setting, only line checks read the session file, and
 * without the file nothing is read and nothing is created. */
static void nothing_without_the_setting(void **state)
{
    char dir[600], cmd[700], off[] = "dtlsudpSessionFile no";
    dtlsudp_snmp_cert_memo m;
    struct stat st;

    (void)state;
    /* a session file there, the setting off: only line checks read it */
    new_process();
    dtlsudp_snmp_cert_memo_put(DTLSUDP_SNMP_CERT_TRUST, "ca", &sample);
    netsnmp_config(off);
    assert_int_equal(dtlsudp_snmp_settings_get()->session_file, 0);
    new_process();
    assert_int_equal(dtlsudp_snmp_cert_memo_get(DTLSUDP_SNMP_CERT_TRUST, "ca", 1, &m), 0);
    assert_false(found(DTLSUDP_SNMP_CERT_TRUST, "ca"));
    /* no session file, the setting off: nothing read, nothing created */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", store_path("dtlsudp", dir, sizeof(dir)));
    assert_int_equal(system(cmd), 0);
    new_process();
    dtlsudp_snmp_cert_memo_put(DTLSUDP_SNMP_CERT_TRUST, "ca", &sample);
    assert_false(found(DTLSUDP_SNMP_CERT_TRUST, "ca"));
    assert_int_equal(dtlsudp_snmp_cert_memo_get(DTLSUDP_SNMP_CERT_TRUST, "ca", 1, &sample), -1);
    assert_int_equal(stat(store_path("dtlsudp", dir, sizeof(dir)), &st), -1);
}

/* x is one of the store's certificates. */
static int store_has(X509_STORE *store, X509 *x)
{
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
    int i;

    for (i = 0; i < sk_X509_OBJECT_num(objs); i++) {
        X509 *c = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        if (c != NULL && X509_cmp(c, x) == 0)
            return 1;
    }
    return 0;
}

static int resolved_before(const char *spec)
{
    char line[400];

    snprintf(line, sizeof(line), "%.300s: as resolved before", spec);
    return strstr(store_log(), line) != NULL;
}

/* As a new process: the trust store of trustCert ca, the pin of peerCert
 * server and of peerCert fp. */
static X509_STORE *ask_as_new_process(const char *fp, dtlsudp_fingerprint *pin, dtlsudp_fingerprint *raw)
{
    X509_STORE *store;

    new_process();
    store_log_clear();
    assert_non_null(store = dtlsudp_snmp_certs_trust_store("ca"));
    assert_int_equal(dtlsudp_snmp_certs_peer_fingerprint("server", pin), 0);
    assert_int_equal(dtlsudp_snmp_certs_peer_fingerprint(fp, raw), 0);
    return store;
}

/* The consumers (certs.c): a trustCert, a peerCert file and a peerCert
 * fingerprint give the same answers from the memo as from the store, and
 * the memo is what answers the second time. */
static void consumers_answer_the_same(void **state)
{
    dtlsudp_fingerprint pin1, pin2, raw1, raw2;
    char fp[200];
    X509_STORE *first, *second;

    (void)state;
    snmp_set_do_debugging(1);
    debug_register_tokens("dtlsudp:cert");
    /* a pin of no certificate the store has */
    for (size_t i = 0; i < 32; i++)
        snprintf(fp + 3 * i, sizeof(fp) - 3 * i, i < 31 ? "%02X:" : "%02X", (unsigned)(0x5A ^ i));
    first = ask_as_new_process(fp, &pin1, &raw1);
    assert_false(resolved_before("ca"));
    assert_false(resolved_before("server"));
    second = ask_as_new_process(fp, &pin2, &raw2);
    assert_true(resolved_before("ca"));
    assert_true(resolved_before("server"));
    assert_true(resolved_before(fp));
    assert_true(store_has(first, tc_get()->ca.cert));
    assert_true(store_has(second, tc_get()->ca.cert));
    assert_int_equal(pin1.len, pin2.len);
    assert_memory_equal(pin1.bytes, pin2.bytes, pin1.len);
    assert_int_equal(raw1.len, raw2.len);
    assert_memory_equal(raw1.bytes, raw2.bytes, raw1.len);
    X509_STORE_free(first);
    X509_STORE_free(second);
    snmp_set_do_debugging(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(round_trip, setup),
        cmocka_unit_test_setup(every_change_hides_it, setup),
        cmocka_unit_test_setup(racy_tree_is_not_stamped, setup),
        cmocka_unit_test_setup(nothing_without_the_setting, setup),
        cmocka_unit_test_setup(files_are_checked, setup),
        cmocka_unit_test_setup(file_sha256, setup),
        cmocka_unit_test_setup(consumers_answer_the_same, setup),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
