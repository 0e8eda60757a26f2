/* yyjson driver: reads the JSON files named on the command line, and for each prints a
 * summary walk (counts of each type, sums), the minified and pretty writes' sizes and
 * hashes, a round trip check (read(write(doc)) == doc), then mutates a copy (adds, removes,
 * sorts keys of the first object) and prints it. Also parses a generated document of
 * argv-scaled size. Invalid JSON prints yyjson's error code, message and position.
 * Exits 1 if a round trip fails. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "yyjson.h"

static uint32_t fnv(const char *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h;
}

typedef struct { long obj, arr, str, num, boolean, null; double sum; size_t strbytes; int depth; } Stats;

static void walk(yyjson_val *v, Stats *st, int depth) {
  if (depth > st->depth) st->depth = depth;
  switch (yyjson_get_type(v)) {
    case YYJSON_TYPE_OBJ: {
      st->obj++;
      yyjson_obj_iter it = yyjson_obj_iter_with(v);
      yyjson_val *k;
      while ((k = yyjson_obj_iter_next(&it))) { st->strbytes += yyjson_get_len(k); walk(yyjson_obj_iter_get_val(k), st, depth + 1); }
      break;
    }
    case YYJSON_TYPE_ARR: {
      st->arr++;
      size_t i, n; yyjson_val *e;
      yyjson_arr_foreach(v, i, n, e) walk(e, st, depth + 1);
      break;
    }
    case YYJSON_TYPE_STR: st->str++; st->strbytes += yyjson_get_len(v); break;
    case YYJSON_TYPE_NUM: st->num++; st->sum += yyjson_get_num(v); break;
    case YYJSON_TYPE_BOOL: st->boolean++; break;
    case YYJSON_TYPE_NULL: st->null++; break;
    default: break;
  }
}

static int cmp_keys(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int process(const char *label, const char *data, size_t len) {
  yyjson_read_err err;
  yyjson_doc *doc = yyjson_read_opts((char *)data, len, YYJSON_READ_ALLOW_COMMENTS | YYJSON_READ_ALLOW_TRAILING_COMMAS, NULL, &err);
  if (!doc) {
    printf("%s: error %u: %s at %zu\n", label, err.code, err.msg, err.pos);
    return 0;
  }
  Stats st = {0};
  walk(yyjson_doc_get_root(doc), &st, 0);
  printf("%s: %zu values; obj %ld arr %ld str %ld num %ld bool %ld null %ld; sum %.17g; strbytes %zu; depth %d\n",
         label, yyjson_doc_get_val_count(doc), st.obj, st.arr, st.str, st.num, st.boolean, st.null, st.sum,
         st.strbytes, st.depth);
  size_t mlen, plen;
  char *mini = yyjson_write(doc, 0, &mlen);
  char *pretty = yyjson_write(doc, YYJSON_WRITE_PRETTY | YYJSON_WRITE_ESCAPE_UNICODE, &plen);
  printf("  minified %zu bytes %08x, pretty %zu bytes %08x\n", mlen, fnv(mini, mlen), plen, fnv(pretty, plen));
  if (mlen < 300) printf("  %s\n", mini);
  yyjson_doc *again = yyjson_read(pretty, plen, 0);
  int ok = again && yyjson_equals(yyjson_doc_get_root(doc), yyjson_doc_get_root(again));
  printf("  round trip %s\n", ok ? "ok" : "BAD");
  yyjson_doc_free(again);

  /* mutate: copy, sort the keys of the root object, add and remove members */
  yyjson_mut_doc *mdoc = yyjson_doc_mut_copy(doc, NULL);
  yyjson_mut_val *root = yyjson_mut_doc_get_root(mdoc);
  if (yyjson_mut_is_obj(root)) {
    size_t n = yyjson_mut_obj_size(root), i = 0;
    const char **keys = malloc((n + 1) * sizeof *keys);
    yyjson_mut_obj_iter it = yyjson_mut_obj_iter_with(root);
    yyjson_mut_val *k;
    while ((k = yyjson_mut_obj_iter_next(&it))) keys[i++] = yyjson_mut_get_str(k);
    qsort(keys, n, sizeof *keys, cmp_keys);
    yyjson_mut_val *sorted = yyjson_mut_obj(mdoc);
    for (i = 0; i < n; i++) {
      yyjson_mut_val *v = yyjson_mut_obj_get(root, keys[i]);
      if (i % 3 != 2) yyjson_mut_obj_add_val(mdoc, sorted, keys[i], v);
    }
    yyjson_mut_obj_add_int(mdoc, sorted, "added_int", -1234567890123LL);
    yyjson_mut_obj_add_real(mdoc, sorted, "added_real", 0.1 + 0.2);
    yyjson_mut_obj_add_str(mdoc, sorted, "added_str", "tab\there \xe2\x82\xac \"q\"");
    yyjson_mut_doc_set_root(mdoc, sorted);
    free(keys);
  } else if (yyjson_mut_is_arr(root)) {
    yyjson_mut_arr_add_uint(mdoc, root, 18446744073709551615ULL);
    yyjson_mut_arr_remove_first(root);
  }
  size_t olen;
  char *outs = yyjson_mut_write(mdoc, 0, &olen);
  printf("  mutated %zu bytes %08x\n", olen, fnv(outs, olen));
  if (olen < 400) printf("  %s\n", outs);
  free(outs); free(mini); free(pretty);
  yyjson_mut_doc_free(mdoc);
  yyjson_doc_free(doc);
  return !ok;
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  size_t got;
  while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) { cap *= 2; buf = realloc(buf, cap); }
  }
  fclose(f);
  *len = n;
  return buf;
}

int main(int argc, char **argv) {
  int bad = 0, scale = 0;
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "--gen=", 6) == 0) { scale = atoi(argv[i] + 6); continue; }
    size_t len;
    char *data = read_file(argv[i], &len);
    if (!data) { printf("%s: cannot open\n", argv[i]); bad = 1; continue; }
    bad |= process(argv[i], data, len);
    free(data);
  }
  if (scale > 0) {
    /* a generated document: an array of records with nested arrays, strings, floats */
    size_t cap = 1 << 16, n = 0;
    char *g = malloc(cap);
    n += (size_t)sprintf(g + n, "[");
    uint32_t r = 7;
    for (int i = 0; i < scale; i++) {
      if (cap - n < 512) { cap *= 2; g = realloc(g, cap); }
      r = r * 1664525u + 1013904223u;
      n += (size_t)sprintf(g + n, "%s{\"id\":%d,\"name\":\"item\\u00e9%u\",\"price\":%.6g,\"tags\":[%u,%u,\"t%d\"],"
                           "\"ok\":%s,\"nested\":{\"x\":%d.5e-3,\"y\":null}}",
                           i ? "," : "", i, r % 1000, (r >> 8) / 1000.0, r % 7, r % 13, i % 5,
                           (r & 1) ? "true" : "false", (int)(r % 999));
    }
    n += (size_t)sprintf(g + n, "]");
    bad |= process("generated", g, n);
    free(g);
  }
  printf(bad ? "FAILED\n" : "all ok\n");
  return bad;
}
