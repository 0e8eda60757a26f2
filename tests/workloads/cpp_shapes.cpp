// C++ without exceptions: class hierarchy with virtual calls, std::vector, std::map,
// std::unordered_map, std::string, std::sort with lambdas, std::unique_ptr, templates,
// std::variant/visit, std::function, iostreams (manipulators, istringstream, cerr).
#include <algorithm>
#include <cstdio>
#include <functional>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

namespace {

struct Shape {
    virtual ~Shape() { ++destroyed; }
    virtual double area() const = 0;
    virtual std::string name() const = 0;
    virtual int sides() const { return 0; }
    static int destroyed;
};
int Shape::destroyed = 0;

struct Circle : Shape {
    double r;
    explicit Circle(double r) : r(r) {}
    double area() const override { return 3.141592653589793 * r * r; }
    std::string name() const override { return "circle"; }
};

struct Rect : Shape {
    double w, h;
    Rect(double w, double h) : w(w), h(h) {}
    double area() const override { return w * h; }
    std::string name() const override { return w == h ? "square" : "rect"; }
    int sides() const override { return 4; }
};

struct Triangle : Shape {
    double a, b, c;
    Triangle(double a, double b, double c) : a(a), b(b), c(c) {}
    double area() const override {
        double s = (a + b + c) / 2;
        double q = s * (s - a) * (s - b) * (s - c);
        return q > 0 ? __builtin_sqrt(q) : 0;
    }
    std::string name() const override { return "triangle"; }
    int sides() const override { return 3; }
};

template <typename T>
T checksum(const std::vector<T> &v) {
    T acc{};
    for (const auto &x : v) acc = acc * 31 + x;
    return acc;
}

struct Rng {
    unsigned s = 12345;
    unsigned operator()() { s = s * 1103515245u + 12345u; return (s >> 16) & 0x7fff; }
};

std::string join(const std::vector<std::string> &parts, const std::string &sep) {
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) {
        if (i) out += sep;
        out += parts[i];
    }
    return out;
}

struct Describe {
    std::string operator()(int i) const { return "int:" + std::to_string(i); }
    std::string operator()(double d) const {
        std::ostringstream o;
        o << std::setprecision(12) << d;
        return "dbl:" + o.str();
    }
    std::string operator()(const std::string &s) const { return "str:" + s; }
};

void streams() {
    std::vector<std::variant<int, double, std::string>> vs{1, 2.5, std::string("x"), -7, 1e-7, std::string("hi")};
    for (auto &v : vs) std::cout << std::visit(Describe{}, v) << ' ';
    std::cout << '\n';
    std::vector<std::function<int(int)>> fs;
    for (int k = 0; k < 10; ++k) fs.push_back([k](int x) { return x * k + 1; });
    int acc = 0;
    for (int r = 0; r < 300; ++r)
        for (auto &f : fs) acc = f(acc) % 1000003;
    std::cout << "std::function acc " << acc << std::endl;
    std::cout << std::fixed << std::setprecision(6) << 3.14159265358979 << ' ' << std::scientific << 123456.789
              << ' ' << std::defaultfloat << std::numeric_limits<double>::max() << ' '
              << std::numeric_limits<float>::denorm_min() << ' ' << std::hex << 255 << std::dec << ' '
              << std::setw(8) << std::setfill('*') << 42 << '\n';
    std::istringstream in("10 20.5 abc 0x1F");
    int a = 0, d = 0;
    double b = 0;
    std::string c;
    in >> a >> b >> c >> std::hex >> d;
    std::cout << a << ' ' << b << ' ' << c << ' ' << d << '\n';
    std::cerr << "to stderr " << 3.25 << std::endl;
}

}  // namespace

int main() {
    Rng rng;
    {
        std::vector<std::unique_ptr<Shape>> shapes;
        for (int i = 0; i < 3000; ++i) {
            switch (rng() % 3) {
            case 0: shapes.emplace_back(new Circle(1 + rng() % 10)); break;
            case 1: shapes.emplace_back(new Rect(1 + rng() % 7, 1 + rng() % 7)); break;
            default: shapes.emplace_back(new Triangle(3 + rng() % 4, 3 + rng() % 4, 3 + rng() % 4)); break;
            }
        }
        std::map<std::string, std::pair<int, double>> by_name;
        int total_sides = 0;
        for (const auto &s : shapes) {
            auto &e = by_name[s->name()];
            e.first++;
            e.second += s->area();
            total_sides += s->sides();
        }
        for (const auto &kv : by_name)
            std::printf("%-8s count=%4d area=%.6f\n", kv.first.c_str(), kv.second.first, kv.second.second);
        std::printf("total sides %d\n", total_sides);
        std::stable_sort(shapes.begin(), shapes.end(),
                         [](const std::unique_ptr<Shape> &a, const std::unique_ptr<Shape> &b) {
                             return a->area() > b->area();
                         });
        std::printf("largest %s %.4f, smallest %s %.4f\n", shapes.front()->name().c_str(), shapes.front()->area(),
                    shapes.back()->name().c_str(), shapes.back()->area());
    }
    std::printf("destroyed %d\n", Shape::destroyed);

    std::vector<int> v(5000);
    std::iota(v.begin(), v.end(), -2500);
    std::reverse(v.begin(), v.end());
    std::sort(v.begin(), v.end(), [](int a, int b) { return (a * 7919 % 1000) < (b * 7919 % 1000) || ((a * 7919 % 1000) == (b * 7919 % 1000) && a < b); });
    std::printf("vector checksum %u, accumulate %ld\n", checksum(std::vector<unsigned>(v.begin(), v.end())),
                std::accumulate(v.begin(), v.end(), 0L));
    auto it = std::partition(v.begin(), v.end(), [](int x) { return x % 3 == 0; });
    std::printf("partition point %ld, nth %d\n", (long)(it - v.begin()), v[1234]);

    std::unordered_map<std::string, int> counts;
    std::vector<std::string> words;
    const char *syll[] = {"foo", "bar", "baz", "qux", "quux", "corge"};
    for (int i = 0; i < 4000; ++i) {
        std::string w = syll[rng() % 6];
        if (rng() % 2) w += syll[rng() % 6];
        counts[w]++;
        if (i % 400 == 0) words.push_back(w);
    }
    std::vector<std::pair<std::string, int>> sorted(counts.begin(), counts.end());
    std::sort(sorted.begin(), sorted.end(), [](const auto &a, const auto &b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    for (size_t i = 0; i < 5; ++i) std::printf("%s=%d ", sorted[i].first.c_str(), sorted[i].second);
    std::printf("(%zu distinct)\n", sorted.size());
    std::string joined = join(words, "-");
    std::printf("joined: %s (len %zu, find baz at %zu)\n", joined.c_str(), joined.size(), joined.find("baz"));
    std::string s = "The quick brown fox";
    std::transform(s.begin(), s.end(), s.begin(), [](char c) { return c >= 'a' && c <= 'z' ? c - 32 : c; });
    s.replace(4, 5, "slow");
    std::printf("%s | substr %s | compare %d\n", s.c_str(), s.substr(9, 5).c_str(), s.compare("THE") > 0);
    std::fflush(stdout);
    streams();
    return 0;
}
