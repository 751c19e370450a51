/*
 * package-version-print - print dtlsudp_version() of the libdtlsudp it is
 * linked with (tests/integration/package-version.sh).
 */
#include <stdio.h>

#include "dtlsudp.h"

int main(void)
{
    puts(dtlsudp_version());
    return 0;
}
