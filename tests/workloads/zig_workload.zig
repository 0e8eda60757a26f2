// Zig standard library under load (zig 0.17 API): ArrayList, AutoHashMap, sort, a
// priority queue, fmt of floats and integers, parseFloat/parseInt, wrapping and overflow
// arithmetic on u64/i128, gzip (std.compress.flate) round trip, CRC-32, SHA-256, BLAKE3
// and ChaCha20, output through std.Io's buffered stdout writer.
const std = @import("std");
const flate = std.compress.flate;

const Item = struct {
    key: u32,
    weight: f64,
    fn lessThan(_: void, a: Item, b: Item) bool {
        return a.weight < b.weight or (a.weight == b.weight and a.key < b.key);
    }
};

fn order(_: void, a: u64, b: u64) std.math.Order {
    return std.math.order(a, b);
}

fn compressAndHash(alloc: std.mem.Allocator, stdout: *std.Io.Writer) !void {
    // generated text from a small vocabulary, so that it compresses
    const words = [_][]const u8{ "alpha", "beta", "gamma", "delta", "wasm", "python", "runtime", "zig", "deflate", "the" };
    var prng = std.Random.DefaultPrng.init(7);
    const rand = prng.random();
    var text: std.ArrayList(u8) = .empty;
    defer text.deinit(alloc);
    while (text.items.len < 8000) {
        try text.appendSlice(alloc, words[rand.uintLessThan(usize, words.len)]);
        try text.append(alloc, if (rand.uintLessThan(u8, 12) == 0) '\n' else ' ');
    }

    var compressed: [16 * 1024]u8 = undefined;
    var cw: std.Io.Writer = .fixed(&compressed);
    var window: [flate.max_window_len]u8 = undefined;
    var comp = try flate.Compress.init(&cw, &window, .gzip, .default);
    try comp.writer.writeAll(text.items);
    try comp.finish();
    const clen = cw.end;

    var in: std.Io.Reader = .fixed(compressed[0..clen]);
    var dwindow: [flate.max_window_len]u8 = undefined;
    var decomp: flate.Decompress = .init(&in, .gzip, &dwindow);
    var aw: std.Io.Writer.Allocating = .init(alloc);
    defer aw.deinit();
    _ = try decomp.reader.streamRemaining(&aw.writer);
    const ok = std.mem.eql(u8, aw.written(), text.items);
    try stdout.print("text {d} bytes -> gzip {d} bytes, round trip {s}, crc32 {x}\n", .{ text.items.len, clen, if (ok) "ok" else "BAD", std.hash.Crc32.hash(text.items) });

    var sha: [32]u8 = undefined;
    std.crypto.hash.sha2.Sha256.hash(text.items, &sha, .{});
    var b3: [32]u8 = undefined;
    std.crypto.hash.Blake3.hash(text.items, &b3, .{});
    try stdout.print("sha256 {x}\nblake3 {x}\n", .{ sha, b3 });
    const key: [32]u8 = @splat(42);
    const nonce: [12]u8 = @splat(7);
    var enc: [1024]u8 = undefined;
    std.crypto.stream.chacha.ChaCha20IETF.xor(&enc, text.items[0..1024], 1, key, nonce);
    try stdout.print("chacha20 {x}\n", .{enc[0..16]});
}

pub fn main(init: std.process.Init) !void {
    const alloc = init.gpa;
    var out_buf: [4096]u8 = undefined;
    var file_writer = std.Io.File.stdout().writer(init.io, &out_buf);
    const stdout = &file_writer.interface;
    defer stdout.flush() catch {};

    var prng = std.Random.DefaultPrng.init(42);
    const rand = prng.random();

    var list: std.ArrayList(Item) = .empty;
    defer list.deinit(alloc);
    var i: u32 = 0;
    while (i < 3000) : (i += 1) {
        try list.append(alloc, .{ .key = rand.int(u32) % 1000, .weight = rand.float(f64) * 100.0 });
    }
    std.mem.sort(Item, list.items, {}, Item.lessThan);
    const first = list.items[0];
    const last = list.items[list.items.len - 1];
    try stdout.print("first {d} {d:.6} last {d} {d:.6}\n", .{ first.key, first.weight, last.key, last.weight });

    var map = std.AutoHashMap(u32, u32).init(alloc);
    defer map.deinit();
    for (list.items) |it| {
        const gop = try map.getOrPut(it.key);
        if (!gop.found_existing) gop.value_ptr.* = 0;
        gop.value_ptr.* += 1;
    }
    var max_key: u32 = 0;
    var max_count: u32 = 0;
    var iter = map.iterator();
    while (iter.next()) |e| {
        if (e.value_ptr.* > max_count or (e.value_ptr.* == max_count and e.key_ptr.* < max_key)) {
            max_count = e.value_ptr.*;
            max_key = e.key_ptr.*;
        }
    }
    try stdout.print("distinct keys {d}, most common {d} x{d}\n", .{ map.count(), max_key, max_count });

    var pq = std.PriorityQueue(u64, void, order).initContext({});
    defer pq.deinit(alloc);
    i = 0;
    while (i < 2000) : (i += 1) try pq.push(alloc, rand.int(u64) >> 3);
    var prev: u64 = 0;
    var popped: usize = 0;
    var xor: u64 = 0;
    while (pq.pop()) |x| {
        if (x < prev) return error.HeapBroken;
        prev = x;
        xor ^= x *% 0x9E3779B97F4A7C15;
        popped += 1;
    }
    try stdout.print("heap popped {d} in order, xor {x}\n", .{ popped, xor });

    var h: u64 = 0xcbf29ce484222325;
    var wide: i128 = 1;
    var k: u32 = 1;
    while (k <= 25) : (k += 1) {
        h = (h ^ k) *% 0x100000001b3;
        wide *= @as(i128, k);
    }
    var big: u32 = 0xFFFF_FFFF;
    _ = &big;
    const ov = @mulWithOverflow(big, @as(u32, 3));
    var neg: i64 = -12345;
    _ = &neg;
    try stdout.print("fnv {x} 25! = {d} ov=({d},{d}) shr {d} rotl {x}\n", .{ h, wide, ov[0], ov[1], neg >> 3, std.math.rotl(u32, big - 0x7FFF_FFFE, 4) });

    const floats = [_]f64{ 0.1, 1.0 / 3.0, 2.5e-8, 123456789.125, -0.0, 1e300 };
    for (floats) |f| try stdout.print("{d} {e} {d:.3} | ", .{ f, f, f });
    try stdout.print("\n", .{});
    const parsed = try std.fmt.parseFloat(f64, "6.02214076e23");
    const parsed_int = try std.fmt.parseInt(i64, "-9223372036854775808", 10);
    var f32v: f32 = 1.1;
    _ = &f32v;
    try stdout.print("parsed {e} {d} sqrt {d:.12} f32 {d}\n", .{ parsed, parsed_int, @sqrt(2.0 + parsed / 1e23), f32v * 3.0 });

    var text: std.ArrayList(u8) = .empty;
    defer text.deinit(alloc);
    i = 0;
    while (i < 200) : (i += 1) try text.print(alloc, "{d},", .{i * i});
    var sum: u64 = 0;
    var tok = std.mem.tokenizeScalar(u8, text.items, ',');
    while (tok.next()) |t| sum += try std.fmt.parseInt(u64, t, 10);
    try stdout.print("text {d} bytes, sum of squares {d}\n", .{ text.items.len, sum });

    try compressAndHash(alloc, stdout);
}
