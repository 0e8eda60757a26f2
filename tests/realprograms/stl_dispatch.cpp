// C++ of the everyday kind: a class hierarchy with virtual dispatch held through
// shared_ptr/unique_ptr, std::map / unordered_map / set / deque / string / vector
// churn, std::sort with a comparator, std::function, and a small expression-tree
// interpreter (recursion through virtual calls). argv[1] scales. Exits 1 on a failed check.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

struct Node {
  virtual ~Node() { ++destroyed; }
  virtual long eval(const std::map<std::string, long> &env) const = 0;
  virtual std::string show() const = 0;
  static long destroyed;
};
long Node::destroyed = 0;

struct Num : Node {
  long v;
  explicit Num(long v) : v(v) {}
  long eval(const std::map<std::string, long> &) const override { return v; }
  std::string show() const override { return std::to_string(v); }
};
struct Var : Node {
  std::string name;
  explicit Var(std::string n) : name(std::move(n)) {}
  long eval(const std::map<std::string, long> &env) const override {
    auto it = env.find(name);
    return it == env.end() ? 0 : it->second;
  }
  std::string show() const override { return name; }
};
struct Bin : Node {
  char op;
  std::shared_ptr<Node> a, b;
  Bin(char op, std::shared_ptr<Node> a, std::shared_ptr<Node> b) : op(op), a(std::move(a)), b(std::move(b)) {}
  long eval(const std::map<std::string, long> &env) const override {
    long x = a->eval(env), y = b->eval(env);
    switch (op) {
      case '+': return x + y;
      case '-': return x - y;
      case '*': return long((static_cast<long long>(x) * y) % 1000003);  // long is 32-bit
      default: return y ? x % y : x;
    }
  }
  std::string show() const override { return "(" + a->show() + op + b->show() + ")"; }
};

static unsigned rng = 99;
static unsigned nextr() { rng = rng * 1103515245u + 12345u; return (rng >> 8) & 0xffffff; }

static std::shared_ptr<Node> gen(int depth) {
  static const char *names[] = {"x", "y", "zeta", "w"};
  if (depth == 0 || nextr() % 5 == 0) {
    if (nextr() % 2) return std::make_shared<Num>(long(nextr() % 100));
    return std::make_shared<Var>(names[nextr() % 4]);
  }
  const char ops[] = "+-*%";
  return std::make_shared<Bin>(ops[nextr() % 4], gen(depth - 1), gen(depth - 1));
}

struct Shape {
  virtual ~Shape() = default;
  virtual double area() const = 0;
  virtual const char *kind() const = 0;
};
struct Rect : Shape {
  double w, h;
  Rect(double w, double h) : w(w), h(h) {}
  double area() const override { return w * h; }
  const char *kind() const override { return "rect"; }
};
struct Circle : Shape {
  double r;
  explicit Circle(double r) : r(r) {}
  double area() const override { return 3.141592653589793 * r * r; }
  const char *kind() const override { return "circle"; }
};
struct Square : Rect {
  explicit Square(double s) : Rect(s, s) {}
  const char *kind() const override { return "square"; }
};

int main(int argc, char **argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 10;
  int bad = 0;

  // expression trees
  std::map<std::string, long> env{{"x", 7}, {"y", -3}, {"zeta", 1234}, {"w", 5}};
  long long total = 0;
  size_t chars = 0;
  for (int i = 0; i < n * 20; i++) {
    auto e = gen(8);
    total = (total * 31 + e->eval(env)) % 1000000007;
    chars += e->show().size();
  }
  std::printf("expr total %lld chars %zu destroyed %ld\n", total, chars, Node::destroyed);

  // shapes through unique_ptr
  std::vector<std::unique_ptr<Shape>> shapes;
  for (int i = 0; i < n * 300; i++) {
    unsigned k = nextr() % 3;
    if (k == 0) shapes.emplace_back(new Rect(1 + nextr() % 10, 1 + nextr() % 7));
    else if (k == 1) shapes.emplace_back(new Circle((1 + nextr() % 50) / 10.0));
    else shapes.emplace_back(new Square(1 + nextr() % 9));
  }
  std::sort(shapes.begin(), shapes.end(), [](const std::unique_ptr<Shape> &a, const std::unique_ptr<Shape> &b) {
    return a->area() < b->area() || (a->area() == b->area() && std::string(a->kind()) < b->kind());
  });
  std::map<std::string, std::pair<int, double>> by_kind;
  for (auto &s : shapes) { auto &e = by_kind[s->kind()]; e.first++; e.second += s->area(); }
  for (auto &kv : by_kind) std::printf("%s: %d shapes, area %.3f\n", kv.first.c_str(), kv.second.first, kv.second.second);
  std::printf("smallest %s %.3f largest %s %.3f\n", shapes.front()->kind(), shapes.front()->area(),
              shapes.back()->kind(), shapes.back()->area());
  for (size_t i = 1; i < shapes.size(); i++) if (shapes[i - 1]->area() > shapes[i]->area()) bad = 1;

  // word counting: unordered_map<string,int>, then the top words via a set
  std::unordered_map<std::string, int> counts;
  const char *syll[] = {"ka", "lo", "mi", "ne", "ru", "ta", "shi", "po"};
  std::string text;
  for (int i = 0; i < n * 2000; i++) {
    std::string w;
    int len = 1 + nextr() % 3;
    for (int j = 0; j < len; j++) w += syll[nextr() % 8];
    counts[w]++;
    if (i < 50) text += w + " ";
  }
  std::set<std::pair<int, std::string>> top;
  for (auto &kv : counts) {
    top.insert({-kv.second, kv.first});
    if (top.size() > 5) top.erase(std::prev(top.end()));
  }
  std::printf("%zu distinct words; top:", counts.size());
  for (auto &p : top) std::printf(" %s=%d", p.second.c_str(), -p.first);
  std::printf("\n");
  long sum = 0;
  for (auto &kv : counts) sum += kv.second;
  if (sum != n * 2000) bad = 1;

  // deque as a sliding window, std::function pipeline
  std::deque<long> window;
  std::vector<std::function<long(long)>> stages{
      [](long v) { return v * 3 + 1; }, [](long v) { return v ^ (v >> 3); },
      [n](long v) { return v % (1000 + n); }};
  long acc = 0;
  for (int i = 0; i < n * 1000; i++) {
    long v = i;
    for (auto &f : stages) v = f(v);
    window.push_back(v);
    if (window.size() > 64) window.pop_front();
    acc += std::accumulate(window.begin(), window.end(), 0L) % 97;
  }
  std::printf("pipeline acc %ld window %zu\n", acc, window.size());

  // string building and searching
  std::string big;
  for (int i = 0; i < n * 100; i++) big += std::to_string(i * i) + (i % 10 ? "," : "\n");
  size_t pos = 0, found = 0;
  while ((pos = big.find("44", pos)) != std::string::npos) { found++; pos++; }
  std::printf("text %zu bytes, '44' x%zu, sample: %s\n", big.size(), found, text.substr(0, 40).c_str());

  std::printf(bad ? "FAILED\n" : "all ok\n");
  return bad;
}
