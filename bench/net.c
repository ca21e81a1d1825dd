/* bench/net.c: placeholder until written */
#include "bench.h"
int main(void) { return 0; }
