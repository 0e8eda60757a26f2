/* Word frequency over generated text: a chained hash table of malloc'd strings that grows
   (rehash), many small malloc/free, then the top words sorted and printed. When the
   directory "work" is preopened, the text makes a round trip through a file there
   (chunked fwrite, fseek/ftell, chunked fread, stat, rename, readdir) and the top words
   are written to work/top.txt. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <sys/stat.h>

typedef struct entry { char *word; unsigned count; struct entry *next; } entry;
static entry **table;
static size_t nbuckets = 16, nentries;

static uint32_t fnv1a(const char *s) {
    uint32_t h = 2166136261u;
    while (*s) { h ^= (unsigned char)*s++; h *= 16777619u; }
    return h;
}

static void grow(void) {
    size_t nb = nbuckets * 2, i;
    entry **t = calloc(nb, sizeof *t);
    for (i = 0; i < nbuckets; i++) {
        entry *e = table[i], *n;
        for (; e; e = n) {
            n = e->next;
            e->next = t[fnv1a(e->word) & (nb - 1)];
            t[fnv1a(e->word) & (nb - 1)] = e;
        }
    }
    free(table);
    table = t;
    nbuckets = nb;
}

static void add(const char *w) {
    uint32_t h = fnv1a(w);
    entry *e;
    for (e = table[h & (nbuckets - 1)]; e; e = e->next)
        if (!strcmp(e->word, w)) { e->count++; return; }
    e = malloc(sizeof *e);
    e->word = strdup(w);
    e->count = 1;
    e->next = table[h & (nbuckets - 1)];
    table[h & (nbuckets - 1)] = e;
    if (++nentries > nbuckets * 3 / 4) grow();
}

static int by_count(const void *a, const void *b) {
    const entry *x = *(entry *const *)a, *y = *(entry *const *)b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return strcmp(x->word, y->word);
}

/* Write text to work/words.txt and read it back; returns the text read (malloc'd) or NULL
   when there is no "work" directory. */
static char *file_round_trip(const char *text, size_t len) {
    FILE *f = fopen("work/words.txt", "w+");
    char *back;
    size_t off, got = 0, n;
    struct stat st;
    DIR *d;
    struct dirent *e;
    if (!f) return NULL;
    for (off = 0; off < len; off += 1000) fwrite(text + off, 1, len - off < 1000 ? len - off : 1000, f);
    fflush(f);
    printf("file: ftell %ld", ftell(f));
    fseek(f, 10, SEEK_SET);
    printf(", at 10: '%c'", fgetc(f));
    fseek(f, -5, SEEK_END);
    printf(", ftell after seek to end-5: %ld", ftell(f));
    rewind(f);
    back = malloc(len + 1);
    while ((n = fread(back + got, 1, 777, f)) > 0) got += n;
    back[got] = 0;
    printf(", read back %zu bytes, eof %d\n", got, feof(f));
    fclose(f);
    if (stat("work/words.txt", &st) == 0) printf("stat size %lld regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
    printf("rename %d, remove missing %d\n", rename("work/words.txt", "work/words.old"), remove("work/nothing"));
    d = opendir("work");
    if (d) {
        int count = 0;
        while ((e = readdir(d)) != NULL) count += e->d_name[0] != '.';
        closedir(d);
        printf("entries in work: %d\n", count);
    }
    return back;
}

static uint32_t seed = 1;
static uint32_t rnd(void) { seed = seed * 1664525u + 1013904223u; return seed >> 8; }

int main(void) {
    static const char *syll[] = {"ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "wa", "ze", "qu", "the"};
    size_t cap = 1 << 12, len = 0, i, w;
    char *text = malloc(cap);
    entry **all;
    unsigned long total = 0;
    table = calloc(nbuckets, sizeof *table);
    /* Zipf-ish generated text with punctuation and mixed case */
    for (w = 0; w < 12000; w++) {
        char word[64];
        int ns = 1 + (int)(rnd() % 3), k;
        word[0] = 0;
        for (k = 0; k < ns; k++) strcat(word, syll[(rnd() % 12) * (rnd() % 12) / 11]);
        if (rnd() % 17 == 0) word[0] = (char)toupper((unsigned char)word[0]);
        if (len + strlen(word) + 3 > cap) { cap *= 2; text = realloc(text, cap); }
        len += (size_t)sprintf(text + len, "%s%s", word, rnd() % 9 == 0 ? ", " : " ");
    }
    {
        char *back = file_round_trip(text, len);
        if (back) {
            printf("file round trip %s\n", strcmp(back, text) ? "DIFFERS" : "ok");
            free(back);
        } else {
            printf("no work directory\n");
        }
    }
    /* tokenize: lowercase letters only; each token is malloc'd and freed */
    for (i = 0; i < len;) {
        size_t start;
        char *tok;
        while (i < len && !isalpha((unsigned char)text[i])) i++;
        start = i;
        while (i < len && isalpha((unsigned char)text[i])) i++;
        if (i == start) break;
        tok = malloc(i - start + 1);
        for (w = 0; w < i - start; w++) tok[w] = (char)tolower((unsigned char)text[start + w]);
        tok[i - start] = 0;
        add(tok);
        free(tok);
        total++;
    }
    all = malloc(nentries * sizeof *all);
    for (i = 0, w = 0; i < nbuckets; i++) {
        entry *e;
        for (e = table[i]; e; e = e->next) all[w++] = e;
    }
    qsort(all, nentries, sizeof *all, by_count);
    printf("%lu words, %zu distinct, %zu buckets, text %zu bytes\n", total, nentries, nbuckets, len);
    for (i = 0; i < 15 && i < nentries; i++) printf("%2zu %-12s %u\n", i + 1, all[i]->word, all[i]->count);
    printf("rarest: %s (%u)\n", all[nentries - 1]->word, all[nentries - 1]->count);
    {
        FILE *top = fopen("work/top.txt", "w");
        if (top) {
            for (i = 0; i < 5 && i < nentries; i++) fprintf(top, "%s %u\n", all[i]->word, all[i]->count);
            fclose(top);
        }
    }
    for (i = 0; i < nentries; i++) { free(all[i]->word); free(all[i]); }
    free(all); free(table); free(text);
    return 0;
}
