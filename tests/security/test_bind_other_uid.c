/*
 * test_bind_other_uid.c - another local user cannot bind the listener's
 * address and port, in either demultiplexer.  The listener holds
 * 0.0.0.0:P (run as root); a child that dropped to `nobody' tries to bind
 * 127.0.0.1:P with SO_REUSEADDR and with SO_REUSEPORT: both must fail with
 * EADDRINUSE (with SO_REUSEADDR on the osnet listener the first one
 * succeeded and received the traffic for 127.0.0.1:P).  Exit 77 (skip)
 * when not run as root.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sec_common.h"

#define NOBODY 65534

/* In the child: 0 when both binds fail with EADDRINUSE, else a bit per success. */
static int try_binds(unsigned port)
{
    static const int opts[] = {SO_REUSEADDR, SO_REUSEPORT};
    int bad = 0;
    for (int i = 0; i < 2; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int one = 1, fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, opts[i], &one, sizeof(one)) != 0)
            return 64;
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
            fprintf(stderr, "uid %u bound 127.0.0.1:%u with %s\n", (unsigned)geteuid(), port,
                    i == 0 ? "SO_REUSEADDR" : "SO_REUSEPORT");
            bad |= 1 << i;
        } else if (errno != EADDRINUSE) {
            bad |= 16 << i;
        }
        close(fd);
    }
    return bad;
}

static void check(int demux, const char *name)
{
    dtlsudp_listener_config cfg;
    dtlsudp_listener *l = NULL;

    sec_listener_config(&cfg, demux);
    if (dtlsudp_listener_new("0.0.0.0:0", &cfg, dtlsudp_now(), &l) != DTLSUDP_OK)
        SEC_FAIL("listener");
    unsigned port = ntohs(dtlsudp_listener_local_addr(l)->sin.sin_port);
    pid_t pid = fork();
    if (pid < 0)
        SEC_FAIL("fork");
    if (pid == 0) {
        if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
            _exit(100);
        _exit(try_binds(port));
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        SEC_FAIL("child");
    int rc = WEXITSTATUS(status);
    /* and a legitimate client is still served (per-peer sockets work) */
    char p[8];
    snprintf(p, sizeof(p), "%u", port);
    long ms = sec_handshake(l, p, 3000);
    dtlsudp_listener_free(l);
    printf("%s: listener 0.0.0.0:%u; uid %d binding 127.0.0.1:%u: SO_REUSEADDR %s, SO_REUSEPORT %s; "
           "handshake %ld ms\n",
           name, port, NOBODY, port, rc & 1 ? "BOUND" : "refused", rc & 2 ? "BOUND" : "refused", ms);
    if (rc == 100)
        SEC_FAIL("cannot drop to uid %d", NOBODY);
    if (rc != 0)
        SEC_FAIL("%s: another uid could bind the listener's address (code %d)", name, rc);
    if (ms < 0)
        SEC_FAIL("%s: handshake failed", name);
}

int main(void)
{
    if (geteuid() != 0) {
        printf("SKIP: needs root to switch to another uid\n");
        return 77;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    sec_certs();
    check(DTLSUDP_DEMUX_ROUTER, "router");
    check(DTLSUDP_DEMUX_OSNET, "osnet");
    return 0;
}
