// C++ exceptions compiled to Wasm exception handling (exnref: try_table/throw_ref), built
// by harness.build_cpp_exceptions: throw across frames, catch by type (derived class, std
// base class, int), rethrow with `throw;`, destructors run during unwinding (live count),
// a throw in a loop, and with an argument: "u" an uncaught exception (the Wasm exception
// leaves _start: a trap, "thrown Wasm exception"), "t" a throw through a noexcept function
// (std::terminate -> abort: the trap "unreachable").
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>

static int live = 0;
struct Guard {
    const char *name;
    explicit Guard(const char *n) : name(n) { ++live; std::printf("enter %s\n", name); }
    ~Guard() { --live; std::printf("leave %s\n", name); }
};

struct BigError : std::runtime_error {
    int code;
    BigError(const std::string &m, int c) : std::runtime_error(m), code(c) {}
};

__attribute__((noinline)) int level3(int x) {
    Guard g("level3");
    if (x > 100) throw BigError("big", x);
    if (x < 0) throw std::out_of_range("negative");
    if (x == 7) throw 42;
    return x * 2;
}
__attribute__((noinline)) int level2(int x) { Guard g("level2"); return level3(x) + 1; }
__attribute__((noinline)) int level1(int x) { Guard g("level1"); return level2(x) + 1; }

int try_one(int x) {
    try {
        return level1(x);
    } catch (const BigError &e) {
        std::printf("caught BigError %s %d (live=%d)\n", e.what(), e.code, live);
        return -1;
    } catch (const std::exception &e) {
        std::printf("caught std::exception %s (live=%d)\n", e.what(), live);
        return -2;
    } catch (int v) {
        std::printf("caught int %d\n", v);
        return -3;
    }
}

__attribute__((noinline)) int no_escape(int x) noexcept { return level1(x); }

int rethrower(int x) {
    try {
        return level1(x);
    } catch (...) {
        std::printf("cleanup and rethrow\n");
        throw;
    }
}

int main(int argc, char **argv) {
    int inputs[] = {5, 500, -4, 7};
    for (int x : inputs) std::printf("try_one(%d) = %d\n", x, try_one(x));
    try {
        rethrower(1000);
    } catch (const BigError &e) {
        std::printf("outer caught rethrown %d\n", e.code);
    }
    int total = 0;
    for (int i = 0; i < 200; i++) {
        try { level3(i % 3 == 0 ? 101 + i : i % 5); } catch (const BigError &e) { total += e.code; }
    }
    std::printf("loop total %d live %d\n", total, live);
    std::fflush(stdout);
    if (argc > 1 && argv[1][0] == 'u') {
        level1(-1);   // uncaught: the Wasm exception leaves _start
    }
    if (argc > 1 && argv[1][0] == 't') {
        no_escape(1000);   // throws through noexcept: std::terminate -> abort
    }
    return 0;
}
