/* Number formatting and parsing (printf %g %e %f %a, strtod, strtol, float <-> int
   conversions), integer edge cases (64-bit mul/div/rem/shifts, __int128, bit ops) and,
   when built with -msimd128 (or -DWITH_RELAXED_SIMD), the (relaxed) SIMD instruction
   set through wasm_simd128.h. */
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile uint64_t sink;   /* keeps the optimiser from folding everything */

static void floats(void) {
    static const double vals[] = {0.0, -0.0, 1.0, -1.5, 0.1, 1.0 / 3, 2.0 / 3, 1e-5, 123456.789, 1e21, 1e22,
                                  5e-324, 2.2250738585072014e-308, DBL_MAX, 9007199254740993.0, 0.5, 2.5, -2.5,
                                  1e100, 3.141592653589793, 6.02214076e23, 1.7976931348623157e308 / 3};
    size_t i;
    for (i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        volatile double v = vals[i];
        printf("%-3zu %g | %.17g | %e | %.3f | %a | %.0f\n", i, v, v, v, v < 1e30 ? v : 0.0, v, v < 1e30 ? v : 0.0);
    }
    printf("inf/nan: %f %e %g %F %G\n", INFINITY, -INFINITY, NAN, INFINITY, -INFINITY);
    printf("widths: [%10.3f] [%-10.2e] [%+g] [% g] [%#g] [%010.4f]\n", 3.14159, 2.71828, 1.0, 1.0, 1.0, -2.5);
    {
        float f = 1.1f, g = 16777217.0f, h = FLT_MIN, k = FLT_MAX;
        printf("float: %.9g %.9g %.9g %.9g %a\n", f, g, h, k, f);
        printf("float ops: %.9g %.9g %.9g\n", f * f, sqrtf(2.0f), (float)(1.0 / 3));
    }
    {
        static const char *in[] = {"0", "-0", "1e309", "-1e-400", "0x1.8p3", "  42abc", "3.14159265358979323846",
                                   "inf", "-nan", "1e-320", "123456789012345678901234567890", ".5e1", "4.9e-324",
                                   "2.4703282292062328e-324", "1.0000000000000002", "0.30000000000000004"};
        for (i = 0; i < sizeof in / sizeof in[0]; i++) {
            char *end;
            double d = strtod(in[i], &end);
            printf("strtod(\"%s\") = %.17g %a consumed %d%s\n", in[i], isnan(d) ? fabs(d) : d, isnan(d) ? fabs(d) : d,
                   (int)(end - in[i]), isnan(d) ? " (nan)" : "");
        }
        printf("strtof: %.9g %.9g\n", strtof("0.1", NULL), strtof("3.4028236e38", NULL));
        printf("strtol: %ld %ld %lu %lld %lld\n", strtol("-2147483648", NULL, 10), strtol("7fffffff", NULL, 16),
               strtoul("0777", NULL, 0), strtoll("-9223372036854775808", NULL, 10), strtoll("z", NULL, 36));
        printf("atoi %d atof %.3f\n", atoi("  -17xyz"), atof("2.5e2"));
    }
    {   /* conversions that are defined in C */
        volatile double big = 4294967295.0, neg = -2147483648.0, frac = -7.9;
        volatile float fl = 3.99f;
        printf("conv: %u %d %d %lld %llu %d\n", (unsigned)big, (int)neg, (int)frac, (long long)(frac * 1e15),
               (unsigned long long)(big * big), (int)fl);
        printf("rounding: %.1f %.1f %.1f %.1f %.2f\n", rint(2.5), rint(3.5), nearbyint(-2.5), round(-2.5), 1.005);
        printf("int->float: %.9g %.17g %.17g\n", (float)16777217, (double)9007199254740993LL, (double)UINT64_MAX);
    }
}

static void ints(void) {
    static const int64_t s[] = {0, 1, -1, 7, -7, INT64_MAX, INT64_MIN, 0x123456789abcdefLL, -1000000007LL, 3};
    size_t i, j;
    uint64_t acc = 0;
    for (i = 0; i < sizeof s / sizeof s[0]; i++) {
        for (j = 0; j < sizeof s / sizeof s[0]; j++) {
            int64_t a = s[i], b = s[j];
            uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
            acc = acc * 1099511628211ull ^ (ua * ub);
            if (b != 0 && !(a == INT64_MIN && b == -1)) acc = acc * 31 + (uint64_t)(a / b) + (uint64_t)(a % b);
            if (ub != 0) acc = acc * 31 + ua / ub + ua % ub;
            acc ^= (ua << (ub & 63)) + (ua >> (ub & 63)) + (uint64_t)(a >> (ub & 63));
        }
    }
    printf("int64 acc %016" PRIx64 "\n", acc);
    printf("limits: %" PRId64 " %" PRId64 " %" PRIu64 " %d %u\n", INT64_MIN, INT64_MAX, UINT64_MAX, INT_MIN, UINT_MAX);
    {
        volatile int64_t m = INT64_MIN, n1 = -1;
        volatile int32_t i32 = INT32_MIN;
        printf("INT64_MIN %% -1 handled: %lld, -INT32_MIN as u32 %u\n", (long long)(n1 == -1 ? 0 : m % n1),
               (unsigned)-(uint32_t)i32);
    }
    {
        unsigned __int128 x = (unsigned __int128)0xFFFFFFFFFFFFFFFFull * 0xFFFFFFFFFFFFFFFFull;
        __int128 y = -((__int128)1 << 100) / 12345;
        unsigned __int128 f = 1;
        int k;
        for (k = 1; k <= 30; k++) f *= (unsigned)k;   /* 30! fits in 128 bits */
        printf("u128: %016llx%016llx\n", (unsigned long long)(x >> 64), (unsigned long long)x);
        printf("i128: %016llx%016llx\n", (unsigned long long)((unsigned __int128)y >> 64), (unsigned long long)y);
        printf("30!: %016llx%016llx mod 1e9+7 = %llu\n", (unsigned long long)(f >> 64), (unsigned long long)f,
               (unsigned long long)(f % 1000000007u));
    }
    {
        volatile uint32_t v = 0x00F0A000u;
        volatile uint64_t w = 0x0000100000000000ull;
        printf("bits: clz %d ctz %d pop %d clzll %d ctzll %d popll %d bswap %08x %016llx\n",
               __builtin_clz(v), __builtin_ctz(v), __builtin_popcount(v), __builtin_clzll(w), __builtin_ctzll(w),
               __builtin_popcountll(w * 3 - 1), __builtin_bswap32(v), (unsigned long long)__builtin_bswap64(w));
        printf("rotl %08x rotr %016llx\n", (v << 13) | (v >> 19), (unsigned long long)((w >> 7) | (w << 57)));
    }
    {
        int16_t h = -12345;
        int8_t c = -128;
        uint16_t uh = 65535;
        volatile int32_t x = -5;
        printf("narrow: %d %d %d %u %d %d\n", h, c, (int8_t)(c - 1 + 256), uh, (int)(uint8_t)x, (int)(int16_t)(x * 10000));
        printf("div: %d %d %d %d %u %u\n", x / 2, x % 2, -x / 2, x >> 1, (unsigned)x / 2, (unsigned)x % 7);
    }
    sink = acc;
}


#if defined(__wasm_simd128__) || defined(WITH_RELAXED_SIMD)
#define WITH_SIMD 1
/* Built with -msimd128: every SIMD instruction family through wasm_simd128.h on random
   and special (NaN, -0, inf, out-of-range) inputs, one hash per operation. Built with
   -DWITH_RELAXED_SIMD (one flag, as the test harness passes it): the same code compiled
   for simd128 + relaxed-simd by a target attribute, plus the relaxed operations. */
#include <wasm_simd128.h>
#ifdef WITH_RELAXED_SIMD
#pragma clang attribute push (__attribute__((target("simd128,relaxed-simd"))), apply_to = function)
#endif

static uint64_t hsum;
static uint8_t simd_buf[64];

static uint64_t mixh(uint64_t h, v128_t v) {
    uint64_t lo = wasm_i64x2_extract_lane(v, 0), hi = wasm_i64x2_extract_lane(v, 1);
    return (h ^ lo) * 0x100000001b3ull ^ (hi * 0x9E3779B97F4A7C15ull);
}
/* NaN lanes made canonical so that nondeterministic NaN bits do not show */
static v128_t canon32(v128_t v) { return wasm_v128_bitselect(wasm_i32x4_splat(0x7fc00000), v, wasm_f32x4_ne(v, v)); }
static v128_t canon64(v128_t v) { return wasm_v128_bitselect(wasm_i64x2_splat(0x7ff8000000000000LL), v, wasm_f64x2_ne(v, v)); }

static uint64_t op_hash[96];
static const char *op_name[96];
static int op_count;
#define REPORT(name, expr) do { op_name[op_count] = name; op_hash[op_count] = mixh(op_hash[op_count], (expr)); op_count++; } while (0)

__attribute__((noinline)) static void simd_ops(v128_t a, v128_t b, v128_t fa, v128_t fb, v128_t da, v128_t db, int sh) {
    REPORT("i8x16.add_sat_s", wasm_i8x16_add_sat(a, b));
    REPORT("u8x16.sub_sat", wasm_u8x16_sub_sat(a, b));
    REPORT("i16x8.q15mulr_sat", wasm_i16x8_q15mulr_sat(a, b));
    REPORT("i8x16.swizzle", wasm_i8x16_swizzle(a, b));
    REPORT("i8x16.shuffle", wasm_i8x16_shuffle(a, b, 0, 17, 2, 19, 31, 30, 7, 8, 16, 1, 12, 13, 14, 3, 5, 28));
    REPORT("i8x16.popcnt", wasm_i8x16_popcnt(a));
    REPORT("i8x16.bitmask", wasm_i32x4_splat(wasm_i8x16_bitmask(a) | wasm_i16x8_bitmask(b) << 16));
    REPORT("i32x4/i64x2.bitmask", wasm_i32x4_splat(wasm_i32x4_bitmask(a) | wasm_i64x2_bitmask(b) << 4));
    REPORT("any/all_true", wasm_i32x4_make(wasm_v128_any_true(a), wasm_i8x16_all_true(a), wasm_i16x8_all_true(b), wasm_i64x2_all_true(b)));
    REPORT("i16x8.narrow_i32x4_s", wasm_i16x8_narrow_i32x4(a, b));
    REPORT("u8x16.narrow_i16x8", wasm_u8x16_narrow_i16x8(a, b));
    REPORT("i64x2.shr_s", wasm_i64x2_shr(a, sh));
    REPORT("u32x4.shr", wasm_u32x4_shr(a, sh + 33));
    REPORT("i8x16.shl", wasm_i8x16_shl(a, sh));
    REPORT("u8x16.avgr", wasm_u8x16_avgr(a, b));
    REPORT("i64x2.abs", wasm_i64x2_abs(a));
    REPORT("i64x2.lt_s", wasm_i64x2_lt(a, b));
    REPORT("u32x4.gt", wasm_u32x4_gt(a, b));
    REPORT("i8x16.min_s/u8.max", wasm_v128_xor(wasm_i8x16_min(a, b), wasm_u8x16_max(a, b)));
    REPORT("i32x4.dot_i16x8", wasm_i32x4_dot_i16x8(a, b));
    REPORT("i16x8.extmul_low_s", wasm_i16x8_extmul_low_i8x16(a, b));
    REPORT("u64x2.extmul_high", wasm_u64x2_extmul_high_u32x4(a, b));
    REPORT("extadd_pairwise", wasm_v128_xor(wasm_i16x8_extadd_pairwise_i8x16(a), wasm_u32x4_extadd_pairwise_u16x8(b)));
    REPORT("extend_high_u16", wasm_u32x4_extend_high_u16x8(a));
    REPORT("extend_low_i32", wasm_i64x2_extend_low_i32x4(b));
    REPORT("bitselect/andnot", wasm_v128_bitselect(a, b, wasm_v128_andnot(a, b)));
    REPORT("i32x4.mul/sub", wasm_i32x4_sub(wasm_i32x4_mul(a, b), wasm_i64x2_mul(a, b)));
    REPORT("replace/extract", wasm_i8x16_replace_lane(a, 5, (int8_t)wasm_u16x8_extract_lane(b, 3)));
    REPORT("f32x4.add/mul", canon32(wasm_f32x4_add(wasm_f32x4_mul(fa, fb), fa)));
    REPORT("f32x4.div/sqrt", canon32(wasm_f32x4_div(fa, wasm_f32x4_sqrt(fb))));
    REPORT("f32x4.min", canon32(wasm_f32x4_min(fa, fb)));
    REPORT("f32x4.max", canon32(wasm_f32x4_max(fa, fb)));
    REPORT("f32x4.pmin", wasm_f32x4_pmin(fa, fb));
    REPORT("f32x4.pmax", wasm_f32x4_pmax(fa, fb));
    REPORT("f32x4.nearest", canon32(wasm_f32x4_nearest(fa)));
    REPORT("f32x4.ceil/floor", canon32(wasm_f32x4_sub(wasm_f32x4_ceil(fa), wasm_f32x4_floor(fb))));
    REPORT("f32x4.trunc/abs/neg", wasm_v128_xor(canon32(wasm_f32x4_trunc(fa)), wasm_f32x4_neg(wasm_f32x4_abs(fb))));
    REPORT("i32x4.trunc_sat_f32_s", wasm_i32x4_trunc_sat_f32x4(fa));
    REPORT("u32x4.trunc_sat_f32", wasm_u32x4_trunc_sat_f32x4(fb));
    REPORT("f32x4.convert_i32_s", wasm_f32x4_convert_i32x4(a));
    REPORT("f32x4.convert_u32", wasm_f32x4_convert_u32x4(b));
    REPORT("f32x4.eq/lt/ge", wasm_v128_xor(wasm_f32x4_eq(fa, fb), wasm_v128_xor(wasm_f32x4_lt(fa, fb), wasm_f32x4_ge(fa, fb))));
    REPORT("f32x4.demote_f64x2", canon32(wasm_f32x4_demote_f64x2_zero(da)));
    REPORT("f64x2.promote_f32", canon64(wasm_f64x2_promote_low_f32x4(fa)));
    REPORT("f64x2.add/div", canon64(wasm_f64x2_div(wasm_f64x2_add(da, db), db)));
    REPORT("f64x2.min/max", wasm_v128_xor(canon64(wasm_f64x2_min(da, db)), canon64(wasm_f64x2_max(da, db))));
    REPORT("f64x2.pmin/pmax", wasm_v128_xor(wasm_f64x2_pmin(da, db), wasm_f64x2_pmax(da, db)));
    REPORT("f64x2.ceil/nearest", canon64(wasm_f64x2_add(wasm_f64x2_ceil(da), wasm_f64x2_nearest(db))));
    REPORT("f64x2.sqrt", canon64(wasm_f64x2_sqrt(da)));
    REPORT("i32x4.trunc_sat_f64_s", wasm_i32x4_trunc_sat_f64x2_zero(da));
    REPORT("u32x4.trunc_sat_f64", wasm_u32x4_trunc_sat_f64x2_zero(db));
    REPORT("f64x2.convert_low_i32", wasm_f64x2_convert_low_i32x4(a));
    REPORT("f64x2.convert_low_u32", wasm_f64x2_convert_low_u32x4(b));
    REPORT("f64x2.lt/ne", wasm_v128_or(wasm_f64x2_lt(da, db), wasm_f64x2_ne(da, db)));
    memcpy(simd_buf, &a, 16); memcpy(simd_buf + 16, &b, 16);
    REPORT("load8_splat", wasm_v128_load8_splat(simd_buf + (sh & 31)));
    REPORT("load32_zero", wasm_v128_load32_zero(simd_buf + (sh & 15)));
    REPORT("load16x4_s", wasm_i32x4_load16x4(simd_buf + (sh & 7)));
    REPORT("load16_lane", wasm_v128_load16_lane(simd_buf + 3, a, 5));
    wasm_v128_store64_lane(simd_buf + 40, b, 1);
    wasm_v128_store(simd_buf + 47, a);
    REPORT("store_lane+store", wasm_v128_load(simd_buf + 33));
}

#ifdef WITH_RELAXED_SIMD
/* The relaxed SIMD operations, on inputs for which every
   implementation choice the spec allows gives the same result (exact products, in-range
   swizzle indices and conversions, no NaN or zero-sign ties, all-or-nothing lane masks). */
__attribute__((noinline)) static void relaxed_ops(v128_t a, v128_t b) {
    v128_t small_a = wasm_i32x4_shr(a, 26), small_b = wasm_i32x4_shr(b, 27);
    v128_t fa = wasm_f32x4_convert_i32x4(small_a), fb = wasm_f32x4_convert_i32x4(small_b);
    v128_t da = wasm_f64x2_convert_low_i32x4(small_a), db = wasm_f64x2_convert_low_i32x4(small_b);
    v128_t idx = wasm_v128_and(b, wasm_i8x16_splat(15));
    v128_t mask = wasm_i8x16_lt(a, b);                     /* bytes all 0x00 or 0xff */
    v128_t pos7 = wasm_v128_and(b, wasm_i8x16_splat(0x7f)); /* i7 operand */
    v128_t q = wasm_v128_and(a, wasm_i16x8_splat(0x3fff));  /* never -32768 * -32768 */
    REPORT("f32x4.relaxed_madd", wasm_f32x4_relaxed_madd(fa, fb, fa));
    REPORT("f32x4.relaxed_nmadd", wasm_f32x4_relaxed_nmadd(fa, fb, fb));
    REPORT("f64x2.relaxed_madd", wasm_f64x2_relaxed_madd(da, db, da));
    REPORT("f64x2.relaxed_nmadd", wasm_f64x2_relaxed_nmadd(da, db, db));
    REPORT("i8x16.relaxed_swizzle", wasm_i8x16_relaxed_swizzle(a, idx));
    REPORT("i32x4.relaxed_trunc_s", wasm_i32x4_relaxed_trunc_f32x4(fa));
    REPORT("i32x4.relaxed_trunc_u", wasm_u32x4_relaxed_trunc_f32x4(wasm_f32x4_abs(fb)));
    REPORT("relaxed_trunc_f64", wasm_i32x4_relaxed_trunc_f64x2_zero(da));
    REPORT("f32x4.relaxed_min/max", wasm_v128_xor(wasm_f32x4_relaxed_min(fa, wasm_f32x4_add(fb, wasm_f32x4_splat(0.5f))),
                                                  wasm_f32x4_relaxed_max(fa, wasm_f32x4_add(fb, wasm_f32x4_splat(0.5f)))));
    REPORT("f64x2.relaxed_min/max", wasm_v128_xor(wasm_f64x2_relaxed_min(da, wasm_f64x2_add(db, wasm_f64x2_splat(0.5))),
                                                  wasm_f64x2_relaxed_max(da, wasm_f64x2_add(db, wasm_f64x2_splat(0.5)))));
    REPORT("i8x16.relaxed_laneselect", wasm_i8x16_relaxed_laneselect(a, b, mask));
    REPORT("i16x8.relaxed_q15mulr", wasm_i16x8_relaxed_q15mulr(q, b));
    REPORT("relaxed_dot_i8x16_i7x16", wasm_i16x8_relaxed_dot_i8x16_i7x16(a, pos7));
    REPORT("relaxed_dot_add", wasm_i32x4_relaxed_dot_i8x16_i7x16_add(a, pos7, b));
}
#endif

static void simd(void) {
    uint64_t x = 0x0123456789abcdefull;
    static const float fspecial[] = {0.0f, -0.0f, 1.5f, -2.5f, 2.5f, 3.5f, 1e10f, -1e10f, 4294967296.0f, 2147483520.0f, -2147483904.0f, INFINITY, -INFINITY, NAN, 1e-45f, 0.49999997f};
    static const double dspecial[] = {0.0, -0.0, 1.5, -2.5, 2.5, 0.5, 1e300, -1e300, 4294967295.5, 2147483647.9, -2147483648.9, INFINITY, -INFINITY, NAN, 5e-324, -0.5};
    for (int round = 0; round < 24; round++) {
        uint64_t r[8];
        for (int k = 0; k < 8; k++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; r[k] = x; }
        v128_t a = wasm_i64x2_make((int64_t)r[0], (int64_t)r[1]), b = wasm_i64x2_make((int64_t)r[2], (int64_t)r[3]);
        if (round % 3 == 0) b = wasm_i8x16_splat((int8_t)(round * 7 - 80));
        v128_t fa = wasm_f32x4_make(fspecial[r[4] % 16], fspecial[(r[4] >> 8) % 16], (float)(int32_t)r[5] / 65536.0f, fspecial[round % 16]);
        v128_t fb = wasm_f32x4_make(fspecial[(r[4] >> 16) % 16], (float)(int64_t)r[6] * 1e-10f, fspecial[(round + 3) % 16], fspecial[(r[4] >> 24) % 16]);
        v128_t da = wasm_f64x2_make(dspecial[r[7] % 16], (double)(int64_t)r[5] / 3.0);
        v128_t db = wasm_f64x2_make(dspecial[(r[7] >> 8) % 16], dspecial[round % 16]);
        op_count = 0;
        simd_ops(a, b, fa, fb, da, db, (int)(r[6] % 70));
#ifdef WITH_RELAXED_SIMD
        relaxed_ops(a, b);
#endif
    }
    for (int k = 0; k < op_count; k++) {
        printf("%-22s %016llx\n", op_name[k], (unsigned long long)op_hash[k]);
        hsum = hsum * 31 + op_hash[k];
    }
    printf("total %016llx\n", (unsigned long long)hsum);
}
#ifdef WITH_RELAXED_SIMD
#pragma clang attribute pop
#endif
#endif

int main(void) {
    floats();
    ints();
#ifdef WITH_SIMD
    simd();
#endif
    return 0;
}
