{
  "targets": [
    {
      "target_name": "packet_socket",
      "sources": ["agent/capture/native/packet_socket.c"],
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    }
  ]
}
