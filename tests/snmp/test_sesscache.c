/* Unit tests: transport/snmp/sesscache.c (the manager's stored sessions). */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "snmp_internal.h"

static char base[] = "/tmp/dtlsudp-sesscache-XXXXXX";
static char path[600];

static void key_of(int i, uint8_t key[DTLSUDP_SNMP_SESSION_KEY_LEN])
{
    char text[32];

    snprintf(text, sizeof(text), "target %d", i);
    dtlsudp_snmp_session_key(text, key);
}

static int setup(void **state)
{
    (void)state;
    dtlsudp_snmp_sessions_clear();
    if (mkdtemp(strcpy(base, "/tmp/dtlsudp-sesscache-XXXXXX")) == NULL)
        return -1;
    dtlsudp_snmp_session_set_dir(base);
    snprintf(path, sizeof(path), "%s/dtlsudp/sessions", base);
    return 0;
}

static int teardown(void **state)
{
    char cmd[700];

    (void)state;
    dtlsudp_snmp_sessions_clear();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    return system(cmd) == 0 ? 0 : -1;
}

static void memory_only(void **state)
{
    uint8_t k1[32], k2[32], buf[64];
    size_t len = 0;

    (void)state;
    key_of(1, k1);
    key_of(2, k2);
    assert_int_equal(dtlsudp_snmp_session_get(k1, 0, buf, sizeof(buf), &len), -1);
    dtlsudp_snmp_session_put(k1, 0, (const uint8_t *)"one", 3);
    dtlsudp_snmp_session_put(k2, 0, (const uint8_t *)"two!", 4);
    assert_int_equal(dtlsudp_snmp_session_get(k1, 0, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(buf, "one", 3);
    dtlsudp_snmp_session_put(k1, 0, (const uint8_t *)"uno", 3); /* replaced */
    assert_int_equal(dtlsudp_snmp_session_get(k1, 0, buf, sizeof(buf), &len), 0);
    assert_memory_equal(buf, "uno", 3);
    assert_int_equal(dtlsudp_snmp_session_get(k2, 0, buf, 2, &len), -1); /* too small */
    dtlsudp_snmp_session_forget(k1, 0);
    assert_int_equal(dtlsudp_snmp_session_get(k1, 0, buf, sizeof(buf), &len), -1);
    assert_int_equal(dtlsudp_snmp_session_get(k2, 0, buf, sizeof(buf), &len), 0);
    /* no file unless asked for */
    assert_int_equal(access(path, F_OK), -1);
}

/* At most SESSCACHE_MAX entries; the least recently stored goes first. */
static void bounded(void **state)
{
    uint8_t key[32], buf[64];
    size_t len;
    int i;

    (void)state;
    for (i = 0; i < SESSCACHE_MAX + 5; i++) {
        key_of(i, key);
        dtlsudp_snmp_session_put(key, 0, (const uint8_t *)&i, sizeof(i));
    }
    for (i = 0; i < 5; i++) {
        key_of(i, key);
        assert_int_equal(dtlsudp_snmp_session_get(key, 0, buf, sizeof(buf), &len), -1);
    }
    for (; i < SESSCACHE_MAX + 5; i++) {
        key_of(i, key);
        assert_int_equal(dtlsudp_snmp_session_get(key, 0, buf, sizeof(buf), &len), 0);
        assert_memory_equal(buf, &i, sizeof(i));
    }
    /* too large: not kept */
    {
        static uint8_t big[SESSCACHE_MAX_BLOB + 1];
        key_of(1000, key);
        dtlsudp_snmp_session_put(key, 0, big, sizeof(big));
        assert_int_equal(dtlsudp_snmp_session_get(key, 0, buf, sizeof(buf), &len), -1);
    }
}

/* Another process finds the session in the file: 0600 in a 0700 directory. */
static void file_round_trip(void **state)
{
    uint8_t k1[32], k2[32], buf[64];
    size_t len = 0;
    struct stat st;

    (void)state;
    key_of(1, k1);
    key_of(2, k2);
    dtlsudp_snmp_session_put(k1, 1, (const uint8_t *)"first", 5);
    dtlsudp_snmp_session_put(k2, 1, (const uint8_t *)"second", 6);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    {
        char dir[600];
        snprintf(dir, sizeof(dir), "%s/dtlsudp", base);
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
    }
    dtlsudp_snmp_sessions_clear(); /* a new process */
    assert_int_equal(dtlsudp_snmp_session_get(k1, 0, buf, sizeof(buf), &len), -1);
    assert_int_equal(dtlsudp_snmp_session_get(k1, 1, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(buf, "first", 5);
    dtlsudp_snmp_session_forget(k1, 1);
    dtlsudp_snmp_sessions_clear();
    assert_int_equal(dtlsudp_snmp_session_get(k1, 1, buf, sizeof(buf), &len), -1);
    assert_int_equal(dtlsudp_snmp_session_get(k2, 1, buf, sizeof(buf), &len), 0);
    assert_memory_equal(buf, "second", 6);
}

/* A directory open to others, a file open to others, or a garbled file:
 * nothing is read from it (and nothing crashes). */
static void refused_and_garbled(void **state)
{
    uint8_t k1[32], buf[64];
    size_t len = 0;
    char dir[600];
    FILE *f;

    (void)state;
    key_of(1, k1);
    dtlsudp_snmp_session_put(k1, 1, (const uint8_t *)"first", 5);
    dtlsudp_snmp_sessions_clear();
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(dtlsudp_snmp_session_get(k1, 1, buf, sizeof(buf), &len), -1);
    assert_int_equal(chmod(path, 0600), 0);
    snprintf(dir, sizeof(dir), "%s/dtlsudp", base);
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(dtlsudp_snmp_session_get(k1, 1, buf, sizeof(buf), &len), -1);
    assert_int_equal(chmod(dir, 0700), 0);
    assert_int_equal(dtlsudp_snmp_session_get(k1, 1, buf, sizeof(buf), &len), 0); /* control */
    dtlsudp_snmp_sessions_clear();
    f = fopen(path, "r+");
    assert_non_null(f);
    assert_int_equal(fseek(f, 4, SEEK_SET), 0);
    fputs("\xff\xff\xff\xff garbage", f); /* count out of range */
    fclose(f);
    assert_int_equal(dtlsudp_snmp_session_get(k1, 1, buf, sizeof(buf), &len), -1);
    /* the next put starts the file again */
    dtlsudp_snmp_session_put(k1, 1, (const uint8_t *)"again", 5);
    dtlsudp_snmp_sessions_clear();
    assert_int_equal(dtlsudp_snmp_session_get(k1, 1, buf, sizeof(buf), &len), 0);
    assert_memory_equal(buf, "again", 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(memory_only, setup, teardown),
        cmocka_unit_test_setup_teardown(bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(file_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_and_garbled, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
