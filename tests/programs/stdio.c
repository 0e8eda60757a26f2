/* stdin to stdout (upper-cased), a line to stderr, exit status from argv[1]. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    char buf[4096];
    long total = 0, lines = 0;
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') lines++;
            buf[i] = (char)toupper((unsigned char)buf[i]);
        }
        fwrite(buf, 1, (size_t)n, stdout);
        total += n;
    }
    fflush(stdout);
    fprintf(stderr, "read %ld bytes, %ld lines\n", total, lines);
    if (isatty(1)) fprintf(stderr, "stdout is a tty\n");
    int code = argc > 1 ? atoi(argv[1]) : 0;
    if (argc > 2) {
        /* exit() through atexit handlers and stdio flushing */
        printf("exiting via exit(%d)\n", code);
        exit(code);
    }
    return code;
}
