/*
 * list.h - the one intrusive doubly linked list of the tree (in the spirit
 * of BSD's TAILQ and Linux's list_head): a dtlsudp_link embedded in each
 * element, a circular head.  Not installed.
 */
#ifndef DTLSUDP_LIST_H
#define DTLSUDP_LIST_H

typedef struct dtlsudp_link {
    struct dtlsudp_link *prev, *next;
} dtlsudp_link;

static inline void dtlsudp_link_init(dtlsudp_link *l)
{
    l->prev = l->next = l;
}

static inline int dtlsudp_link_empty(const dtlsudp_link *head)
{
    return head->next == head;
}

static inline void dtlsudp_link_remove(dtlsudp_link *l)
{
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->prev = l->next = l;
}

static inline void dtlsudp_link_append(dtlsudp_link *head, dtlsudp_link *l)
{
    l->prev = head->prev;
    l->next = head;
    head->prev->next = l;
    head->prev = l;
}

#endif

