/* Allocation churn at scale, the kind of code that exposed a miscompile of dlmalloc's
 * tree walk: the binary-trees benchmark (make/check/free whole trees), a red-black tree
 * with insertions and deletions of pseudo-random keys (node free lists inside malloc),
 * realloc growth of vectors, and many differently-sized blocks freed in shuffled order
 * (malloc's small bins and its large-chunk trees). Prints checksums; argv[1] scales.
 * Exits 1 if a self-check fails. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng = 12345;
static uint32_t next(void) { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }

/* --- binary trees --- */
typedef struct BT { struct BT *l, *r; } BT;
static BT *bt_make(int d) {
  BT *t = malloc(sizeof *t);
  if (d > 0) { t->l = bt_make(d - 1); t->r = bt_make(d - 1); } else { t->l = t->r = NULL; }
  return t;
}
static long bt_check(BT *t) { return t->l ? 1 + bt_check(t->l) + bt_check(t->r) : 1; }
static void bt_free(BT *t) { if (t->l) { bt_free(t->l); bt_free(t->r); } free(t); }

static void binary_trees(int n) {
  int maxd = n < 6 ? 6 : n;
  BT *s = bt_make(maxd + 1);
  printf("stretch tree of depth %d\t check: %ld\n", maxd + 1, bt_check(s));
  bt_free(s);
  BT *longlived = bt_make(maxd);
  for (int d = 4; d <= maxd; d += 2) {
    long iters = 1L << (maxd - d + 4), check = 0;
    for (long i = 0; i < iters; i++) { BT *t = bt_make(d); check += bt_check(t); bt_free(t); }
    printf("%ld\t trees of depth %d\t check: %ld\n", iters, d, check);
  }
  printf("long lived tree of depth %d\t check: %ld\n", maxd, bt_check(longlived));
  bt_free(longlived);
}

/* --- red-black tree (left-leaning), with deletion --- */
typedef struct RB { struct RB *l, *r; int key; char red; char *payload; } RB;
static int isred(RB *h) { return h && h->red; }
static RB *rotl(RB *h) { RB *x = h->r; h->r = x->l; x->l = h; x->red = h->red; h->red = 1; return x; }
static RB *rotr(RB *h) { RB *x = h->l; h->l = x->r; x->r = h; x->red = h->red; h->red = 1; return x; }
static void flip(RB *h) { h->red = !h->red; h->l->red = !h->l->red; h->r->red = !h->r->red; }
static RB *fixup(RB *h) {
  if (isred(h->r) && !isred(h->l)) h = rotl(h);
  if (isred(h->l) && isred(h->l->l)) h = rotr(h);
  if (isred(h->l) && isred(h->r)) flip(h);
  return h;
}
static RB *rb_ins(RB *h, int key, int *added) {
  if (!h) {
    h = calloc(1, sizeof *h); h->key = key; h->red = 1; *added = 1;
    h->payload = malloc(8 + (unsigned)key % 200);
    memset(h->payload, key & 0x7f, 8 + (unsigned)key % 200);
    return h;
  }
  if (key < h->key) h->l = rb_ins(h->l, key, added);
  else if (key > h->key) h->r = rb_ins(h->r, key, added);
  return fixup(h);
}
static RB *moveredl(RB *h) { flip(h); if (isred(h->r->l)) { h->r = rotr(h->r); h = rotl(h); flip(h); } return h; }
static RB *moveredr(RB *h) { flip(h); if (isred(h->l->l)) { h = rotr(h); flip(h); } return h; }
static RB *rb_min(RB *h) { while (h->l) h = h->l; return h; }
static RB *rb_delmin(RB *h) {
  if (!h->l) { free(h->payload); free(h); return NULL; }
  if (!isred(h->l) && !isred(h->l->l)) h = moveredl(h);
  h->l = rb_delmin(h->l);
  return fixup(h);
}
static int rb_has(RB *h, int key) { while (h) { if (key == h->key) return 1; h = key < h->key ? h->l : h->r; } return 0; }
static RB *rb_del(RB *h, int key) {
  if (key < h->key) {
    if (!isred(h->l) && !isred(h->l->l)) h = moveredl(h);
    h->l = rb_del(h->l, key);
  } else {
    if (isred(h->l)) h = rotr(h);
    if (key == h->key && !h->r) { free(h->payload); free(h); return NULL; }
    if (!isred(h->r) && !isred(h->r->l)) h = moveredr(h);
    if (key == h->key) {
      RB *m = rb_min(h->r);
      char *p = h->payload; h->payload = m->payload; m->payload = p;
      h->key = m->key;
      h->r = rb_delmin(h->r);
    } else {
      h->r = rb_del(h->r, key);
    }
  }
  return fixup(h);
}
static int rb_check(RB *h, int lo, int hi, long *count, uint32_t *sum) {
  if (!h) return 1;
  if (h->key <= lo || h->key >= hi || isred(h->r)) return -1000000;
  if (h->payload[0] != (h->key & 0x7f)) return -1000000;
  *count += 1; *sum = *sum * 31 + (uint32_t)h->key;
  int a = rb_check(h->l, lo, h->key, count, sum), b = rb_check(h->r, h->key, hi, count, sum);
  if (a != b) return -1000000;
  return a + !h->red;
}
static void rb_freeall(RB *h) { if (h) { rb_freeall(h->l); rb_freeall(h->r); free(h->payload); free(h); } }

static int redblack(int n) {
  RB *root = NULL; long size = 0;
  for (int round = 0; round < 4; round++) {
    for (int i = 0; i < n; i++) {
      int k = (int)(next() % (unsigned)(4 * n)), added = 0;
      root = rb_ins(root, k, &added); root->red = 0; size += added;
    }
    for (int i = 0; i < n / 2; i++) {
      int k = (int)(next() % (unsigned)(4 * n));
      if (rb_has(root, k)) {
        if (!isred(root->l) && !isred(root->r)) root->red = 1;
        root = rb_del(root, k); if (root) root->red = 0; size--;
      }
    }
    long count = 0; uint32_t sum = 0;
    int bh = rb_check(root, -1, 1 << 30, &count, &sum);
    printf("rb round %d: size %ld counted %ld black-height %d hash %08x\n", round, size, count, bh, sum);
    if (bh < 0 || count != size) return 1;
  }
  rb_freeall(root);
  return 0;
}

/* --- realloc growth and shuffled frees of mixed sizes --- */
static int mixed(int n) {
  size_t cap = 4, len = 0; uint32_t *v = malloc(cap * sizeof *v);
  for (int i = 0; i < n * 20; i++) {
    if (len == cap) { cap = cap * 3 / 2 + 1; v = realloc(v, cap * sizeof *v); }
    v[len++] = next();
  }
  uint32_t h = 0; for (size_t i = 0; i < len; i++) h = h * 33 + v[i];
  free(v);
  int m = n * 4; char **blocks = malloc(m * sizeof *blocks); size_t *sizes = malloc(m * sizeof *sizes);
  for (int i = 0; i < m; i++) {
    size_t s = next() % 7 == 0 ? 256 + next() % 70000 : 1 + next() % 300;
    blocks[i] = malloc(s); sizes[i] = s; memset(blocks[i], i & 0xff, s);
  }
  for (int i = m - 1; i > 0; i--) { int j = (int)(next() % (unsigned)(i + 1)); char *t = blocks[i]; blocks[i] = blocks[j]; blocks[j] = t; size_t u = sizes[i]; sizes[i] = sizes[j]; sizes[j] = u; }
  for (int i = 0; i < m; i += 2) { free(blocks[i]); blocks[i] = NULL; }
  for (int i = 0; i < m; i += 2) { sizes[i] = 1 + next() % 5000; blocks[i] = malloc(sizes[i]); memset(blocks[i], 0x5a, sizes[i]); }
  int bad = 0;
  for (int i = 1; i < m; i += 2) {
    for (size_t k = 0; k < sizes[i]; k += 97) if ((unsigned char)blocks[i][k] != (unsigned char)blocks[i][0]) bad++;
  }
  for (int i = 0; i < m; i++) free(blocks[i]);
  free(blocks); free(sizes);
  printf("mixed: vector hash %08x, %d blocks, %d bad\n", h, m, bad);
  return bad != 0;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10;
  binary_trees(n);
  int bad = redblack(n * 300);
  bad |= mixed(n * 100);
  printf(bad ? "FAILED\n" : "all ok\n");
  return bad;
}
