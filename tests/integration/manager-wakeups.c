/*
 * manager-wakeups.c - does the transport's fd stay quiet between requests?
 *
 *   manager-wakeups COUNT SNMP-ARGUMENTS... AGENT OID
 *
 * Opens one session (snmp_sess_open, as any single-session Net-SNMP
 * application), sends COUNT synchronous GETs, and after each response
 * polls the session's transport fd without waiting.  The response has been
 * read and nothing else is owed, so a readable fd there is a wake-up for
 * nothing: the application's next select() would return at once and run
 * the transport's receive hook in vain, once per message.
 *
 * Prints "gets=N ok=N readable=N"; exit status 0 when every GET was
 * answered and the fd was never readable, 1 otherwise, 2 on a usage or
 * setup error.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

int main(int argc, char **argv)
{
    netsnmp_session session, *sp;
    netsnmp_transport *t;
    oid name[MAX_OID_LEN];
    size_t name_len = MAX_OID_LEN;
    void *ss;
    int count, arg, i, ok = 0, readable = 0;

    if (argc < 4 || (count = atoi(argv[1])) <= 0) {
        fprintf(stderr, "usage: manager-wakeups COUNT SNMP-ARGUMENTS... AGENT OID\n");
        return 2;
    }
    /* snmp_parse_args sees the arguments after COUNT, as snmpget would. */
    argv[1] = argv[0];
    argc--;
    argv++;
    arg = snmp_parse_args(argc, argv, &session, "", NULL);
    if (arg < 0 || arg >= argc) {
        fprintf(stderr, "manager-wakeups: no OID\n");
        return 2;
    }
    if (!snmp_parse_oid(argv[argc - 1], name, &name_len)) {
        fprintf(stderr, "manager-wakeups: bad OID %s\n", argv[argc - 1]);
        return 2;
    }
    if ((ss = snmp_sess_open(&session)) == NULL || (sp = snmp_sess_session(ss)) == NULL) {
        snmp_perror("manager-wakeups: snmp_sess_open");
        return 2;
    }
    for (i = 0; i < count; i++) {
        netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET), *response = NULL;
        struct pollfd p;

        snmp_add_null_var(pdu, name, name_len);
        if (snmp_sess_synch_response(ss, pdu, &response) == STAT_SUCCESS && response != NULL &&
            response->errstat == SNMP_ERR_NOERROR)
            ok++;
        if (response != NULL)
            snmp_free_pdu(response);
        if ((t = snmp_sess_transport(ss)) == NULL || t->sock < 0)
            break;
        p.fd = t->sock;
        p.events = POLLIN;
        p.revents = 0;
        if (poll(&p, 1, 0) > 0)
            readable++;
    }
    printf("gets=%d ok=%d readable=%d\n", count, ok, readable);
    snmp_sess_close(ss);
    return ok == count && readable == 0 ? 0 : 1;
}
