/*
 * config.c - dtlsudp-proxy's configuration: a small INI-like file, one
 * section per service, and the same keys on the command line.
 *
 *   # comment
 *   [server syslog]              terminate DTLS, forward to a UDP service
 *   listen   [::]:6514
 *   forward  127.0.0.1:514
 *   cert     /etc/dtlsudp-proxy/server.pem
 *   key      /etc/dtlsudp-proxy/server.key
 *   ca       /etc/dtlsudp-proxy/ca.pem
 *
 *   [client snmp]                originate DTLS for plain UDP clients
 *   listen   127.0.0.1:1161
 *   connect  agent.example.com:10161
 *   hostname agent.example.com
 *   ...
 *
 * Every error names the file, the line and the reason.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

static void set_err(char *err, size_t errcap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errcap, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errcap == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
}

static int set_string(char **slot, const char *value, char *err, size_t errcap)
{
    char *copy = strdup(value);
    if (copy == NULL) {
        set_err(err, errcap, "out of memory");
        return -1;
    }
    free(*slot);
    *slot = copy;
    return 0;
}

/* A count in 1..limit. */
static int set_count(size_t *slot, const char *key, const char *value, unsigned long limit, char *err,
                     size_t errcap)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || value[0] == '-' || v < 1 || v > limit) {
        set_err(err, errcap, "%s: '%s' is not a number from 1 to %lu", key, value, limit);
        return -1;
    }
    *slot = v;
    return 0;
}

/* Seconds in 1..limit, kept in milliseconds. */
static int set_seconds(dtlsudp_time *slot, const char *key, const char *value, unsigned long limit,
                       char *err, size_t errcap)
{
    size_t v;
    if (set_count(&v, key, value, limit, err, errcap) != 0)
        return -1;
    *slot = (dtlsudp_time)v * 1000;
    return 0;
}

int proxy_split_host_port(const char *text, char **host, char **port)
{
    const char *colon, *h = text, *hend;
    *host = *port = NULL;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        h = text + 1;
        hend = close;
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (colon == NULL || strchr(text, ':') != colon) /* a bare IPv6 literal needs brackets */
            return -1;
        hend = colon;
    }
    if (hend == h || colon[1] == '\0')
        return -1;
    for (const char *p = colon + 1; *p != '\0'; p++)
        if (!isdigit((unsigned char)*p))
            return -1;
    long n = strtol(colon + 1, NULL, 10);
    if (n < 1 || n > 65535)
        return -1;
    *host = strndup(h, (size_t)(hend - h));
    *port = strdup(colon + 1);
    if (*host == NULL || *port == NULL) {
        free(*host);
        free(*port);
        *host = *port = NULL;
        return -1;
    }
    return 0;
}

/* A numeric address with an explicit port (listen, forward). */
static int set_address(char **slot, const char *key, const char *value, int need_host, char *err,
                       size_t errcap)
{
    dtlsudp_addr a;
    if (dtlsudp_addr_parse(value, 0, &a) != DTLSUDP_OK) {
        set_err(err, errcap, "%s: '%s' is not a numeric address with a port (1.2.3.4:P, [::1]:P)", key,
                value);
        return -1;
    }
    /* The port must be written out; "listen ...:0" takes any free port
     * (logged at start), a service cannot be at port 0. */
    dtlsudp_addr other;
    uint16_t port = a.sa.sa_family == AF_INET ? a.sin.sin_port : a.sin6.sin6_port;
    if (dtlsudp_addr_parse(value, 1, &other) != DTLSUDP_OK ||
        (other.sa.sa_family == AF_INET ? other.sin.sin_port : other.sin6.sin6_port) != port) {
        set_err(err, errcap, "%s: '%s' has no port", key, value);
        return -1;
    }
    if (port == 0 && need_host) {
        set_err(err, errcap, "%s: '%s': port 0", key, value);
        return -1;
    }
    if (need_host && ((a.sa.sa_family == AF_INET && a.sin.sin_addr.s_addr == 0) ||
                      (a.sa.sa_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&a.sin6.sin6_addr)))) {
        set_err(err, errcap, "%s: '%s' is a wildcard; name the service's address", key, value);
        return -1;
    }
    return set_string(slot, value, err, errcap);
}

int proxy_service_set(proxy_service_config *s, const char *key, const char *value, char *err, size_t errcap)
{
    if (value[0] == '\0') {
        set_err(err, errcap, "%s: missing value", key);
        return -1;
    }
    if (strcmp(key, "listen") == 0)
        return set_address(&s->listen, key, value, 0, err, errcap);
    if (strcmp(key, "forward") == 0)
        return set_address(&s->forward, key, value, 1, err, errcap);
    if (strcmp(key, "connect") == 0) {
        char *host, *port;
        if (proxy_split_host_port(value, &host, &port) != 0) {
            set_err(err, errcap, "connect: '%s' is not HOST:PORT (IPv6 literals in brackets)", value);
            return -1;
        }
        free(s->connect_host);
        free(s->connect_port);
        s->connect_host = host;
        s->connect_port = port;
        return 0;
    }
    if (strcmp(key, "hostname") == 0)
        return set_string(&s->hostname, value, err, errcap);
    if (strcmp(key, "cert") == 0)
        return set_string(&s->cert_file, value, err, errcap);
    if (strcmp(key, "key") == 0)
        return set_string(&s->key_file, value, err, errcap);
    if (strcmp(key, "ca") == 0)
        return set_string(&s->ca_file, value, err, errcap);
    if (strcmp(key, "crl") == 0)
        return set_string(&s->crl_file, value, err, errcap);
    if (strcmp(key, "pin") == 0) {
        if (s->n_pins == PROXY_MAX_PINS) {
            set_err(err, errcap, "pin: at most %d pins per service", PROXY_MAX_PINS);
            return -1;
        }
        if (dtlsudp_fingerprint_parse(value, &s->pins[s->n_pins]) != DTLSUDP_OK) {
            set_err(err, errcap, "pin: '%s' is not a fingerprint (hex, SHA-1 to SHA-512)", value);
            return -1;
        }
        s->n_pins++;
        return 0;
    }
    if (strcmp(key, "demux") == 0) {
        if (strcmp(value, "osnet") == 0)
            s->demux = DTLSUDP_DEMUX_OSNET;
        else if (strcmp(value, "router") == 0)
            s->demux = DTLSUDP_DEMUX_ROUTER;
        else {
            set_err(err, errcap, "demux: '%s' is neither osnet nor router", value);
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "max-associations") == 0)
        return set_count(&s->max_assocs, key, value, 1000000, err, errcap);
    if (strcmp(key, "max-half-open") == 0)
        return set_count(&s->max_half_open, key, value, 100000, err, errcap);
    if (strcmp(key, "max-half-open-per-source") == 0)
        return set_count(&s->max_half_open_per_source, key, value, 100000, err, errcap);
    if (strcmp(key, "max-per-source") == 0)
        return set_count(&s->max_per_source, key, value, 1000000, err, errcap);
    if (strcmp(key, "max-sessions") == 0)
        return set_count(&s->max_sessions, key, value, 100000, err, errcap);
    if (strcmp(key, "handshake-timeout") == 0)
        return set_seconds(&s->handshake_timeout, key, value, 3600, err, errcap);
    if (strcmp(key, "idle-timeout") == 0)
        return set_seconds(&s->idle_timeout, key, value, 86400 * 7, err, errcap);
    set_err(err, errcap, "unknown key '%s'", key);
    return -1;
}

int proxy_service_validate(const proxy_service_config *s, char *err, size_t errcap)
{
    const char *what = s->mode == PROXY_MODE_SERVER ? "server" : "client";
    if (s->mode != PROXY_MODE_SERVER && s->mode != PROXY_MODE_CLIENT) {
        set_err(err, errcap, "service '%s' has no mode (server or client)", s->name);
        return -1;
    }
    if (s->listen == NULL) {
        set_err(err, errcap, "%s '%s': no listen address", what, s->name);
        return -1;
    }
    if (s->cert_file == NULL || s->key_file == NULL) {
        set_err(err, errcap, "%s '%s': cert and key are required (DTLS authenticates both ends)", what,
                s->name);
        return -1;
    }
    if (s->crl_file != NULL && s->ca_file == NULL) {
        set_err(err, errcap, "%s '%s': crl needs ca (a CRL is checked against its issuer)", what, s->name);
        return -1;
    }
    if (s->mode == PROXY_MODE_SERVER) {
        if (s->forward == NULL) {
            set_err(err, errcap, "server '%s': no forward address", s->name);
            return -1;
        }
        if (s->connect_host != NULL || s->hostname != NULL || s->max_sessions != 0) {
            set_err(err, errcap, "server '%s': connect, hostname and max-sessions are client keys", s->name);
            return -1;
        }
        if (s->ca_file == NULL && s->n_pins == 0) {
            set_err(err, errcap, "server '%s': no ca and no pin: no client could be authenticated", s->name);
            return -1;
        }
    } else {
        if (s->connect_host == NULL) {
            set_err(err, errcap, "client '%s': no connect address", s->name);
            return -1;
        }
        if (s->forward != NULL || s->demux != DTLSUDP_DEMUX_DEFAULT) {
            set_err(err, errcap, "client '%s': forward and demux are server keys", s->name);
            return -1;
        }
        /* RFC 6353 5.3.1 / RFC 6125: a client that neither pins nor checks
         * a name would accept any certificate its CA ever issued. */
        if (s->n_pins == 0 && (s->ca_file == NULL || s->hostname == NULL)) {
            set_err(err, errcap, "client '%s': the server is not authenticated: give pin, or ca and hostname",
                    s->name);
            return -1;
        }
    }
    return 0;
}

proxy_service_config *proxy_config_add(proxy_config *cfg, const char *name)
{
    proxy_service_config *v = realloc(cfg->services, (cfg->n_services + 1) * sizeof(*v));
    if (v == NULL)
        return NULL;
    cfg->services = v;
    proxy_service_config *s = &v[cfg->n_services++];
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", name);
    snprintf(s->origin, sizeof(s->origin), "command line");
    return s;
}

static void service_free(proxy_service_config *s)
{
    free(s->listen);
    free(s->forward);
    free(s->connect_host);
    free(s->connect_port);
    free(s->hostname);
    free(s->cert_file);
    free(s->key_file);
    free(s->ca_file);
    free(s->crl_file);
}

void proxy_config_free(proxy_config *cfg)
{
    for (size_t i = 0; i < cfg->n_services; i++)
        service_free(&cfg->services[i]);
    free(cfg->services);
    cfg->services = NULL;
    cfg->n_services = 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static int valid_name(const char *name)
{
    if (name[0] == '\0' || strlen(name) >= PROXY_NAME_MAX)
        return 0;
    for (const char *p = name; *p != '\0'; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return 0;
    return 1;
}

/* "[server NAME]" or "[client NAME]". */
static int parse_section(proxy_config *cfg, char *line, const char *file, unsigned lineno, char *err,
                         size_t errcap)
{
    char *close = strchr(line, ']');
    if (close == NULL || trim(close + 1)[0] != '\0') {
        set_err(err, errcap, "%s:%u: a section is [server NAME] or [client NAME]", file, lineno);
        return -1;
    }
    *close = '\0';
    char *body = trim(line + 1), *name = body;
    while (*name != '\0' && !isspace((unsigned char)*name))
        name++;
    if (*name != '\0')
        *name++ = '\0';
    name = trim(name);
    int mode = strcmp(body, "server") == 0 ? PROXY_MODE_SERVER
               : strcmp(body, "client") == 0 ? PROXY_MODE_CLIENT
                                              : PROXY_MODE_NONE;
    if (mode == PROXY_MODE_NONE) {
        set_err(err, errcap, "%s:%u: unknown section kind '%s' (server or client)", file, lineno, body);
        return -1;
    }
    if (!valid_name(name)) {
        set_err(err, errcap, "%s:%u: a service needs a name of letters, digits, '-', '_', '.'", file, lineno);
        return -1;
    }
    for (size_t i = 0; i < cfg->n_services; i++)
        if (strcmp(cfg->services[i].name, name) == 0) {
            set_err(err, errcap, "%s:%u: service '%s' is already defined at %s", file, lineno, name,
                    cfg->services[i].origin);
            return -1;
        }
    proxy_service_config *s = proxy_config_add(cfg, name);
    if (s == NULL) {
        set_err(err, errcap, "%s:%u: out of memory", file, lineno);
        return -1;
    }
    s->mode = mode;
    snprintf(s->origin, sizeof(s->origin), "%s:%u", file, lineno);
    return 0;
}

int proxy_config_parse(proxy_config *cfg, const char *text, const char *file, char *err, size_t errcap)
{
    char *copy = strdup(text), *next = copy;
    unsigned lineno = 0;
    int ret = -1;
    if (copy == NULL) {
        set_err(err, errcap, "%s: out of memory", file);
        return -1;
    }
    while (next != NULL) {
        char *line = next, msg[256];
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        lineno++;
        char *hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        line = trim(line);
        if (line[0] == '\0')
            continue;
        if (line[0] == '[') {
            if (parse_section(cfg, line, file, lineno, err, errcap) != 0)
                goto Done;
            continue;
        }
        if (cfg->n_services == 0) {
            set_err(err, errcap, "%s:%u: '%s' outside a [server NAME] or [client NAME] section", file, lineno,
                    line);
            goto Done;
        }
        char *value = line;
        while (*value != '\0' && !isspace((unsigned char)*value))
            value++;
        if (*value != '\0')
            *value++ = '\0';
        if (proxy_service_set(&cfg->services[cfg->n_services - 1], line, trim(value), msg, sizeof(msg)) != 0) {
            set_err(err, errcap, "%s:%u: %s", file, lineno, msg);
            goto Done;
        }
    }
    for (size_t i = 0; i < cfg->n_services; i++) {
        char msg[256];
        proxy_service_config *s = &cfg->services[i];
        if (proxy_service_validate(s, msg, sizeof(msg)) != 0) {
            set_err(err, errcap, "%s: %s", s->origin, msg);
            goto Done;
        }
    }
    ret = 0;
Done:
    free(copy);
    return ret;
}

int proxy_config_load(proxy_config *cfg, const char *path, char *err, size_t errcap)
{
    FILE *f = fopen(path, "r");
    char *text = NULL;
    size_t len = 0;
    if (f == NULL) {
        set_err(err, errcap, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* A configuration file is small; a huge one is a mistake. */
    text = malloc(1024 * 1024 + 1);
    if (text != NULL)
        len = fread(text, 1, 1024 * 1024 + 1, f);
    int bad = ferror(f) || len > 1024 * 1024 || text == NULL;
    fclose(f);
    if (bad) {
        set_err(err, errcap, "%s: %s", path, text == NULL ? "out of memory" : "unreadable or larger than 1 MiB");
        free(text);
        return -1;
    }
    text[len] = '\0';
    if (memchr(text, '\0', len) != NULL) {
        set_err(err, errcap, "%s: not a text file", path);
        free(text);
        return -1;
    }
    int ret = proxy_config_parse(cfg, text, path, err, errcap);
    free(text);
    return ret;
}

void proxy_engine_config(const proxy_service_config *s, dtlsudp_engine_config *e)
{
    e->cert_file = s->cert_file;
    e->key_file = s->key_file;
    e->ca_file = s->ca_file;
    e->crl_file = s->crl_file;
    if (s->max_assocs != 0)
        e->max_assocs = s->max_assocs;
    if (s->max_half_open != 0)
        e->max_half_open = s->max_half_open;
    if (s->max_half_open_per_source != 0)
        e->max_half_open_per_source = s->max_half_open_per_source;
    if (s->max_per_source != 0)
        e->max_per_source = s->max_per_source;
    if (s->handshake_timeout != 0)
        e->handshake_timeout = s->handshake_timeout;
    if (s->idle_timeout != 0)
        e->idle_timeout = s->idle_timeout;
}
