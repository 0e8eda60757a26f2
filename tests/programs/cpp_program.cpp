// C++: iostreams, containers, algorithms, virtual calls, file I/O in the preopened
// directory (through <cstdio>: zig's libc++ for WASI has no <fstream>), and a static
// constructor (runs before main through the C++ runtime).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

struct Greeter {
    std::string greeting;
    Greeter() : greeting("static constructor ran") {}
};
static Greeter greeter;

class Shape {
public:
    virtual ~Shape() = default;
    virtual double area() const = 0;
    virtual std::string name() const = 0;
};
class Rect : public Shape {
    double w, h;
public:
    Rect(double w, double h) : w(w), h(h) {}
    double area() const override { return w * h; }
    std::string name() const override { return "rect"; }
};
class Square : public Rect {
public:
    explicit Square(double s) : Rect(s, s) {}
    std::string name() const override { return "square"; }
};

int main(int argc, char **argv) {
    std::cout << greeter.greeting << "\n";
    for (int i = 1; i < argc; i++) std::cout << "arg " << i << ": " << argv[i] << "\n";

    std::vector<std::unique_ptr<Shape>> shapes;
    shapes.push_back(std::make_unique<Rect>(2, 3));
    shapes.push_back(std::make_unique<Square>(4));
    for (const auto &s : shapes) std::cout << s->name() << " " << s->area() << "\n";

    // words from stdin, counted and sorted
    std::map<std::string, int> counts;
    std::string word;
    while (std::cin >> word) counts[word]++;
    std::vector<std::pair<std::string, int>> v(counts.begin(), counts.end());
    std::sort(v.begin(), v.end(), [](const auto &a, const auto &b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    for (const auto &p : v) std::cout << p.first << "=" << p.second << "\n";

    if (FILE *out = std::fopen("sand/cpp_out.txt", "w")) {
        for (int i = 0; i < 5; i++) std::fprintf(out, "line %d\n", i * i);
        std::fclose(out);
    }
    int n = 0;
    if (FILE *in = std::fopen("sand/cpp_out.txt", "r")) {
        char line[64];
        while (std::fgets(line, sizeof line, in)) n++;
        std::fclose(in);
    }
    std::cout << "lines read back: " << n << "\n";
    std::cout << "missing opens: " << (std::fopen("sand/does_not_exist", "r") != nullptr) << "\n";

    std::ostringstream os;
    os.precision(10);
    os << 3.14159265358979 << " " << 1e100 << " " << -0.0;
    std::cout << os.str() << std::endl;
    std::cerr << "to stderr" << std::endl;
    return static_cast<int>(v.size());
}
