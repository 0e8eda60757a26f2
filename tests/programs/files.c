/* File system operations inside the preopened directory "sand" (and "ro", a second
   preopen). Output is deterministic so that runs under two runtimes compare equal. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static int check(const char *what, int r) {
    if (r < 0) printf("%s: -1 %s\n", what, strerror(errno));
    else printf("%s: %d\n", what, r);
    errno = 0;
    return r;
}

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *path) {
    DIR *d = opendir(path);
    if (!d) { printf("opendir %s: %s\n", path, strerror(errno)); return; }
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 256) {
        char *s = malloc(strlen(e->d_name) + 4);
        const char *t = e->d_type == DT_DIR ? "/" : e->d_type == DT_LNK ? "@" :
                        e->d_type == DT_REG ? "" : "?";
        sprintf(s, "%s%s", e->d_name, t);
        names[n++] = s;
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp);
    printf("ls %s:", path);
    for (int i = 0; i < n; i++) { printf(" %s", names[i]); free(names[i]); }
    printf("\n");
}

static void show_stat(const char *path, int follow) {
    struct stat st;
    int r = follow ? stat(path, &st) : lstat(path, &st);
    if (r < 0) { printf("stat %s: %s\n", path, strerror(errno)); return; }
    const char *kind = S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir" :
                       S_ISLNK(st.st_mode) ? "link" : "other";
    printf("stat %s: %s size=%lld nlink=%d\n", path, kind,
           S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size, (int)st.st_nlink);
}

int main(void) {
    char buf[256];
    /* create, write, read back */
    int fd = check("open new", open("sand/new.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644));
    check("write", (int)write(fd, "hello, world\n", 13));
    check("write2", (int)write(fd, "second line\n", 12));
    check("close", close(fd));
    fd = check("open ro", open("sand/new.txt", O_RDONLY));
    memset(buf, 0, sizeof buf);
    check("read", (int)read(fd, buf, sizeof buf - 1));
    printf("content=[%s]\n", buf);
    check("read eof", (int)read(fd, buf, sizeof buf));
    /* seek/tell/pread */
    check("lseek set", (int)lseek(fd, 7, SEEK_SET));
    memset(buf, 0, sizeof buf);
    check("read after seek", (int)read(fd, buf, 5));
    printf("got=[%s]\n", buf);
    check("lseek cur", (int)lseek(fd, 0, SEEK_CUR));
    check("lseek end", (int)lseek(fd, -5, SEEK_END));
    check("lseek neg", (int)lseek(fd, -100, SEEK_SET));
    memset(buf, 0, sizeof buf);
    check("pread", (int)pread(fd, buf, 6, 14));
    printf("pread=[%s]\n", buf);
    check("tell after pread", (int)lseek(fd, 0, SEEK_CUR));
    check("write on ro", (int)write(fd, "x", 1));
    check("close", close(fd));
    check("close again", close(fd));

    /* read-write, pwrite, ftruncate, fstat */
    fd = check("open rw", open("sand/new.txt", O_RDWR));
    check("pwrite", (int)pwrite(fd, "HELLO", 5, 0));
    check("ftruncate", ftruncate(fd, 12));
    struct stat st;
    check("fstat", fstat(fd, &st));
    printf("size=%lld reg=%d\n", (long long)st.st_size, S_ISREG(st.st_mode));
    check("ftruncate grow", ftruncate(fd, 20));
    check("fstat", fstat(fd, &st));
    printf("size=%lld\n", (long long)st.st_size);
    check("fsync", fsync(fd));
    check("fdatasync", fdatasync(fd));
    check("close", close(fd));

    /* append mode */
    fd = check("open append", open("sand/log.txt", O_CREAT | O_WRONLY | O_APPEND, 0644));
    check("append1", (int)write(fd, "one\n", 4));
    check("lseek0", (int)lseek(fd, 0, SEEK_SET));
    check("append2", (int)write(fd, "two\n", 4));
    int fl = fcntl(fd, F_GETFL);
    printf("append flag=%d\n", (fl & O_APPEND) != 0);
    check("close", close(fd));
    FILE *f = fopen("sand/log.txt", "r");
    while (f && fgets(buf, sizeof buf, f)) printf("log: %s", buf);
    if (f) fclose(f);

    /* exclusive create */
    check("excl existing", open("sand/new.txt", O_CREAT | O_EXCL | O_WRONLY, 0644));
    check("open missing", open("sand/missing.txt", O_RDONLY));
    check("open existing.txt", fd = open("sand/existing.txt", O_RDONLY));
    memset(buf, 0, sizeof buf);
    check("read existing", (int)read(fd, buf, sizeof buf - 1));
    printf("existing=[%s]\n", buf);
    close(fd);

    /* directories */
    check("mkdir", mkdir("sand/dir", 0755));
    check("mkdir again", mkdir("sand/dir", 0755));
    check("mkdir nested missing", mkdir("sand/nope/dir", 0755));
    check("mkdir sub", mkdir("sand/dir/sub", 0755));
    check("rmdir nonempty", rmdir("sand/dir"));
    check("rmdir sub", rmdir("sand/dir/sub"));
    check("rmdir file", rmdir("sand/new.txt"));
    check("unlink dir", unlink("sand/dir"));
    check("open dir O_DIRECTORY", fd = open("sand/dir", O_RDONLY | O_DIRECTORY));
    close(fd);
    check("open file O_DIRECTORY", open("sand/new.txt", O_RDONLY | O_DIRECTORY));
    check("open dir for write", open("sand/dir", O_WRONLY));
    check("open through file", open("sand/new.txt/x", O_RDONLY));
    check("chdir-free relative", access("sand/dir/../new.txt", F_OK));

    /* rename and unlink */
    check("rename", rename("sand/new.txt", "sand/dir/moved.txt"));
    check("rename missing", rename("sand/new.txt", "sand/x.txt"));
    check("rename over", rename("sand/log.txt", "sand/existing.txt"));
    check("rename dir over file", rename("sand/dir", "sand/existing.txt"));
    check("rename file over dir", rename("sand/existing.txt", "sand/dir"));
    check("unlink", unlink("sand/dir/moved.txt"));
    check("unlink missing", unlink("sand/dir/moved.txt"));

    /* links */
    check("symlink", symlink("existing.txt", "sand/link"));
    check("symlink exists", symlink("whatever", "sand/link"));
    check("symlink dangling", symlink("nowhere", "sand/dangling"));
    ssize_t n = readlink("sand/link", buf, sizeof buf - 1);
    if (n >= 0) buf[n] = 0;
    printf("readlink=%zd [%s]\n", n, n >= 0 ? buf : "");
    check("readlink file", (int)readlink("sand/existing.txt", buf, sizeof buf));
    check("readlink missing", (int)readlink("sand/nothing", buf, sizeof buf));
    n = readlink("sand/link", buf, 3);
    printf("readlink short=%zd [%.3s]\n", n, buf);
    fd = check("open via link", open("sand/link", O_RDONLY));
    memset(buf, 0, sizeof buf);
    check("read via link", (int)read(fd, buf, sizeof buf - 1));
    printf("via link=[%s]\n", buf);
    close(fd);
    check("open dangling", open("sand/dangling", O_RDONLY));
    check("open nofollow", open("sand/link", O_RDONLY | O_NOFOLLOW));
    check("hard link", link("sand/existing.txt", "sand/hard"));
    show_stat("sand/hard", 1);
    show_stat("sand/link", 1);
    show_stat("sand/link", 0);
    show_stat("sand/dir", 1);
    show_stat("sand/dangling", 1);
    show_stat("sand/sub/inner.txt", 1);
    check("symlink to dir", symlink("sub", "sand/sublink"));
    fd = check("open through dir link", open("sand/sublink/inner.txt", O_RDONLY));
    close(fd);
    check("unlink link", unlink("sand/link"));

    /* timestamps */
    struct timeval tv[2] = {{1000000000, 0}, {1200000000, 500000}};
    check("utimes", utimes("sand/hard", tv));
    check("stat", stat("sand/hard", &st));
    printf("mtime=%lld atime=%lld\n", (long long)st.st_mtim.tv_sec, (long long)st.st_atim.tv_sec);
    struct timespec ts[2] = {{0, UTIME_OMIT}, {1300000000, 0}};
    check("utimensat omit", utimensat(AT_FDCWD, "sand/hard", ts, 0));
    check("stat", stat("sand/hard", &st));
    printf("mtime=%lld atime=%lld\n", (long long)st.st_mtim.tv_sec, (long long)st.st_atim.tv_sec);

    /* read-only second preopen */
    f = fopen("ro/readme.txt", "r");
    if (f && fgets(buf, sizeof buf, f)) printf("ro: %s", buf);
    if (f) fclose(f);

    /* many files and a directory listing */
    for (int i = 0; i < 40; i++) {
        char name[64];
        sprintf(name, "sand/dir/file%02d.txt", i);
        FILE *g = fopen(name, "w");
        fprintf(g, "%d\n", i);
        fclose(g);
    }
    list("sand");
    list("sand/dir");
    list("ro");
    for (int i = 0; i < 40; i++) {
        char name[64];
        sprintf(name, "sand/dir/file%02d.txt", i);
        if (i % 2) unlink(name);
    }
    list("sand/dir");
    return 0;
}
