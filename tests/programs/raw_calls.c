/* Raw wasi_snapshot_preview1 calls on the wrong kind of descriptor and other edge cases:
   every errno must equal wasmtime's. */
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <wasi/api.h>
#include <sys/stat.h>
int main(void) {
  int fd = open("sand/existing.txt", O_RDONLY);
  __wasi_fd_t o;
  printf("file as dir: %d\n", __wasi_path_open(fd, 0, "x", 0, 0,0,0,&o));
  printf("mkdir on file fd: %d\n", __wasi_path_create_directory(fd, "x"));
  int d = open("sand/sub", O_RDONLY|O_DIRECTORY);
  char b[10]; size_t n;
  __wasi_iovec_t iov = {(uint8_t*)b, 10};
  printf("read dir: %d\n", __wasi_fd_read(d, &iov, 1, &n));
  __wasi_ciovec_t ciov = {(const uint8_t*)b, 1};
  printf("write dir: %d\n", __wasi_fd_write(d, &ciov, 1, &n));
  __wasi_filesize_t off;
  printf("seek dir: %d\n", __wasi_fd_seek(d, 0, 0, &off));
  printf("tell dir: %d\n", __wasi_fd_tell(d, &off));
  printf("readdir file: %d\n", __wasi_fd_readdir(fd, (uint8_t*)b, 10, 0, &n));
  printf("pread dir: %d\n", __wasi_fd_pread(d, &iov, 1, 0, &n));
  printf("pread stdin: %d\n", __wasi_fd_pread(0, &iov, 1, 0, &n));
  printf("set_size dir: %d\n", __wasi_fd_filestat_set_size(d, 0));
  printf("allocate dir: %d\n", __wasi_fd_allocate(d, 0, 10));
  printf("advise file: %d\n", __wasi_fd_advise(fd, 0, 10, 1));
  printf("advise stdout: %d\n", __wasi_fd_advise(1, 0, 10, 1));
  printf("advise dir: %d\n", __wasi_fd_advise(d, 0, 10, 1));
  printf("sync stdout: %d\n", __wasi_fd_sync(1));
  printf("datasync stdout: %d\n", __wasi_fd_datasync(1));
  printf("sync dir: %d\n", __wasi_fd_sync(d));
  printf("prestat file: %d\n", __wasi_fd_prestat_get(fd, (void*)b));
  printf("renumber to closed: %d\n", __wasi_fd_renumber(fd, 77));
  int fd2 = open("sand/sub/inner.txt", O_RDONLY);
  printf("renumber onto open fd: %d\n", __wasi_fd_renumber(fd2, d));
  printf("read after renumber: %d [%.5s]\n", (int)read(d, b, 5), b);
  printf("old fd closed: %d\n", __wasi_fd_close(fd2));
  d = open("sand/sub", O_RDONLY|O_DIRECTORY);
  /* raw readdir with a tiny buffer: the entry is cut, bufused == buf_len */
  uint8_t small[30];
  size_t used;
  printf("readdir small: %d used=%zu\n", __wasi_fd_readdir(d, small, sizeof small, 0, &used), used);
  /* poll a regular file for reading: ready at once, nbytes = bytes left */
  __wasi_subscription_t sub = {0};
  sub.userdata = 42; sub.u.tag = __WASI_EVENTTYPE_FD_READ;
  sub.u.u.fd_read.file_descriptor = fd;
  __wasi_event_t ev;
  size_t nev;
  printf("poll file: %d nev=%zu ud=%llu err=%d type=%d\n", __wasi_poll_oneoff(&sub, &ev, 1, &nev), nev,
         (unsigned long long)ev.userdata, ev.error, ev.type);
  printf("sock_accept file: %d\n", __wasi_sock_accept(fd, 0, &o));
  printf("sock_shutdown bad: %d\n", __wasi_sock_shutdown(99, 1));
  printf("set_flags file append: %d\n", __wasi_fd_fdstat_set_flags(fd, 1));
  printf("set_flags stdout nonblock: %d\n", __wasi_fd_fdstat_set_flags(1, 4));
  printf("set_flags file sync: %d\n", __wasi_fd_fdstat_set_flags(fd, 16));
  __wasi_fdstat_t fs;
  __wasi_fd_fdstat_get(fd, &fs);
  printf("fdstat file type=%d flags=%d\n", fs.fs_filetype, fs.fs_flags);
  __wasi_fd_fdstat_get(1, &fs);
  printf("fdstat stdout type=%d flags=%d\n", fs.fs_filetype, fs.fs_flags);
  __wasi_fd_fdstat_get(d, &fs);
  printf("fdstat dir type=%d flags=%d\n", fs.fs_filetype, fs.fs_flags);
  printf("set_rights more: %d\n", __wasi_fd_fdstat_set_rights(fd, (1ULL<<30)-1, (1ULL<<30)-1));
  printf("set_rights less: %d\n", __wasi_fd_fdstat_set_rights(fd, 0, 0));
  __wasi_filestat_t st;
  printf("filestat stdout: %d\n", __wasi_fd_filestat_get(1, &st));
  printf("  type=%d size=%lld\n", st.filetype, (long long)st.size);
  printf("times both: %d\n", __wasi_fd_filestat_set_times(d, 0, 0, 3));
  printf("path times both: %d\n", __wasi_path_filestat_set_times(3, 0, "existing.txt", 0, 0, 12));
  printf("times stdout: %d\n", __wasi_fd_filestat_set_times(1, 0, 0, 2));
  printf("prestat_dir_name short: %d\n", __wasi_fd_prestat_dir_name(3, (uint8_t*)b, 2));
  printf("close preopen: %d\n", __wasi_fd_close(4));
  printf("rename to root: %d\n", __wasi_path_rename(3, "sub", 3, "."));
  printf("symlink to dot: %d\n", __wasi_path_symlink("x", 3, "."));
  printf("mkdir dot: %d\n", __wasi_path_create_directory(3, "."));
  printf("unlink dot: %d\n", __wasi_path_unlink_file(3, "."));
  printf("link dir: %d\n", __wasi_path_link(3, 0, "sub", 3, "sub2"));
  printf("open trunc ro: %d\n", __wasi_path_open(3, 0, "existing.txt", __WASI_OFLAGS_TRUNC, __WASI_RIGHTS_FD_READ, 0, 0, &o));
  printf("open creat|dir: %d\n", __wasi_path_open(3, 0, "newd", __WASI_OFLAGS_CREAT|__WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READ, 0, 0, &o));
  printf("open excl dir: %d\n", __wasi_path_open(3, 0, "sub", __WASI_OFLAGS_CREAT|__WASI_OFLAGS_EXCL, __WASI_RIGHTS_FD_READ, 0, 0, &o));
  printf("poll zero: %d\n", __wasi_poll_oneoff((void*)b, (void*)b, 0, &n));
  return 0;
}
