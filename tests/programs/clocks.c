/* Clocks, randomness, sleeping through poll_oneoff, sched_yield. Output is
   deterministic: only relations are printed, never raw times. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long ns(clockid_t id) {
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0) return -1;
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(void) {
    long long r = ns(CLOCK_REALTIME);
    printf("realtime after 2020: %d\n", r > 1577836800LL * 1000000000LL);
    struct timespec res;
    printf("getres realtime: %d\n", clock_getres(CLOCK_REALTIME, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0);
    printf("getres monotonic: %d\n", clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_nsec > 0);
    long long a = ns(CLOCK_MONOTONIC);
    long long b = ns(CLOCK_MONOTONIC);
    printf("monotonic non-decreasing: %d\n", b >= a);

    struct timespec req = {0, 30 * 1000000};
    long long t0 = ns(CLOCK_MONOTONIC);
    int rc = nanosleep(&req, NULL);
    long long t1 = ns(CLOCK_MONOTONIC);
    printf("nanosleep rc=%d slept>=30ms: %d\n", rc, t1 - t0 >= 30000000LL);
    t0 = ns(CLOCK_MONOTONIC);
    usleep(20000);
    t1 = ns(CLOCK_MONOTONIC);
    printf("usleep slept>=20ms: %d\n", t1 - t0 >= 20000000LL);

    /* poll on stdin with a timeout: stdin is a file/bytes, so ready at once */
    struct pollfd p = {0, POLLIN, 0};
    rc = poll(&p, 1, 1000);
    printf("poll stdin rc=%d readable=%d\n", rc, (p.revents & POLLIN) != 0);

    unsigned char buf1[64], buf2[64];
    memset(buf1, 0, sizeof buf1);
    memset(buf2, 0, sizeof buf2);
    printf("getentropy: %d %d\n", getentropy(buf1, sizeof buf1), getentropy(buf2, sizeof buf2));
    int nonzero = 0;
    for (size_t i = 0; i < sizeof buf1; i++) nonzero |= buf1[i];
    printf("random differs: %d nonzero: %d\n", memcmp(buf1, buf2, sizeof buf1) != 0, nonzero != 0);
    printf("arc4random in range: %d\n", arc4random_uniform(10) < 10);
    printf("sched_yield: %d\n", sched_yield());
    return 0;
}
