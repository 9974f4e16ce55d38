/*
 * Opening a libpcap capture the way the agent needs it (live_capture.c), and compiling a filter
 * against a dead handle for check-config, in plain libpcap: no Node-API here.
 */
#ifndef ETA_PCAP_SETUP_H
#define ETA_PCAP_SETUP_H

#include <pcap/pcap.h>
#include <stddef.h>

/*
 * An activated, non-blocking capture on device in immediate mode with the filter (none when
 * empty) set, or NULL with the reason in msg. *warning: libpcap's warning status text, or "".
 */
pcap_t *pcap_setup_open(const char *device, const char *filter, int snaplen, int promisc, int buffer_bytes,
                        const char **warning, char *msg, size_t msg_size);

/* 0 when filter compiles for linktype link; 1 with libpcap's message in msg when not; -1 when no dead handle. */
int pcap_setup_check_filter(const char *filter, int link, int snaplen, char *msg, size_t msg_size);

#endif
