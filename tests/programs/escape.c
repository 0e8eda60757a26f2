/* Attempts to leave the sandbox: every one must fail, and nothing outside may change.
   The host prepared sand/out_rel -> ../outside/secret.txt, sand/out_abs -> an absolute
   path, and sand/loop -> loop. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <wasi/api.h>

static void t(const char *what, int r) {
    if (r < 0) printf("%s: -1 %s\n", what, strerror(errno));
    else printf("%s: %d (ESCAPED?)\n", what, r);
    errno = 0;
}

static void raw(const char *what, int dirfd, const char *path) {
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(dirfd, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, 0,
                                        __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    printf("raw %s: errno=%d\n", what, e);
}

int main(void) {
    struct stat st;
    char buf[64];
    t("open ../outside", open("sand/../outside/secret.txt", O_RDONLY));
    t("open ../../..", open("sand/../../../etc/passwd", O_RDONLY));
    t("open /etc/passwd", open("/etc/passwd", O_RDONLY));
    t("open sub/../../outside", open("sand/sub/../../outside/secret.txt", O_RDONLY));
    t("open out_rel", open("sand/out_rel", O_RDONLY));
    t("open out_abs", open("sand/out_abs", O_RDONLY));
    t("stat out_rel", stat("sand/out_rel", &st));
    t("stat out_abs", stat("sand/out_abs", &st));
    t("lstat out_rel (allowed)", lstat("sand/out_rel", &st) == 0 ? -2 : -1);
    t("open loop", open("sand/loop", O_RDONLY));
    t("create through out_rel", open("sand/out_rel", O_WRONLY | O_CREAT | O_TRUNC, 0644));
    t("mkdir ../made", mkdir("sand/../made", 0755));
    t("symlink absolute", symlink("/etc/passwd", "sand/abs_link"));
    t("symlink relative (allowed)", symlink("../outside", "sand/rel_link") == 0 ? -2 : -1);
    t("open via rel_link", open("sand/rel_link/secret.txt", O_RDONLY));
    t("mkdir via rel_link", mkdir("sand/rel_link/newdir", 0755));
    t("rename out", rename("sand/existing.txt", "sand/../stolen.txt"));
    t("rename in", rename("sand/../outside/secret.txt", "sand/got.txt"));
    t("link out", link("sand/existing.txt", "sand/../hard.txt"));
    t("unlink out", unlink("sand/../outside/secret.txt"));
    t("unlink via link dir", unlink("sand/rel_link/secret.txt"));
    t("rmdir ..", rmdir("sand/.."));
    t("opendir ..", opendir("sand/..") ? 1 : -1);
    t("readlink ../x", (int)readlink("sand/../outside", buf, sizeof buf));
    t("utimes out", utimes("sand/out_rel", NULL));
    t("truncate via link", truncate("sand/out_rel", 0));
    /* a directory descriptor is a capability of its own: ".." above it is refused */
    int sub = open("sand/sub", O_RDONLY | O_DIRECTORY);
    t("openat sub ..", openat(sub, "../existing.txt", O_RDONLY));
    t("openat sub inner (allowed)", openat(sub, "inner.txt", O_RDONLY) >= 0 ? -2 : -1);
    raw("absolute path", 3, "/etc/passwd");
    raw("dotdot", 3, "..");
    raw("dot (allowed when 0)", 3, ".");
    raw("out_rel", 3, "out_rel");
    raw("stdout as dir", 1, "x");
    raw("bad fd", 99, "x");
    return 0;
}
