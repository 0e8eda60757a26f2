/* A WASI command: counts the lines and words of a file in a preopened directory, prints
 * the counts to stdout and writes them to <file>.count next to it.
 *
 *   usage: wordcount FILE     (FILE as the program sees it, e.g. /data/input.txt)
 *
 * Build (committed as wordcount.wasm; tests/test_examples.py checks it is up to date):
 *   python -m ziglang cc -target wasm32-wasi -O2 -s -Wl,-z,stack-size=65536 \
 *       -o wordcount.wasm wordcount.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: wordcount FILE\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "r");
    if (in == NULL) {
        perror(argv[1]);
        return 1;
    }
    long lines = 0, words = 0;
    int c, in_word = 0;
    while ((c = fgetc(in)) != EOF) {
        if (c == '\n') lines++;
        int space = (c == ' ' || c == '\n' || c == '\t' || c == '\r');
        if (!space && !in_word) words++;
        in_word = !space;
    }
    fclose(in);
    const char *greeting = getenv("GREETING");
    printf("%s: %ld lines, %ld words\n", greeting ? greeting : "wordcount", lines, words);

    char out_path[4096];
    snprintf(out_path, sizeof out_path, "%s.count", argv[1]);
    FILE *out = fopen(out_path, "w");
    if (out == NULL) {
        perror(out_path);
        return 1;
    }
    fprintf(out, "%ld %ld\n", lines, words);
    fclose(out);
    return 0;
}
