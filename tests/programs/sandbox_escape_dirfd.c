/* The directory-descriptor escape of issue 8, as a real program: open a directory, swap
   it for a symlink climbing out, then use the descriptor. Every step prints its result;
   nothing outside the preopen may be read, listed or created. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void show(const char *what, int r) {
    if (r < 0) printf("%s: -1 %s\n", what, strerror(errno));
    else printf("%s: ok\n", what);
    errno = 0;
}

static void try_read(const char *what, int dfd, const char *path) {
    int fd = openat(dfd, path, O_RDONLY);
    show(what, fd);
    if (fd >= 0) {
        char buf[64] = {0};
        ssize_t n = read(fd, buf, sizeof buf - 1);
        printf("  read %d: %s\n", (int)n, buf);
        close(fd);
    }
}

static void list(const char *what, int dfd) {
    DIR *d = fdopendir(dfd);
    if (!d) { show(what, -1); return; }
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            printf("%s: entry %s\n", what, e->d_name);
            n++;
        }
    }
    printf("%s: %d entries\n", what, n);
    closedir(d);
}

int main(void) {
    show("mkdir a", mkdir("sand/a", 0755));
    int dfd = open("sand/a", O_RDONLY | O_DIRECTORY);
    show("open a", dfd);
    show("rmdir a", rmdir("sand/a"));
    show("symlink .. a", symlink("..", "sand/a"));
    try_read("openat outside.txt", dfd, "outside.txt");
    int fd = openat(dfd, "created", O_WRONLY | O_CREAT, 0644);
    show("openat created O_CREAT", fd);
    if (fd >= 0) close(fd);
    list("fdopendir", dfd);

    show("mkdir b", mkdir("sand/b", 0755));
    int dfd2 = open("sand/b", O_RDONLY | O_DIRECTORY);
    show("open b", dfd2);
    show("rmdir b", rmdir("sand/b"));
    show("symlink ../../.. b", symlink("../../../../../../../../..", "sand/b"));
    try_read("openat etc/passwd", dfd2, "etc/passwd");
    try_read("open b/etc/passwd", AT_FDCWD, "sand/b/etc/passwd");
    try_read("open a/outside.txt", AT_FDCWD, "sand/a/outside.txt");
    close(dfd2);
    return 0;
}
