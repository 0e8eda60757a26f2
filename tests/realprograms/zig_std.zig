// Zig std under churn (zig 0.17 API): StringHashMap and AutoHashMap with removals,
// ArrayList growth, sort with a context, std.fmt (allocPrint, floats, hex), a tree of
// heap nodes freed through the general-purpose allocator, and recursion.
// argv[1] scales. Exits 1 on a failed check.
const std = @import("std");

const Tree = struct {
    left: ?*Tree,
    right: ?*Tree,
    fn make(alloc: std.mem.Allocator, depth: u32) !*Tree {
        const t = try alloc.create(Tree);
        if (depth == 0) {
            t.* = .{ .left = null, .right = null };
        } else {
            t.* = .{ .left = try make(alloc, depth - 1), .right = try make(alloc, depth - 1) };
        }
        return t;
    }
    fn check(self: *const Tree) u64 {
        if (self.left) |l| return 1 + l.check() + self.right.?.check();
        return 1;
    }
    fn free(self: *Tree, alloc: std.mem.Allocator) void {
        if (self.left) |l| l.free(alloc);
        if (self.right) |r| r.free(alloc);
        alloc.destroy(self);
    }
};

const Rec = struct {
    name: []u8,
    score: i64,
    fn less(_: void, a: Rec, b: Rec) bool {
        if (a.score != b.score) return a.score > b.score;
        return std.mem.lessThan(u8, a.name, b.name);
    }
};

fn ackermann(m: u64, n: u64) u64 {
    if (m == 0) return n + 1;
    if (n == 0) return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, n - 1));
}

pub fn main(init: std.process.Init) !void {
    const alloc = init.gpa;
    var out_buf: [4096]u8 = undefined;
    var file_writer = std.Io.File.stdout().writer(init.io, &out_buf);
    const out = &file_writer.interface;
    defer out.flush() catch {};

    const args = try init.minimal.args.toSlice(init.arena.allocator());
    const n: u32 = if (args.len > 1) try std.fmt.parseInt(u32, args[1], 10) else 10;
    var bad = false;

    var prng = std.Random.DefaultPrng.init(2024);
    const rand = prng.random();

    // string-keyed map with owned keys, updated and partly removed
    var words = std.StringHashMap(u32).init(alloc);
    defer {
        var it = words.keyIterator();
        while (it.next()) |k| alloc.free(k.*);
        words.deinit();
    }
    const syl = [_][]const u8{ "ba", "ko", "ri", "zu", "te", "na", "mo" };
    var i: u32 = 0;
    while (i < n * 1500) : (i += 1) {
        var buf: [16]u8 = undefined;
        var len: usize = 0;
        const parts = 1 + rand.uintLessThan(u32, 3);
        var j: u32 = 0;
        while (j < parts) : (j += 1) {
            const s = syl[rand.uintLessThan(usize, syl.len)];
            @memcpy(buf[len .. len + s.len], s);
            len += s.len;
        }
        const gop = try words.getOrPut(buf[0..len]);
        if (!gop.found_existing) {
            gop.key_ptr.* = try alloc.dupe(u8, buf[0..len]);
            gop.value_ptr.* = 0;
        }
        gop.value_ptr.* += 1;
    }
    var removed: u32 = 0;
    var total: u64 = 0;
    {
        var to_remove: std.ArrayList([]const u8) = .empty;
        defer to_remove.deinit(alloc);
        var it = words.iterator();
        while (it.next()) |e| {
            total += e.value_ptr.*;
            if (e.value_ptr.* % 3 == 0) try to_remove.append(alloc, e.key_ptr.*);
        }
        for (to_remove.items) |k| {
            const kv = words.fetchRemove(k).?;
            alloc.free(kv.key);
            removed += 1;
        }
    }
    if (total != n * 1500) bad = true;
    try out.print("words: {d} kept, {d} removed, {d} total\n", .{ words.count(), removed, total });

    // records sorted by score then name; names built with allocPrint
    var recs: std.ArrayList(Rec) = .empty;
    defer {
        for (recs.items) |r| alloc.free(r.name);
        recs.deinit(alloc);
    }
    i = 0;
    while (i < n * 200) : (i += 1) {
        const name = try std.fmt.allocPrint(alloc, "rec-{x:0>4}-{d}", .{ rand.int(u16), i % 7 });
        try recs.append(alloc, .{ .name = name, .score = @as(i64, rand.intRangeAtMost(i32, -500, 500)) });
    }
    std.mem.sort(Rec, recs.items, {}, Rec.less);
    var k: usize = 1;
    while (k < recs.items.len) : (k += 1) {
        if (Rec.less({}, recs.items[k], recs.items[k - 1])) bad = true;
    }
    try out.print("top {s} {d}, bottom {s} {d}\n", .{ recs.items[0].name, recs.items[0].score, recs.items[recs.items.len - 1].name, recs.items[recs.items.len - 1].score });

    // integer map with churn
    var m = std.AutoHashMap(u64, f64).init(alloc);
    defer m.deinit();
    i = 0;
    while (i < n * 3000) : (i += 1) {
        const key = rand.uintLessThan(u64, n * 1000);
        if (i % 4 == 3) {
            _ = m.remove(key);
        } else {
            try m.put(key, @as(f64, @floatFromInt(key)) * 0.5 + 0.25);
        }
    }
    var fsum: f64 = 0;
    var vit = m.valueIterator();
    while (vit.next()) |v| fsum += v.*;
    try out.print("int map {d} entries, sum {d:.3} {e}\n", .{ m.count(), fsum, fsum });

    // trees through the allocator, and recursion
    var checks: u64 = 0;
    var d: u32 = 4;
    while (d <= 4 + n / 2) : (d += 1) {
        const t = try Tree.make(alloc, d);
        checks += t.check();
        t.free(alloc);
    }
    try out.print("trees check {d}, ackermann(2,{d}) = {d}, ackermann(3,4) = {d}\n", .{ checks, n, ackermann(2, n), ackermann(3, 4) });

    try out.print("{s}\n", .{if (bad) "FAILED" else "all ok"});
    if (bad) std.process.exit(1);
}
