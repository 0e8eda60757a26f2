/* argv and the environment reach the guest exactly as configured. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("argv[%d]=[%s] len=%zu\n", i, argv[i], strlen(argv[i]));
    int n = 0;
    for (char **e = environ; *e; e++, n++)
        printf("env[%d]=[%s]\n", n, *e);
    printf("nenv=%d\n", n);
    const char *v = getenv("GREETING");
    printf("GREETING=%s\n", v ? v : "(unset)");
    printf("HOME=%s\n", getenv("HOME") ? getenv("HOME") : "(unset)");
    return 0;
}
