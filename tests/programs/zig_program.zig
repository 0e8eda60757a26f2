// Zig: raw WASI calls through std.os.wasi, argv, and an exit status.
const std = @import("std");
const wasi = std.os.wasi;

fn write(fd: wasi.fd_t, bytes: []const u8) void {
    var iov = [_]wasi.ciovec_t{.{ .base = bytes.ptr, .len = bytes.len }};
    var n: usize = 0;
    _ = wasi.fd_write(fd, &iov, 1, &n);
}

pub fn main() void {
    var buf: [256]u8 = undefined;
    write(1, "hello from zig\n");
    var argc: usize = 0;
    var argv_size: usize = 0;
    _ = wasi.args_sizes_get(&argc, &argv_size);
    const line = std.fmt.bufPrint(&buf, "argc={d} argv_size={d}\n", .{ argc, argv_size }) catch return;
    write(1, line);
    var sum: u64 = 0;
    var i: u64 = 0;
    while (i < 100000) : (i += 1) sum +%= i * i;
    const l2 = std.fmt.bufPrint(&buf, "sum={d}\n", .{sum}) catch return;
    write(1, l2);
    write(2, "zig stderr\n");
    wasi.proc_exit(@intCast(argc + 4));
}
