/* See pcap_setup.h. */
#include <stdio.h>
#include <string.h>

#include "pcap_setup.h"

/* Compile and set the filter; 0, or -1 with libpcap's message in msg. */
static int set_filter(pcap_t *p, const char *filter, char *msg, size_t msg_size) {
  struct bpf_program prog;
  if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
    snprintf(msg, msg_size, "filter: %s", pcap_geterr(p));
    return -1;
  }
  int bad = pcap_setfilter(p, &prog);
  pcap_freecode(&prog);
  if (bad != 0) {
    snprintf(msg, msg_size, "filter: %s", pcap_geterr(p));
    return -1;
  }
  return 0;
}

pcap_t *pcap_setup_open(const char *device, const char *filter, int snaplen, int promisc, int buffer_bytes,
                        const char **warning, char *msg, size_t msg_size) {
  char err[PCAP_ERRBUF_SIZE];
  err[0] = 0;
  pcap_t *p = pcap_create(device, err);
  if (!p) {
    snprintf(msg, msg_size, "%s", err);
    return NULL;
  }
  pcap_set_snaplen(p, snaplen);
  pcap_set_promisc(p, promisc ? 1 : 0);
  pcap_set_buffer_size(p, buffer_bytes);
  pcap_set_immediate_mode(p, 1);
  int rc = pcap_activate(p);
  if (rc < 0) {
    /* PCAP_ERROR carries its text in pcap_geterr; the specific codes are named by pcap_statustostr. */
    const char *status = pcap_statustostr(rc);
    const char *detail = pcap_geterr(p);
    /* Some libpcap versions put the status text itself in the error buffer: say it once. */
    int extra = detail && *detail && strcmp(detail, status) != 0;
    snprintf(msg, msg_size, "%s%s%s", status, extra ? ": " : "", extra ? detail : "");
    pcap_close(p);
    return NULL;
  }
  *warning = rc > 0 ? pcap_statustostr(rc) : "";
  if (filter[0] && set_filter(p, filter, msg, msg_size) != 0) {
    pcap_close(p);
    return NULL;
  }
  if (pcap_setnonblock(p, 1, err) != 0) {
    snprintf(msg, msg_size, "nonblocking mode: %s", err);
    pcap_close(p);
    return NULL;
  }
  return p;
}

int pcap_setup_check_filter(const char *filter, int link, int snaplen, char *msg, size_t msg_size) {
  pcap_t *p = pcap_open_dead(link, snaplen);
  if (!p) {
    snprintf(msg, msg_size, "pcap_open_dead failed");
    return -1;
  }
  struct bpf_program prog;
  int r = 0;
  if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
    snprintf(msg, msg_size, "%s", pcap_geterr(p));
    r = 1;
  } else {
    pcap_freecode(&prog);
  }
  pcap_close(p);
  return r;
}
