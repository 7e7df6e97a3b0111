/*
 * The C reference for `npm run bench -- churn`: open and close short loopback connections in a plain blocking
 * loop, the way the harness's churn (harness/kernel/churn.ts) does, with nothing in between, and time the loop.
 * Compiled by the bench into a temporary folder with the system compiler (cc) and run inside the same kind of
 * namespace as the labs (unshare --user --map-root-user --net). Not a lab tool: no options are validated beyond
 * what the bench passes.
 *
 *   churn <settled|bare> <client|server> <connections|-> <batch> <request bytes> <response bytes> <port>
 *
 * settled: per connection socket, connect, accept4 (peer address kept, as the harness reads the client's port
 *   from it), optionally a request and a response (send, read), then the closer shutdown(SHUT_WR)s, the other
 *   side reads to EOF and closes, the closer reads to EOF (its peer's FIN has arrived: it is in TIME-WAIT) and
 *   closes. The harness makes the same calls on non-blocking sockets (read() of an empty socket waits in poll()).
 *   `batch` connections are opened before any of them is used (that many in flight at once).
 * bare: socket, connect, accept4, close, close (five system calls, no data, nothing waited for).
 *
 * Prints one line: {"connections":N,"ns":WALL,"cpuNs":CPU,"portSum":S}: wall-clock and CPU (user + system) time of
 * the loop only (no start-up, no listener set-up); portSum adds up the client ports, which are kept as the
 * harness keeps them. With "-" for the connections, it reads counts from stdin, one a line, and churns that many
 * on the same listener for each, printing (and flushing) one such line each, until stdin ends: the bench drives
 * the C program and the harness chunk by chunk, in turns.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
  fprintf(stderr, "churn: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* CPU time (user + system) this process has used */
static long long cpu_ns(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return ((long long)u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000000LL + ((long long)u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1000LL;
}

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* read until EOF (any data first) */
static void drain(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0) return;
    if (n < 0) die("read");
  }
}

/* read exactly len bytes */
static void read_exactly(int fd, size_t len) {
  char buf[4096];
  while (len > 0) {
    ssize_t n = read(fd, buf, len < sizeof buf ? len : sizeof buf);
    if (n <= 0) die("read request");
    len -= (size_t)n;
  }
}

struct churn {
  int l;
  struct sockaddr_in addr;
  int bare, server_closes;
  long batch;
  size_t req_len, resp_len;
  char *req, *resp;
  int *c, *s;
};

/* n connections on the listener, timed; prints the result line */
static void run(const struct churn *ch, long n) {
  struct sockaddr_in addr = ch->addr;
  int l = ch->l, bare = ch->bare, server_closes = ch->server_closes;
  long batch = ch->batch;
  size_t req_len = ch->req_len, resp_len = ch->resp_len;
  char *req = ch->req, *resp = ch->resp;
  int *c = ch->c, *s = ch->s;
  unsigned short *ports = calloc((size_t)n, sizeof(unsigned short));
  if (!ports) die("calloc");
  long long t0 = now_ns(), c0 = cpu_ns();
  for (long done = 0; done < n;) {
    long k = n - done < batch ? n - done : batch;
    for (long i = 0; i < k; i++) {
      c[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (c[i] < 0) die("socket");
      if (connect(c[i], (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
    }
    for (long i = 0; i < k; i++) {
      struct sockaddr_in peer;
      socklen_t len = sizeof peer;
      s[i] = accept4(l, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
      if (s[i] < 0) die("accept4");
      ports[done + i] = ntohs(peer.sin_port);
    }
    for (long i = 0; i < k; i++) {
      if (bare) {
        close(server_closes ? s[i] : c[i]);
        close(server_closes ? c[i] : s[i]);
        continue;
      }
      if (req_len > 0) {
        if (send(c[i], req, req_len, MSG_NOSIGNAL) != (ssize_t)req_len) die("send request");
        read_exactly(s[i], req_len);
      }
      if (resp_len > 0 && send(s[i], resp, resp_len, MSG_NOSIGNAL) != (ssize_t)resp_len) die("send response");
      int first = server_closes ? s[i] : c[i];
      int second = server_closes ? c[i] : s[i];
      if (shutdown(first, SHUT_WR) < 0) die("shutdown");
      drain(second);
      close(second);
      drain(first);
      close(first);
    }
    done += k;
  }
  long long elapsed = now_ns() - t0, cpu = cpu_ns() - c0;
  /* the ports were recorded as the harness records them; a checksum keeps the compiler from dropping them */
  unsigned long sum = 0;
  for (long i = 0; i < n; i++) sum += ports[i];
  printf("{\"connections\":%ld,\"ns\":%lld,\"cpuNs\":%lld,\"portSum\":%lu}\n", n, elapsed, cpu, sum);
  fflush(stdout);
  free(ports);
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: churn <settled|bare> <client|server> <connections|-> <batch> <request> <response> <port>\n");
    return 2;
  }
  int bare = strcmp(argv[1], "bare") == 0;
  int server_closes = strcmp(argv[2], "server") == 0;
  int serve = strcmp(argv[3], "-") == 0;
  long n = serve ? 1 : atol(argv[3]);
  long batch = atol(argv[4]);
  size_t req_len = (size_t)atol(argv[5]);
  size_t resp_len = (size_t)atol(argv[6]);
  int port = atoi(argv[7]);
  if (n < 1 || batch < 1) return 2;

  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l < 0) die("socket");
  if (bind(l, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(l, 4096) < 0) die("listen");

  struct churn ch = {.l = l, .addr = addr, .bare = bare, .server_closes = server_closes, .batch = batch,
                     .req_len = req_len, .resp_len = resp_len};
  ch.req = calloc(req_len + 1, 1);
  ch.resp = calloc(resp_len + 1, 1);
  ch.c = calloc((size_t)batch, sizeof(int));
  ch.s = calloc((size_t)batch, sizeof(int));
  if (!ch.req || !ch.resp || !ch.c || !ch.s) die("calloc");
  if (!serve) {
    run(&ch, n);
    return 0;
  }
  int got;
  while ((got = scanf("%ld", &n)) == 1) {
    if (n < 1) {
      fprintf(stderr, "churn: %ld on stdin: a count is at least 1\n", n);
      return 2;
    }
    run(&ch, n);
  }
  if (got != EOF) {
    fprintf(stderr, "churn: stdin holds something other than a count\n");
    return 2;
  }
  return 0;
}
