/*
 * list.h - the one intrusive doubly linked list of the tree, in the spirit
 * of BSD's TAILQ and Linux's list_head: each element embeds a dtlsudp_link,
 * a list is a circular head.  Used for FIFO queues (append, shift) and for
 * lists an element leaves from anywhere in O(1) (remove).  Not installed.
 *
 * A zero-filled head is an empty list and a zero-filled link is on no
 * list, so structures from calloc()/memset() need no init call; a link
 * leaves its list unlinked (zeroed), and removing an unlinked one does
 * nothing.  A head must not be copied by value while elements hang on it.
 */
#ifndef DTLSUDP_LIST_H
#define DTLSUDP_LIST_H

#include <stddef.h>

typedef struct dtlsudp_link {
    struct dtlsudp_link *prev, *next;
} dtlsudp_link;

/* The element of type `type' whose member `member' is the link l. */
#define DTLSUDP_LINK_OWNER(l, type, member) ((type *)(void *)((char *)(l) - offsetof(type, member)))

/* An empty list (a zero-filled head is one as well). */
static inline void dtlsudp_link_init(dtlsudp_link *head)
{
    head->prev = head->next = head;
}

static inline int dtlsudp_link_empty(const dtlsudp_link *head)
{
    return head->next == NULL || head->next == head;
}

/* l is on some list. */
static inline int dtlsudp_link_linked(const dtlsudp_link *l)
{
    return l->next != NULL && l->next != l;
}

/* Take l off its list; nothing if it is on none. */
static inline void dtlsudp_link_remove(dtlsudp_link *l)
{
    if (l->next == NULL)
        return;
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->prev = l->next = NULL;
}

static inline void dtlsudp_link_insert_between(dtlsudp_link *l, dtlsudp_link *prev, dtlsudp_link *next)
{
    l->prev = prev;
    l->next = next;
    prev->next = l;
    next->prev = l;
}

/* Put l (on no list) last. */
static inline void dtlsudp_link_append(dtlsudp_link *head, dtlsudp_link *l)
{
    if (head->next == NULL)
        dtlsudp_link_init(head);
    dtlsudp_link_insert_between(l, head->prev, head);
}

/* Put l (on no list) first. */
static inline void dtlsudp_link_prepend(dtlsudp_link *head, dtlsudp_link *l)
{
    if (head->next == NULL)
        dtlsudp_link_init(head);
    dtlsudp_link_insert_between(l, head, head->next);
}

/* The first element's link, or NULL when the list is empty. */
static inline dtlsudp_link *dtlsudp_link_first(const dtlsudp_link *head)
{
    return dtlsudp_link_empty(head) ? NULL : head->next;
}

/* The link after l on head's list, or NULL after the last. */
static inline dtlsudp_link *dtlsudp_link_next(const dtlsudp_link *head, const dtlsudp_link *l)
{
    return l->next == head ? NULL : l->next;
}

/* Take the first element off (FIFO order with append); NULL when empty. */
static inline dtlsudp_link *dtlsudp_link_shift(dtlsudp_link *head)
{
    dtlsudp_link *l = dtlsudp_link_first(head);

    if (l != NULL)
        dtlsudp_link_remove(l);
    return l;
}

/* for each link l on head's list, front to back; l may not be removed
 * inside (take the next one first for that). */
#define DTLSUDP_LINK_FOREACH(l, head) for ((l) = dtlsudp_link_first(head); (l) != NULL; (l) = dtlsudp_link_next((head), (l)))

#endif
