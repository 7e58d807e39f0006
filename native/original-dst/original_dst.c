/*
 * originalDst(fd): the destination a TCP connection had before an iptables REDIRECT/DNAT,
 * read from conntrack with SO_ORIGINAL_DST (IPv4) or IP6T_SO_ORIGINAL_DST (IPv6).
 * Node has no getsockopt, hence this addon. originalDst(fd, family?) with family 4 or 6 (known
 * from socket.localAddress) skips the getsockname() that detection costs. Returns [address, port, family] or undefined
 * when the connection was not translated (ENOENT); other errors throw with the errno name,
 * so a caller can tell "not redirected" from "not a TCP socket".
 */
#include <node_api.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* From <linux/netfilter_ipv4.h> / <linux/netfilter_ipv6/ip6_tables.h>; both are 80. Spelled
 * out because those headers clash with glibc's <netinet/in.h>. */
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  const char *code = err == EBADF ? "EBADF" : err == ENOTSOCK ? "ENOTSOCK" : err == ENOPROTOOPT ? "ENOPROTOOPT" : "EIO";
  napi_throw_error(env, code, msg);
  return NULL;
}

static napi_value result(napi_env env, const char *addr, int port, int family) {
  napi_value arr, a, p, f;
  napi_create_array_with_length(env, 3, &arr);
  napi_create_string_utf8(env, addr, NAPI_AUTO_LENGTH, &a);
  napi_create_int32(env, port, &p);
  napi_create_int32(env, family, &f);
  napi_set_element(env, arr, 0, a);
  napi_set_element(env, arr, 1, p);
  napi_set_element(env, arr, 2, f);
  return arr;
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static napi_value original_dst(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd = -1, hint = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "EINVAL", "originalDst(fd): fd must be a non-negative integer");
    return NULL;
  }

  if (argc > 1) napi_get_value_int32(env, argv[1], &hint);

  char text[INET6_ADDRSTRLEN];
  int v6 = hint == 6;
  if (hint != 4 && hint != 6) {
    struct sockaddr_storage local;
    socklen_t len = sizeof local;
    if (getsockname(fd, (struct sockaddr *)&local, &len) != 0) return throw_errno(env, "getsockname", errno);
    if (local.ss_family != AF_INET && local.ss_family != AF_INET6) return throw_errno(env, "originalDst", ENOPROTOOPT);
    /* A dual-stack listener accepts IPv4 peers as v4-mapped: conntrack holds an IPv4 entry. */
    v6 = local.ss_family == AF_INET6 && !IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&local)->sin6_addr);
  }
  if (v6) {
    struct sockaddr_in6 dst;
    socklen_t dlen = sizeof dst;
    if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &dst, &dlen) != 0) {
      if (errno == ENOENT) return undefined(env);
      return throw_errno(env, "getsockopt(IP6T_SO_ORIGINAL_DST)", errno);
    }
    inet_ntop(AF_INET6, &dst.sin6_addr, text, sizeof text);
    return result(env, text, ntohs(dst.sin6_port), 6);
  }

  struct sockaddr_in dst;
  socklen_t dlen = sizeof dst;
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &dst, &dlen) != 0) {
    if (errno == ENOENT) return undefined(env);
    return throw_errno(env, "getsockopt(SO_ORIGINAL_DST)", errno);
  }
  inet_ntop(AF_INET, &dst.sin_addr, text, sizeof text);
  return result(env, text, ntohs(dst.sin_port), 4);
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "originalDst", NAPI_AUTO_LENGTH, original_dst, NULL, &fn);
  napi_set_named_property(env, exports, "originalDst", fn);
  return exports;
}
