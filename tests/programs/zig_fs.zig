// Zig's std.Io file system API over WASI: the first preopen is Zig's cwd (fd 3).
const std = @import("std");
const Dir = std.Io.Dir;

pub fn main(init: std.process.Init) !void {
    const io = init.io;
    const cwd = Dir.cwd(); // on WASI: the first preopen
    try cwd.writeFile(io, .{ .sub_path = "zig.txt", .data = "written by zig\n" });
    var buf: [100]u8 = undefined;
    const data = try cwd.readFile(io, "zig.txt", &buf);
    std.debug.print("read back: {s}", .{data});
    try cwd.createDir(io, "zigdir", .default_dir);
    try cwd.rename("zig.txt", cwd, "zigdir/moved.txt", io);
    const st = try cwd.statFile(io, "zigdir/moved.txt", .{});
    std.debug.print("size={d} kind={s}\n", .{ st.size, @tagName(st.kind) });
    var d = try cwd.openDir(io, "zigdir", .{ .iterate = true });
    var it = d.iterate();
    while (try it.next(io)) |e| std.debug.print("entry {s} {s}\n", .{ e.name, @tagName(e.kind) });
    d.close(io);
    if (cwd.openDir(io, "..", .{})) |_| {
        std.debug.print("ESCAPED\n", .{});
    } else |err| std.debug.print("open ..: {s}\n", .{@errorName(err)});
    if (cwd.readFile(io, "missing", &buf)) |_| {} else |err| std.debug.print("missing: {s}\n", .{@errorName(err)});
    try cwd.deleteFile(io, "zigdir/moved.txt");
    try cwd.deleteDir(io, "zigdir");
    try cwd.writeFile(io, .{ .sub_path = "kept.txt", .data = "kept\n" });
}
