/*
 * program.c - dtlsudp-checkconf's main(): everything else is in main.c,
 * where the tests reach it (tests/checkconf/test_main.c).
 */
#include <config.h>

#include "checkconf.h"

int main(int argc, char **argv)
{
    return cc_main(argc, argv);
}
