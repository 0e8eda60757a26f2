/* Number formatting and parsing (printf %g %e %f %a, strtod, strtol, float <-> int
   conversions) and integer edge cases (64-bit mul/div/rem/shifts, __int128, bit ops). */
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

int main(void) {
    floats();
    ints();
    return 0;
}
