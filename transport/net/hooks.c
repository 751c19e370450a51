/*
 * hooks.c - forward the engine's callbacks to the caller's.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "net_internal.h"

static void fwd_log(void *self, int level, const char *message)
{
    const net_hooks *h = self;
    h->log(h->user, level, message);
}

static int fwd_random(void *self, uint8_t *buf, size_t len)
{
    const net_hooks *h = self;
    return h->random(h->user, buf, len);
}

static int fwd_verify(void *self, dtlsudp_assoc *a, const dtlsudp_peer_auth *auth)
{
    const net_hooks *h = self;
    return h->verify(h->user, a, auth);
}

void net_hooks_install(net_hooks *h, dtlsudp_engine_config *cfg, void *self,
                       void (*handler)(void *, dtlsudp_assoc *, int, int))
{
    h->on_event = cfg->on_event;
    h->log = cfg->log;
    h->random = cfg->random;
    h->verify = cfg->verify;
    h->user = cfg->user;
    /* Unset callbacks stay unset: the engine's defaults apply. */
    cfg->log = h->log != NULL ? fwd_log : NULL;
    cfg->random = h->random != NULL ? fwd_random : NULL;
    cfg->verify = h->verify != NULL ? fwd_verify : NULL;
    cfg->on_event = handler;
    cfg->user = self;
}

void net_hooks_event(const net_hooks *h, dtlsudp_assoc *a, int event, int reason)
{
    if (h->on_event != NULL)
        h->on_event(h->user, a, event, reason);
}

void net_hooks_log(const net_hooks *h, int level, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    if (h->log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    h->log(h->user, level, line);
}
