/* Output made before a trap must survive it. */
#include <stdio.h>
#include <string.h>

__attribute__((noinline)) static int crash(int depth) {
    if (depth == 0) __builtin_trap();
    return crash(depth - 1) + 1;
}

int main(int argc, char **argv) {
    printf("before trap\n");
    fflush(stdout);
    if (argc > 1 && strcmp(argv[1], "oob") == 0) {
        volatile int *p = (int *)0x7ffffff0;
        return *p;
    }
    return crash(3);
}
