/**
 * The contract between the flow table and the handshake-metadata inspector.
 *
 * Call-order guarantees the inspector relies on:
 *   - `onPacket` is called with the packets of ONE flow, in capture order, never concurrently;
 *   - once `onPacket` has returned true it is not called again (the flow table drops the inspector);
 *   - `result` may be called at any time, including after `onPacket` returned true.
 */

/** Where the hello was seen. */
export type HandshakeTransport = 'tls' | 'quic' | 'dtls';

/** Per-flow handshake metadata: published with the flow record, never a model input. */
export interface HandshakeMeta {
  /** server_name (host_name) from the ClientHello; null when absent or not printable ASCII. */
  readonly sni: string | null;
  /** ALPN protocols offered by the client, in order (non-printable values as "0x<hex>"). */
  readonly alpn: readonly string[];
  /**
   * "1.3" | "1.2" | "1.1" | "1.0" | "ssl3" | "dtls1.0" | "dtls1.2" | "dtls1.3", or "0x<hex>" for
   * an unknown code point: the version the ServerHello selected when it was seen, else the
   * highest version the client offered (GREASE ignored).
   */
  readonly tlsVersion: string | null;
  /**
   * FoxIO JA4 client fingerprint ('t' TLS over TCP, 'q' QUIC, 'd' DTLS); null for Google
   * QUIC Q0xx (Q024-Q050), whose CHLO is not a TLS ClientHello.
   */
  readonly ja4: string | null;
  readonly transport: HandshakeTransport | null;
  /**
   * QUIC flows only (absent otherwise): the client's version on the wire: "v1", "v2",
   * "draft-29", "mvfst-draft-27", Google's "Q043" / "Q046" / "Q050" / "T051", or "0x<8 hex>".
   */
  readonly quicVersion?: string | undefined;
}

export interface HandshakeInspector {
  /**
   * Feed one packet of the flow, in capture order. dir 0 = from the flow's first sender
   * (normally the client), 1 = reverse. proto: 6 (TCP) or 17 (UDP). `payload` is a view
   * valid only during the call (the inspector copies what it keeps). For TCP, `seq` is the
   * raw sequence number and `flags` the TCP flag byte (SYN consumes one sequence number);
   * both are ignored for UDP.
   *
   * Returns true when the inspector wants no more packets (hello parsed and ServerHello
   * seen or not expected, or gave up); the flow table then stops calling it and frees it.
   * Never throws.
   */
  onPacket(dir: 0 | 1, proto: number, payload: Uint8Array, seq: number, flags: number): boolean;
  /** What was found so far (null fields where unknown). Cheap: returns a cached object. */
  result(): HandshakeMeta;
  /** Bytes currently held for reassembly (for memory accounting); 0 once done. */
  retainedBytes(): number;
}

/**
 * Stable reasons passed to `onError` (the flow table maps them to counters `meta.<reason>`).
 * Each is reported at most once per flow and per reason.
 */
export type MetaReason =
  /** A ClientHello/ServerHello whose lengths do not add up, or a TLS record that is not a handshake. */
  | 'tls-malformed'
  /** A DTLS handshake record that does not parse. */
  | 'dtls-malformed'
  /** A QUIC long-header packet of a known version whose header or frames do not parse. */
  | 'quic-malformed'
  /**
   * A Google QUIC client packet (null-encryption hash verified, or decrypted Q050/T05x
   * Initial) whose frames or CHLO do not parse.
   */
  | 'gquic-malformed'
  /** A QUIC Initial packet failed AEAD authentication (not QUIC, truncated, or keys unknown). */
  | 'quic-decrypt-failed'
  /** The hello is larger than max_buffer, or arrived in too many pieces to track. */
  | 'reassembly-overflow'
  /** Part of a hello buffered, not all of it, when max_packets passed or the flow ended. */
  | 'hello-incomplete'
  /** A bug: an unexpected exception was caught; the flow gives up. */
  | 'internal-error';

export type MetaErrorSink = (reason: MetaReason) => void;
