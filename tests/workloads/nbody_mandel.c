/* Floating-point kernels: the n-body benchmark in double precision (energy printed with
   %.9f), an ASCII mandelbrot, libm calls (sin, exp, log, pow, sqrt, atan2, fmod), and
   single-precision expression chains (each f32 operation must round to f32). */
#include <math.h>
#include <stdio.h>

#define PI 3.141592653589793
#define SOLAR_MASS (4 * PI * PI)
#define DAYS_PER_YEAR 365.24

struct body { double x, y, z, vx, vy, vz, mass; };

static struct body bodies[5] = {
    {0, 0, 0, 0, 0, 0, SOLAR_MASS},
    {4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
     1.66007664274403694e-03 * DAYS_PER_YEAR, 7.69901118419740425e-03 * DAYS_PER_YEAR,
     -6.90460016972063023e-05 * DAYS_PER_YEAR, 9.54791938424326609e-04 * SOLAR_MASS},
    {8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
     -2.76742510726862411e-03 * DAYS_PER_YEAR, 4.99852801234917238e-03 * DAYS_PER_YEAR,
     2.30417297573763929e-05 * DAYS_PER_YEAR, 2.85885980666130812e-04 * SOLAR_MASS},
    {1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
     2.96460137564761618e-03 * DAYS_PER_YEAR, 2.37847173959480950e-03 * DAYS_PER_YEAR,
     -2.96589568540237556e-05 * DAYS_PER_YEAR, 4.36624404335156298e-05 * SOLAR_MASS},
    {1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
     2.68067772490389322e-03 * DAYS_PER_YEAR, 1.62824170038242295e-03 * DAYS_PER_YEAR,
     -9.51592254519715870e-05 * DAYS_PER_YEAR, 5.15138902046611451e-05 * SOLAR_MASS}};

static void advance(int n, double dt) {
    int i, j;
    for (i = 0; i < n; i++) {
        struct body *b = &bodies[i];
        for (j = i + 1; j < n; j++) {
            struct body *b2 = &bodies[j];
            double dx = b->x - b2->x, dy = b->y - b2->y, dz = b->z - b2->z;
            double d2 = dx * dx + dy * dy + dz * dz;
            double mag = dt / (d2 * sqrt(d2));
            b->vx -= dx * b2->mass * mag; b->vy -= dy * b2->mass * mag; b->vz -= dz * b2->mass * mag;
            b2->vx += dx * b->mass * mag; b2->vy += dy * b->mass * mag; b2->vz += dz * b->mass * mag;
        }
    }
    for (i = 0; i < n; i++) {
        struct body *b = &bodies[i];
        b->x += dt * b->vx; b->y += dt * b->vy; b->z += dt * b->vz;
    }
}

static double energy(int n) {
    double e = 0;
    int i, j;
    for (i = 0; i < n; i++) {
        struct body *b = &bodies[i];
        e += 0.5 * b->mass * (b->vx * b->vx + b->vy * b->vy + b->vz * b->vz);
        for (j = i + 1; j < n; j++) {
            struct body *b2 = &bodies[j];
            double dx = b->x - b2->x, dy = b->y - b2->y, dz = b->z - b2->z;
            e -= (b->mass * b2->mass) / sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

static void offset_momentum(int n) {
    double px = 0, py = 0, pz = 0;
    int i;
    for (i = 0; i < n; i++) {
        px += bodies[i].vx * bodies[i].mass;
        py += bodies[i].vy * bodies[i].mass;
        pz += bodies[i].vz * bodies[i].mass;
    }
    bodies[0].vx = -px / SOLAR_MASS;
    bodies[0].vy = -py / SOLAR_MASS;
    bodies[0].vz = -pz / SOLAR_MASS;
}

static void mandelbrot(int w, int h, int maxit) {
    int px, py;
    long total = 0;
    for (py = 0; py < h; py++) {
        char line[128];
        for (px = 0; px < w; px++) {
            double cr = -2.2 + 3.0 * px / w, ci = -1.2 + 2.4 * py / h;
            double zr = 0, zi = 0, t;
            int it = 0;
            while (it < maxit && zr * zr + zi * zi <= 4.0) {
                t = zr * zr - zi * zi + cr;
                zi = 2 * zr * zi + ci;
                zr = t;
                it++;
            }
            total += it;
            line[px] = " .:-=+*#%@"[it * 9 / maxit];
        }
        line[w] = 0;
        printf("|%s|\n", line);
    }
    printf("mandelbrot iterations: %ld\n", total);
}

__attribute__((noinline)) static float fold(float a, float b, float c) {
    return (a * b + c) * (a - c) / (b + 1e-3f) - a * a * a;
}
__attribute__((noinline)) static float horner(float x) {
    return ((((x * 1.1f + 2.2f) * x + 3.3f) * x + 4.4f) * x + 5.5f) * x - 6.6f;
}
__attribute__((noinline)) static double mixed(float a, double b) { return (double)(a * a) + b * a; }
__attribute__((noinline)) static float overflow(float a) { return a * a * 1e30f / 1e30f; }

static void singles(void) {
    float s = 0;
    double d = 0;
    unsigned h = 0;
    int i;
    for (i = 1; i < 1500; i++) {
        float x = (float)i / 7.0f - 100.0f;
        float r = fold(x, x * 0.37f + 1.0f, 3.0f - x) + horner(x * 0.01f) + sinf(x) * expf(x * 1e-3f)
                  + powf(fabsf(x) + 1.0f, 0.7f) + sqrtf(fabsf(x));
        union { float f; unsigned u; } bits;
        bits.f = r;
        s += r;
        d += mixed(x, 1.0 / i);
        h = h * 31 + bits.u;
    }
    printf("f32: %.9g %.17g %08x %g %g\n", s, d, h, overflow(1e10f), overflow(3e9f));
}

int main(void) {
    int i;
    double acc = 0;
    offset_momentum(5);
    printf("energy before: %.9f\n", energy(5));
    for (i = 0; i < 2000; i++) advance(5, 0.01);
    printf("energy after:  %.9f\n", energy(5));
    printf("jupiter at: %.9f %.9f %.9f\n", bodies[1].x, bodies[1].y, bodies[1].z);
    mandelbrot(48, 20, 60);
    for (i = 1; i <= 200; i++) {
        double x = i * 0.37;
        acc += sin(x) * cos(x / 3) + exp(-x / 50) * log(x) + pow(x, 0.3) + atan2(x, 7.0) + fmod(x * 13.1, 2.5)
               + cbrt(x) + tanh(x / 40) + floor(x * 1.5) / 3 + round(-x) + trunc(x * 0.7) + fabs(-x);
    }
    printf("libm acc: %.9f\n", acc);
    /* The sign of a NaN made by arithmetic is nondeterministic in Wasm: print fabs(). */
    printf("special: %.9f %.9f %f %f %f %d\n", sqrt(2.0), hypot(3, 4), log(0.0), fabs(sqrt(-1.0)), 1 / -0.0,
           (int)isnan(nan("")));
    singles();
    return 0;
}
