/*
 * ccmod.c - a loadable module for test_dlmod: init_ccmod() as a module
 * named "ccmod" has, and init_dtlsudp() so that it can stand for the
 * plugin on a `dlmod dtlsudp PATH' line.
 */
void init_ccmod(void);
void init_dtlsudp(void);

void init_ccmod(void)
{
}

void init_dtlsudp(void)
{
}
