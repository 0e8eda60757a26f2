/* A recursive-descent JSON parser (to a tree, malloc'd) and an arithmetic expression
   evaluator with variables, run over generated and fixed inputs. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------- JSON ---------------- */
enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };
typedef struct jv {
    int kind;
    double num;
    char *str;            /* J_STR value */
    char *key;            /* member name inside an object */
    struct jv *child;     /* first element / member */
    struct jv *next;
} jv;

typedef struct { const char *p; const char *err; } jparser;

static void ws(jparser *j) { while (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r') j->p++; }
static jv *jnew(int kind) { jv *v = calloc(1, sizeof *v); v->kind = kind; return v; }
static jv *parse_value(jparser *j, int depth);

static char *parse_string(jparser *j) {
    size_t cap = 16, n = 0;
    char *out = malloc(cap);
    if (*j->p != '"') { j->err = "expected string"; free(out); return NULL; }
    j->p++;
    while (*j->p != '"') {
        unsigned c = (unsigned char)*j->p++;
        if (!c) { j->err = "unterminated string"; free(out); return NULL; }
        if (c == '\\') {
            c = (unsigned char)*j->p++;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'u': {
                unsigned u = 0; int k;
                for (k = 0; k < 4; k++) {
                    char h = *j->p++;
                    u = u * 16 + (isdigit((unsigned char)h) ? h - '0' : (tolower((unsigned char)h) - 'a' + 10));
                }
                c = u < 128 ? u : '?';
                break;
            }
            default: break;
            }
        }
        if (n + 1 >= cap) { cap *= 2; out = realloc(out, cap); }
        out[n++] = (char)c;
    }
    j->p++;
    out[n] = 0;
    return out;
}

static jv *parse_value(jparser *j, int depth) {
    jv *v = NULL, **tail;
    ws(j);
    if (depth > 200) { j->err = "too deep"; return NULL; }
    switch (*j->p) {
    case '{':
        v = jnew(J_OBJ); tail = &v->child; j->p++; ws(j);
        if (*j->p == '}') { j->p++; return v; }
        for (;;) {
            char *key; jv *m;
            ws(j);
            key = parse_string(j);
            if (!key) return v;
            ws(j);
            if (*j->p++ != ':') { j->err = "expected ':'"; free(key); return v; }
            m = parse_value(j, depth + 1);
            if (!m) { free(key); return v; }
            m->key = key;
            *tail = m; tail = &m->next;
            ws(j);
            if (*j->p == ',') { j->p++; continue; }
            if (*j->p == '}') { j->p++; return v; }
            j->err = "expected ',' or '}'"; return v;
        }
    case '[':
        v = jnew(J_ARR); tail = &v->child; j->p++; ws(j);
        if (*j->p == ']') { j->p++; return v; }
        for (;;) {
            jv *e = parse_value(j, depth + 1);
            if (!e) return v;
            *tail = e; tail = &e->next;
            ws(j);
            if (*j->p == ',') { j->p++; continue; }
            if (*j->p == ']') { j->p++; return v; }
            j->err = "expected ',' or ']'"; return v;
        }
    case '"':
        v = jnew(J_STR); v->str = parse_string(j); return v;
    case 't': if (!strncmp(j->p, "true", 4)) { j->p += 4; v = jnew(J_BOOL); v->num = 1; return v; } break;
    case 'f': if (!strncmp(j->p, "false", 5)) { j->p += 5; v = jnew(J_BOOL); return v; } break;
    case 'n': if (!strncmp(j->p, "null", 4)) { j->p += 4; return jnew(J_NULL); } break;
    default: {
        char *end;
        double d = strtod(j->p, &end);
        if (end != j->p) { j->p = end; v = jnew(J_NUM); v->num = d; return v; }
    }
    }
    j->err = "unexpected character";
    return NULL;
}

static void jfree(jv *v) {
    while (v) {
        jv *n = v->next;
        jfree(v->child);
        free(v->str);
        free(v->key);
        free(v);
        v = n;
    }
}

static void jprint(jv *v, char **out, size_t *len, size_t *cap);
static void emit(char **out, size_t *len, size_t *cap, const char *s) {
    size_t n = strlen(s);
    while (*len + n + 1 > *cap) { *cap = *cap * 2 + 64; *out = realloc(*out, *cap); }
    memcpy(*out + *len, s, n + 1);
    *len += n;
}
static void jprint(jv *v, char **out, size_t *len, size_t *cap) {
    char buf[64];
    jv *c;
    switch (v->kind) {
    case J_NULL: emit(out, len, cap, "null"); break;
    case J_BOOL: emit(out, len, cap, v->num ? "true" : "false"); break;
    case J_NUM: snprintf(buf, sizeof buf, "%.17g", v->num); emit(out, len, cap, buf); break;
    case J_STR: emit(out, len, cap, "\""); emit(out, len, cap, v->str); emit(out, len, cap, "\""); break;
    case J_ARR:
    case J_OBJ:
        emit(out, len, cap, v->kind == J_ARR ? "[" : "{");
        for (c = v->child; c; c = c->next) {
            if (v->kind == J_OBJ) {
                emit(out, len, cap, "\""); emit(out, len, cap, c->key); emit(out, len, cap, "\":");
            }
            jprint(c, out, len, cap);
            if (c->next) emit(out, len, cap, ",");
        }
        emit(out, len, cap, v->kind == J_ARR ? "]" : "}");
        break;
    }
}

static double jsum(jv *v) {
    double s = 0;
    for (; v; v = v->next) s += (v->kind == J_NUM ? v->num : 0) + jsum(v->child);
    return s;
}

/* ---------------- expressions ---------------- */
typedef struct { const char *p; double vars[26]; int err; } eparser;
static double expr(eparser *e);
static void esp(eparser *e) { while (*e->p == ' ') e->p++; }
static double primary(eparser *e) {
    double v;
    esp(e);
    if (*e->p == '(') { e->p++; v = expr(e); esp(e); if (*e->p == ')') e->p++; else e->err = 1; return v; }
    if (*e->p == '-') { e->p++; return -primary(e); }
    if (*e->p >= 'a' && *e->p <= 'z') return e->vars[*e->p++ - 'a'];
    if (isdigit((unsigned char)*e->p) || *e->p == '.') { char *end; v = strtod(e->p, &end); e->p = end; return v; }
    e->err = 1;
    return 0;
}
static double power(eparser *e) {
    double b = primary(e);
    esp(e);
    if (*e->p == '^') { int n, k; double r = 1; e->p++; n = (int)power(e); for (k = 0; k < (n < 0 ? -n : n); k++) r *= b; return n < 0 ? 1 / r : r; }
    return b;
}
static double term(eparser *e) {
    double v = power(e);
    for (;;) {
        esp(e);
        if (*e->p == '*') { e->p++; v *= power(e); }
        else if (*e->p == '/') { e->p++; v /= power(e); }
        else if (*e->p == '%') { e->p++; { double d = power(e); v = v - d * (double)(long long)(v / d); } }
        else return v;
    }
}
static double expr(eparser *e) {
    double v = term(e);
    for (;;) {
        esp(e);
        if (*e->p == '+') { e->p++; v += term(e); }
        else if (*e->p == '-') { e->p++; v -= term(e); }
        else return v;
    }
}

static uint32_t rng = 2463534242u;
static uint32_t xr(void) { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }

static void gen_expr(char *buf, size_t *n, int depth) {
    int r = xr() % (depth > 6 ? 2 : 6);
    if (r == 0) *n += sprintf(buf + *n, "%u", xr() % 100);
    else if (r == 1) *n += sprintf(buf + *n, "%c", 'a' + xr() % 26);
    else {
        static const char ops[] = "+-*/+-";
        buf[(*n)++] = '(';
        gen_expr(buf, n, depth + 1);
        *n += sprintf(buf + *n, " %c ", ops[xr() % 6]);
        gen_expr(buf, n, depth + 1);
        buf[(*n)++] = ')';
        buf[*n] = 0;
    }
}

static void gen_json(char **out, size_t *len, size_t *cap, int depth) {
    char buf[64];
    int r = xr() % (depth > 4 ? 4 : 6), i, n;
    switch (r) {
    case 0: snprintf(buf, sizeof buf, "%d", (int)(xr() % 2000) - 1000); emit(out, len, cap, buf); break;
    case 1: snprintf(buf, sizeof buf, "%.6e", (double)(xr() % 100000) / 7.0); emit(out, len, cap, buf); break;
    case 2: snprintf(buf, sizeof buf, "\"s%u\\n\\u0041\"", xr() % 1000); emit(out, len, cap, buf); break;
    case 3: emit(out, len, cap, xr() & 1 ? "true" : "null"); break;
    case 4:
        n = xr() % 5; emit(out, len, cap, "[");
        for (i = 0; i < n; i++) { if (i) emit(out, len, cap, ", "); gen_json(out, len, cap, depth + 1); }
        emit(out, len, cap, "]"); break;
    default:
        n = xr() % 5; emit(out, len, cap, "{");
        for (i = 0; i < n; i++) {
            if (i) emit(out, len, cap, ", ");
            snprintf(buf, sizeof buf, "\"k%d\": ", i); emit(out, len, cap, buf);
            gen_json(out, len, cap, depth + 1);
        }
        emit(out, len, cap, "}"); break;
    }
}

int main(void) {
    static const char *fixed[] = {
        "{\"a\": [1, 2.5, -3e2, {\"b\": null}], \"c\": \"x\\ty\", \"d\": true}",
        "[[[[[[[[[[1]]]]]]]]]]",
        "{\"bad\": [1, 2,}",
        "  [ 1e308, -1e-308, 0.1, 123456789012345678 ]  ",
    };
    size_t i;
    int k;
    double total = 0;
    unsigned long hash = 5381;
    for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        jparser j = {fixed[i], NULL};
        jv *v = parse_value(&j, 0);
        char *out = NULL; size_t len = 0, cap = 0;
        if (j.err) printf("json %zu: error: %s at offset %d\n", i, j.err, (int)(j.p - fixed[i]));
        else { jprint(v, &out, &len, &cap); printf("json %zu: %s sum=%.17g\n", i, out, jsum(v)); }
        free(out);
        jfree(v);
    }
    for (k = 0; k < 60; k++) {
        char *src = NULL, *out = NULL; size_t len = 0, cap = 0, olen = 0, ocap = 0, c;
        jparser j;
        jv *v;
        gen_json(&src, &len, &cap, 0);
        j.p = src; j.err = NULL;
        v = parse_value(&j, 0);
        if (j.err) { printf("generated json %d failed: %s\n", k, j.err); return 1; }
        jprint(v, &out, &olen, &ocap);
        for (c = 0; c < olen; c++) hash = hash * 33 + (unsigned char)out[c];
        total += jsum(v);
        if (k % 15 == 0) printf("gen %d: %.70s\n", k, out);
        free(src); free(out); jfree(v);
    }
    printf("json hash %lu total %.6f\n", hash, total);
    {
        eparser e;
        static const char *fixed_e[] = {"1 + 2 * 3", "(1 + 2) * 3", "2 ^ 10 - 1", "2 ^ -2", "7 % 3 + 0.5", "x * x + y", "1 / 3", "(1", "-(-(-4))"};
        memset(&e, 0, sizeof e);
        for (k = 0; k < 26; k++) e.vars[k] = k * 0.5 - 3;
        for (i = 0; i < sizeof fixed_e / sizeof fixed_e[0]; i++) {
            e.p = fixed_e[i]; e.err = 0;
            double v = expr(&e);
            printf("%-14s = %.12g%s\n", fixed_e[i], v, e.err ? " (error)" : "");
        }
        double acc = 0;
        char buf[8192];
        for (k = 0; k < 300; k++) {
            size_t n = 0;
            gen_expr(buf, &n, 0);
            buf[n] = 0;
            e.p = buf; e.err = 0;
            double v = expr(&e);
            if (v == v && v < 1e300 && v > -1e300) acc += v;
            if (k % 60 == 0) printf("expr %d: %.60s = %.10g\n", k, buf, v);
        }
        printf("expr acc %.9f\n", acc);
    }
    return 0;
}
