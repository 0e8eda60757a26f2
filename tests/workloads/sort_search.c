/* qsort + bsearch over 30,000 ints, a hand-written merge sort of 64-bit keys, and
   a check of the results. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 30000
#define M 6000

static uint64_t state = 0x9E3779B97F4A7C15ull;
static uint64_t next(void) {   /* splitmix64 */
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void merge_sort(int64_t *a, int64_t *tmp, size_t n) {
    size_t mid, i, j, k;
    if (n < 2) return;
    mid = n / 2;
    merge_sort(a, tmp, mid);
    merge_sort(a + mid, tmp, n - mid);
    for (i = 0, j = mid, k = 0; i < mid || j < n;)
        tmp[k++] = (j >= n || (i < mid && a[i] <= a[j])) ? a[i++] : a[j++];
    memcpy(a, tmp, n * sizeof *a);
}

int main(void) {
    int *a = malloc(N * sizeof *a);
    int64_t *b = malloc(M * sizeof *b), *tmp = malloc(M * sizeof *tmp);
    size_t i;
    long found = 0, missing = 0;
    int64_t checksum = 0;
    for (i = 0; i < N; i++) a[i] = (int)(next() % 2000000) - 1000000;
    qsort(a, N, sizeof *a, cmp_int);
    for (i = 1; i < N; i++)
        if (a[i - 1] > a[i]) { printf("not sorted at %zu\n", i); return 1; }
    printf("min %d max %d median %d\n", a[0], a[N - 1], a[N / 2]);
    for (i = 0; i < M; i++) {
        int key = (int)(next() % 2000000) - 1000000;
        int *p = bsearch(&key, a, N, sizeof *a, cmp_int);
        if (p) { found++; checksum += (p - a) % 1000; if (*p != key) return 2; }
        else missing++;
    }
    printf("bsearch: found %ld missing %ld checksum %lld\n", found, missing, (long long)checksum);
    for (i = 0; i < M; i++) b[i] = (int64_t)next();
    merge_sort(b, tmp, M);
    for (i = 1; i < M; i++)
        if (b[i - 1] > b[i]) { printf("merge sort failed at %zu\n", i); return 1; }
    printf("int64 min %lld max %lld\n", (long long)b[0], (long long)b[M - 1]);
    {
        uint64_t h = 0;   /* unsigned: zig cc -O0 traps on signed overflow (UBSan) */
        for (i = 0; i < M; i++) h = h * 31 + (uint64_t)(b[i] >> 40);
        printf("int64 checksum %llu\n", (unsigned long long)h);
    }
    free(a); free(b); free(tmp);
    return 0;
}
