{
  "targets": [
    {
      "target_name": "packet_socket",
      "sources": [
        "agent/capture/native/packet_socket.c"
      ],
      "conditions": [
        [
          "OS!='linux'",
          {
            "type": "none",
            "sources": []
          }
        ]
      ]
    },
    {
      "target_name": "live_capture",
      "sources": [
        "agent/capture/native/live_capture.c",
        "agent/capture/native/pcap_setup.c",
        "agent/capture/native/capture_poll.c"
      ],
      "libraries": [
        "-lpcap"
      ]
    },
    {
      "target_name": "read_buffer",
      "sources": [
        "agent/capture/native/read_buffer.c"
      ],
      "cflags": [
        "-Wall",
        "-Wextra"
      ]
    },
    {
      "target_name": "flow_core",
      "sources": [
        "agent/flows/native/flow_core.c",
        "agent/flows/native/bind_arrays.c",
        "agent/flows/native/packet_view.c",
        "agent/flows/native/table.c",
        "agent/flows/native/accumulate.c",
        "agent/flows/native/fragments.c",
        "agent/flows/native/decode.c",
        "agent/flows/native/link.c",
        "agent/meta/native/hello_watch.c",
        "agent/meta/native/gquic_chlo.c", "agent/meta/native/gquic_hash.c", "agent/meta/native/dtls_watch.c", "agent/meta/native/tls_resume.c", "agent/meta/native/quic_split.c",
        "agent/meta/native/tls_hello_parse.c",
        "agent/meta/native/ja4.c", "agent/meta/native/ja4_cache.c",
        "agent/meta/native/hello_rec.c",
        "agent/meta/native/quic_initial.c",
        "agent/meta/native/quic_open.c",
        "agent/meta/native/quic_hmac.c",
        "agent/meta/native/tls_split.c"
      ],
      "cflags": [
        "-Wall",
        "-Wextra"
      ]
    },
    {
      "target_name": "quic_crypto",
      "sources": [
        "agent/meta/native/quic_crypto.c",
        "agent/meta/native/quic_open.c",
        "agent/meta/native/quic_hmac.c",
        "agent/meta/native/gquic_hash.c"
      ],
      "cflags": [
        "-Wall",
        "-Wextra"
      ]
    },
    {
      "target_name": "tls_hello",
      "sources": [
        "agent/meta/native/tls_hello.c",
        "agent/meta/native/tls_hello_parse.c",
        "agent/meta/native/hello_rec.c",
        "agent/meta/native/ja4.c", "agent/meta/native/ja4_cache.c"
      ],
      "cflags": [
        "-Wall",
        "-Wextra"
      ]
    },
    {
      "target_name": "row_format",
      "sources": [
        "agent/features/native/row_format.c",
        "agent/meta/native/meta_cells.c"
      ],
      "cflags": [
        "-Wall",
        "-Wextra"
      ]
    },
    {
      "target_name": "label_json",
      "sources": [
        "agent/infer/native/label_json.c"
      ],
      "cflags": [
        "-Wall",
        "-Wextra"
      ]
    },
    {
      "target_name": "sd_notify",
      "sources": [
        "agent/lib/native/sd_notify.c"
      ],
      "cflags": [
        "-Wall",
        "-Wextra"
      ],
      "conditions": [
        [
          "OS!='linux'",
          {
            "type": "none",
            "sources": []
          }
        ]
      ]
    },
    {
      "target_name": "heap_tune",
      "sources": [
        "agent/lib/native/heap_tune.c"
      ],
      "cflags": [
        "-Wall",
        "-Wextra"
      ]
    }
  ]
}
