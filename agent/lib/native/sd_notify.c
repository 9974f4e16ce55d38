/*
 * sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. Why native: Node cannot send
 * on an AF_UNIX datagram socket, and the systemd-notify tool sends from a process of its own,
 * which may exit before systemd has read who sent it (the message is then dropped); sent from
 * the daemon itself, NotifyAccess=main suffices.
 *
 * notify(socketPath, message): null when sent, else the error's text.
 */
#include <errno.h>
#include <node_api.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_MESSAGE 4096

static napi_value text(napi_env env, const char *s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

static napi_value notify(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], none;
  napi_get_null(env, &none);
  struct sockaddr_un sa;
  char path[sizeof sa.sun_path + 1];
  char msg[MAX_MESSAGE + 1];
  size_t plen = 0, mlen = 0, need = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2
      || napi_get_value_string_utf8(env, argv[0], NULL, 0, &need) != napi_ok || need > sizeof sa.sun_path
      || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &plen) != napi_ok
      || napi_get_value_string_utf8(env, argv[1], NULL, 0, &need) != napi_ok || need > MAX_MESSAGE
      || napi_get_value_string_utf8(env, argv[1], msg, sizeof msg, &mlen) != napi_ok) {
    return text(env, "notify(socketPath, message): a socket path that fits sockaddr_un and a message of at most 4096 bytes");
  }
  /* An absolute path, or '@' for Linux's abstract namespace (what systemd uses in containers). */
  if (plen < 2 || (path[0] != '/' && path[0] != '@')) return text(env, "NOTIFY_SOCKET is neither an absolute path nor an abstract name (@...)");
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  memcpy(sa.sun_path, path, plen);
  if (path[0] == '@') sa.sun_path[0] = 0;
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + (path[0] == '/' ? 1 : 0));
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return text(env, strerror(errno));
  ssize_t n = sendto(fd, msg, mlen, MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
  int err = n < 0 ? errno : 0;
  close(fd);
  return err ? text(env, strerror(err)) : none;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "notify", NAPI_AUTO_LENGTH, notify, NULL, &fn);
  napi_set_named_property(env, exports, "notify", fn);
  return exports;
}
